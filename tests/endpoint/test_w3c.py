"""The W3C SPARQL 1.1 Protocol and Service Description suites against the real server on the embedded
store (``endpoint_url``: the ``live_server`` fixture, with the W3C graphs added by ``--data``)."""

from support.w3c_protocol import *  # noqa: F403  (its __all__: the suite's tests)

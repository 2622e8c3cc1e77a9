"""What a web application holds beyond Flask's own: one typed object, made once by the factory.

Flask keeps it in ``app.extensions["ldngraph"]``; everything else reaches it through :func:`state_of`
(with the application at hand, as the WSGI front and the reloader are) or :func:`endpoint` (inside a
request), so a field has one name and one type wherever it is read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from flask import Flask, current_app
from pyoxigraph import Store

from ldn_graph.releases import Release
from ldn_graph.serving.engine import QueryEngine
from ldn_graph.serving.engine_pool import EnginePool
from ldn_graph.serving.remote_store import RemoteStore
from ldn_graph.serving.service_description import describe_service
from ldn_graph.serving.stores import default_graph_triples, graph_version
from ldn_graph.web.config import ServeConfig

if TYPE_CHECKING:
    from pyoxigraph import Triple

    from ldn_graph.serving.fair_use import FairUse
    from ldn_graph.serving.metrics import RequestMetrics
    from ldn_graph.serving.result_cache import ResultCache
    from ldn_graph.web.caching import CachePolicy

_KEY = "ldngraph"


@dataclass
class Endpoint:
    """Everything a request handler needs to answer from the graph, made once per application."""

    config: ServeConfig
    store: Store | RemoteStore
    engine: QueryEngine | EnginePool = field(repr=False)
    release: Release | None = None  # the release served, when serving a releases directory
    releases: tuple[Release, ...] = ()  # every release that verified, offered for download

    @cached_property
    def service_description(self) -> list:
        from ldn_graph.web.fair_use import limits_text

        return describe_service(
            self.store, self.config.endpoint_url, self.config.void_url, limits_text(self.config)
        )

    @cached_property
    def graph_summary(self) -> tuple[str | None, int]:
        """(the version the served graph states, its triples), for /health."""
        return graph_version(self.store), default_graph_triples(self.store)


@dataclass
class WebState:
    """The endpoint and the parts every request may use; a reload carries the shared counters over."""

    endpoint: Endpoint
    result_cache: ResultCache | None = None  # None when --cache-bytes is 0
    metrics: RequestMetrics | None = None
    fair_use: FairUse | None = None  # None when no fair-use limit is set
    cache_policy: CachePolicy | None = None
    content_security_policy: str = ""
    #: The VoID/DCAT triples and their JSON-LD, made on the first request for them.
    description: tuple[list[Triple], bytes] | None = None
    #: In a worker: true once a reload has replaced it (its responses then close their connections).
    retiring: Callable[[], bool] | None = None


def install_state(app: Flask, state: WebState) -> WebState:
    app.extensions[_KEY] = state
    return state


def state_of(app: Flask) -> WebState:
    return app.extensions[_KEY]


def state() -> WebState:
    """The state of the application handling the current request."""
    return current_app.extensions[_KEY]


def endpoint() -> Endpoint:
    """The endpoint of the application handling the current request."""
    return current_app.extensions[_KEY].endpoint

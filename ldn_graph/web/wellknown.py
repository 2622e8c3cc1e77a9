"""``/.well-known/void`` (the dataset's VoID/DCAT description) and ``/health``.

Serving a releases directory, the description is the release's own ``void.ttl``, with every file's size
and SHA-256; otherwise it is the description the built graph holds (no distributions: nothing is
offered for download), with the facts about other vocabularies' terms that ``void.ttl`` carries too.
Either way it is generated, never written by hand, and carries the persistent IRIs. ``/health`` says whether the server can answer queries, which graph version it serves and how
many triples its default graph holds.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify, request
from pyoxigraph import RdfFormat, Triple, parse
from rdflib import Graph

from ldn_graph.graph.dataset_description import DATASET, term_facts
from ldn_graph.graph.jsonld import to_jsonld
from ldn_graph.serving.engine_pool import EngineFailure
from ldn_graph.serving.protocol import RDF_FORMATS, ProtocolError, ProtocolRequest, negotiate
from ldn_graph.serving.results import write_triples
from ldn_graph.web import endpoint
from ldn_graph.web.sparql import _refused as refuse_protocol_error

log = logging.getLogger(__name__)

blueprint = Blueprint("wellknown", __name__)

_DESCRIPTION_QUERY = f"""CONSTRUCT {{ ?s ?p ?o }} WHERE {{
  ?s ?p ?o FILTER(?s = <{DATASET}> || STRSTARTS(STR(?s), "{DATASET}/"))
}}"""


def _description() -> tuple[list[Triple], bytes]:
    """The VoID/DCAT triples, and the same as JSON-LD under our own context; made once per process."""
    cached = current_app.extensions.get("ldngraph.void")
    if cached is None:
        served = endpoint()
        if served.release is not None:
            path = served.release.path / "void.ttl"
            triples = [quad.triple for quad in parse(path=str(path), format=RdfFormat.TURTLE)]
        else:
            triples = list(served.store.query(_DESCRIPTION_QUERY))
            held = Graph().parse(data=write_triples(triples, "ntriples"), format="nt")
            # In a fixed order after the store's own, so that every server answers the same bytes.
            facts = sorted(term_facts(held).serialize(format="nt", encoding="utf-8").splitlines(True))
            triples += [quad.triple for quad in parse(b"".join(facts), format=RdfFormat.N_TRIPLES)]
        as_rdflib = Graph().parse(data=write_triples(triples, "ntriples"), format="nt")
        cached = current_app.extensions["ldngraph.void"] = (triples, to_jsonld(as_rdflib))
    return cached


@blueprint.route("/.well-known/void")
def void() -> Response:
    chosen = negotiate(request.headers.get("Accept"), RDF_FORMATS)
    triples, jsonld = _description()
    body = jsonld if chosen.key == "jsonld" else write_triples(triples, chosen.key)
    response = Response(body, mimetype=chosen.media_type)
    response.vary.add("Accept")
    return response


@blueprint.route("/health")
def health() -> Response:
    served = endpoint()
    version, triples = None, 0
    try:
        version, triples = served.graph_summary  # asks the store: a remote one may be unreachable
        # Ready means a query gets an answer now: the engine process is alive and holds the graph.
        served.engine.answer(ProtocolRequest("ASK { ?s ?p ?o }"), "application/sparql-results+json")
        ready = triples > 0
    except (EngineFailure, ProtocolError) as error:
        log.warning("health check: the engine does not answer: %s", error)
        ready = False
    response = jsonify(
        status="ready" if ready else "not ready",
        ready=ready,
        version=version,
        triples=triples,
        release=served.release.version if served.release else None,
    )
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


# The same plain-text refusal (406 for an Accept we cannot serve) as the SPARQL endpoint gives.
blueprint.register_error_handler(ProtocolError, refuse_protocol_error)

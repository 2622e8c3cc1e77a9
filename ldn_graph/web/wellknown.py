"""``/.well-known/void`` (the dataset's VoID/DCAT description) and ``/health``.

Serving a releases directory, the description is the release's own ``void.ttl``, with every file's size
and SHA-256; otherwise it is the description the built graph holds (no distributions: nothing is
offered for download), with the facts about other vocabularies' terms that ``void.ttl`` carries too.
Either way it is generated, never written by hand, and carries the persistent IRIs. ``/health`` says whether the server can answer queries, which graph version it serves and how
many triples its default graph holds.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request
from pyoxigraph import Literal, NamedNode, RdfFormat, Triple, parse

from ldn_graph.serving.engine_pool import EngineFailure
from ldn_graph.serving.jsonld import triples_to_jsonld
from ldn_graph.serving.protocol import RDF_FORMATS, ProtocolError, ProtocolRequest, negotiate
from ldn_graph.serving.results import write_triples
from ldn_graph.vocab.dataset import DATASET, EnglishText, TermFact, term_facts_about
from ldn_graph.web.state import endpoint, state

log = logging.getLogger(__name__)

blueprint = Blueprint("wellknown", __name__)

_DESCRIPTION_QUERY = f"""CONSTRUCT {{ ?s ?p ?o }} WHERE {{
  ?s ?p ?o FILTER(?s = <{DATASET}> || STRSTARTS(STR(?s), "{DATASET}/"))
}}"""


def _description() -> tuple[list[Triple], bytes]:
    """The VoID/DCAT triples, and the same as JSON-LD under our own context; made once per process."""
    cached = state().description
    if cached is None:
        served = endpoint()
        if served.release is not None:
            path = served.release.path / "void.ttl"
            triples = [quad.triple for quad in parse(path=str(path), format=RdfFormat.TURTLE)]
        else:
            triples = list(served.store.query(_DESCRIPTION_QUERY))
            objects = {triple.object.value for triple in triples if isinstance(triple.object, NamedNode)}
            # In a fixed order after the store's own, so that every server answers the same bytes.
            triples += sorted((_triple(fact) for fact in term_facts_about(objects)), key=str)
        cached = state().description = (triples, triples_to_jsonld(triples))
    return cached


def _triple(fact: TermFact) -> Triple:
    subject, predicate, obj = fact
    value = Literal(obj, language="en") if isinstance(obj, EnglishText) else NamedNode(obj)
    return Triple(NamedNode(subject), NamedNode(predicate), value)


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

"""``/sparql``: the SPARQL 1.1 Protocol endpoint and its service description.

Answers to repeated queries come from the worker's result cache (``X-Cache: hit``); the others from the
engine, after its guard. A GET whose URL is too long is refused with 414 and a hint to POST.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, render_template, request
from flask.blueprints import BlueprintSetupState

from ldn_graph.engine_process import EngineFailure
from ldn_graph.result_cache import ResultCache
from ldn_graph.sparql_protocol import (
    HTML,
    RDF_FORMATS,
    RESULT_FORMATS,
    ProtocolError,
    negotiate,
    read_request,
)
from ldn_graph.sparql_results import write_triples
from ldn_graph.web import endpoint

log = logging.getLogger(__name__)

blueprint = Blueprint("sparql", __name__)

# The longest request line gunicorn reads (its own ceiling); the same limit holds under any server.
MAX_URL_BYTES = 8190
POST_HINT = (
    "send long queries with POST instead: a form field 'query' "
    "(application/x-www-form-urlencoded) or the query itself as the body (application/sparql-query)"
)


class UrlTooLong(ProtocolError):
    status = 414


@blueprint.record_once
def _make_cache(state: BlueprintSetupState) -> None:
    served = state.app.extensions["ldngraph"]
    if served.config.cache_bytes > 0:
        # The served store never changes, so its size and graphs stand for its version.
        version = (len(served.store), tuple(sorted(str(g) for g in served.store.named_graphs())))
        state.app.extensions["ldngraph.cache"] = ResultCache(version, served.config.cache_bytes)


def result_cache() -> ResultCache | None:
    return current_app.extensions.get("ldngraph.cache")


@blueprint.route("/sparql", methods=["GET", "POST"])
def sparql() -> Response:
    if len(request.query_string) > MAX_URL_BYTES:
        raise UrlTooLong(f"the request URL is longer than {MAX_URL_BYTES:,} bytes; {POST_HINT}")
    protocol_request = read_request(
        request.method, request.headers.get("Content-Type"), request.query_string, request.get_data()
    )
    if protocol_request.query is None:
        return _service_description()
    accept = request.headers.get("Accept")
    cache = result_cache()
    answer = cache.get(protocol_request, accept) if cache is not None else None
    hit = answer is not None
    if answer is None:
        answer = endpoint().engine.answer(protocol_request, accept)
        if cache is not None:
            cache.put(protocol_request, accept, answer)
    response = Response(answer.body, mimetype=answer.media_type)
    if answer.truncated:
        response.headers["X-SPARQL-MaxRows"] = str(endpoint().config.max_rows)
    if cache is not None:
        response.headers["X-Cache"] = "hit" if hit else "miss"
    response.vary.add("Accept")
    return response


def _service_description() -> Response:
    chosen = negotiate(request.headers.get("Accept"), (*RDF_FORMATS, HTML))
    config = endpoint().config
    if chosen is HTML:
        body = render_template(
            "sparql.html",
            endpoint_url=config.endpoint_url,
            void_url=config.void_url,
            result_formats=RESULT_FORMATS,
            rdf_formats=RDF_FORMATS,
        )
    else:
        body = write_triples(endpoint().service_description, chosen.key)
    response = Response(body, mimetype=chosen.media_type)
    response.vary.add("Accept")
    return response


@blueprint.errorhandler(ProtocolError)
def _refused(error: ProtocolError) -> Response:
    response = Response(f"{error}\n", status=error.status, mimetype="text/plain")
    response.vary.add("Accept")
    return response


@blueprint.errorhandler(EngineFailure)
def _failed(error: EngineFailure) -> Response:
    return Response(f"{error}\n", status=500, mimetype="text/plain")

"""``/sparql``: the SPARQL 1.1 Protocol endpoint and its service description.

A request that carries a query is answered by :func:`answer_query`, which knows nothing of Flask: the
WSGI front (:mod:`ldn_graph.web.front`) calls it for every query before Flask sees the request, and the
Flask view below calls it too, so both give the same bytes, status and headers. Answers to repeated
queries come from the worker's result cache (``X-Cache: hit``); the others from the engine, after its
guard. A GET whose URL is too long is refused with 414 and a hint to POST.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, render_template, request

from ldn_graph.serving.engine_pool import EngineFailure
from ldn_graph.serving.protocol import (
    HTML,
    RDF_FORMATS,
    RESULT_FORMATS,
    ProtocolError,
    ProtocolRequest,
    negotiate,
    read_request,
)
from ldn_graph.serving.result_cache import ResultCache, answer_through
from ldn_graph.serving.results import write_triples
from ldn_graph.web.errors import status_of
from ldn_graph.web.state import Endpoint, endpoint, state

blueprint = Blueprint("sparql", __name__)

# The longest query string read from a URL; the HTTP server itself refuses URLs over 64 KiB outright.
MAX_URL_BYTES = 8190
POST_HINT = (
    "send long queries with POST instead: a form field 'query' "
    "(application/x-www-form-urlencoded) or the query itself as the body (application/sparql-query)"
)


class UrlTooLong(ProtocolError):
    status = 414


@dataclass(frozen=True)
class QueryReply:
    """What ``/sparql`` answers to a query: status, media type, body, and its extra headers."""

    status: int
    media_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    cache: str | None = None  # "hit" or "miss" when the result cache was asked


def read_query(method: str, content_type: str | None, query_string: bytes, body: bytes) -> ProtocolRequest:
    """The protocol request, refusing an over-long URL first (UrlTooLong, 414)."""
    if len(query_string) > MAX_URL_BYTES:
        raise UrlTooLong(f"the request URL is longer than {MAX_URL_BYTES:,} bytes; {POST_HINT}")
    return read_request(method, content_type, query_string, body)


def query_text(method: str, content_type: str | None, query_string: bytes, body: bytes) -> str | None:
    """The SPARQL text a request carries, however it was sent; None when it carries none that can be
    read (what the access log hashes, on either path)."""
    try:
        return read_query(method, content_type, query_string, body).query
    except ProtocolError:
        return None


def answer_query(
    served: Endpoint, cache: ResultCache | None, protocol_request: ProtocolRequest, accept: str | None
) -> QueryReply:
    """Answer a request that carries a query, refusals included (text/plain with their status)."""
    try:
        answer, hit = answer_through(cache, served.engine, protocol_request, accept)
    except (ProtocolError, EngineFailure) as error:
        return refusal(status_of(error), str(error))
    headers = (("X-SPARQL-MaxRows", str(served.config.max_rows)),) if answer.truncated else ()
    cache_outcome = None if cache is None else "hit" if hit else "miss"
    if cache_outcome:
        headers += (("X-Cache", cache_outcome),)
    return QueryReply(200, answer.media_type, answer.body, headers, cache_outcome)


def refusal(status: int, message: str) -> QueryReply:
    return QueryReply(status, "text/plain", f"{message}\n".encode())


@blueprint.route("/sparql", methods=["GET", "POST"])
def sparql() -> Response:
    try:
        protocol_request = read_query(
            request.method, request.headers.get("Content-Type"), request.query_string, request.get_data()
        )
    except ProtocolError as error:
        reply = refusal(error.status, str(error))
    else:
        if protocol_request.query is None:
            return _service_description()
        cache = state().result_cache
        reply = answer_query(endpoint(), cache, protocol_request, request.headers.get("Accept"))
    response = Response(reply.body, status=reply.status, mimetype=reply.media_type)
    response.headers.extend(reply.headers)
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

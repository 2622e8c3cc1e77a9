"""The WSGI front of the application: queries to ``/sparql`` are answered here, everything else by Flask.

A cheap query costs the engine well under a tenth of a millisecond, while Flask's request context,
URL routing and hooks cost several times that. So a GET or POST to ``/sparql`` that carries a query
takes a short path with the same parts the Flask hooks apply (the request's account, see
:mod:`ldn_graph.web.accounting`: fair use, the metrics, the access log; CORS, caching and security
headers) and the same answer (:func:`ldn_graph.web.sparql.answer_query`). Anything else, including the
service description, ``HEAD``, ``OPTIONS`` and a body over the size limit, goes to Flask unchanged.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from functools import lru_cache

from flask import Flask
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.utils import get_content_type

from ldn_graph.serving.protocol import ProtocolError
from ldn_graph.web.accounting import QUERY_ROUTE, RequestAccount, refusal_body, refusal_headers
from ldn_graph.web.app import CORS_HEADERS, MAX_BODY_BYTES
from ldn_graph.web.caching import cache_headers, not_modified
from ldn_graph.web.security_headers import security_headers
from ldn_graph.web.sparql import QueryReply, answer_query, query_text, read_query, refusal
from ldn_graph.web.state import state_of

ROUTE = QUERY_ROUTE
_VARY = ("Vary", "Accept")


@lru_cache(maxsize=64)
def _content_type(media_type: str) -> str:
    return get_content_type(media_type, "utf-8")  # as Flask writes it: text types with their charset


@lru_cache(maxsize=64)
def _status_line(status: int) -> str:
    return f"{status} {HTTP_STATUS_CODES.get(status, 'Unknown').upper()}"


class SparqlFront:
    """Wraps a Flask application's ``wsgi_app``; reads the application's state on every request,
    since a reload may hand it other fair-use counters and metrics."""

    def __init__(self, app: Flask, flask_wsgi: Callable):
        self.app = app
        self.flask_wsgi = flask_wsgi

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        length = environ.get("CONTENT_LENGTH") or ""
        size = int(length) if length.isdigit() else None  # None: no length given (or none that reads)
        too_long = size is not None and size > MAX_BODY_BYTES
        body = b""
        if size and not too_long:
            # Read every body before answering: a response sent while the body still waits unread (a
            # 429, a 404) makes the HTTP server reset the connection, and the client's next request on
            # it would fail.
            body = environ["wsgi.input"].read(size)
            environ["wsgi.input"] = io.BytesIO(body)
        retiring = state_of(self.app).retiring
        if too_long or (retiring is not None and retiring()):
            start_response = _closing(start_response)  # a body left unread (413), or a worker leaving
        method = environ["REQUEST_METHOD"]
        if environ.get("PATH_INFO") != ROUTE or method not in ("GET", "POST"):
            return self.flask_wsgi(environ, start_response)
        query_string = environ.get("QUERY_STRING", "").encode("latin-1")
        if method == "GET" and not (query_string.startswith(b"query=") or b"&query=" in query_string):
            return self.flask_wsgi(environ, start_response)  # the service description or query page
        if method == "POST" and (size is None or too_long):
            return self.flask_wsgi(environ, start_response)  # no length, or too long: Flask says 413
        return self._answer(environ, start_response, method, query_string, body)

    def _answer(
        self, environ: dict, start_response: Callable, method: str, query_string: bytes, body: bytes
    ) -> Iterable[bytes]:
        held = state_of(self.app)
        account = RequestAccount(held, method, environ.get("REMOTE_ADDR"))
        status, query, reply, sent = 500, None, None, None
        try:
            refused = account.admit(lambda name: environ.get(_environ_key(name)))
            if refused is not None:
                reply = QueryReply(429, "text/plain", refusal_body(refused), refusal_headers(refused))
                query = query_text(
                    method, environ.get("CONTENT_TYPE"), query_string, body
                )  # logged as Flask's side logs it
            else:
                reply, query = self._reply(environ, method, query_string, body)
            status, sent = reply.status, reply.body
            content_type = _content_type(reply.media_type)
            caching = cache_headers(held.cache_policy, method, status, ROUTE, query_string, content_type)
            etag = dict(caching).get("ETag")
            common = [
                *reply.headers,
                _VARY,
                *CORS_HEADERS,
                *caching,
                *security_headers(content_type, held.content_security_policy),
            ]
            if etag is not None and not_modified(environ.get("HTTP_IF_NONE_MATCH"), etag):
                status, sent = 304, b""  # the client's copy is this answer: no body, no content headers
                start_response(_status_line(status), common)
            else:
                start_response(
                    _status_line(status),
                    [("Content-Type", content_type), ("Content-Length", str(len(sent))), *common],
                )
            return [sent]
        finally:
            size = len(sent) if sent is not None else None
            account.close(ROUTE, status, size, reply.cache if reply is not None else None, query)

    def _reply(self, environ: dict, method: str, query_string: bytes, body: bytes):
        try:
            protocol_request = read_query(method, environ.get("CONTENT_TYPE"), query_string, body)
        except ProtocolError as error:
            return refusal(error.status, str(error)), None
        held = state_of(self.app)
        served, cache = held.endpoint, held.result_cache
        accept = environ.get("HTTP_ACCEPT")
        return answer_query(served, cache, protocol_request, accept), protocol_request.query


def _closing(start_response: Callable) -> Callable:
    """``start_response`` asking the client to close the connection after this response."""

    def closing(status: str, headers: list, exc_info=None):
        return start_response(status, [*headers, ("Connection", "close")], exc_info)

    return closing


def _environ_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")

"""Every request accounted for in the same steps and order, whichever path answers it.

Queries to ``/sparql`` are answered by the WSGI front (:mod:`ldn_graph.web.front`), everything else by
Flask; both open a :class:`RequestAccount` when the request arrives in a worker and close it once the
response is made. In between: counted as started (``/metrics``); admitted by the fair-use limits, or
refused with 429 and counted as refused (``/health``, ``/metrics`` and static files are never limited,
so that monitoring sees a busy server too); answered. Closing gives the fair-use slot back with the time
the request took, counts the request as finished by route and status, and writes the access log.

The access log (logger ``ldn_graph.access``) has one JSON object per request: route (the URL rule it
matched, never the raw path, so that labels stay few), method, status, duration, response bytes, cache
outcome, a hash of the SPARQL query (the same text gives the same hash, so slow queries can be found
again without logging what people ask) and a hash of the client.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from ldn_graph.serving.fair_use import Admission, Refusal
from ldn_graph.serving.metrics import UNMATCHED
from ldn_graph.web.sparql import query_text
from ldn_graph.web.state import WebState, state

access_log = logging.getLogger("ldn_graph.access")

QUERY_ROUTE = "/sparql"
_UNLIMITED = ("/health", "/metrics", "/static/")  # monitoring must see a busy server too


def digest(text: str) -> str:
    """A short stable hash, to tell equal queries or clients apart without logging them."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


class RequestAccount:
    """One request from its arrival in a worker to its response (see the module's docstring)."""

    __slots__ = ("admission", "held", "method", "peer", "started")

    def __init__(self, held: WebState, method: str, peer: str | None):
        self.held, self.method, self.peer = held, method, peer
        self.admission: Admission | None = None
        self.started = time.perf_counter()
        if held.metrics is not None:
            held.metrics.started()

    def admit(self, header: Callable[[str], str | None]) -> Refusal | None:
        """None when the request may be answered; the Refusal (counted) when a limit says no.
        ``header`` looks up a request header by name (the client header, behind a proxy)."""
        fair_use = self.held.fair_use
        if fair_use is None:
            return None
        name = fair_use.policy.client_header
        client = fair_use.client(self.peer, header(name) if name else None)
        if client is None:  # exempt
            return None
        outcome = fair_use.admit(client)
        if isinstance(outcome, Refusal):
            if self.held.metrics is not None:
                self.held.metrics.refused(outcome.reason)
            return outcome
        self.admission = outcome
        return None

    def close(
        self,
        route: str,
        status: int,
        size: int | None = None,
        cache: str | None = None,
        query: str | None = None,
    ) -> None:
        """Release, count and log the request; ``query`` is the SPARQL text, only ever logged hashed."""
        seconds = time.perf_counter() - self.started
        admission, self.admission = self.admission, None
        if admission is not None:
            self.held.fair_use.release(admission, seconds)
        if self.held.metrics is not None:
            self.held.metrics.finished(route, status, seconds, size, cache)
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(
                json.dumps(
                    {
                        "route": route,
                        "method": self.method,
                        "status": status,
                        "ms": round(seconds * 1000, 2),
                        "bytes": size,
                        "cache": cache,
                        "query": digest(query) if query else None,
                        "client": digest(self.peer or ""),
                    },
                    separators=(",", ":"),
                )
            )


def refusal_headers(refusal: Refusal) -> tuple[tuple[str, str], ...]:
    return (("Retry-After", str(refusal.retry_after)),)


def refusal_body(refusal: Refusal) -> bytes:
    return f"{refusal.message}\n".encode()


# --- the Flask side -------------------------------------------------------------------------------


def install_accounting(app: Flask) -> None:
    """Account for every request Flask answers. Install before the hooks that change a response (as a
    304 does): Flask runs ``after_request`` hooks last-registered first, so this one sees the final
    response."""
    app.before_request(_arrived)
    app.after_request(_answered)
    app.teardown_request(_abandoned)


def _arrived() -> Response | None:
    account = g.ldngraph_account = RequestAccount(state(), request.method, request.remote_addr)
    if request.path.startswith(_UNLIMITED):
        return None
    refusal = account.admit(request.headers.get)
    if refusal is None:
        return None
    response = Response(refusal_body(refusal), status=429, mimetype="text/plain")
    response.headers.extend(refusal_headers(refusal))
    return response


def _route() -> str:
    return request.url_rule.rule if request.url_rule is not None else UNMATCHED


def _answered(response: Response) -> Response:
    account: RequestAccount | None = g.pop("ldngraph_account", None)
    if account is not None:
        route = _route()
        query = _query_text() if route == QUERY_ROUTE else None
        size = response.calculate_content_length()
        account.close(route, response.status_code, size, response.headers.get("X-Cache"), query)
    return response


def _abandoned(error: BaseException | None) -> None:
    # A request that raised past every handler never reached _answered: still account for it, as a 500.
    account: RequestAccount | None = g.pop("ldngraph_account", None)
    if account is not None:
        account.close(_route(), 500)


def _query_text() -> str | None:
    """The SPARQL query of this request, however it was sent; None when it cannot be read."""
    try:
        body = request.get_data(cache=True)
    except HTTPException:  # too large: the response already says so
        return None
    return query_text(request.method, request.headers.get("Content-Type"), request.query_string, body)

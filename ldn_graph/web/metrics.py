"""``/metrics`` in the Prometheus text format, and one structured log line per request.

Every request is timed from its arrival in a worker to its response and counted by route (the URL
rule it matched, never the raw path, so that labels stay few) and status in counters shared by all
workers (:mod:`ldn_graph.serving.metrics`). The request log (logger ``ldn_graph.access``) writes one JSON
object per request: route, method, status, duration, response bytes, cache outcome, a hash of the
SPARQL query (the same text gives the same hash, so slow queries can be found again without logging
what people ask) and a hash of the client.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from urllib.parse import parse_qs

from flask import Blueprint, Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from ldn_graph.serving.metrics import UNMATCHED, Gauge, RequestMetrics
from ldn_graph.web.state import state, state_of

access_log = logging.getLogger("ldn_graph.access")

blueprint = Blueprint("metrics", __name__)

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


def install_metrics(app: Flask) -> RequestMetrics:
    """Register ``/metrics`` and the hooks that count and log every request of ``app``."""
    app.register_blueprint(blueprint)
    metrics = RequestMetrics(rule.rule for rule in app.url_map.iter_rules())
    state_of(app).metrics = metrics
    app.before_request(_started)
    app.after_request(_finished)
    app.teardown_request(_abandoned)
    return metrics


def request_metrics() -> RequestMetrics:
    return state().metrics


def digest(text: str) -> str:
    """A short stable hash, to tell equal queries or clients apart without logging them."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def log_request(
    route: str,
    method: str,
    status: int,
    seconds: float,
    size: int | None,
    cache: str | None,
    query: str | None,
    client: str | None,
) -> None:
    """One JSON line on the access log; the query and the client only as hashes."""
    access_log.info(
        json.dumps(
            {
                "route": route,
                "method": method,
                "status": status,
                "ms": round(seconds * 1000, 2),
                "bytes": size,
                "cache": cache,
                "query": digest(query) if query else None,
                "client": digest(client or ""),
            },
            separators=(",", ":"),
        )
    )


def _started() -> None:
    g.ldngraph_started = time.perf_counter()
    request_metrics().started()


def _finished(response: Response) -> Response:
    started = g.pop("ldngraph_started", None)
    if started is None:
        return response
    seconds = time.perf_counter() - started
    route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    size = response.calculate_content_length()
    cache = response.headers.get("X-Cache")
    request_metrics().finished(route, response.status_code, seconds, size, cache)
    if access_log.isEnabledFor(logging.INFO):
        query = _query_text() if route == "/sparql" else None
        log_request(
            route, request.method, response.status_code, seconds, size, cache, query, request.remote_addr
        )
    return response


def _abandoned(error: BaseException | None) -> None:
    # A request that raised past every handler never reached _finished: still count it, as a 500.
    started = g.pop("ldngraph_started", None)
    if started is not None:
        route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
        request_metrics().finished(route, 500, time.perf_counter() - started)


def _query_text() -> str | None:
    """The SPARQL query of this request, however it was sent; None when it cannot be read."""
    if "query" in request.args:
        return request.args["query"]
    if request.method != "POST":
        return None
    try:
        body = request.get_data(cache=True)
    except HTTPException:  # too large: the response already says so
        return None
    content_type = (request.mimetype or "").lower()
    if content_type == "application/sparql-query":
        return body.decode("utf-8", "replace")
    if content_type == "application/x-www-form-urlencoded":
        return (parse_qs(body.decode("utf-8", "replace")).get("query") or [None])[0]
    return None


@blueprint.route("/metrics")
def metrics() -> Response:
    from ldn_graph.web.state import endpoint

    served = endpoint()
    version, triples = served.graph_summary
    gauges = [
        Gauge("ldngraph_graph_triples", "Triples in the default graph served.", triples),
        Gauge(
            "ldngraph_graph_info",
            "The graph served: its stated version and the release it comes from.",
            1,
            {"version": version or "", "release": served.release.version if served.release else ""},
        ),
    ]
    response = Response(request_metrics().exposition(gauges), mimetype="text/plain")
    response.headers["Content-Type"] = PROMETHEUS_TEXT
    response.headers["Cache-Control"] = "no-store"
    return response

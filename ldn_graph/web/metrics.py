"""``/metrics`` in the Prometheus text format.

Every request is counted by route (the URL rule it matched, never the raw path, so that labels stay
few) and status, in counters shared by all workers (:mod:`ldn_graph.serving.metrics`); the counting is
done by :mod:`ldn_graph.web.accounting`, on both paths a request may take.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response

from ldn_graph.serving.metrics import Gauge, RequestMetrics
from ldn_graph.web.state import endpoint, state, state_of

blueprint = Blueprint("metrics", __name__)

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


def install_metrics(app: Flask) -> RequestMetrics:
    """Register ``/metrics`` and the counters it shows, one per route of ``app`` (its other blueprints
    registered first)."""
    app.register_blueprint(blueprint)
    metrics = RequestMetrics(rule.rule for rule in app.url_map.iter_rules())
    state_of(app).metrics = metrics
    return metrics


@blueprint.route("/metrics")
def metrics() -> Response:
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
    response = Response(state().metrics.exposition(gauges), mimetype="text/plain")
    response.headers["Content-Type"] = PROMETHEUS_TEXT
    response.headers["Cache-Control"] = "no-store"
    return response

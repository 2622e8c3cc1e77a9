"""/metrics in the Prometheus text format, counted across every worker, and one JSON log line per request."""

from __future__ import annotations

import json
import re
from pathlib import Path

import requests

from ldn_graph.serving.metrics import STATUSES, RequestMetrics
from ldn_graph.web.app import create_app
from ldn_graph.web.config import ServeConfig

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = re.compile(
    r'^([a-z_]+)(\{([a-z_]+="(?:[^"\\]|\\.)*"(?:,[a-z_]+="(?:[^"\\]|\\.)*")*)\})? (-?[0-9.e+]+)$'
)


def _parse(text: str) -> dict[tuple[str, str], float]:
    """Every sample of a Prometheus text exposition; fails on a line that is not one."""
    samples, typed = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("# HELP "):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a Prometheus sample: {line!r}"
        name = match.group(1)
        assert any(name == t or name.startswith(t + "_") for t in typed), f"{name} has no TYPE"
        samples[(name, match.group(3) or "")] = float(match.group(4))
    return samples


def test_metrics_count_every_workers_requests(fuzz_server):
    def count() -> float:
        samples = _parse(requests.get(fuzz_server.url + "/metrics", timeout=10).text)
        return samples.get(("ldngraph_http_requests_total", 'route="/sparql",status="200"'), 0)

    before = count()
    for i in range(40):  # spread over both workers
        requests.get(fuzz_server.endpoint, params={"query": f"ASK {{}} # {i}"}, timeout=10).raise_for_status()
    assert count() - before == 40
    samples = _parse(requests.get(fuzz_server.url + "/metrics", timeout=10).text)
    buckets = [
        v for (name, labels), v in samples.items() if name.endswith("_bucket") and '"/sparql"' in labels
    ]
    assert buckets == sorted(buckets)  # cumulative
    assert samples[("ldngraph_graph_triples", "")] > 1000


def test_metrics_content_type_and_bounded_labels(store):
    client = create_app(ServeConfig(), store=store, isolate_queries=False).test_client()
    response = client.get("/metrics")
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    for path in ("/no/such/thing", "/id/nothing-here", "/../etc/passwd"):
        client.get(path)
    routes = set(re.findall(r'route="([^"]*)"', client.get("/metrics").text))
    assert "/no/such/thing" not in routes and all(r.startswith("/") or r == "(unmatched)" for r in routes)


def test_every_request_is_one_json_log_line(fuzz_server):
    query = "SELECT ?s WHERE { ?s a schema:Drug } # logged"
    requests.get(fuzz_server.endpoint, params={"query": query}, timeout=10)
    requests.post(fuzz_server.endpoint, data={"query": query}, timeout=10)
    lines = [line for line in fuzz_server.log.read_text().splitlines() if "ldn_graph.access: " in line]
    records = [json.loads(line.split("ldn_graph.access: ", 1)[1]) for line in lines]
    assert {"route", "method", "status", "ms", "bytes", "cache", "query", "client"} <= set(records[-1])
    logged = [r for r in records[-2:]]
    assert [r["method"] for r in logged] == ["GET", "POST"]
    assert logged[0]["query"] == logged[1]["query"]  # the same text, however it was sent
    assert query not in fuzz_server.log.read_text()  # the query itself is not logged


def test_statuses_outside_the_table_are_counted_as_other():
    metrics = RequestMetrics(["/sparql"])
    metrics.started()
    metrics.finished("/sparql", 418, 0.001)
    assert 'status="other"} 1' in metrics.exposition()
    assert 418 not in STATUSES


def test_every_metric_and_fair_use_option_is_in_the_operations_guide():
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    exposition = RequestMetrics(["/sparql"]).exposition()
    for name in set(re.findall(r"^# TYPE (\S+)", exposition, re.MULTILINE)) | {
        "ldngraph_graph_triples",
        "ldngraph_graph_info",
    }:
        assert f"`{name}`" in guide, name
    for option in ("--client-concurrency", "--client-query-time", "--client-window", "--client-header",
                   "--fair-use-exempt", "--pid-file", "ldn-graph reload", "SIGHUP", "Retry-After"):  # fmt: skip
        assert option in guide, option

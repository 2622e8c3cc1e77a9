"""Both paths a request may take (the WSGI front for queries, Flask for the rest) account for it alike:
admitted or refused by fair use, released, counted and logged, in the same order and the same words."""

from __future__ import annotations

import json
import logging

import pytest

from ldn_graph.web.app import create_app
from ldn_graph.web.config import ServeConfig
from ldn_graph.web.state import state_of

QUERY = {"query": "ASK { ?s ?p ?o }"}


@pytest.fixture
def app(store):
    # A millionth of a second of query time an hour, no address exempt: the first request is admitted
    # and spends it all, every later one (but monitoring's) is refused.
    config = ServeConfig(client_query_time=1e-6, client_window=3600, fair_use_exempt=("none",))
    return create_app(config, store=store, isolate_queries=False)


def _access_records(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "ldn_graph.access"]


def test_both_paths_admit_refuse_release_count_and_log_alike(app, caplog):
    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="ldn_graph.access"):
        answered = client.get("/sparql", query_string=QUERY)  # the WSGI front
        refused_query = client.get("/sparql", query_string=QUERY)  # the WSGI front
        refused_page = client.get("/id/fibromyalgia")  # Flask
        health = client.get("/health")  # Flask, never limited
    assert answered.status_code == 200 and health.status_code == 200
    for refused in (refused_query, refused_page):
        assert refused.status_code == 429
        assert refused.content_type == "text/plain; charset=utf-8"
        assert "query time" in refused.get_data(as_text=True)
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.headers["Access-Control-Allow-Origin"] == "*"
    assert refused_query.get_data() == refused_page.get_data()

    held = state_of(app)
    assert held.fair_use.in_flight("127.0.0.1") == 0  # every admitted request gave its place back
    exposition = held.metrics.exposition()
    assert 'ldngraph_fair_use_refused_total{reason="query_time"} 2' in exposition
    assert 'ldngraph_http_requests_total{route="/sparql",status="200"} 1' in exposition
    assert 'ldngraph_http_requests_total{route="/sparql",status="429"} 1' in exposition
    assert 'ldngraph_http_requests_total{route="/id/<path:rest>",status="429"} 1' in exposition
    assert 'ldngraph_http_requests_total{route="/health",status="200"} 1' in exposition

    records = _access_records(caplog)
    assert [(r["route"], r["status"]) for r in records] == [
        ("/sparql", 200),
        ("/sparql", 429),
        ("/id/<path:rest>", 429),
        ("/health", 200),
    ]
    assert {tuple(sorted(r)) for r in records} == {
        ("bytes", "cache", "client", "method", "ms", "query", "route", "status")
    }
    assert records[0]["query"] == records[1]["query"] and len(records[0]["query"]) == 16
    assert records[0]["client"] == records[2]["client"]
    assert records[2]["query"] is None and records[1]["bytes"] == len(refused_query.get_data())


def test_a_request_that_fails_in_a_view_is_still_released_counted_and_logged(store, caplog):
    config = ServeConfig(client_concurrency=1, fair_use_exempt=("none",))
    app = create_app(config, store=store, isolate_queries=False)

    @app.route("/broken")
    def broken():
        raise RuntimeError("a fault of ours")

    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="ldn_graph.access"):
        assert client.get("/broken").status_code == 500
        assert client.get("/sparql", query_string=QUERY).status_code == 200  # its place was given back
    assert state_of(app).fair_use.in_flight("127.0.0.1") == 0
    assert [(r["route"], r["status"]) for r in _access_records(caplog)] == [
        ("/broken", 500),
        ("/sparql", 200),
    ]

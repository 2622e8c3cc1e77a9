"""Fair use on the live server: per-client concurrency and query-time limits answered with 429 and
Retry-After while other clients are served, limits published in the service description; and the
shared table itself: counts across processes, leases of dead workers reclaimed."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest
import requests
from rdflib import Graph, URIRef
from rdflib.namespace import RDFS
from support.http_wire import read_message
from support.live_server import start_server

from ldn_graph.serving.fair_use import Admission, FairUse, FairUsePolicy, Refusal

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(8)) + " }"
CHEAP = "ASK { ?s ?p ?o }"


@pytest.fixture(scope="module")
def limited(built_graph, tmp_path_factory):
    """A server limiting each client (named by X-Client) to 2 requests in flight and 2 s per 20 s."""
    server = start_server(
        "--release", str(built_graph), "--timeout", "1", "--workers", "2",
        "--client-header", "X-Client", "--client-concurrency", "2",
        "--client-query-time", "2", "--client-window", "20",
        log=tmp_path_factory.mktemp("limited") / "server.log",
    )  # fmt: skip
    yield server
    server.stop()


def _get(server, query: str, client: str | None) -> requests.Response:
    headers = {"X-Client": client} if client else {}
    return requests.get(server.endpoint, params={"query": query}, headers=headers, timeout=10)


def test_a_client_over_its_concurrency_gets_429_while_others_are_served(limited):
    statuses: list[int] = []
    threads = [
        threading.Thread(target=lambda: statuses.append(_get(limited, RUNAWAY, "greedy").status_code))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.4)
    third = _get(limited, f"{CHEAP} # greedy", "greedy")
    started = time.perf_counter()
    other = _get(limited, f"{CHEAP} # polite", "polite")
    other_took = time.perf_counter() - started
    for thread in threads:
        thread.join()
    assert third.status_code == 429, third.text
    assert third.headers["Retry-After"] == "1"
    assert "at most 2" in third.text
    assert other.status_code == 200 and other_took < 0.5
    assert sorted(statuses) == [503, 503]  # the two runaways were stopped at the time limit


def test_a_client_past_its_query_time_gets_429_with_the_wait(limited):
    first, second = _get(limited, RUNAWAY, "heavy"), _get(limited, RUNAWAY, "heavy")
    assert (first.status_code, second.status_code) == (503, 503)  # 2 x ~1.25 s: past the 2 s budget
    refused = _get(limited, CHEAP, "heavy")
    assert refused.status_code == 429, refused.text
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 20
    assert "query time" in refused.text and f"retry in {wait} s" in refused.text
    assert refused.headers["Access-Control-Expose-Headers"].endswith("Retry-After")
    assert _get(limited, CHEAP, "light").status_code == 200
    metrics = requests.get(limited.url + "/metrics", timeout=10).text
    assert 'ldngraph_fair_use_refused_total{reason="query_time"}' in metrics
    assert 'ldngraph_http_requests_total{route="/sparql",status="429"}' in metrics


def test_monitoring_and_loopback_without_the_header_are_not_limited(limited):
    for _ in range(3):
        assert _get(limited, RUNAWAY, "heavy").status_code in (429, 503)
    assert requests.get(limited.url + "/health", headers={"X-Client": "heavy"}, timeout=10).status_code == 200
    assert (
        requests.get(limited.url + "/metrics", headers={"X-Client": "heavy"}, timeout=10).status_code == 200
    )
    assert _get(limited, CHEAP, None).status_code == 200  # 127.0.0.1 itself: the operator or a proxy


def test_the_limits_are_published_in_the_service_description(limited):
    response = requests.get(limited.endpoint, headers={"Accept": "text/turtle"}, timeout=10)
    comment = str(
        Graph().parse(data=response.text, format="turtle").value(URIRef(limited.endpoint), RDFS.comment)
    )
    assert "stopped after 1 s" in comment and "10,000 rows" in comment
    assert (
        "at most 2 request(s) in flight" in comment and "2 s of query time per client in any 20 s" in comment
    )
    assert "429" in comment and "Retry-After" in comment


# -- the shared table --------------------------------------------------------------------------------


def test_clients_are_addresses_or_the_proxys_last_value():
    fair_use = FairUse(FairUsePolicy(client_header="X-Forwarded-For"))
    assert fair_use.client("127.0.0.1") is None  # loopback is exempt by default
    assert fair_use.client("::1") is None
    assert fair_use.client("127.0.0.1", "203.0.113.9, 198.51.100.4") == "198.51.100.4"
    assert fair_use.client("127.0.0.1", "127.0.0.2") is None
    assert FairUse(FairUsePolicy(exempt=("none",))).client("127.0.0.1") == "127.0.0.1"


def test_query_time_is_a_bucket_that_refills():
    fair_use = FairUse(FairUsePolicy(concurrency=0, query_time=1.0, window=10.0))
    admitted = fair_use.admit("c")
    assert isinstance(admitted, Admission)
    fair_use.release(admitted, 3.0)  # overdrawn by 2 s; refills at 0.1 s per second
    refused = fair_use.admit("c")
    assert isinstance(refused, Refusal) and refused.reason == "query_time"
    assert 19 <= refused.retry_after <= 20
    assert isinstance(fair_use.admit("d"), Admission)


def test_counts_are_shared_across_processes_and_dead_workers_leave_none():
    fair_use = FairUse(FairUsePolicy(concurrency=1, query_time=0))
    ready, done = os.pipe(), os.pipe()
    child = os.fork()
    if child == 0:  # a worker that takes the client's only place and holds it
        fair_use.admit("shared")
        os.write(ready[1], b"x")
        os.read(done[0], 1)
        os._exit(0)  # dies without releasing, as a killed worker would
    os.read(ready[0], 1)
    try:
        assert fair_use.in_flight("shared") == 1
        assert isinstance(fair_use.admit("shared"), Refusal)  # the other process holds the place
    finally:
        os.write(done[1], b"x")
        os.waitpid(child, 0)
    assert isinstance(fair_use.admit("shared"), Admission)  # its lease was reclaimed


def _exchange(connection: socket.socket, request: bytes) -> bytes:
    """Send one request on ``connection`` and read its whole response (b"" when the server closed)."""
    connection.sendall(request)
    return read_message(connection)


def test_a_refused_post_leaves_its_connection_usable(limited):
    """A 429 answered before the request's body is read must not cost the client its connection: the
    body is read first, so the next request on the same keep-alive connection is answered."""
    assert [_get(limited, RUNAWAY, "spender").status_code for _ in range(2)] == [503, 503]
    host, port = limited.url.removeprefix("http://").split(":")
    query = f'ASK {{ FILTER("{"x" * 200_000}" = "y") }}'.encode()
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        for number in range(3):
            refused = _exchange(
                connection,
                b"POST /sparql HTTP/1.1\r\nHost: x\r\nX-Client: spender\r\n"
                b"Content-Type: application/sparql-query\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(query), query),
            )
            assert refused.startswith(b"HTTP/1.1 429"), refused[:200]
            answered = _exchange(
                connection,
                b"GET /sparql?query=ASK%%7B%%7D%%23%d HTTP/1.1\r\nHost: x\r\nX-Client: other\r\n\r\n"
                % number,
            )
            assert answered.startswith(b"HTTP/1.1 200"), answered[:200]

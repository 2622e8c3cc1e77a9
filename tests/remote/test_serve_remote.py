"""``serve --store-url``: the same server in front of a real Oxigraph server on loopback.

Switching from the embedded store to a remote one changes one option and no answer: the competency
queries, pages, twins, the service description, VoID and /health answer byte for byte the same (once
each server's own address is set aside). The guard still refuses SERVICE and FROM before anything is
forwarded, and a slow, dead or stalled store gives a clear status and message, never a hang.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from support.stores import VirtuosoServer, portable_answer, serve_options
from support.timing import within

# The W3C SPARQL 1.1 Protocol and Service Description suite, run as written against the remote-backed
# server (the `endpoint_url` fixture of this folder).
from support.w3c_protocol import *  # noqa: F403  (its __all__: the suite's tests)

from ldn_graph.graph.publish import GraphStore, push_data, push_release

ROOT = Path(__file__).resolve().parents[2]
QUERIES = sorted((ROOT / "queries").glob("*.rq"))
RESULT_TYPES = (
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
)
# A cross product no store finishes in seconds: the runaway query of these tests. It keeps a core of the
# store busy (Oxigraph's --timeout-s does not stop it) but its memory flat, and it has a store of its own.
RUNAWAY = """SELECT * WHERE {
  ?a ?b ?c . ?d ?e ?f . ?g ?h ?i FILTER(STRLEN(STR(?c)) + STRLEN(STR(?f)) + STRLEN(STR(?i)) < 0)
}"""


def fetch(server, path: str, **kwargs) -> tuple[int, str, bytes]:
    """Status, media type and body, with the server's own address written as SERVER."""
    method = "POST" if "data" in kwargs else "GET"
    response = requests.request(method, server.url + path, timeout=30, **kwargs)
    body = response.content.replace(server.url.encode(), b"SERVER")
    return response.status_code, response.headers.get("Content-Type", ""), body


def same_answer(embedded, remote, path: str, **kwargs) -> tuple[int, str, bytes]:
    expected = fetch(embedded, path, **kwargs)
    got = fetch(remote, path, **kwargs)
    assert got == expected
    return got


@pytest.mark.parametrize("accept", RESULT_TYPES)
@pytest.mark.parametrize("query", QUERIES, ids=lambda p: p.stem)
def test_competency_queries_answer_byte_for_byte_the_same(
    embedded_server, remote_server, full_store, query, accept
):
    request = {
        "data": query.read_bytes(),
        "headers": {"Content-Type": "application/sparql-query", "Accept": accept},
    }
    expected = fetch(embedded_server, "/sparql", **request)
    status, media_type, body = fetch(remote_server, "/sparql", **request)
    assert status == 200 and media_type.startswith(accept) and body
    if isinstance(full_store, VirtuosoServer) and body != expected[2]:
        # The one difference allowed: Virtuoso answers booleans as integers (tests/stores.py).
        assert portable_answer(body, media_type) == portable_answer(expected[2], expected[1])
        assert b"XMLSchema#boolean" in expected[2] or b"true" in expected[2]
    else:
        assert (status, media_type, body) == expected


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("/", "text/html"),
        ("/id/naltrexone", "text/html"),
        ("/id/naltrexone.ttl", "*/*"),
        ("/id/low-dose-naltrexone", "application/ld+json"),
        ("/evidence", "text/html"),
        ("/evidence?condition=fibromyalgia", "text/html"),
        ("/id/fibromyalgia", "text/html"),
        ("/id/final-trial", "text/html"),
        ("/id/bruun-2021", "text/html"),
        ("/search?q=naltrex", "text/html"),
        ("/ontology", "text/html"),
        ("/ontology/EvidenceStatus", "application/n-triples"),
        ("/id/no-such-entity", "text/html"),
        ("/sparql", "text/turtle"),  # the service description: VoID statistics from queries
        ("/.well-known/void", "text/turtle"),
        ("/health", "application/json"),
    ],
)
def test_pages_twins_and_descriptions_are_the_same(embedded_server, remote_server, path, accept):
    status, _, body = same_answer(embedded_server, remote_server, path, headers={"Accept": accept})
    assert status in (200, 404) and body


def test_describe_and_construct_are_the_same(embedded_server, remote_server, full_store):
    queries = [
        "CONSTRUCT { ?s a ?c } WHERE { ?s a ?c } ORDER BY ?s ?c",
        "ASK { GRAPH <http://kasei.us/2009/09/sparql/data/data1.rdf> { ?s ?p ?o } }",
        "ASK { GRAPH <http://example.org/not-held> { ?s ?p ?o } }",
    ]
    if not isinstance(full_store, VirtuosoServer):
        queries.append("DESCRIBE ldn:naltrexone")
    for query in queries:
        for accept in ("text/turtle", "application/n-triples", "application/sparql-results+xml"):
            same_answer(
                embedded_server, remote_server, "/sparql", params={"query": query}, headers={"Accept": accept}
            )


def test_describe_is_the_stores_own(embedded_server, remote_server, full_store):
    """SPARQL leaves what DESCRIBE returns to each store: Oxigraph gives the triples whose subject the
    resource is; Virtuoso gives those whose object it is too."""
    described = {}
    for name, server in (("embedded", embedded_server), ("remote", remote_server)):
        _, _, body = fetch(
            server,
            "/sparql",
            params={"query": "DESCRIBE ldn:naltrexone"},
            headers={"Accept": "application/n-triples"},
        )
        described[name] = set(body.decode().splitlines())
    subject = "<https://w3id.org/ldngraph/id/naltrexone> "
    assert described["embedded"] and all(line.startswith(subject) for line in described["embedded"])
    if isinstance(full_store, VirtuosoServer):
        assert described["remote"] > described["embedded"]
        assert all(subject in line for line in described["remote"] - described["embedded"])
    else:
        assert described["remote"] == described["embedded"]


def test_the_row_cap_and_refusals_are_the_same(embedded_server, remote_server):
    # 11,000 numbers: more rows than the default cap of 10,000, and cheap for every store.
    digits = "{ 0 1 2 3 4 5 6 7 8 9 }"
    many = {
        "query": f"SELECT ?n WHERE {{ VALUES ?a {{ 0 1 2 3 4 5 6 7 8 9 10 }} VALUES ?b {digits} "
        f"VALUES ?c {digits} VALUES ?d {digits} BIND (((?a * 10 + ?b) * 10 + ?c) * 10 + ?d AS ?n) }} "
        "ORDER BY DESC(?n)"
    }
    embedded = requests.get(embedded_server.endpoint, params=many, headers={"Accept": "text/csv"}, timeout=30)
    remote = requests.get(remote_server.endpoint, params=many, headers={"Accept": "text/csv"}, timeout=30)
    assert remote.headers["X-SPARQL-MaxRows"] == embedded.headers["X-SPARQL-MaxRows"] == "10000"
    assert remote.content == embedded.content
    for query in ("SELECT * WHERE { ?s ?p }", "SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }"):
        status, _, body = same_answer(embedded_server, remote_server, "/sparql", params={"query": query})
        assert status == 400 and body


def test_service_is_refused_before_anything_is_forwarded(remote_server):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(1.0)
    port = listener.getsockname()[1]
    try:
        answer = requests.get(
            remote_server.endpoint,
            params={"query": f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}"},
            timeout=30,
        )
        assert answer.status_code == 400
        assert "SERVICE" in answer.text and "not allowed" in answer.text
        with pytest.raises(TimeoutError):
            listener.accept()  # neither we nor the store called it
    finally:
        listener.close()


def test_from_may_name_the_graphs_the_store_holds(remote_server):
    held = "http://kasei.us/2009/09/sparql/data/data2.rdf"
    answer = requests.get(
        remote_server.endpoint,
        params={"query": f"SELECT ?s FROM <{held}> WHERE {{ ?s ?p ?o }}"},
        headers={"Accept": "text/csv"},
        timeout=30,
    )
    assert answer.status_code == 200 and answer.text.split() == ["s", held]


def _runaway_beside_a_quick_query(server) -> None:
    """A runaway query is answered 503 at the limit of 1 s, and another client meanwhile is not held up."""
    results: dict[str, object] = {}

    def runaway():
        started = time.monotonic()
        results["runaway"] = requests.get(server.endpoint, params={"query": RUNAWAY}, timeout=30)
        results["runaway_s"] = time.monotonic() - started

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    quick = requests.get(server.endpoint, params={"query": "ASK { ldn:naltrexone ?p ?o }"}, timeout=30)
    quick_s = time.monotonic() - started
    thread.join(30)
    answer = results["runaway"]
    assert answer.status_code == 503 and "time limit of 1 s" in answer.text
    assert results["runaway_s"] < 1 + within(0.5)  # the limit + 0.5 s (PRODUCT.md)
    assert quick.status_code == 200 and quick_s < 1.0
    # The next query on the same worker finds a working engine process and connection.
    assert requests.get(server.endpoint, params={"query": "ASK {}"}, timeout=30).status_code == 200


def test_a_runaway_query_is_abandoned_at_our_limit(release_nt, launch, launch_oxigraph, tmp_path):
    store = launch_oxigraph(tmp_path / "oxigraph.log", "--timeout-s", "1")
    push_release(GraphStore(store.store_url), release_nt)
    server = launch(
        "--store-url", store.query_url, "--timeout", "1", "--workers", "1", log=tmp_path / "server.log"
    )
    try:
        _runaway_beside_a_quick_query(server)
    finally:
        server.stop()
        store.stop()  # it would go on with the runaway query: we only left it


def test_a_runaway_query_on_virtuoso_is_abandoned_at_our_limit(virtuoso_full, launch, tmp_path):
    """Our limit (1 s) before Virtuoso's own (3 s), which then stops the query there."""
    server = launch(
        *serve_options(virtuoso_full), "--timeout", "1", "--workers", "1", log=tmp_path / "server.log"
    )
    try:
        _runaway_beside_a_quick_query(server)
    finally:
        server.stop()


def test_a_store_that_dies_and_returns(release_nt, launch, launch_oxigraph, tmp_path):
    store = launch_oxigraph(tmp_path / "oxigraph.log")
    port = int(store.url.rpartition(":")[2])
    push_release(GraphStore(store.store_url), release_nt)
    server = launch("--store-url", store.query_url, "--workers", "1", log=tmp_path / "server.log")
    try:
        query = {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}
        assert requests.get(server.endpoint, params=query, timeout=30).status_code == 200
        store.stop()
        started = time.monotonic()
        # A query of its own: the same text would be answered from the result cache.
        answer = requests.get(server.endpoint, params={"query": query["query"] + " # gone"}, timeout=30)
        assert answer.status_code == 502 and "cannot reach the store" in answer.text
        assert time.monotonic() - started < 2
        page = requests.get(server.url + "/id/naltrexone", headers={"Accept": "text/html"}, timeout=30)
        assert page.status_code == 502 and "cannot reach the store" in page.text
        health = requests.get(server.url + "/health", timeout=30)
        assert health.status_code == 503 and health.json()["ready"] is False
        # Back on the same address, loaded again: answered again, without restarting our server.
        store = launch_oxigraph(tmp_path / "oxigraph.log", port=port)
        push_release(GraphStore(store.store_url), release_nt)
        answer = requests.get(server.endpoint, params={"query": query["query"] + " # back"}, timeout=30)
        assert answer.status_code == 200
        assert requests.get(server.url + "/health", timeout=30).json()["ready"] is True
    finally:
        server.stop()
        store.stop()


@pytest.mark.parametrize("store", ["refused", "stalled"])
def test_serve_will_not_start_on_a_store_it_cannot_use(store):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    if store == "stalled":
        listener.listen()  # accepts connections (the kernel does), never answers
    else:
        listener.close()
    try:
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "ldn_graph", "serve", "--port", "0", "--timeout", "1",
             "--store-url", f"http://127.0.0.1:{port}/query"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert result.returncode == 2, result.stderr
        message = "cannot reach the store" if store == "refused" else "time limit of 1 s"
        assert message in result.stderr
        assert time.monotonic() - started < 10
    finally:
        listener.close()


def test_store_url_and_local_data_do_not_mix(release_nt):
    result = subprocess.run(
        [sys.executable, "-m", "ldn_graph", "serve", "--store-url", "http://127.0.0.1:9/query",
         "--release", str(release_nt)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 2 and "ldn-graph load" in result.stderr


def test_load_pushes_named_graphs_too(launch_oxigraph, tmp_path):
    store = launch_oxigraph(tmp_path / "oxigraph.log")
    try:
        assert push_data(GraphStore(store.store_url), [ROOT / "tests" / "w3c" / "protocol-graphs.nq"]) == 3
        count = requests.get(
            store.query_url,
            params={"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"},
            headers={"Accept": "text/csv"},
            timeout=30,
        )
        assert count.text.split() == ["n", "3"]
    finally:
        store.stop()


def test_graph_options_are_checked(release_nt):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "ldn_graph", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    alone = run("serve", "--store-graph", "https://w3id.org/ldngraph/release")
    assert alone.returncode == 2 and "graphs of --store-url" in alone.stderr
    for options in (
        ["serve", "--store-url", "http://127.0.0.1:9/sparql", "--store-graph", "not an IRI"],
        ["serve", "--store-url", "http://127.0.0.1:9/sparql", "--store-named-graph", "relative/path"],
        [
            "load",
            "--store-url",
            "http://127.0.0.1:9/store",
            "--release",
            str(release_nt),
            "--graph",
            "nonsense",
        ],
    ):
        refused = run(*options)
        assert refused.returncode == 2 and "is not an" in refused.stderr and "IRI" in refused.stderr, (
            refused.stderr
        )

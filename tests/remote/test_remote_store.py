"""The remote store gives the same answers as the embedded one, and fails clearly, never hangs."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from http_wire import read_message

from ldn_graph.errors import LdnGraphError
from ldn_graph.prefixes import PREFIXES
from ldn_graph.query import run_query
from ldn_graph.remote_store import RemoteStore, RemoteStoreError, RemoteTimeout, push_release

QUERIES = sorted((Path(__file__).resolve().parents[2] / "queries").glob("*.rq"))


def answers(result) -> list:
    if result.boolean is not None:
        return [result.boolean]
    if result.triples is not None:
        return sorted(str(t) for t in result.triples)
    return sorted(tuple(str(row[v]) for v in result.variables) for row in result.rows)


@pytest.mark.parametrize("query", QUERIES, ids=lambda p: p.name)
def test_competency_queries_answer_the_same(store, remote, query):
    text = query.read_text(encoding="utf-8")
    assert answers(run_query(remote, text)) == answers(run_query(store, text))


def test_ask_construct_and_prefixes(remote):
    assert bool(remote.query("ASK { ldn:naltrexone a schema:Drug }", prefixes=PREFIXES)) is True
    triples = remote.query(
        "CONSTRUCT { ldn:naltrexone ?p ?o } WHERE { ldn:naltrexone ?p ?o }", prefixes=PREFIXES
    )
    assert len(triples) > 10 and all(isinstance(t, ox.Triple) for t in triples)
    assert len(remote) > 3000


def test_dataset_parameters_are_forwarded(remote):
    empty = remote.query(
        "SELECT * WHERE { ?s ?p ?o }", default_graph=[ox.NamedNode("http://example.org/no-such-graph")]
    )
    assert list(empty) == []


def test_syntax_errors_are_found_before_leaving_the_machine(remote):
    with pytest.raises(SyntaxError):
        remote.query("SELECT * WHERE { ?s ?p }")


def test_dead_store_is_a_clear_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    with (
        pytest.raises(RemoteStoreError, match="cannot reach the store"),
        RemoteStore(f"http://127.0.0.1:{port}/query", timeout=2) as remote,
    ):
        remote.query("ASK {}")
    assert time.monotonic() - started < 2


def test_slow_store_is_abandoned_at_the_limit():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []

    def accept_and_stall():
        connection, _ = listener.accept()
        accepted.append(connection)  # read nothing, answer nothing

    threading.Thread(target=accept_and_stall, daemon=True).start()
    port = listener.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(RemoteTimeout), RemoteStore(f"http://127.0.0.1:{port}/query", timeout=1) as remote:
        remote.query("ASK {}")
    assert 0.9 < time.monotonic() - started < 1.5
    listener.close()
    for connection in accepted:
        connection.close()


# What stores answer when they fail, as raw HTTP responses (Oxigraph's cancellation text as it sends it).
_CUT = b'{"head":{"vars":["n"]},"results":{"bindings":[The SPARQL operation has been cancelled'
STORE_FAILURES = {
    "busy": (
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 17\r\n\r\nQuery timed out.\n",
        RemoteTimeout,
        "503",
    ),
    "stopped": (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\nConnection: close\r\n\r\n"
        + _CUT,
        RemoteTimeout,
        "own time limit",
    ),
    "stopped, held open": (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + f"{len(_CUT):x}\r\n".encode()
        + _CUT
        + b"\r\n",
        RemoteTimeout,
        "own time limit",
    ),
    "failed": (
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n\r\noops\n",
        RemoteStoreError,
        "500",
    ),
    "garbled": (
        b'HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\nContent-Length: 9\r\n\r\n{"head":[',
        RemoteStoreError,
        "broken answer",
    ),
    "not SPARQL": (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nhi",
        RemoteStoreError,
        "media type",
    ),
}


@pytest.mark.parametrize("failure", STORE_FAILURES, ids=str)
def test_a_failing_store_is_a_clear_error(failure):
    response, error, message = STORE_FAILURES[failure]
    listener = socket.create_server(("127.0.0.1", 0))
    held = []

    def answer_once():
        connection, _ = listener.accept()
        # Read the whole request: http.client writes the headers and the body separately, and a store
        # that closed with the body unread would reset the connection instead of ending it.
        read_message(connection)
        connection.sendall(response)
        if "held open" in failure:
            held.append(connection)  # closed by the test, after the client gave up
        else:
            connection.close()

    threading.Thread(target=answer_once, daemon=True).start()
    started = time.monotonic()
    try:
        with (
            pytest.raises(error, match=message),
            RemoteStore(f"http://127.0.0.1:{listener.getsockname()[1]}/query", timeout=1) as remote,
        ):
            list(remote.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"))
        assert time.monotonic() - started < 1.5
    finally:
        listener.close()
        for connection in held:
            connection.close()


def test_bad_store_url():
    with pytest.raises(LdnGraphError, match="http"):
        RemoteStore("file:///etc/passwd")


def test_push_refuses_a_non_ntriples_file(tmp_path):
    turtle = tmp_path / "g.ttl"
    turtle.write_text("")
    with pytest.raises(LdnGraphError, match="N-Triples"):
        push_release("http://127.0.0.1:9/store", turtle)


def test_load_command_pushes_the_release(oxigraph, release_nt):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "ldn_graph", "load", "--store-url", oxigraph.store_url, "--release", str(release_nt)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with RemoteStore(oxigraph.query_url) as remote:
        assert len(remote) == len(release_nt.read_text(encoding="utf-8").splitlines())
    unreachable = subprocess.run(
        [sys.executable, "-m", "ldn_graph", "load", "--store-url", "http://127.0.0.1:9/store", "--release", str(release_nt)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert unreachable.returncode == 2 and "cannot reach the store" in unreachable.stderr

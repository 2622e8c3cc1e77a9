"""The remote store client: the same kinds of answers as the embedded store from every real store, and a
clear error, never a hang, from a store that fails."""

from __future__ import annotations

import socket
import subprocess
import threading
import time

import pyoxigraph as ox
import pytest
from support.http_wire import read_message
from support.live_server import free_port
from support.stores import system_binary, wait_for_port

from ldn_graph.errors import LdnGraphError
from ldn_graph.graph.publish import GraphStore, push_release
from ldn_graph.serving.remote_store import RemoteStore, RemoteStoreError, RemoteTimeout
from ldn_graph.vocab.prefixes import PREFIXES


def test_ask_construct_and_prefixes(remote):
    assert bool(remote.query("ASK { ldn:naltrexone a schema:Drug }", prefixes=PREFIXES)) is True
    assert bool(remote.query("ASK { ldn:naltrexone a schema:Person }", prefixes=PREFIXES)) is False
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
    held = ox.NamedNode("http://kasei.us/2009/09/sparql/data/data1.rdf")
    only_named = remote.query(
        "SELECT * WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }", named_graphs=[held]
    )
    assert [solution["g"] for solution in only_named] == [held]  # the default graph empty, one named graph


def test_the_named_graphs_are_those_loaded(remote):
    assert sorted(g.value for g in remote.named_graphs()) == [
        f"http://kasei.us/2009/09/sparql/data/data{n}.rdf" for n in (1, 2, 3)
    ]
    in_named = remote.query(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
    )
    assert [(s["g"].value[-9:], s["n"].value) for s in in_named] == [
        ("data1.rdf", "1"), ("data2.rdf", "1"), ("data3.rdf", "1")
    ]  # fmt: skip


def test_select_star_keeps_our_order_of_variables(store, remote):
    query = "SELECT * WHERE { ldn:naltrexone ?p ?o } ORDER BY ?p ?o LIMIT 3"
    ours = store.query(query, prefixes=PREFIXES)
    theirs = remote.query(query, prefixes=PREFIXES)
    assert [v.value for v in theirs.variables] == [v.value for v in ours.variables] == ["o", "p"]
    assert list(map(tuple, theirs)) == list(map(tuple, store.query(query, prefixes=PREFIXES)))


def test_a_long_query_goes_as_a_form(remote):
    values = " ".join(f"<urn:x:{n}>" for n in range(400))  # about 5,000 characters: past a GET
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?x {{ {values} }} }}"
    assert int(next(iter(remote.query(query)))["n"].value) == 400


def test_credentials_are_never_shown(tmp_path):
    release = tmp_path / "release.nt"
    release.write_text("<urn:x:s> <urn:x:p> <urn:x:o> .\n")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(LdnGraphError, match="read without credentials") as refused:
        RemoteStore(f"http://reader:s3cret@127.0.0.1:{port}/query", timeout=2)
    assert "s3cret" not in str(refused.value)
    with pytest.raises(LdnGraphError) as refused:
        push_release(GraphStore(f"http://writer:s3cret@127.0.0.1:{port}/store"), release)
    assert "cannot reach the store" in str(refused.value) and "s3cret" not in str(refused.value)


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
        "answered a SELECT query with text/html, not SPARQL JSON results",
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
        push_release(GraphStore("http://127.0.0.1:9/store"), turtle)


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


def test_what_a_store_writes_on_an_idle_connection_is_not_an_answer():
    """Oxigraph's server answers its own idle timeout with a 500 written on the kept-alive connection; the
    next query must not read that as its answer, but go on a new connection."""
    answer = b'{"head":{"vars":["n"]},"results":{"bindings":[{"n":{"type":"literal","value":"1"}}]}}'
    ok = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
        + f"Content-Length: {len(answer)}\r\n\r\n".encode()
        + answer
    )
    stale = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 49\r\n\r\nResource temporarily unavailable (os error 11)\n\n"
    listener = socket.create_server(("127.0.0.1", 0))
    written = threading.Event()

    def serve():
        first, _ = listener.accept()
        read_message(first)
        first.sendall(ok)
        first.sendall(stale)  # unasked, then the store closes
        first.close()
        written.set()
        second, _ = listener.accept()
        read_message(second)
        second.sendall(ok)
        second.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        with RemoteStore(f"http://127.0.0.1:{listener.getsockname()[1]}/query", timeout=2) as remote:
            assert [s["n"].value for s in remote.query("SELECT ?n WHERE {}")] == ["1"]
            assert written.wait(2)
            assert [s["n"].value for s in remote.query("SELECT ?n WHERE {} # again")] == ["1"]
    finally:
        listener.close()


_BASIC_AUTH_PROXY = """
global
    maxconn 64
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
userlist writers
    user {user} insecure-password {password}
frontend store
    bind 127.0.0.1:{port}
    http-request auth realm store unless {{ http_auth(writers) }}
    default_backend oxigraph
backend oxigraph
    server oxigraph {store}
"""


def test_load_answers_a_basic_challenge(launch_oxigraph, release_nt, tmp_path):
    """A store behind a proxy that asks for HTTP basic credentials (HAProxy before Oxigraph's server)."""
    store = launch_oxigraph(tmp_path / "oxigraph.log")
    port = free_port()
    config = tmp_path / "proxy.cfg"
    config.write_text(
        _BASIC_AUTH_PROXY.format(
            user="writer", password="s3cret", port=port, store=store.url.removeprefix("http://")
        )
    )
    proxy = subprocess.Popen([system_binary("haproxy", "haproxy"), "-db", "-f", str(config)])
    try:
        wait_for_port(port)
        url = f"http://127.0.0.1:{port}/store"
        with pytest.raises(LdnGraphError, match="asks for credentials"):
            push_release(GraphStore(url), release_nt)
        with pytest.raises(LdnGraphError, match="refused the credentials of user 'writer'"):
            push_release(GraphStore(url, "writer:wrong"), release_nt)
        push_release(GraphStore(url, "writer:s3cret"), release_nt)
        with RemoteStore(store.query_url) as remote:
            assert len(remote) == len(release_nt.read_text(encoding="utf-8").splitlines())
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
        store.stop()

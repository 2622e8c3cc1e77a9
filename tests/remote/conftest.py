"""Real stores on loopback loaded with the built release: Oxigraph's server (PyPI `oxigraph`) and
Virtuoso Open Source (Debian), each loaded with ``ldn-graph load``; and our own server (``serve
--store-url``) in front of each, beside the same server on its embedded store. Tests that take
``remote_server`` or ``remote`` run once per store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.live_server import LiveServer, start_server
from support.stores import (
    PROTOCOL_GRAPH_NAMES,
    VIRTUOSO_CREDENTIALS,
    VIRTUOSO_GRAPH,
    OxigraphServer,
    StoreProcess,
    VirtuosoServer,
    ldn_graph_load,
    serve_options,
    start_oxigraph,
    start_virtuoso,
)

from ldn_graph.graph.build import write_graph
from ldn_graph.graph.publish import GraphStore, push_release
from ldn_graph.serving.remote_store import RemoteStore

TESTS = Path(__file__).resolve().parents[1]
PROTOCOL_GRAPHS = TESTS / "w3c" / "protocol-graphs.nq"
# Each store's own time limit, set as docs/scale-out.md says (Oxigraph's does not stop every query).
STORE_TIMEOUT = 3
STORES = ("oxigraph", "virtuoso")


def remote_store(store: StoreProcess, timeout: float = 10.0) -> RemoteStore:
    """A ``RemoteStore`` on ``store``, configured as ``serve_options`` configures the server."""
    if isinstance(store, VirtuosoServer):
        return RemoteStore(
            store.query_url, timeout, default_graph=VIRTUOSO_GRAPH, named_graphs=PROTOCOL_GRAPH_NAMES
        )
    return RemoteStore(store.query_url, timeout)


@pytest.fixture(scope="session")
def release_nt(built, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("release") / "ldn-graph.nt"
    write_graph(built.graph, path)
    return path


@pytest.fixture(scope="session")
def oxigraph(release_nt, tmp_path_factory) -> Iterator[OxigraphServer]:
    """An Oxigraph server holding the release in its default graph (and nothing else)."""
    server = start_oxigraph(tmp_path_factory.mktemp("oxigraph") / "server.log")
    try:
        push_release(GraphStore(server.store_url), release_nt)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def oxigraph_full(release_nt, tmp_path_factory) -> Iterator[OxigraphServer]:
    """An Oxigraph server loaded as ``ldn-graph load`` does: the release and the W3C protocol graphs,
    with its own time limit set, as docs/scale-out.md says to."""
    server = start_oxigraph(
        tmp_path_factory.mktemp("oxigraph-full") / "server.log", "--timeout-s", str(STORE_TIMEOUT)
    )
    try:
        ldn_graph_load(server.store_url, "--release", str(release_nt), "--data", str(PROTOCOL_GRAPHS))
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def virtuoso_full(release_nt, tmp_path_factory) -> Iterator[VirtuosoServer]:
    """Virtuoso with a fresh database, loaded as docs/scale-out.md says: the release into a named graph
    (Virtuoso has no default graph of its own to write to) and the W3C protocol graphs, by ``ldn-graph
    load`` with the administrator's credentials in the environment."""
    server = start_virtuoso(tmp_path_factory.mktemp("virtuoso"), query_seconds=STORE_TIMEOUT)
    try:
        ldn_graph_load(
            server.store_url,
            "--graph", VIRTUOSO_GRAPH, "--release", str(release_nt), "--data", str(PROTOCOL_GRAPHS),
            credentials=VIRTUOSO_CREDENTIALS,
        )  # fmt: skip
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session", params=STORES)
def full_store(request) -> StoreProcess:
    """Each store in turn, loaded with the release and the W3C protocol graphs."""
    return request.getfixturevalue(f"{request.param}_full")


@pytest.fixture
def remote(full_store) -> Iterator[RemoteStore]:
    with remote_store(full_store) as store:
        yield store


@pytest.fixture(scope="session")
def remote_server(full_store, tmp_path_factory) -> Iterator[LiveServer]:
    """``serve --store-url``: our server answering from the remote store, default settings."""
    log = tmp_path_factory.mktemp("remote-server") / "server.log"
    server = start_server(*serve_options(full_store), "--workers", "1", log=log)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def embedded_server(release_nt, tmp_path_factory) -> Iterator[LiveServer]:
    """The same server and data on the embedded store: one option differs."""
    log = tmp_path_factory.mktemp("embedded-server") / "server.log"
    server = start_server(
        "--release", str(release_nt), "--data", str(PROTOCOL_GRAPHS), "--workers", "1", log=log
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def launch_oxigraph():
    """``start_oxigraph`` for tests that need a store of their own (stop it with ``.stop()``)."""
    return start_oxigraph


@pytest.fixture(scope="session")
def launch():
    """``start_server`` for tests that need a server of their own (stop it with ``.stop()``)."""
    return start_server


@pytest.fixture(scope="session")
def endpoint_url(remote_server) -> str:
    """The W3C protocol suite's endpoint (tests/endpoint/test_w3c.py), here the remote-backed server."""
    return remote_server.endpoint

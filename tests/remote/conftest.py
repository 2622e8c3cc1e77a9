"""Real Oxigraph servers on loopback (PyPI `oxigraph`) loaded with the built release, and our own server
(``serve --store-url``) in front of one, beside the same server on its embedded store."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ldn_graph.build import write_graph
from ldn_graph.remote_store import RemoteStore, push_data, push_release

TESTS = Path(__file__).resolve().parents[1]
PROTOCOL_GRAPHS = TESTS / "w3c" / "protocol-graphs.nq"
# Oxigraph's own time limit, set as docs/scale-out.md says (it does not stop every query: see there).
STORE_TIMEOUT = 3


def load_module(name: str, path: Path):
    """A test module of another folder (pytest imports test folders by basename, not as packages)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


# The endpoint tests' ``start_server``: the real ``python -m ldn_graph serve`` on a free loopback port.
endpoint_fixtures = load_module("endpoint_fixtures", TESTS / "endpoint" / "conftest.py")
start_server = endpoint_fixtures.start_server
LiveServer = endpoint_fixtures.LiveServer


free_port = endpoint_fixtures.free_port


@dataclass
class OxigraphServer(LiveServer):
    """An ``oxigraph serve`` process: its query and Graph Store Protocol endpoints."""

    @property
    def query_url(self) -> str:
        return self.url + "/query"

    @property
    def store_url(self) -> str:
        return self.url + "/store"


def start_oxigraph(log: Path, *options: str, port: int | None = None) -> OxigraphServer:
    """``oxigraph serve`` (in memory) on a loopback port, polled until it answers."""
    binary = shutil.which("oxigraph")
    if binary is None:
        pytest.fail("the `oxigraph` server binary is missing: pip install oxigraph (in the test extra)")
    port = port or free_port()
    with log.open("ab") as stream:
        process = subprocess.Popen(
            [binary, "serve", "--bind", f"127.0.0.1:{port}", *options], stdout=stream, stderr=stream
        )
    started = time.monotonic()
    server = OxigraphServer(process, f"http://127.0.0.1:{port}", 0.0)
    deadline = started + 20
    while True:
        try:
            with urllib.request.urlopen(server.query_url + "?query=ASK%7B%7D", timeout=1) as answer:
                answer.read()
            server.started_in = time.monotonic() - started
            return server
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                server.stop()
                pytest.fail(f"oxigraph serve did not start:\n{log.read_text()}")
            time.sleep(0.05)


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
        push_release(server.store_url, release_nt)
        yield server
    finally:
        server.stop()


@pytest.fixture
def remote(oxigraph) -> Iterator[RemoteStore]:
    with RemoteStore(oxigraph.query_url) as store:
        yield store


@pytest.fixture(scope="session")
def oxigraph_full(release_nt, tmp_path_factory) -> Iterator[OxigraphServer]:
    """An Oxigraph server loaded as ``ldn-graph load`` does: the release and the W3C protocol graphs,
    with its own time limit set, as docs/scale-out.md says to."""
    server = start_oxigraph(
        tmp_path_factory.mktemp("oxigraph-full") / "server.log", "--timeout-s", str(STORE_TIMEOUT)
    )
    try:
        push_release(server.store_url, release_nt)
        push_data(server.store_url, [PROTOCOL_GRAPHS])
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def remote_server(oxigraph_full, tmp_path_factory) -> Iterator[LiveServer]:
    """``serve --store-url``: our server answering from the remote store, default settings."""
    log = tmp_path_factory.mktemp("remote-server") / "server.log"
    server = start_server("--store-url", oxigraph_full.query_url, "--workers", "1", log=log)
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


launch = endpoint_fixtures.launch  # ``start_server`` as a fixture, for tests with a server of their own


@pytest.fixture(scope="session")
def endpoint_url(remote_server) -> str:
    """The W3C protocol suite's endpoint (tests/endpoint/test_w3c.py), here the remote-backed server."""
    return remote_server.endpoint

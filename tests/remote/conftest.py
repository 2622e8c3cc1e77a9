"""A real Oxigraph server on loopback (PyPI `oxigraph`), loaded with the built release."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ldn_graph.build import write_graph
from ldn_graph.remote_store import RemoteStore, push_release


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class OxigraphServer:
    url: str

    @property
    def query_url(self) -> str:
        return self.url + "/query"

    @property
    def store_url(self) -> str:
        return self.url + "/store"


@pytest.fixture(scope="session")
def release_nt(built, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("release") / "ldn-graph.nt"
    write_graph(built.graph, path)
    return path


@pytest.fixture(scope="session")
def oxigraph(release_nt, tmp_path_factory) -> Iterator[OxigraphServer]:
    binary = shutil.which("oxigraph")
    if binary is None:
        pytest.fail("the `oxigraph` server binary is missing: pip install oxigraph (in the test extra)")
    port = free_port()
    log = (tmp_path_factory.mktemp("oxigraph") / "server.log").open("wb")
    process = subprocess.Popen([binary, "serve", "--bind", f"127.0.0.1:{port}"], stdout=log, stderr=log)
    server = OxigraphServer(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(server.query_url + "?query=ASK%7B%7D", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("oxigraph serve did not start")
                time.sleep(0.1)
        push_release(server.store_url, release_nt)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def remote(oxigraph) -> Iterator[RemoteStore]:
    with RemoteStore(oxigraph.query_url) as store:
        yield store

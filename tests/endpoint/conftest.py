"""Fixtures: the real server started as a subprocess on loopback, and an in-process Flask client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from ldn_graph.store import load_store
from ldn_graph.web import create_app
from ldn_graph.web.config import ServeConfig

TESTS = Path(__file__).resolve().parents[1]
RELEASE = TESTS / "endpoint" / "fixtures" / "release.nt"
W3C = TESTS / "w3c"
PROTOCOL_GRAPHS = W3C / "protocol-graphs.nq"
START_LIMIT = 20.0  # seconds to wait for readiness before the fixture gives up (the product target is 2 s)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LiveServer:
    process: subprocess.Popen
    url: str  # the server root, e.g. http://127.0.0.1:PORT
    started_in: float  # seconds from start to the first answer

    @property
    def endpoint(self) -> str:
        return self.url + "/sparql"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(*options: str, log: Path, env: dict[str, str] | None = None) -> LiveServer:
    """``python -m ldn_graph serve`` on a free loopback port, polled until it answers a query.

    The environment's own ``LDNGRAPH_*`` settings are dropped so that only ``options`` and ``env`` count.
    """
    port = free_port()
    command = [sys.executable, "-m", "ldn_graph", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += options
    env = {key: value for key, value in os.environ.items() if not key.startswith("LDNGRAPH_")} | (env or {})
    started = time.perf_counter()
    with log.open("wb") as stream:
        process = subprocess.Popen(command, stdout=stream, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    while time.perf_counter() - started < START_LIMIT:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if requests.get(url + "/sparql", params={"query": "ASK {}"}, timeout=2).status_code == 200:
                return LiveServer(process, url, time.perf_counter() - started)
        except requests.ConnectionError:
            time.sleep(0.02)
    process.kill()
    process.wait()
    raise RuntimeError(f"the server did not answer within {START_LIMIT} s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    """The real server on the fixture release, with the three W3C protocol graphs added by --data."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    server = start_server(
        "--release", str(RELEASE), "--data", str(PROTOCOL_GRAPHS), "--workers", "2", log=log
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def launch():
    """``start_server`` for tests that need a server of their own (stop it with ``.stop()``)."""
    return start_server


@pytest.fixture(scope="session")
def release_file() -> Path:
    return RELEASE


@pytest.fixture(scope="session")
def loopback_port():
    return free_port


@pytest.fixture(scope="session")
def endpoint_url(live_server: LiveServer) -> str:
    return live_server.endpoint


@pytest.fixture(scope="session")
def app_config() -> ServeConfig:
    return ServeConfig(port=8123, max_rows=5, timeout=5.0, release_file=RELEASE, data=(PROTOCOL_GRAPHS,))


@pytest.fixture
def client(app_config: ServeConfig):
    """A Flask test client; queries run in-process (no engine child is forked inside pytest)."""
    store = load_store(app_config.release_file, app_config.data)
    app = create_app(app_config, store=store, isolate_queries=False)
    return app.test_client()

"""Fixtures: the real server with its limits set low, the application with the same settings made
in-process for Flask's test client, and a loopback listener that counts every hit."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.listener import listener
from support.live_server import start_server
from support.paths import ENDPOINT_RELEASE, PROTOCOL_GRAPHS

from ldn_graph.web.app import create_app
from ldn_graph.web.config import ServeConfig

TIMEOUT, MAX_ROWS = 1.0, 5  # the guarded server's limits (test_limits.py states them too)
RELEASE = ENDPOINT_RELEASE
__all__ = ["listener"]  # a fixture of this folder


@pytest.fixture(scope="session")
def release_files() -> tuple[Path, Path]:
    """The fixture release and the W3C protocol graphs (named graphs) every server here serves."""
    return RELEASE, PROTOCOL_GRAPHS


@pytest.fixture(scope="session")
def launch():
    """A server of the test's own: ``launch(*options, log=path)``, on the fixture release and graphs."""

    def launch(*options: str, log: Path):
        return start_server("--release", str(RELEASE), "--data", str(PROTOCOL_GRAPHS), *options, log=log)

    return launch


@pytest.fixture(scope="session")
def guarded_app():
    """The guarded server's settings and data, the application made in-process; queries run in the
    test's own process, so only what the guard refuses before the engine belongs here."""
    config = ServeConfig(timeout=TIMEOUT, max_rows=MAX_ROWS, release_file=RELEASE, data=(PROTOCOL_GRAPHS,))
    return create_app(config, isolate_queries=False)


@pytest.fixture
def client(guarded_app):
    return guarded_app.test_client()


@pytest.fixture(scope="session")
def guarded(tmp_path_factory):
    """The real server with a 1 s time limit, 5 rows, and the W3C protocol graphs as named graphs."""
    log = tmp_path_factory.mktemp("guarded") / "server.log"
    server = start_server(
        "--release", str(RELEASE), "--data", str(PROTOCOL_GRAPHS), "--workers", "2",
        "--timeout", str(TIMEOUT), "--max-rows", str(MAX_ROWS),
        log=log,
    )  # fmt: skip
    yield server
    server.stop()

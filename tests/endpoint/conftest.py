"""Fixtures: the real server started as a subprocess on loopback, and an in-process Flask client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.live_server import LiveServer, free_port, start_server
from support.paths import ENDPOINT_RELEASE, PROTOCOL_GRAPHS

from ldn_graph.serving.stores import load_store
from ldn_graph.web.app import create_app
from ldn_graph.web.config import ServeConfig

RELEASE = ENDPOINT_RELEASE


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

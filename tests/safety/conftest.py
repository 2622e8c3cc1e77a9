"""Fixtures: the real server with its limits set low, and a loopback listener that counts every hit."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.listener import listener
from support.live_server import start_server
from support.paths import ENDPOINT_RELEASE, PROTOCOL_GRAPHS

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

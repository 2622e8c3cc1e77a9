"""Fixtures: the real server on loopback, serving a release of the curated sources with its downloads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.live_server import start_server
from support.release_fixtures import released, releases_dir

__all__ = ["released", "releases_dir"]  # fixtures of this folder


@pytest.fixture(scope="session")
def launch():
    """``launch(*options, log=PATH)``: the real server on a free loopback port (stop it with ``.stop()``)."""
    return start_server


@pytest.fixture(scope="session")
def served(releases_dir: Path, tmp_path_factory) -> Iterator:
    """The server on the releases directory, default settings but two workers."""
    log = tmp_path_factory.mktemp("web-server") / "server.log"
    server = start_server("--releases", str(releases_dir), "--workers", "2", log=log)
    yield server
    server.stop()

"""Fixtures: one release written once per session, a copy of the sources that tests may change, and
the real server on loopback."""

from __future__ import annotations

import pytest
from support.live_server import free_port, start_server
from support.release_fixtures import changelog, released, releases_dir, sources, version

__all__ = ["changelog", "released", "releases_dir", "sources", "version"]  # fixtures of this folder


@pytest.fixture(scope="session")
def launch():
    """``launch(*options, log=PATH)``: the real server on a free loopback port (stop it with ``.stop()``)."""
    return start_server


@pytest.fixture(scope="session")
def loopback_port():
    return free_port

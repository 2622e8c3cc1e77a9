"""Fixtures: the real server (its launcher shared with the endpoint tests), the built graph, and the
safety tests' loopback listener that counts every connection made to it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzz_check import FUZZ_TIMEOUT
from support.listener import listener
from support.live_server import start_server
from support.release_fixtures import changelog, sources, version

__all__ = ["changelog", "listener", "sources", "version"]  # fixtures of this folder


@pytest.fixture(scope="session")
def built_graph() -> Path:
    """The LDN graph built from the curated sources (N-Triples, cached by the hash of the sources)."""
    from ldn_graph.graph.cached_release import built_release

    return built_release()


@pytest.fixture(scope="session")
def launch():
    """``launch(*options, log=PATH, env=None)``: the real server on a free loopback port."""
    return start_server


@pytest.fixture(scope="session")
def fuzz_server(built_graph, tmp_path_factory):
    """The real server on the built graph with a 1 s limit; its log is kept for failures."""
    log = tmp_path_factory.mktemp("fuzz") / "server.log"
    server = start_server(
        "--release", str(built_graph), "--timeout", str(FUZZ_TIMEOUT), "--workers", "2", log=log
    )
    server.log = log
    yield server
    server.stop()

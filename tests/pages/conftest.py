"""Fixtures: the real server on the graph built from the curated sources, on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.live_server import start_server

from ldn_graph.graph.cached_release import built_release


@pytest.fixture(scope="session")
def release() -> Path:
    """The graph built from ``graph_data/`` and ``ontology/`` (cached between runs by its sources' hash)."""
    return built_release()


@pytest.fixture(scope="session")
def server(tmp_path_factory, release: Path) -> Iterator:
    log = tmp_path_factory.mktemp("pages-server") / "server.log"
    live = start_server("--release", str(release), "--workers", "2", log=log)
    yield live
    live.stop()


@pytest.fixture(scope="session")
def launch(tmp_path_factory, release: Path):
    """Start a server of one's own on the built graph with extra options; stop it with ``.stop()``."""

    def launch(*options: str):
        log = tmp_path_factory.mktemp("pages-server") / "server.log"
        return start_server("--release", str(release), *options, log=log)

    return launch

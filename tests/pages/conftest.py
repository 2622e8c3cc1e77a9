"""Fixtures: the application on the graph built from the curated sources, made in-process for Flask's
test client (what a page says, not how it travels), and the real server on loopback for the one test
that checks the wire carries the same answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from support.app_fixtures import client, site
from support.live_server import start_server

from ldn_graph.graph.cached_release import built_release
from ldn_graph.web.app import create_app
from ldn_graph.web.config import ServeConfig

__all__ = ["client", "site"]  # fixtures of this folder


@pytest.fixture(scope="session")
def release() -> Path:
    """The graph built from ``graph_data/`` and ``ontology/`` (cached between runs by its sources' hash)."""
    return built_release()


@pytest.fixture(scope="session")
def app(release: Path) -> Flask:
    """The application on the built graph, default settings; queries run in the test's own process."""
    return create_app(ServeConfig(release_file=release), isolate_queries=False)


@pytest.fixture(scope="session")
def server(tmp_path_factory, release: Path) -> Iterator:
    log = tmp_path_factory.mktemp("pages-server") / "server.log"
    live = start_server("--release", str(release), "--workers", "2", log=log)
    yield live
    live.stop()

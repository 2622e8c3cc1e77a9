"""Fixtures: a release of the curated sources with its downloads, served by the application made
in-process for Flask's test client (the answers), and by the real server on loopback (the wire)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from support.app_fixtures import client, site
from support.live_server import start_server
from support.release_fixtures import released, releases_dir

from ldn_graph.web.app import create_app
from ldn_graph.web.config import ServeConfig

__all__ = ["client", "released", "releases_dir", "site"]  # fixtures of this folder


@pytest.fixture(scope="session")
def app(releases_dir: Path) -> Flask:
    """The application on the releases directory, default settings; queries run in the test's process."""
    return create_app(ServeConfig(releases=releases_dir), isolate_queries=False)


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

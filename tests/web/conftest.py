"""Fixtures: the real server on loopback, serving a release of the curated sources with its downloads."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_server import start_server

TESTS = Path(__file__).resolve().parents[1]


def _release_fixtures():
    # The release tests' fixtures (one release written per session, the launcher), loaded by path: test
    # folders are not packages.
    spec = importlib.util.spec_from_file_location("web_release_conftest", TESTS / "release" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_release = _release_fixtures()
releases_dir, released, launch = _release.releases_dir, _release.released, _release.launch


@pytest.fixture(scope="session")
def served(releases_dir: Path, tmp_path_factory) -> Iterator:
    """The server on the releases directory, default settings but two workers."""
    log = tmp_path_factory.mktemp("web-server") / "server.log"
    server = start_server("--releases", str(releases_dir), "--workers", "2", log=log)
    yield server
    server.stop()

"""Fixtures: the real server (its launcher shared with the endpoint tests), the built graph, and the
safety tests' loopback listener that counts every connection made to it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
FUZZ_TIMEOUT = 1.0  # the fuzzed server's --timeout: short, so runaway inputs end quickly


def _load(name: str, path: Path):
    # Test folders are not packages: load their helpers by path, once.
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


endpoint_helpers = _load("reliability_endpoint_conftest", TESTS / "endpoint" / "conftest.py")
safety_helpers = _load("reliability_safety_conftest", TESTS / "safety" / "conftest.py")
release_helpers = _load("reliability_release_conftest", TESTS / "release" / "conftest.py")
start_server = endpoint_helpers.start_server
# Shared fixtures: the loopback listener counting connections; a copy of the sources to edit, and
# helpers to stamp a version and add its changelog entry.
listener = safety_helpers.listener
sources, version, changelog = release_helpers.sources, release_helpers.version, release_helpers.changelog


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

"""Shared fixtures (the graph built once per session, its shapes, an Oxigraph store holding it) and the
``live`` marker, given to every test that uses a real process over loopback."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from ldn_graph.graph.build import BuildResult, build_graph, serialise
from ldn_graph.graph.validate import load_shapes, read_article

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def cache_directory(tmp_path_factory) -> Path:
    """Built graphs and validation reports the commands keep go to the session's own directory, never
    to the user's cache (the commands run as subprocesses inherit it). Each worker of a parallel run
    has its own: a cache keeps only its newest few graphs, and one worker's newest would evict a graph
    another worker is about to read."""
    directory = tmp_path_factory.mktemp("cache")
    os.environ["LDNGRAPH_CACHE_DIR"] = str(directory)
    return directory / "ldn-graph"


@pytest.fixture(scope="session")
def built() -> BuildResult:
    return build_graph()


@pytest.fixture(scope="session")
def shapes():
    return load_shapes()


@pytest.fixture(scope="session")
def article() -> str:
    text = read_article()
    assert text is not None
    return text


@pytest.fixture(scope="session")
def store(built: BuildResult) -> ox.Store:
    store = ox.Store()
    store.bulk_load(serialise(built.graph, "nt"), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.DefaultGraph())
    return store


# Fixtures that start a real process (our server, Oxigraph's, Virtuoso, Varnish, HAProxy) and talk to it
# over loopback. A test that uses one, directly or through another fixture, is marked live.
_LIVE_FIXTURES = frozenset(
    {
        "live_server", "launch", "server", "served", "guarded", "fuzz_server", "limited", "one_worker",
        "strict_server", "ours", "ours_allowing", "oxigraph", "launch_oxigraph", "embedded_server",
        "remote", "remote_server", "oxigraph_full", "virtuoso_full", "full_store", "deployment",
        "own_deployment", "backend", "varnish",
    }
)  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _LIVE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.live)
    # The slow tests first, those of folders with few slow tests (each a long one) before the many short
    # ones of a release's: a parallel run ends on short tests, rather than on one worker finishing a
    # long test alone (5 s of a 40 s run on two cores).
    slow = Counter(item.path for item in items if item.get_closest_marker("slow"))
    items.sort(key=lambda item: (item.path not in slow, slow[item.path]))

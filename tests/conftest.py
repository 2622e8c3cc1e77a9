"""Shared fixtures: the graph built once per session, its shapes, and an Oxigraph store holding it."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from ldn_graph.graph.build import BuildResult, build_graph, serialise
from ldn_graph.graph.validate import load_shapes, read_article

ROOT = Path(__file__).resolve().parents[1]


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

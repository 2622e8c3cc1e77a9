"""Fixtures of the linking tests: the reference table, a copy of the sources to break, the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.cli import ldn_graph

from ldn_graph.graph.reference_table import ReferenceTable, load_reference_table

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def table() -> ReferenceTable:
    return load_reference_table()


@pytest.fixture
def sources_copy(tmp_path) -> Path:
    """A copy of ontology/ and graph_data/ that a test may edit; pass it as --data-dir."""
    for name in ("ontology", "graph_data"):
        shutil.copytree(ROOT / name, tmp_path / name)
    return tmp_path


@pytest.fixture(scope="session")
def cli():
    return ldn_graph

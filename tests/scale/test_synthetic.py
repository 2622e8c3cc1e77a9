"""The synthetic graphs of bench/ are shaped like ours: validation finds exactly the injected violations.

A small graph runs through the real ``ldn-graph validate``; every shape (and the verbatim-quote check)
must be broken by the generator, and nothing else may be reported. (That the reference engine, pySHACL,
reports the same as the default one is tested on every shape's fixtures, in ``tests/test_shapes.py``.)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from support.cli import ldn_graph

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import synthetic  # noqa: E402

from ldn_graph.graph.namespaces import SH  # noqa: E402
from ldn_graph.graph.validate import load_shapes  # noqa: E402

pytestmark = pytest.mark.slow  # generates, builds and validates 15,000 synthetic triples


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, synthetic.Manifest]:
    out = tmp_path_factory.mktemp("synthetic") / "graph"
    return out, synthetic.generate(out, 15_000)


@pytest.fixture(scope="module")
def validated(generated) -> dict:
    """The report of ``ldn-graph validate`` on the generated graph (which lets its store go while the
    SHACL engine runs, and makes it again to name the files of nodes described nowhere)."""
    directory, _ = generated
    result = ldn_graph("validate", "--data-dir", str(directory), "--no-cache", "--format", "json")
    assert result.returncode == 1, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def in_rdflib(generated):
    """The generated graph built in an rdflib graph, and the report on it."""
    from ldn_graph.graph.build import build_graph
    from ldn_graph.graph.validate import check_project

    directory, _ = generated
    build = build_graph(directory)
    return build, check_project(build, directory)


def test_size_is_close_to_the_request(generated):
    _, manifest = generated
    assert abs(manifest.source_triples - 15_000) < 15_000 * 0.05


def test_every_shape_is_broken(generated):
    _, manifest = generated
    shapes = {str(s).rsplit("/shape/", 1)[-1] for s in load_shapes().subjects(None, SH.NodeShape)}
    rules = {rule for _, rule in manifest.expected}
    assert {s for s in shapes if "/" not in s} | {"SupportingTextVerbatim"} <= rules


def test_validation_finds_exactly_the_injected_violations(generated, validated):
    _, manifest = generated
    found = {(v["focus"], v["rule"]) for v in validated["violations"]}
    expected = {tuple(pair) for pair in manifest.expected}
    assert found == expected, f"missing {sorted(expected - found)}; unexpected {sorted(found - expected)}"


def test_generation_is_deterministic(generated, tmp_path):
    directory, _ = generated
    again = tmp_path / "again"
    synthetic.generate(again, 15_000)
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            assert path.read_bytes() == (again / path.relative_to(directory)).read_bytes(), path


def test_a_build_in_a_store_gives_the_same_bytes_and_report(generated, in_rdflib):
    """Large graphs are built in an Oxigraph store (ldn_graph.graph.store_graph): the same dumps and the
    same validation report, violation for violation, as the build in an rdflib graph."""
    from ldn_graph.graph.build import build_graph, serialise
    from ldn_graph.graph.validate import check_project

    directory, _ = generated
    built, report = in_rdflib
    in_store = build_graph(directory, store=True)
    for fmt in ("nt", "ttl"):
        assert serialise(in_store.graph, fmt) == serialise(built.graph, fmt), fmt
    assert in_store.sources.subject_files == built.sources.subject_files
    assert report.violations and check_project(in_store, directory).to_json() == report.to_json()


def test_a_validation_that_lets_its_store_go_gives_the_same_report(validated, in_rdflib):
    """``validate`` lets its store go while the SHACL engine runs, and makes it again to name the files
    referring to a node described nowhere: the same report, files and all."""
    _, report = in_rdflib
    assert any(v["rule"] == "NoDanglingReference" for v in validated["violations"])
    assert all(v["files"] for v in validated["violations"])
    assert validated == json.loads(report.to_json())

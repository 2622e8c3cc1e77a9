"""The synthetic graphs of bench/ are shaped like ours: validation finds exactly the injected violations.

A small graph runs through the real ``ldn-graph validate``; every shape (and the verbatim-quote check)
must be broken by the generator, and nothing else may be reported. (That the reference engine, pySHACL,
reports the same as the default one is tested on every shape's fixtures, in ``tests/test_shapes.py``.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import synthetic  # noqa: E402

from ldn_graph.graph.namespaces import SH  # noqa: E402
from ldn_graph.graph.validate import load_shapes  # noqa: E402

pytestmark = pytest.mark.slow  # generates, builds and validates 20,000 synthetic triples


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, synthetic.Manifest]:
    out = tmp_path_factory.mktemp("synthetic") / "graph"
    return out, synthetic.generate(out, 20_000)


def validate(directory: Path, engine: str) -> set[tuple[str, str]]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ldn_graph",
            "validate",
            "--data-dir",
            str(directory),
            "--format",
            "json",
            "--engine",
            engine,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    return {(v["focus"], v["rule"]) for v in json.loads(result.stdout)["violations"]}


def test_size_is_close_to_the_request(generated):
    _, manifest = generated
    assert abs(manifest.source_triples - 20_000) < 20_000 * 0.05


def test_every_shape_is_broken(generated):
    _, manifest = generated
    shapes = {str(s).rsplit("/shape/", 1)[-1] for s in load_shapes().subjects(None, SH.NodeShape)}
    rules = {rule for _, rule in manifest.expected}
    assert {s for s in shapes if "/" not in s} | {"SupportingTextVerbatim"} <= rules


def test_validation_finds_exactly_the_injected_violations(generated):
    directory, manifest = generated
    found = validate(directory, "turbo")
    expected = {tuple(pair) for pair in manifest.expected}
    assert found == expected, f"missing {sorted(expected - found)}; unexpected {sorted(found - expected)}"


def test_generation_is_deterministic(generated, tmp_path):
    directory, _ = generated
    again = tmp_path / "again"
    synthetic.generate(again, 20_000)
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            assert path.read_bytes() == (again / path.relative_to(directory)).read_bytes(), path


def test_a_build_in_a_store_gives_the_same_bytes_and_report(generated):
    """Large graphs are built in an Oxigraph store (ldn_graph.graph.store_graph): the same dumps and the
    same validation report, violation for violation, as the build in an rdflib graph."""
    from ldn_graph.graph.build import build_graph, serialise
    from ldn_graph.graph.validate import check_project

    directory, _ = generated
    in_rdflib, in_store = build_graph(directory), build_graph(directory, store=True)
    for fmt in ("nt", "ttl"):
        assert serialise(in_store.graph, fmt) == serialise(in_rdflib.graph, fmt), fmt
    assert in_store.sources.subject_files == in_rdflib.sources.subject_files
    report = check_project(in_store, directory)
    assert report.violations and report.to_json() == check_project(in_rdflib, directory).to_json()


def test_a_validation_that_lets_its_store_go_gives_the_same_report(generated):
    """``validate`` lets its store go while the SHACL engine runs, and makes it again to name the files
    referring to a node described nowhere: the same report, files and all."""
    from ldn_graph.graph.build import build_graph
    from ldn_graph.graph.validate import check_project, validate_project

    directory, _ = generated
    report = validate_project(directory)
    assert "NoDanglingReference" in report.rules() and all(v.files for v in report.violations)
    assert report.to_json() == check_project(build_graph(directory), directory).to_json()

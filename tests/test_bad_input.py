"""Bad input: a precise error (file, line), exit code 2, and no partial output."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from support.cli import ldn_graph

ROOT = Path(__file__).resolve().parents[1]
GOOD = (
    "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
    "@prefix ldngraph: <https://w3id.org/ldngraph/ontology/> .\n"
    "@prefix ldn: <https://w3id.org/ldngraph/id/> .\n"
)


@pytest.fixture
def checkout(tmp_path) -> Path:
    shutil.copytree(ROOT / "ontology", tmp_path / "ontology")
    shutil.copytree(ROOT / "graph_data", tmp_path / "graph_data")
    return tmp_path


def build(checkout: Path, out: Path) -> subprocess.CompletedProcess:
    return ldn_graph("build", "--out", str(out), "--data-dir", str(checkout))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            GOOD + 'ldn:x a ldngraph:Drug ;\n  rdfs:label "x"@en\nldn:y a ldngraph:Drug .\n',
            ["broken.ttl:6", "syntax error", "ldn:y"],
        ),
        (GOOD + 'ldn:x a ldngraph:Drug ; rdfs:label "x"@en ; foo:bar ldn:y .\n', ["broken.ttl", "foo"]),
        (
            GOOD + "@prefix schema: <http://schema.org/> .\n",
            ["broken.ttl:4", "schema:", "https://schema.org/"],
        ),
        (
            GOOD + "@prefix ex: <http://example.org/> .\n",
            ["broken.ttl:4", "ex:", "not in the project's prefix map"],
        ),
        (
            GOOD + 'ldn:x a ldngraph:Drug ; rdfs:label "x"@en ; ldngraph:doseLevel [ rdfs:label "y"@en ] .\n',
            ["broken.ttl", "blank node"],
        ),
        (b"\xff\xfe not text", ["broken.ttl", "UTF-8"]),
    ],
    ids=["syntax", "unknown-prefix", "wrong-namespace", "foreign-prefix", "blank-node", "not-utf8"],
)
def test_broken_source_is_named_and_nothing_is_written(checkout, tmp_path, content, expected):
    target = checkout / "graph_data" / "broken.ttl"
    target.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "out" / "graph.ttl"
    result = build(checkout, out)
    assert result.returncode == 2, result.stderr
    for text in expected:
        assert text in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
    assert not list((tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else True
    validated = ldn_graph("validate", "--data-dir", str(checkout))
    assert validated.returncode == 2 and "broken.ttl" in validated.stderr


def test_missing_directory(tmp_path):
    result = ldn_graph("validate", "--data-dir", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "directory not found" in result.stderr


def test_failed_build_keeps_the_previous_output(checkout, tmp_path):
    out = tmp_path / "graph.nt"
    assert build(checkout, out).returncode == 0
    before = out.read_bytes()
    (checkout / "graph_data" / "broken.ttl").write_text(GOOD + "ldn:x ldn:y .\n ;;;")
    assert build(checkout, out).returncode == 2
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_conflicting_labels_and_bad_identifiers_are_violations(checkout):
    (checkout / "graph_data" / "curator.ttl").write_text(
        GOOD
        + "@prefix dcterms: <http://purl.org/dc/terms/> .\n"
        + 'ldn:naltrexone rdfs:label "naltrexone hydrochloride"@en ; dcterms:identifier "DRUGBANK:DB704" .\n'
    )
    result = ldn_graph("validate", "--data-dir", str(checkout))
    assert result.returncode == 1
    assert "Labelled" in result.stdout and "IdentifierPattern" in result.stdout
    assert "graph_data/curator.ttl" in result.stdout and "ldn:naltrexone" in result.stdout

"""Every shape has fixtures: valid ones conform, each invalid one fails on the shape its name gives.

Both SHACL engines run every fixture, and their reports must be identical: that is what lets
`ldn-graph validate` default to pyshacl-turbo while pySHACL stays the reference.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from rdflib import Graph

from ldn_graph.graph.build import assemble
from ldn_graph.graph.load import load_sources
from ldn_graph.graph.validate import check_graph, load_shapes
from ldn_graph.vocab.prefixes import turtle_header

FIXTURES = Path(__file__).resolve().parent / "shapes"
VALID = sorted((FIXTURES / "valid").glob("*.ttl"))
INVALID = sorted((FIXTURES / "invalid").glob("*.ttl"))
_REMOVE = re.compile(r"^#- (.+)$", re.M)
_ALSO = re.compile(r"^# also: (.+)$", re.M)


@pytest.fixture(scope="module")
def sources():
    return load_sources()


@pytest.fixture(scope="module")
def shapes_graph():
    return load_shapes()


def apply_fixture(sources, fixture: Path) -> Graph:
    text = fixture.read_text(encoding="utf-8")
    graph = Graph()
    for triple in sources.graph:
        graph.add(triple)
    for removal in _REMOVE.findall(text):
        doomed = Graph().parse(data=turtle_header() + removal, format="turtle")
        assert len(doomed) == 1 and all(t in graph for t in doomed), (
            f"{fixture.name}: nothing to remove: {removal}"
        )
        for triple in doomed:
            graph.remove(triple)
    for triple in Graph().parse(data=turtle_header() + text, format="turtle"):
        graph.add(triple)
    return assemble(graph, "0.0.0", dt.date(2026, 1, 1))


def expected_rules(fixture: Path) -> set[str]:
    rules = {fixture.stem.split("-", 1)[0]}
    for line in _ALSO.findall(fixture.read_text(encoding="utf-8")):
        rules |= {rule.strip() for rule in line.split(",")}
    return rules


def fingerprint(report) -> set[tuple[str, str, str, str]]:
    return {(v.focus, v.rule, v.path, v.value) for v in report.violations}


def test_there_is_an_invalid_fixture_for_every_shape(shapes_graph):
    from ldn_graph.graph.namespaces import SH

    shapes = {str(s).rsplit("/shape/", 1)[-1] for s in shapes_graph.subjects(None, SH.NodeShape)}
    shapes = {s for s in shapes if "/" not in s}
    covered = {f.stem.split("-", 1)[0] for f in INVALID}
    assert shapes <= covered, f"shapes without an invalid fixture: {sorted(shapes - covered)}"


@pytest.mark.parametrize("fixture", VALID, ids=lambda p: p.stem)
def test_valid_fixture_conforms(sources, shapes_graph, article, fixture):
    report = check_graph(apply_fixture(sources, fixture), shapes_graph, article=article)
    assert report.conforms, "\n".join(v.describe() for v in report.violations)


@pytest.mark.slow  # each validates the whole graph with one error added
@pytest.mark.parametrize("fixture", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_fails_on_its_shape(sources, shapes_graph, article, fixture):
    graph = apply_fixture(sources, fixture)
    fast = check_graph(graph, shapes_graph, article=article, engine="turbo")
    expected = expected_rules(fixture)
    assert not fast.conforms
    assert fixture.stem.split("-", 1)[0] in fast.rules()
    assert fast.rules() <= expected, "\n".join(v.describe() for v in fast.violations)
    for violation in fast.violations:
        assert violation.message and "{?" not in violation.message and "{$" not in violation.message


@pytest.mark.slow  # pySHACL takes about 12 s over the whole graph, once per fixture
@pytest.mark.parametrize("fixture", INVALID, ids=lambda p: p.stem)
def test_reference_engine_gives_the_same_report(sources, shapes_graph, fixture):
    graph = apply_fixture(sources, fixture)
    fast = check_graph(graph, shapes_graph, engine="turbo")
    reference = check_graph(graph, shapes_graph, engine="pyshacl")
    assert fingerprint(fast) == fingerprint(reference)


def test_the_real_graph_conforms_with_both_engines(built, shapes_graph, article):
    for engine in ("turbo", "pyshacl"):
        report = check_graph(built.graph, shapes_graph, built.sources, article, engine)
        assert report.conforms, "\n".join(v.describe() for v in report.violations)

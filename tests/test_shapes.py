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


def sparql_based(shapes_graph) -> set[str]:
    """The shapes with a SPARQL-based constraint or target, which the store asks for the whole graph."""
    from ldn_graph.graph.namespaces import SH

    return {str(s).rsplit("/shape/", 1)[-1] for s in shapes_graph.subjects(SH.sparql | SH.target, None)}


@pytest.mark.slow  # pySHACL takes about 12 s over the whole graph, once per fixture
@pytest.mark.parametrize("fixture", INVALID, ids=lambda p: p.stem)
def test_reference_engine_gives_the_same_report(sources, shapes_graph, fixture):
    graph = apply_fixture(sources, fixture)
    fast = check_graph(graph, shapes_graph, engine="turbo")
    reference = check_graph(graph, shapes_graph, engine="pyshacl")
    assert fingerprint(fast) == fingerprint(reference)
    if fixture.stem.split("-", 1)[0] in sparql_based(shapes_graph):
        # Asked of the store for the whole graph, yet what pySHACL reports node by node, messages included.
        assert fast.to_json() == reference.to_json()


def test_the_store_asks_the_sparql_based_shapes(shapes_graph):
    from ldn_graph.graph.build import build_graph
    from ldn_graph.graph.namespaces import SH
    from ldn_graph.graph.shacl_sparql import split_shapes

    split = split_shapes(shapes_graph, build_graph(store=True).graph.store)
    rewritten = {str(c.shape).rsplit("/shape/", 1)[-1] for c in split.constraints}
    assert rewritten == {"AssertedWhenTrue", "MappedIdentifier", "UniquePublication"}
    assert not set(split.engine_shapes.objects(None, SH.sparql))
    assert not set(split.engine_shapes.objects(None, SH.target))
    dangling = next(s for s in shapes_graph.subjects(SH.target, None))
    assert len(set(split.engine_shapes.objects(dangling, SH.targetNode))) > 100


def test_the_real_graph_conforms_with_both_engines(built, shapes_graph, article):
    for engine in ("turbo", "pyshacl"):
        report = check_graph(built.graph, shapes_graph, built.sources, article, engine)
        assert report.conforms, "\n".join(v.describe() for v in report.violations)

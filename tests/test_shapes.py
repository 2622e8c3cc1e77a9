"""Every shape has fixtures: valid ones conform, each invalid one fails on the shape its name gives.

Both SHACL engines run every fixture, and their reports must be identical: that is what lets
`ldn-graph validate` default to pyshacl-turbo while pySHACL stays the reference.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph

from ldn_graph.graph.build import assemble
from ldn_graph.graph.load import load_sources
from ldn_graph.graph.store_graph import StoreGraph, to_oxigraph
from ldn_graph.graph.validate import check_graph, load_shapes
from ldn_graph.vocab.prefixes import turtle_header

FIXTURES = Path(__file__).resolve().parent / "shapes"
VALID = sorted((FIXTURES / "valid").glob("*.ttl"))
INVALID = sorted((FIXTURES / "invalid").glob("*.ttl"))
_REMOVE = re.compile(r"^#- (.+)$", re.M)
_ALSO = re.compile(r"^# also: (.+)$", re.M)
#: The shapes with SPARQL-based constraints, which the store asks for the whole graph at once.
ASKED_OF_THE_STORE = {"AssertedWhenTrue", "MappedIdentifier", "UniquePublication"}


@pytest.fixture(scope="module")
def sources():
    return load_sources(store=True)


@pytest.fixture(scope="module")
def shapes_graph():
    return load_shapes()


def apply_fixtures(sources, fixtures: list[Path]) -> StoreGraph:
    """The curated graph with every fixture's removals (``#- triple`` lines) and additions, assembled in
    a store as ``ldn-graph validate`` builds it."""
    graph = StoreGraph()
    graph.store.extend(sources.graph.store.quads_for_pattern(None, None, None, None))
    for fixture in fixtures:
        text = fixture.read_text(encoding="utf-8")
        for removal in _REMOVE.findall(text):
            doomed = Graph().parse(data=turtle_header() + removal, format="turtle")
            assert len(doomed) == 1 and all(t in sources.graph for t in doomed), (
                f"{fixture.name}: nothing to remove: {removal}"
            )
            for triple in doomed:
                graph.store.remove(ox.Quad(*map(to_oxigraph, triple), ox.DefaultGraph()))
        graph.store.load(
            (turtle_header() + text).encode("utf-8"), ox.RdfFormat.TURTLE, to_graph=ox.DefaultGraph()
        )
    return assemble(graph, "0.0.0", dt.date(2026, 1, 1))


def apply_fixture(sources, fixture: Path) -> Graph:
    return apply_fixtures(sources, [fixture])


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


def isolation_batches() -> list[list[Path]]:
    """The invalid fixtures in as few graphs as keep each one's rules its own: no two fixtures of a batch
    expect a rule in common, so a rule reported in a batch's graph is one fixture's doing, and a rule no
    fixture of the batch expects is a fixture breaking more than it says. (Validating the whole graph
    once per fixture took half a minute of the fast tests.)"""
    batches: list[tuple[list[Path], set[str]]] = []
    for fixture in INVALID:
        rules = expected_rules(fixture)
        for fixtures, taken in batches:
            if not rules & taken:
                fixtures.append(fixture)
                taken |= rules
                break
        else:
            batches.append(([fixture], set(rules)))
    return [fixtures for fixtures, _ in batches]


@pytest.fixture(scope="module")
def checked(sources, shapes_graph, article):
    """``checked(fixtures, quotes=False)``: the graph with ``fixtures`` applied together, and the default
    engine's report on it (the quotes checked against the article too with ``quotes``), each made once."""
    made = {}

    def graph_and_report(fixtures: list[Path], quotes: bool = False):
        key = (tuple(fixtures), quotes)
        if key not in made:
            graph = apply_fixtures(sources, fixtures)
            report = check_graph(graph, shapes_graph, article=article if quotes else None, engine="turbo")
            made[key] = graph, report
        return made[key]

    return graph_and_report


@pytest.mark.parametrize("fixture", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_fails_on_its_shape(checked, fixture):
    batch = next(batch for batch in isolation_batches() if fixture in batch)
    _, report = checked(batch, quotes=True)
    expected = set().union(*(expected_rules(other) for other in batch))
    shape = fixture.stem.split("-", 1)[0]
    found = "\n".join(v.describe() for v in report.violations)
    others = ", ".join(other.stem for other in batch if other != fixture)
    assert shape in report.rules(), f"{fixture.stem} breaks nothing (or one of {others} undoes it):\n{found}"
    assert report.rules() <= expected, f"rules no fixture of the batch expects:\n{found}"
    for violation in report.violations:
        assert violation.message and "{?" not in violation.message and "{$" not in violation.message


def reference_batches() -> list[list[Path]]:
    """The invalid fixtures in two batches, each shape's fixtures alternating between them (the first of
    each shape in the batch the previous shape's first is not): together in one graph, two fixtures may
    undo each other (one removes a label, another adds a second), which the next test would notice."""
    batches: list[list[Path]] = [[], []]
    groups: dict[str, list[Path]] = {}
    for fixture in INVALID:
        groups.setdefault(fixture.stem.split("-", 1)[0], []).append(fixture)
    for number, fixtures in enumerate(groups.values()):
        for index, fixture in enumerate(fixtures):
            batches[(number + index) % 2].append(fixture)
    return batches


def test_the_reference_batches_break_every_shape(shapes_graph, checked):
    from ldn_graph.graph.namespaces import SH

    shapes = {str(s).rsplit("/shape/", 1)[-1] for s in shapes_graph.subjects(None, SH.NodeShape)}
    broken = set().union(*(checked(batch)[1].rules() for batch in reference_batches()))
    missing = {f.stem.split("-", 1)[0] for f in INVALID} & shapes - broken
    assert not missing, f"fixtures that undo each other in a batch: {sorted(missing)}"


@pytest.fixture
def queries_translated_once(monkeypatch):
    """pySHACL hands rdflib a SPARQL-based constraint's text once for every focus node, and rdflib parses
    and translates it each time: 4 of pySHACL's 5 s on our graph. The translation is a function of the
    text, prefixes and base alone (what rdflib's ``prepareQuery`` is for), so each is kept and handed
    back for the same three; rdflib evaluates it as ever."""
    from rdflib.plugins.sparql import processor

    translated = {}
    query = processor.SPARQLProcessor.query

    def query_translated_once(self, text_or_query, initBindings=None, initNs=None, base=None, DEBUG=False):
        if isinstance(text_or_query, str):
            key = (text_or_query, base, tuple(sorted((initNs or {}).items())))
            if key not in translated:
                translated[key] = processor.translateQuery(processor.parseQuery(text_or_query), base, initNs)
            text_or_query = translated[key]
        return query(self, text_or_query, initBindings, initNs, base, DEBUG)

    monkeypatch.setattr(processor.SPARQLProcessor, "query", query_translated_once)
    return translated


@pytest.mark.slow
@pytest.mark.parametrize("batch", [0, 1])
def test_reference_engine_gives_the_same_report(shapes_graph, checked, queries_translated_once, batch):
    """pySHACL once per batch of invalid fixtures: the same report from both engines, and the same
    messages for the shapes the store asks."""
    graph, fast = checked(reference_batches()[batch])
    reference = check_graph(graph, shapes_graph, engine="pyshacl")
    assert queries_translated_once  # the SPARQL-based constraints ran, on rdflib's engine
    assert len(fast.violations) >= len(reference_batches()[batch]) // 2
    assert fingerprint(fast) == fingerprint(reference)
    # The SPARQL-based shapes, asked of the store for the whole graph, give what pySHACL reports node by
    # node, messages included (the engines word the others' default messages each its own way).
    assert [v for v in fast.violations if v.rule in ASKED_OF_THE_STORE] == [
        v for v in reference.violations if v.rule in ASKED_OF_THE_STORE
    ]


def test_the_store_asks_the_sparql_based_shapes(shapes_graph):
    from ldn_graph.graph.build import build_graph
    from ldn_graph.graph.namespaces import SH
    from ldn_graph.graph.shacl_sparql import split_shapes

    split = split_shapes(shapes_graph, build_graph(store=True).graph.store)
    rewritten = {str(c.shape).rsplit("/shape/", 1)[-1] for c in split.constraints}
    assert rewritten == ASKED_OF_THE_STORE
    assert not set(split.engine_shapes.objects(None, SH.sparql))
    assert not set(split.engine_shapes.objects(None, SH.target))
    dangling = next(s for s in shapes_graph.subjects(SH.target, None))
    assert len(set(split.engine_shapes.objects(dangling, SH.targetNode))) > 100


def test_the_real_graph_conforms():
    """With the default engine; pySHACL gives the same report on the whole graph with every invalid
    fixture in it (above)."""
    from click.testing import CliRunner

    from ldn_graph import cli

    result = CliRunner().invoke(cli.main, ["validate", "--no-cache", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["conforms"] is True

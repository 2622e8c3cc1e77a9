"""docs/data-model.md cannot drift: each Turtle example is in the built graph, each query answers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import Graph, Literal
from rdflib.namespace import XSD

from ldn_graph.graph.load import canonical_decimal
from ldn_graph.serving.query_runner import run_query
from ldn_graph.vocab.prefixes import sparql_header, turtle_header

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "data-model.md"
_BLOCK = re.compile(r"```(turtle|sparql)\n(.*?)```", re.S)
BLOCKS = [(kind, body) for kind, body in _BLOCK.findall(GUIDE.read_text(encoding="utf-8"))]


def test_every_rule_has_an_example_and_a_query():
    sections = re.findall(r"^## (\d+)\. ", GUIDE.read_text(encoding="utf-8"), re.M)
    assert sections == [str(n) for n in range(1, 16)]
    assert [k for k, _ in BLOCKS].count("turtle") == 15 and [k for k, _ in BLOCKS].count("sparql") == 15


def _canonical(triple):
    """Decimals as the build stores them: ``71.0`` in Turtle is the literal "71"^^xsd:decimal there."""
    s, p, o = triple
    if isinstance(o, Literal) and o.datatype == XSD.decimal:
        o = Literal(canonical_decimal(str(o)), datatype=XSD.decimal)
    return s, p, o


@pytest.mark.parametrize("body", [b for k, b in BLOCKS if k == "turtle"], ids=lambda b: b.split()[0])
def test_turtle_example_is_in_the_graph(built, body):
    example = Graph().parse(data=turtle_header() + body, format="turtle")
    missing = [t for t in map(_canonical, example) if t not in built.graph]
    assert not missing, f"not in the graph: {missing}"


@pytest.mark.parametrize(
    "body", [b for k, b in BLOCKS if k == "sparql"], ids=lambda b: " ".join(b.split()[:4])
)
def test_query_example_answers(store, body):
    result = run_query(store, sparql_header() + body)
    assert result.boolean is True or result.rows

"""Differential checks: the embedded store (pyoxigraph, through the endpoint's own engine) and rdflib's
SPARQL engine answer the same queries over the same built graph with the same results.

Answers are compared as multisets of rows; numbers by value (engines may write 4.5 or 4.50), every
other term exactly. Where the engines are known to differ the test says why (KNOWN), and nothing else
may differ.
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal, InvalidOperation

import pytest
from hypothesis import HealthCheck, given, settings
from pyoxigraph import Literal as OxLiteral
from pyoxigraph import NamedNode as OxNamedNode
from rdflib import Graph, URIRef
from rdflib import Literal as RdfLiteral
from sparql_fuzz_grammar import competency_queries, valid_queries

from ldn_graph.serving.engine import QueryEngine
from ldn_graph.serving.protocol import ProtocolRequest
from ldn_graph.serving.stores import load_store
from ldn_graph.vocab.prefixes import PREFIXES

pytestmark = pytest.mark.slow  # every competency query and generated ones, in two engines

XSD = PREFIXES["xsd"]
NUMERIC = {
    XSD + name for name in ("integer", "decimal", "double", "float", "int", "long", "nonNegativeInteger")
}


@pytest.fixture(scope="module")
def engines(built_graph):
    store = load_store(built_graph)
    graph = Graph()
    graph.parse(built_graph, format="nt")
    return QueryEngine(store, max_rows=1_000_000, timeout=30), graph


def _term(value) -> tuple | None:
    if value is None:
        return None
    if isinstance(value, URIRef | OxNamedNode):
        return ("iri", str(value) if isinstance(value, URIRef) else value.value)
    if isinstance(value, RdfLiteral):
        lexical, datatype, language = str(value), str(value.datatype or ""), value.language or ""
    elif isinstance(value, OxLiteral):
        lexical, datatype, language = value.value, value.datatype.value, value.language or ""
    elif isinstance(value, dict):  # a binding of the SPARQL JSON results our engine writes
        if value["type"] == "uri":
            return ("iri", value["value"])
        lexical, language = value["value"], value.get("xml:lang", "")
        datatype = value.get("datatype", "" if language else XSD + "string")
    else:
        raise TypeError(f"unexpected term {value!r}")
    if language:
        datatype = PREFIXES["rdf"] + "langString"
    datatype = datatype or XSD + "string"
    if datatype in NUMERIC:
        try:
            return ("number", Decimal(lexical).normalize())
        except InvalidOperation:
            pass
    return ("literal", lexical, datatype, language.lower())


def ours(engine: QueryEngine, query: str):
    answer = engine.answer(ProtocolRequest(query), "application/sparql-results+json, application/n-triples")
    if answer.media_type == "application/n-triples":
        graph = Graph().parse(data=answer.body.decode(), format="nt")
        return Counter(tuple(_term(t) for t in triple) for triple in graph)
    document = json.loads(answer.body)
    if "boolean" in document:
        return document["boolean"]
    names = document["head"]["vars"]
    return Counter(tuple(_term(row.get(name)) for name in names) for row in document["results"]["bindings"])


def theirs(graph: Graph, query: str):
    result = graph.query(query, initNs=PREFIXES)
    if result.type == "ASK":
        return bool(result.askAnswer)
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        return Counter(tuple(_term(t) for t in triple) for triple in result.graph)
    names = [str(v) for v in result.vars]
    return Counter(tuple(_term(row[name]) for name in names) for row in result)


def _plain_strings(rows: Counter) -> Counter:
    """Language-tagged strings as plain strings, and the values a GROUP_CONCAT joined with " | " in one
    order (for KNOWN["group_concat"])."""

    def strip(term):
        if not term or term[0] != "literal":
            return term
        text = " | ".join(sorted(term[1].split(" | "))) if " | " in term[1] else term[1]
        return ("literal", text, XSD + "string" if term[3] else term[2], "")

    return Counter({tuple(strip(term) for term in row): count for row, count in rows.items()})


# Where the two engines differ by design, and how the answers are compared there.
KNOWN = {
    # GROUP_CONCAT over strings that share a language tag: Oxigraph keeps the tag (as the SPARQL 1.2
    # drafts ask); rdflib returns a plain string, as SPARQL 1.1 (18.5.1.7) says. Same text either way.
    # The order of the joined values is not defined by SPARQL (18.5.1.7): engines differ.
    "group_concat": (lambda query: "GROUP_CONCAT" in query.upper(), _plain_strings),
}


def same_answers(query: str, mine, other) -> list[str]:
    """Assert the answers agree, allowing only the KNOWN differences; returns those that applied."""
    if mine == other:
        return []
    applied = []
    for name, (applies, normalise) in KNOWN.items():
        if applies(query) and not isinstance(mine, bool):
            mine, other, applied = normalise(mine), normalise(other), [*applied, name]
    shown = lambda c: str(list(c.items())[:3])[:1500]  # noqa: E731
    assert mine == other, (
        f"{query}\npyoxigraph only: {shown(mine - other)}\nrdflib only: {shown(other - mine)}"
    )
    return applied


@pytest.mark.parametrize("number", range(len(competency_queries())), ids=lambda n: f"q{n + 1:02d}")
def test_competency_queries_agree(engines, number):
    engine, graph = engines
    query = competency_queries()[number]
    mine, other = ours(engine, query), theirs(graph, query)
    applied = same_answers(query, mine, other)
    assert mine, "every competency query has answers on the built graph"
    # Only the GROUP_CONCAT difference is known for these queries, and only where they use it.
    assert set(applied) <= {"group_concat"}


@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=valid_queries(deterministic=True))
def test_generated_queries_agree(engines, query):
    engine, graph = engines
    same_answers(query, ours(engine, query), theirs(graph, query))

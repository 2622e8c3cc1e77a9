"""Answers pyoxigraph writes itself (JSON, CSV) hold exactly what the row-by-row writer would, and the row
limit still cuts them exactly, also where a value holds the byte string the row bound counts."""

from __future__ import annotations

import csv
import io
import json

import pytest
from pyoxigraph import Literal, NamedNode, Quad, Store

from ldn_graph.serving.engine import QueryEngine
from ldn_graph.serving.protocol import ProtocolRequest
from ldn_graph.serving.results import write_solutions

ROWS = 12
JSON, CSV = "application/sparql-results+json", "text/csv"
# Values that look like the separators counted: "},{" between JSON solutions, line breaks in CSV.
TRICKY = ['a "},{" b', "line\nbreak", "},{},{},{", 'quote " and, comma', "plain"]


@pytest.fixture(scope="module", params=["plain", "tricky"])
def store(request) -> Store:
    store = Store()
    for i in range(ROWS):
        subject = NamedNode(f"https://example.org/s{i:02d}")
        value = Literal(TRICKY[i % len(TRICKY)] * (1 + i % 3) if request.param == "tricky" else f"v{i}")
        store.add(Quad(subject, NamedNode("https://example.org/p"), value))
    return store


QUERY = "SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s"


def _rows(body: bytes, accept: str) -> list:
    if accept == JSON:
        return [{k: v["value"] for k, v in b.items()} for b in json.loads(body)["results"]["bindings"]]
    return list(csv.DictReader(io.StringIO(body.decode(), newline="")))


@pytest.mark.parametrize("accept", [JSON, CSV])
@pytest.mark.parametrize("max_rows", [1, 4, ROWS - 1, ROWS, ROWS + 1, 100])
def test_row_limit_is_exact(store, accept, max_rows):
    answer = QueryEngine(store, max_rows=max_rows).evaluate(ProtocolRequest(QUERY), accept)
    rows = _rows(answer.body, accept)
    assert len(rows) == min(ROWS, max_rows)
    assert answer.truncated == (max_rows < ROWS)
    assert answer.rows >= len(rows)
    assert [r["s"] for r in rows] == [f"https://example.org/s{i:02d}" for i in range(len(rows))]


@pytest.mark.parametrize("accept,key", [(JSON, "json"), (CSV, "csv")])
def test_native_answer_matches_the_row_writer(store, accept, key):
    answer = QueryEngine(store).evaluate(ProtocolRequest(QUERY), accept)
    solutions = store.query(QUERY)
    variables = [v.value for v in solutions.variables]
    assert answer.body == write_solutions(variables, [tuple(s) for s in solutions], key)


def test_empty_result_counts_no_rows(store):
    answer = QueryEngine(store).evaluate(ProtocolRequest("SELECT ?s WHERE { ?s ?p 42 }"), JSON)
    assert json.loads(answer.body)["results"]["bindings"] == []
    assert answer.rows == 0 and not answer.truncated

"""Every query in queries/ gives the same answer, row by row and in order, on the embedded store, on
Oxigraph's server and on Virtuoso: the files added later are held to it as soon as they are there.

The one difference allowed is written here with where it comes from: Virtuoso has no boolean type and
answers a boolean a query computes as the integer 1 or 0 (``portable_term`` in tests/stores.py)."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from support.stores import VirtuosoServer, portable_term

QUERIES = sorted((Path(__file__).resolve().parents[2] / "queries").glob("*.rq"))
_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"


def answer(result) -> list:
    """The answer as comparable data: rows in order, a boolean, or the sorted triples of a graph."""
    if isinstance(result, ox.QueryBoolean):
        return [bool(result)]
    if isinstance(result, ox.QuerySolutions):
        names = [variable.value for variable in result.variables]
        return [names] + [[solution[name] for name in names] for solution in result]
    return sorted(str(triple) for triple in result)


def portable(rows: list) -> list:
    return [[portable_term(term) for term in row] if isinstance(row, list) else row for row in rows]


def test_the_queries_are_there():
    assert len(QUERIES) >= 10


@pytest.mark.parametrize("query", QUERIES, ids=lambda p: p.stem)
def test_every_store_gives_the_same_answer(store, remote, full_store, query):
    text = query.read_text(encoding="utf-8")
    expected = answer(store.query(text))
    got = answer(remote.query(text))
    assert len(expected) > 1, f"{query.name} answers nothing on the embedded store"
    if isinstance(full_store, VirtuosoServer) and got != expected:
        assert portable(got) == portable(expected)
        computed_booleans = [
            term
            for row in expected[1:]
            for term in row
            if isinstance(term, ox.Literal) and term.datatype.value == _BOOLEAN
        ]
        assert computed_booleans, f"{query.name}: Virtuoso's answer differs in more than its booleans"
    else:
        assert got == expected

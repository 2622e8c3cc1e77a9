"""The query guard's shortcut (counts over the raw text) reaches the verdict the full scan reaches."""

from __future__ import annotations

from pathlib import Path

import pytest

from ldn_graph.serving.guard import MAX_BRANCHES, MAX_DEPTH, QueryGuard
from ldn_graph.serving.protocol import BadRequest

QUERIES = Path(__file__).resolve().parents[2] / "queries"
HELD = frozenset({"https://w3id.org/ldngraph/graph/held"})


class _FullScan(QueryGuard):
    """The guard without its shortcut: every query masked and scanned."""

    def _plainly_within(self, text: str) -> bool:
        return False


def _verdict(guard: QueryGuard, query: str) -> str:
    try:
        guard.check(query)
    except BadRequest as error:
        return f"{type(error).__name__}: {error}"
    return "accepted"


HOSTILE = [
    "SELECT * WHERE { SERVICE <http://evil.example/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { \u017fervice <http://evil.example/sparql> { ?s ?p ?o } }",  # long s
    "SELECT * WHERE { SERV\u0130CE <http://evil.example/sparql> { ?s ?p ?o } }",  # dotted capital I
    "SELECT * WHERE { serv\u0131ce <http://evil.example/sparql> { ?s ?p ?o } }",  # dotless i
    "SELECT * FROM <http://evil.example/g> WHERE { ?s ?p ?o }",
    "SELECT * FR\u039fM <http://evil.example/g> WHERE { ?s ?p ?o }",  # a Greek capital omicron: no keyword
    "SELECT * FROM <https://w3id.org/ldngraph/graph/held> WHERE { ?s ?p ?o }",
    "SELECT * WHERE { " + "{" * MAX_DEPTH + "}" * MAX_DEPTH + " }",
    "SELECT * WHERE " + "{" * (MAX_DEPTH + 1) + "}" * (MAX_DEPTH + 1),
    "SELECT * WHERE { " + " UNION ".join(["{ ?s ?p ?o }"] * (MAX_BRANCHES + 2)) + " }",
    "SELECT * WHERE { " + " UNION ".join(["{ ?s ?p ?o }"] * MAX_BRANCHES) + " }",
    "SELECT * WHERE { ?s ?p ?o FILTER(" + " || ".join(["?o"] * (MAX_BRANCHES + 2)) + ") }",
    'SELECT * WHERE { ?s ?p "' + "{" * 200 + '" }',  # brackets in a string do not nest
    'SELECT * WHERE { ?s ?p "SERVICE <http://x> {" }',
    "SELECT * WHERE { ?s ?p ?o } # SERVICE <http://x> FROM <http://y>",
    "SELECT * WHERE { ?s \\u0053ERVICE ?o }",
    'SELECT * WHERE { ?s ?p "caf\u00e9 \\" quote" }',
]


@pytest.mark.parametrize(
    "query",
    [path.read_text(encoding="utf-8") for path in sorted(QUERIES.rglob("*.rq"))] + HOSTILE,
    ids=[path.name for path in sorted(QUERIES.rglob("*.rq"))] + [f"hostile-{i}" for i in range(len(HOSTILE))],
)
def test_shortcut_and_full_scan_agree(query):
    for allowed in (frozenset(), frozenset({"https://query.wikidata.org/sparql"})):
        fast = QueryGuard(allowed_services=allowed, held_graphs=HELD)
        full = _FullScan(allowed_services=allowed, held_graphs=HELD)
        assert _verdict(fast, query) == _verdict(full, query)


@pytest.mark.parametrize("index", [0, 1, 2, 3, 4, 8, 9, 11])
def test_hostile_queries_are_refused(index):
    with pytest.raises(BadRequest):
        QueryGuard(held_graphs=HELD).check(HOSTILE[index])


def test_competency_queries_take_the_shortcut():
    """Example queries are cleared by counts alone (no masking), which keeps the guard cheap; only a
    query with the word "from" somewhere (here in its comments), or one opening more brackets than the
    nesting limit (the evidence queries build their text with nested CONCAT and COALESCE), needs the full
    scan, and passes it."""
    guard = QueryGuard(held_graphs=HELD)
    for path in sorted(QUERIES.glob("*.rq")):
        query = path.read_text(encoding="utf-8")
        brackets = query.count("{") + query.count("(") + query.count("[")
        needs_scan = "from" in query.lower() or brackets > guard.max_depth
        assert guard._plainly_within(query) != needs_scan, path.name
        guard.check(query)  # and the full scan clears it

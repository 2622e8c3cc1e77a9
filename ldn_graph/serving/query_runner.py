"""One SPARQL query run on a store and its answer rendered for a terminal or a tool, for ``ldn-graph
query`` and the tests; the machine formats come from the same writers as the endpoint's."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from ldn_graph.errors import LdnGraphError
from ldn_graph.serving.results import write_boolean, write_solutions
from ldn_graph.vocab.prefixes import shorten


@dataclass
class QueryResult:
    """A SELECT (``variables`` + ``rows``), an ASK (``boolean``) or a CONSTRUCT/DESCRIBE (``triples``)."""

    variables: list[str]
    rows: list[dict[str, ox.NamedNode | ox.Literal | ox.BlankNode | None]]
    boolean: bool | None = None
    triples: list[ox.Triple] | None = None

    def values(self, variable: str) -> list[str]:
        """The plain string values of one column (IRIs as IRIs, literals by their lexical form)."""
        return [term_value(row.get(variable)) for row in self.rows]


def term_value(term) -> str:
    if term is None:
        return ""
    return term.value


def run_query(store: ox.Store, query: str) -> QueryResult:
    try:
        result = store.query(query)
    except SyntaxError as error:
        raise LdnGraphError(f"bad SPARQL query: {error}") from error
    if isinstance(result, ox.QueryBoolean):
        return QueryResult([], [], boolean=bool(result))
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        rows = [{name: solution[name] for name in variables} for solution in result]
        return QueryResult(variables, rows)
    return QueryResult([], [], triples=list(result))


def _cell(term) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return shorten(term.value)
    return term.value


def render(result: QueryResult, fmt: str) -> str:
    """Render for a terminal (``table``) or for tools (``json`` as SPARQL JSON results, ``csv``), the
    machine formats written by the same writers as the endpoint's."""
    if result.triples is not None:
        return "".join(f"{t.subject} {t.predicate} {t.object} .\n" for t in result.triples)
    if result.boolean is not None:
        if fmt == "table":
            return f"{str(result.boolean).lower()}\n"
        return write_boolean(result.boolean, fmt).decode("utf-8") + "\n"
    if fmt in ("json", "csv"):
        rows = [[row[v] for v in result.variables] for row in result.rows]
        return write_solutions(result.variables, rows, fmt).decode("utf-8")
    cells = [[_cell(row[v]) for v in result.variables] for row in result.rows]
    widths = [min(60, max([len(v)] + [len(c[i]) for c in cells])) for i, v in enumerate(result.variables)]

    def line(values: list[str]) -> str:
        return " | ".join(
            value[:60].ljust(width) for value, width in zip(values, widths, strict=True)
        ).rstrip()

    body = [line(result.variables), "-+-".join("-" * w for w in widths)] + [line(c) for c in cells]
    return "\n".join(body) + f"\n({len(cells)} rows)\n"

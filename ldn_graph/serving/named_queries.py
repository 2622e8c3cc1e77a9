"""Run SPARQL queries against the built graph in an embedded Oxigraph store, for the CLI and tests; and
the competency queries shipped with the graph (``queries/*.rq``), found by name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from ldn_graph.errors import LdnGraphError
from ldn_graph.resources import queries_dir
from ldn_graph.serving.results import write_boolean, write_solutions
from ldn_graph.vocab.prefixes import shorten

_SUMMARY = re.compile(r"^#\+\s*summary:\s*(.+)$", re.M)
_NUMBERED = re.compile(r"^(\d+)-(.+)$")


class UnknownQuery(LdnGraphError):
    """No shipped query has the name asked for; lists the names there are."""


@dataclass(frozen=True)
class NamedQuery:
    """A competency query as shipped: its file name without ``.rq``, its summary line and its text."""

    name: str  # e.g. 01-conditions-evidence
    summary: str
    text: str

    @property
    def names(self) -> tuple[str, ...]:
        """What finds it: the whole name, its number with or without leading zeros, the rest of the name."""
        numbered = _NUMBERED.match(self.name)
        if numbered is None:
            return (self.name,)
        number, rest = numbered.groups()
        return (self.name, number, str(int(number)), rest)


@lru_cache(maxsize=4)
def named_queries(folder: Path | None = None) -> tuple[NamedQuery, ...]:
    """The competency queries of ``folder`` (default: the shipped ones), in file-name order."""
    return tuple(
        NamedQuery(path.stem, summary_of(text) or path.stem, text)
        for path in sorted((folder or queries_dir()).glob("*.rq"))
        for text in [path.read_text(encoding="utf-8")]
    )


def find_query(name: str, folder: Path | None = None) -> NamedQuery:
    """The shipped query called ``name``: ``01-conditions-evidence``, ``01``, ``1`` or ``conditions-evidence``
    (a trailing ``.rq`` is allowed); UnknownQuery names the others."""
    wanted = name.removesuffix(".rq")
    queries = named_queries(folder)
    for query in queries:
        if wanted in query.names:
            return query
    listed = ", ".join(query.name for query in queries)
    raise UnknownQuery(
        f"no query file {name} and no shipped query of that name; the shipped queries: {listed}"
    )


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


def load_store(graph_file: Path | None = None, root: Path | None = None) -> ox.Store:
    """An in-memory store holding the built graph (read from ``graph_file`` or built now)."""
    if graph_file is not None:
        from ldn_graph.serving.stores import load_store as load_files

        return load_files(Path(graph_file))
    from ldn_graph.graph.build import build_graph, serialise

    store = ox.Store()
    data = serialise(build_graph(root).graph, "nt")
    store.bulk_load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.DefaultGraph())
    return store


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


def summary_of(query_text: str) -> str:
    found = _SUMMARY.search(query_text)
    return found.group(1).strip() if found else ""


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

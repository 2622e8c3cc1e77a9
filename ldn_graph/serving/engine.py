"""Answering one protocol request from a pyoxigraph store, within the endpoint's limits.

The engine checks the query with its guard (size, depth, branches, SERVICE, FROM), evaluates it over the
dataset the request names, negotiates the response format once it knows the query form, cuts results at
the row limit and stops at the time limit while it reads rows. A query that spends its whole time inside
one engine call (a big ORDER BY or aggregate) cannot be interrupted from Python:
:mod:`ldn_graph.serving.engine_pool` runs the engine in processes that are killed at the limit, checking
each query in the web worker so that a refused one never reaches an engine process.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from functools import cached_property

from pyoxigraph import NamedNode, QueryBoolean, QuerySolutions, Store

from ldn_graph.serving.guard import QueryGuard
from ldn_graph.serving.protocol import (
    RDF_FORMATS,
    RESULT_FORMATS,
    BadRequest,
    ProtocolRequest,
    QueryTimeout,
    negotiate,
)
from ldn_graph.serving.results import (
    NATIVE_SOLUTION_FORMATS,
    write_boolean,
    write_solutions,
    write_solutions_within,
    write_triples,
)
from ldn_graph.vocab.prefixes import PREFIXES

_CHECK_EVERY = 256  # rows read between two looks at the clock


@dataclass(frozen=True)
class QueryAnswer:
    """A serialised answer; ``truncated`` says the row limit cut it.

    ``rows`` counts the rows (or triples) sent; for an answer pyoxigraph wrote it is an upper bound.
    """

    body: bytes
    media_type: str
    truncated: bool = False
    rows: int = 0


@dataclass
class QueryEngine:
    store: Store
    max_rows: int = 10_000
    timeout: float = 10.0
    base_iri: str | None = None
    allowed_services: frozenset[str] = field(default_factory=frozenset)  # SERVICE endpoints allowed

    @cached_property
    def guard(self) -> QueryGuard:
        # The store is read-only while served, so the graphs FROM may name are known once.
        held = frozenset(graph.value for graph in self.store.named_graphs() if isinstance(graph, NamedNode))
        return QueryGuard(allowed_services=self.allowed_services, held_graphs=held, base_iri=self.base_iri)

    def check(self, request: ProtocolRequest) -> None:
        """Refuse (BadRequest) a query no engine should see; cheap enough to run on every request."""
        assert request.query is not None
        self.guard.check(request.query)

    def answer(self, request: ProtocolRequest, accept: str | None) -> QueryAnswer:
        """Check ``request.query``, evaluate it and serialise the result in the format ``accept`` prefers.

        Raises BadRequest for a query that does not parse or is refused, NotAcceptable when no format
        fits, and QueryTimeout at the time limit.
        """
        self.check(request)
        return self.evaluate(request, accept)

    def evaluate(self, request: ProtocolRequest, accept: str | None) -> QueryAnswer:
        """``answer`` for a request that already passed :meth:`check`."""
        deadline = time.monotonic() + self.timeout
        result = self._run(request)
        if isinstance(result, QueryBoolean):
            self._check_clock(deadline)
            chosen = negotiate(accept, RESULT_FORMATS)
            return QueryAnswer(write_boolean(bool(result), chosen.key), chosen.media_type)
        if isinstance(result, QuerySolutions):
            chosen = negotiate(accept, RESULT_FORMATS)
            if chosen.key in NATIVE_SOLUTION_FORMATS:
                # Most answers fit under the row limit: pyoxigraph writes them whole. The rare longer one
                # is evaluated a second time and cut here.
                native = write_solutions_within(result, chosen.key, self.max_rows)
                self._check_clock(deadline)
                if native is not None:
                    return QueryAnswer(native[0], chosen.media_type, False, native[1])
                result = self._run(request)
            variables = [variable.value for variable in result.variables]
            # A solution iterates its values in the order of the variables (unbound: None).
            rows = self._read(map(tuple, result), deadline)
            truncated = len(rows) > self.max_rows
            rows = rows[: self.max_rows]
            return QueryAnswer(
                write_solutions(variables, rows, chosen.key), chosen.media_type, truncated, len(rows)
            )
        chosen = negotiate(accept, RDF_FORMATS)
        triples = self._read(iter(result), deadline)
        truncated = len(triples) > self.max_rows
        triples = triples[: self.max_rows]
        return QueryAnswer(write_triples(triples, chosen.key), chosen.media_type, truncated, len(triples))

    def _run(self, request: ProtocolRequest):
        assert request.query is not None
        dataset = {}
        if request.has_dataset:
            # The protocol's dataset replaces the query's FROM / FROM NAMED; a graph the store does not
            # hold is simply empty.
            dataset = {
                "default_graph": [NamedNode(iri) for iri in request.default_graphs],
                "named_graphs": [NamedNode(iri) for iri in request.named_graphs],
            }
        try:
            return self.store.query(request.query, base_iri=self.base_iri, prefixes=PREFIXES, **dataset)
        except SyntaxError as error:
            raise BadRequest(f"query syntax: {syntax_message(request.query, str(error))}") from None
        except ValueError as error:  # e.g. an IRI in the dataset parameters that is not an IRI
            raise BadRequest(str(error)) from None

    def _read(self, rows, deadline: float) -> list:
        """Up to max_rows + 1 rows (the extra one tells a cut result), watching the clock."""
        taken: list = []
        while len(taken) <= self.max_rows:
            batch = list(itertools.islice(rows, min(_CHECK_EVERY, self.max_rows + 1 - len(taken))))
            taken += batch
            self._check_clock(deadline)
            if not batch:
                break
        return taken

    def _check_clock(self, deadline: float) -> None:
        if time.monotonic() > deadline:
            raise QueryTimeout(f"the query ran past the time limit of {self.timeout:g} s")


_ERROR_AT = re.compile(r"error at (\d+):(\d+)")
# A prefixed name ending where the parser stopped: its prefix is the one it could not find.
_PREFIXED_NAME_BEFORE = re.compile(r"([A-Za-z][\w.\-]*)?:[\w.\-%\\]*$")


def syntax_message(query: str, message: str) -> str:
    """The parser's message, or one line naming an undeclared prefix and where it is used.

    Oxigraph reports an undeclared prefix as one of the tokens it expected, hidden among the Unicode
    ranges a local name may hold; a reader needs the prefix and its place.
    """
    where = _ERROR_AT.search(message)
    if "Prefix not found" not in message or where is None:
        return message
    line, column = int(where.group(1)), int(where.group(2))
    lines = query.splitlines() or [""]
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    # The parser counts columns from 1 on its own line, and stops just after the name.
    name = _PREFIXED_NAME_BEFORE.search(text[: column - 1] if column > 0 else text)
    if name is None:
        return f"undeclared prefix at line {line}, column {column}: declare it with PREFIX"
    prefix = name.group(1) or ""
    start = name.start() + 1
    return (
        f"prefix '{prefix}:' is not declared (line {line}, column {start}): "
        f"add PREFIX {prefix}: <…> before the query"
    )

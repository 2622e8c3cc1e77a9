"""A remote SPARQL 1.1 store behind the same engine as the embedded one.

``RemoteStore`` answers the part of ``pyoxigraph.Store``'s interface the endpoint uses: ``query`` (same
signature, same return types: solutions, a boolean, or triples), ``named_graphs()`` and ``len()``. So
the endpoint's guard, formats and row cap apply unchanged whichever store answers. Queries are parsed
locally first, so a syntax error gets the same message and position as with the embedded store, only a
well-formed, guarded query leaves the machine, and the query's form says what to ask the store for:
SPARQL JSON results for SELECT and ASK, N-Triples (or Turtle) for CONSTRUCT and DESCRIBE. The store's
answer must be of that kind; anything else is a 502 naming the store.

Queries go as the SPARQL 1.1 Protocol's GET, or as a form-encoded POST when the URL would be long: every
store answers those (Virtuoso never answers a POST of ``application/sparql-query``: openlink/virtuoso-
opensource#842).

Stores such as Virtuoso have no default graph of their own (a query without ``FROM`` reads the union of
all their graphs, their system graphs included). For them the release is loaded into a named graph
(``ldn-graph load --graph``) and ``default_graph`` names it: every query that does not choose its own
dataset is sent with that graph as its default graph and ``named_graphs`` as its named graphs.

Our time limit is enforced here, at the client: the request is abandoned at the deadline. A remote
store may keep working after we leave, so set its own timeout too (docs/scale-out.md).
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import re
import select
import threading
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from ldn_graph.errors import LdnGraphError
from ldn_graph.serving.guard import graphs_named
from ldn_graph.serving.protocol import RDF_FORMAT, BadRequest, ProtocolError, QueryTimeout
from ldn_graph.serving.results import write_solutions
from ldn_graph.serving.store_address import USER_AGENT, StoreAddress, readable

log = logging.getLogger(__name__)

_RESULTS_JSON = "application/sparql-results+json"
_GRAPH_FORMATS = {
    RDF_FORMAT[key].media_type: ox.RdfFormat.from_media_type(RDF_FORMAT[key].media_type)
    for key in ("ntriples", "turtle")
}
_ACCEPT = {
    "solutions": _RESULTS_JSON,
    "boolean": _RESULTS_JSON,
    "triples": "application/n-triples, text/turtle;q=0.9",
}
_FORM_NAMES = {"solutions": "a SELECT query", "boolean": "an ASK query", "triples": "a graph query"}
# Longer requests go as a form-encoded POST: 2,000 characters is the URL length every server and proxy
# on the way takes.
_MAX_GET_URL = 2000
_CHUNK = 64 * 1024
_DECLARED = re.compile(r"^\s*PREFIX\s+([A-Za-z][\w.-]*)?:", re.M | re.I)
# How a store says, inside an answer it has started to send or in its error, that it stopped the query
# (Oxigraph: "The SPARQL operation has been cancelled"; Virtuoso: "Transaction timed out"; Fuseki and
# others: "timeout", "time limit").
_STOPPED = re.compile(rb"cancel|time ?out|timed out|time limit", re.I)
# Virtuoso sends what it found before its own time limit as a complete-looking answer, saying so only in
# this header (its "anytime queries"), and cuts answers at its ResultSetMaxRows saying so in the other.
_VIRTUOSO_STATE = "X-SQL-State"
_VIRTUOSO_MESSAGE = "X-SQL-Message"
_STORE_MAX_ROWS = "X-SPARQL-MaxRows"
# Virtuoso 7.2 answers ASK with solutions of this one variable: a row binding it to 1 for true, none for
# false (it lacks the procedure that writes a boolean as JSON: openlink/virtuoso-opensource#1016).
_VIRTUOSO_ASK = "__ASK_RETVAL"
_TRUE, _FALSE = (
    ox.parse_query_results(f'{{"head":{{}},"boolean":{word}}}'.encode(), format=ox.QueryResultsFormat.JSON)
    for word in ("true", "false")
)
# Virtuoso writes the booleans it holds as 1 and 0 in its results (a lexical form of xsd:boolean, but not
# the one loaded: it writes true and false in N-Triples).
_XSD_BOOLEAN = ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean")
# Discovery asks for graphs holding a triple: Virtuoso answers GRAPH ?g {} with one row binding nothing.
_NAMED_GRAPHS = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
# A graph no store holds, sent where a dataset must have no named graphs (or no default graph): the
# protocol makes a graph the store does not hold an empty one, while leaving the parameter out would let
# Virtuoso read every graph it has.
NO_GRAPH = "urn:x-ldn-graph:no-graph"


class RemoteStoreError(ProtocolError):
    """The remote store could not be reached, failed, or sent a broken answer: answered 502."""

    status = 502


class RemoteTimeout(QueryTimeout):
    """The remote store did not answer within the time limit, or stopped the query at its own: 503."""


class RemoteStore:
    """A SPARQL 1.1 query endpoint used as the endpoint's store.

    ``default_graph``: the store's graph that holds the release, for a store whose default graph is the
    union of its graphs (Virtuoso); ``named_graphs``: the named graphs offered beside it, instead of
    those the store is asked for (with ``default_graph``, none unless given).

    Each process and thread keeps one HTTP connection to the store open between queries; a process
    forked from one that had a connection opens its own, never sharing the parent's socket.
    """

    def __init__(
        self,
        query_url: str,
        timeout: float = 10.0,
        *,
        default_graph: str | None = None,
        named_graphs: Sequence[str] | None = None,
    ):
        address = StoreAddress.parse(query_url)
        if address.user is not None:
            raise LdnGraphError(
                f"--store-url {address.url}: the query endpoint is read without credentials "
                "(USER:PASSWORD@ belongs in ldn-graph load's --store-url, the store's write endpoint)"
            )
        parts = urllib.parse.urlsplit(address.url)
        self.query_url = address.url  # what messages name: never the credentials
        self.timeout = timeout
        self.default_graph = default_graph
        if named_graphs is None and default_graph is not None:
            named_graphs = ()  # the union store's other graphs are its own business, not ours to offer
        self._named = None if named_graphs is None else tuple(named_graphs)
        self._held: dict[str, bool] = {}  # graphs asked about, and whether the store holds them
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname, parts.port
        self._path = parts.path or "/"
        self._params = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        self._local = threading.local()
        self._opened: list[tuple[int, http.client.HTTPConnection]] = []  # every thread's, for close()
        self._parser = ox.Store()  # empty: parses queries so that errors read as the embedded store's

    def __repr__(self) -> str:
        return f"RemoteStore({self.query_url!r})"

    def query(
        self,
        query: str,
        *,
        base_iri: str | None = None,
        prefixes: Mapping[str, str] | None = None,
        default_graph: Iterable[ox.NamedNode] | None = None,
        named_graphs: Iterable[ox.NamedNode] | None = None,
        **_: object,
    ):
        """Evaluate ``query`` on the remote store; raises SyntaxError like ``pyoxigraph.Store.query``."""
        # Evaluated on an empty store: SyntaxError if bad, and otherwise the form and the variables.
        local = self._parser.query(query, base_iri=base_iri, prefixes=dict(prefixes or {}))
        if isinstance(local, ox.QuerySolutions):
            form, variables = "solutions", [variable.value for variable in local.variables]
        else:
            form, variables = ("boolean" if isinstance(local, ox.QueryBoolean) else "triples"), []
        text = _with_prefixes(query, prefixes or {}, base_iri)
        dataset = self._dataset(
            query,
            None if default_graph is None else [g.value for g in default_graph],
            None if named_graphs is None else [g.value for g in named_graphs],
            prefixes or {},
            base_iri,
        )
        response = self._fetch([*dataset, ("query", text)], _ACCEPT[form])
        return self._read_answer(response, form, variables)

    def named_graphs(self) -> Iterator[ox.NamedNode]:
        """The named graphs offered (``pyoxigraph.Store.named_graphs``), for the guard's FROM check: those
        configured, or else those the store holds a triple in."""
        if self._named is not None:
            yield from (ox.NamedNode(iri) for iri in self._named)
            return
        for solution in self.query(_NAMED_GRAPHS):
            if isinstance(solution["g"], ox.NamedNode):
                yield solution["g"]

    def __len__(self) -> int:
        """Triples in the default graph (pyoxigraph counts every quad; stores differ in what they hold)."""
        solutions = self.query(_COUNT)
        return int(next(iter(solutions))["n"].value)

    def _dataset(
        self,
        query: str,
        default_graph: list[str] | None,
        named_graphs: list[str] | None,
        prefixes: Mapping[str, str],
        base_iri: str | None,
    ) -> list[tuple[str, str]]:
        """The protocol's dataset parameters to send with ``query``: the request's own, passed on; for a
        store whose default graph is the union of its graphs, always a dataset, so that it reads only
        the graphs we serve."""
        if self.default_graph is None:
            if default_graph is None and named_graphs is None:
                return []  # the store's default graph, or the dataset the query chooses
            return _dataset_parameters(default_graph or [], named_graphs or [])
        named = graphs_named(query, prefixes, base_iri)
        if default_graph is None and named_graphs is None:
            if named.has_dataset:  # sent as parameters, which replace FROM to the same effect
                default_graph, named_graphs = list(named.default), list(named.named)
            else:
                default_graph, named_graphs = [self.default_graph], list(self._named or ())
        default_graph, named_graphs = list(default_graph or ()), list(named_graphs or ())
        # Virtuoso answers GRAPH <iri> of a graph outside the dataset's named graphs with one empty
        # solution instead of none; a graph it does not hold, named, is empty, as it should be.
        for iri in named.patterns:
            if iri in named_graphs:
                continue
            if self._holds(iri):
                raise BadRequest(
                    f"GRAPH names <{iri}>, a graph of the store this endpoint does not serve as a named "
                    f"graph; named graphs served: {', '.join(f'<{g}>' for g in self._named or ()) or 'none'}"
                )
            named_graphs.append(iri)
        # Where the protocol names none, such a store reads every graph it has: name one it does not hold
        # instead, which is empty.
        return _dataset_parameters(default_graph or [NO_GRAPH], named_graphs or [NO_GRAPH])

    def _holds(self, graph: str) -> bool:
        """Whether the store holds a triple in ``graph``, asked once per graph (the store is read-only while
        served), with no dataset, which Virtuoso answers right and fast."""
        if graph not in self._held:
            response = self._fetch(
                [("query", f"ASK {{ GRAPH {ox.NamedNode(graph)} {{ ?s ?p ?o }} }}")], _RESULTS_JSON
            )
            self._held[graph] = bool(self._read_answer(response, "boolean", []))
        return self._held[graph]

    def _read_answer(self, response: _Response, form: str, variables: list[str]):
        """The store's answer as pyoxigraph's result of ``form``; RemoteStoreError for anything else."""
        self._check_complete(response)
        body, media_type = response.body, response.media_type
        try:
            if form == "triples":
                if media_type not in _GRAPH_FORMATS:
                    raise self._unexpected(form, media_type, "N-Triples or Turtle")
                return [quad.triple for quad in ox.parse(body, format=_GRAPH_FORMATS[media_type])]
            if media_type != _RESULTS_JSON:
                raise self._unexpected(form, media_type, "SPARQL JSON results")
            results = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
            if form == "boolean":
                return self._boolean(results)
            if not isinstance(results, ox.QuerySolutions):
                raise self._unexpected(form, "a boolean", "solutions")
            # Solutions are read lazily; a store that stopped mid-answer must fail here, as a store
            # error, not later in the engine as if the user's query were wrong.
            rows = [tuple(solution) for solution in results]
            sent = [variable.value for variable in results.variables]
            if sent == variables and _XSD_BOOLEAN.value.encode() not in body:
                return ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
            if not set(sent) <= set(variables):
                raise RemoteStoreError(
                    f"{self.query_url} answered with the variables {', '.join(sent)}; "
                    f"the query asks for {', '.join(variables)}"
                )
            # Another order (SELECT * is ordered by each engine its own way): ours, as the embedded store's.
            at = [sent.index(name) if name in sent else None for name in variables]
            ordered = [tuple(None if i is None else _canonical(row[i]) for i in at) for row in rows]
            return ox.parse_query_results(
                write_solutions(variables, ordered, "json"), format=ox.QueryResultsFormat.JSON
            )
        except SyntaxError as error:
            if _STOPPED.search(body[-500:]):
                raise RemoteTimeout(
                    "the store stopped the query at its own time limit: "
                    + body[-200:].decode("utf-8", "replace").strip()
                ) from None
            raise RemoteStoreError(f"the store at {self.query_url} sent a broken answer: {error}") from None

    def _boolean(self, results):
        if isinstance(results, ox.QueryBoolean):
            return results
        solutions = [tuple(solution) for solution in results]
        if [v.value for v in results.variables] == [_VIRTUOSO_ASK]:
            if not solutions:
                return _FALSE
            (value,) = solutions[0] if len(solutions) == 1 else (None,)
            if isinstance(value, ox.Literal) and value.value in ("0", "1"):
                return _TRUE if value.value == "1" else _FALSE
        raise self._unexpected("boolean", "solutions", "a boolean")

    def _check_complete(self, response: _Response) -> None:
        """Refuse an answer the store says it cut short, which would otherwise pass for a whole one."""
        state = response.headers.get(_VIRTUOSO_STATE.lower(), "")
        if state:
            message = response.headers.get(_VIRTUOSO_MESSAGE.lower(), "")
            if state.startswith("S1TAT"):
                raise RemoteTimeout(
                    f"the store stopped the query at its own time limit and sent what it had found: {message}"
                )
            raise RemoteStoreError(f"{self.query_url} answered with error {state}: {message}")
        cut = response.headers.get(_STORE_MAX_ROWS.lower())
        if cut:
            raise RemoteStoreError(
                f"{self.query_url} cut the answer at its own limit of {cut} rows; set the store's limit "
                "(Virtuoso: ResultSetMaxRows) above this server's --max-rows"
            )

    def _unexpected(self, form: str, media_type: str, expected: str) -> RemoteStoreError:
        return RemoteStoreError(
            f"{self.query_url} answered {_FORM_NAMES[form]} with {media_type or 'no media type'}, "
            f"not {expected}"
        )

    def close(self) -> None:
        """Close the connections this process opened (the store stays usable: it reconnects)."""
        opened, self._opened = self._opened, []
        for pid, connection in opened:
            if pid == os.getpid():
                connection.close()
            else:
                self._opened.append((pid, connection))

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __del__(self) -> None:
        if hasattr(self, "_opened"):  # not when __init__ refused the URL
            self.close()

    def _connection(self) -> http.client.HTTPConnection:
        held = getattr(self._local, "held", None)
        if held is not None and held[0] == os.getpid() and _spoken_while_idle(held[1]):
            # The store closed the idle connection, or wrote on it unasked: Oxigraph answers its own idle
            # timeout with a 500 ("Resource temporarily unavailable"), which would be read as the answer
            # to the next query sent there. A new connection instead.
            self._drop()
            held = None
        if held is not None and held[0] == os.getpid():
            if held not in self._opened:  # closed by close(): it reconnects on its next request
                self._opened.append(held)
            return held[1]
        # After a fork the parent's socket is shared: leave it to the parent and open our own.
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        connection = kind(self._host, self._port, timeout=self.timeout)
        self._local.held = (os.getpid(), connection)
        self._opened.append(self._local.held)
        return connection

    def _drop(self) -> None:
        held = getattr(self._local, "held", None)
        self._local.held = None
        if held is not None and held[0] == os.getpid():
            held[1].close()
            with contextlib.suppress(ValueError):
                self._opened.remove(held)

    def _fetch(self, parameters: list[tuple[str, str]], accept: str) -> _Response:
        """The store's response to a protocol request, read against one deadline for connect, headers and
        body together: a GET, or a form-encoded POST when the URL would be long."""
        deadline = time.monotonic() + self.timeout
        headers = {"Accept": accept, "User-Agent": USER_AGENT}
        encoded = urllib.parse.urlencode([*self._params, *parameters])
        if len(self._path) + 1 + len(encoded) <= _MAX_GET_URL:
            method, target, payload = "GET", f"{self._path}?{encoded}", None
        else:
            method, payload = "POST", encoded.encode("ascii")
            target = self._path + ("?" + urllib.parse.urlencode(self._params) if self._params else "")
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            connection = self._connection()
            reused = connection.sock is not None
            chunks: list[bytes] = []
            try:
                if reused:
                    connection.sock.settimeout(max(deadline - time.monotonic(), 0.001))
                connection.request(method, target, body=payload, headers=headers)
                response = connection.getresponse()
                while chunk := response.read1(_CHUNK):  # what has come, not a full 64 KiB
                    chunks.append(chunk)
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError
                    if connection.sock is not None:  # None once a store that closes has sent it all
                        connection.sock.settimeout(left)
                chunks.append(response.read())  # b"", but ends the response so the connection is reusable
                body = b"".join(chunks)
                if response.will_close:
                    self._drop()
            except TimeoutError:
                self._drop()
                # Oxigraph writes that it cancelled the query into the answer it began, then may hold
                # the connection open: say so rather than only that the store was slow.
                stopped = b"".join(chunks[-2:])[-500:]
                why = "the store stopped the query at its own time limit" if _STOPPED.search(stopped) else ""
                raise RemoteTimeout(
                    f"the query ran past the time limit of {self.timeout:g} s: "
                    + (why or "the store did not answer")
                ) from None
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                self._drop()
                if reused and attempt == 1:
                    continue  # the store closed an idle connection: queries are safe to send again
                raise RemoteStoreError(
                    f"the store at {self.query_url} dropped the connection: {error}"
                ) from None
            except (OSError, http.client.HTTPException) as error:
                self._drop()
                reason = getattr(error, "strerror", None) or error
                raise RemoteStoreError(f"cannot reach the store at {self.query_url}: {reason}") from None
            break
        media_type = (response.getheader("Content-Type") or "").partition(";")[0].strip().lower()
        if response.status >= 400:
            detail = readable(body, media_type)
            if response.status == 400:  # the store refused what our parser accepted: say so in its words
                raise SyntaxError(f"the store refused the query: {detail[:2000]}")
            if response.status in (503, 504):
                raise RemoteTimeout(f"the store answered {response.status}: {detail[:300]}")
            said = detail.partition("SPARQL query:")[0][:500]  # Virtuoso repeats the query after its message
            if _STOPPED.search(said.encode()):
                raise RemoteTimeout(f"the store stopped the query at its own time limit: {said[:300]}")
            raise RemoteStoreError(f"{self.query_url} answered {response.status}: {detail[:300]}")
        headers = {name.lower(): value for name, value in response.getheaders()}
        return _Response(body, media_type, headers)


def _spoken_while_idle(connection: http.client.HTTPConnection) -> bool:
    """True when an idle connection has something to read: the store's close, or bytes it sent unasked."""
    if connection.sock is None:
        return False
    readable, _, _ = select.select([connection.sock], [], [], 0)
    return bool(readable)


@dataclass(frozen=True)
class _Response:
    body: bytes
    media_type: str
    headers: Mapping[str, str]  # names in lower case


def _canonical(term):
    """``term``, with a boolean written as 1 or 0 written as true or false (the same value)."""
    if isinstance(term, ox.Literal) and term.datatype == _XSD_BOOLEAN and term.value in ("0", "1"):
        return ox.Literal("true" if term.value == "1" else "false", datatype=_XSD_BOOLEAN)
    return term


def _dataset_parameters(default_graph: Iterable[str], named_graphs: Iterable[str]) -> list[tuple[str, str]]:
    return [("default-graph-uri", iri) for iri in default_graph] + [
        ("named-graph-uri", iri) for iri in named_graphs
    ]


def _with_prefixes(query: str, prefixes: Mapping[str, str], base_iri: str | None) -> str:
    """The query with the endpoint's predeclared prefixes it does not declare itself, on one line so
    that the store's own line numbers stay close to the user's."""
    declared = {m.group(1) or "" for m in _DECLARED.finditer(query)}
    # Only those the text may use, so that most queries stay short enough to be sent as a GET.
    header = " ".join(
        f"PREFIX {p}: <{ns}>" for p, ns in prefixes.items() if p not in declared and f"{p}:" in query
    )
    if base_iri:
        header = f"BASE <{base_iri}> " + header
    return f"{header}\n{query}" if header else query

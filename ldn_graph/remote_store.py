"""A remote SPARQL 1.1 store behind the same engine as the embedded one.

``RemoteStore`` answers the part of ``pyoxigraph.Store``'s interface the endpoint uses: ``query`` (same
signature, same return types: solutions, a boolean, or triples), ``named_graphs()`` and ``len()``. So
the endpoint's guard, formats and row cap apply unchanged whichever store answers. Queries are parsed
locally first, so a syntax error gets the same message and position as with the embedded store, and
only a well-formed, guarded query leaves the machine. ``push_release`` and ``push_data`` load a release
(and extra graphs) into a store through the SPARQL 1.1 Graph Store Protocol.

Our time limit is enforced here, at the client: the request is abandoned at the deadline. A remote
store may keep working after we leave, so set its own timeout too (docs/scale-out.md).
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import logging
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import pyoxigraph as ox

from ldn_graph import __version__
from ldn_graph.errors import LdnGraphError
from ldn_graph.sparql_protocol import ProtocolError, QueryTimeout

log = logging.getLogger(__name__)

_ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9"
_USER_AGENT = f"ldn-graph/{__version__}"
_CHUNK = 64 * 1024
_DECLARED = re.compile(r"^\s*PREFIX\s+([A-Za-z][\w.-]*)?:", re.M | re.I)
# How a store says, inside an answer it has started to send, that it stopped the query (Oxigraph:
# "The SPARQL operation has been cancelled"; Fuseki and others: "timeout", "time limit").
_STOPPED = re.compile(rb"cancel|time ?out|time limit", re.I)
_NAMED_GRAPHS = "SELECT DISTINCT ?g WHERE { GRAPH ?g {} }"
_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


class RemoteStoreError(ProtocolError):
    """The remote store could not be reached, failed, or sent a broken answer: answered 502."""

    status = 502


class RemoteTimeout(QueryTimeout):
    """The remote store did not answer within the time limit, or stopped the query at its own: 503."""


class RemoteStore:
    """A SPARQL 1.1 query endpoint used as the endpoint's store.

    Each process and thread keeps one HTTP connection to the store open between queries; a process
    forked from one that had a connection opens its own, never sharing the parent's socket.
    """

    def __init__(self, query_url: str, timeout: float = 10.0):
        parts = urllib.parse.urlsplit(query_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise LdnGraphError(f"--store-url must be an http(s) SPARQL endpoint URL, not {query_url!r}")
        self.query_url = query_url
        self.timeout = timeout
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
        self._parser.query(query, base_iri=base_iri, prefixes=dict(prefixes or {}))  # SyntaxError if bad
        text = _with_prefixes(query, prefixes or {}, base_iri)
        params = list(self._params)
        params += [("default-graph-uri", g.value) for g in default_graph or ()]
        params += [("named-graph-uri", g.value) for g in named_graphs or ()]
        target = self._path + ("?" + urllib.parse.urlencode(params) if params else "")
        body, media_type = self._fetch(target, text.encode("utf-8"))
        try:
            if media_type in ("application/n-triples", "text/plain"):
                return [quad.triple for quad in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)]
            if media_type == "application/sparql-results+json":
                results = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
                if isinstance(results, ox.QueryBoolean):
                    return results
                # Solutions are read lazily; a store that stopped mid-answer must fail here, as a store
                # error, not later in the engine as if the user's query were wrong.
                for _solution in results:
                    pass
                return ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        except SyntaxError as error:
            if _STOPPED.search(body[-500:]):
                raise RemoteTimeout(
                    "the store stopped the query at its own time limit: "
                    + body[-200:].decode("utf-8", "replace").strip()
                ) from None
            raise RemoteStoreError(f"the store at {self.query_url} sent a broken answer: {error}") from None
        raise RemoteStoreError(f"{self.query_url} answered with unexpected media type {media_type!r}")

    def named_graphs(self) -> Iterator[ox.NamedNode]:
        """The store's named graphs (``pyoxigraph.Store.named_graphs``), for the guard's FROM check."""
        for solution in self.query(_NAMED_GRAPHS):
            if isinstance(solution["g"], ox.NamedNode):
                yield solution["g"]

    def __len__(self) -> int:
        """Triples in the default graph (pyoxigraph counts every quad; stores differ in what they hold)."""
        solutions = self.query(_COUNT)
        return int(next(iter(solutions))["n"].value)

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

    def _fetch(self, target: str, payload: bytes) -> tuple[bytes, str]:
        """The response body, read against one deadline for connect, headers and body together."""
        deadline = time.monotonic() + self.timeout
        headers = {
            "Content-Type": "application/sparql-query",
            "Accept": _ACCEPT,
            "User-Agent": _USER_AGENT,
        }
        for attempt in (1, 2):
            connection = self._connection()
            reused = connection.sock is not None
            chunks: list[bytes] = []
            try:
                if reused:
                    connection.sock.settimeout(max(deadline - time.monotonic(), 0.001))
                connection.request("POST", target, body=payload, headers=headers)
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
            detail = body[:2000].decode("utf-8", "replace").strip()
            if response.status == 400:  # the store refused what our parser accepted: say so in its words
                raise SyntaxError(f"the store refused the query: {detail}")
            if response.status in (503, 504):
                raise RemoteTimeout(f"the store answered {response.status}: {detail[:300]}")
            raise RemoteStoreError(f"{self.query_url} answered {response.status}: {detail[:300]}")
        return body, media_type


def _with_prefixes(query: str, prefixes: Mapping[str, str], base_iri: str | None) -> str:
    """The query with the endpoint's predeclared prefixes it does not declare itself, on one line so
    that the store's own line numbers stay close to the user's."""
    declared = {m.group(1) or "" for m in _DECLARED.finditer(query)}
    header = " ".join(f"PREFIX {p}: <{ns}>" for p, ns in prefixes.items() if p not in declared)
    if base_iri:
        header = f"BASE <{base_iri}> " + header
    return f"{header}\n{query}" if header else query


def _send(url: str, method: str, payload: bytes, media_type: str, timeout: float) -> None:
    request = urllib.request.Request(
        url, data=payload, method=method, headers={"Content-Type": media_type, "User-Agent": _USER_AGENT}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            log.info("%s %s bytes to %s: %s", method, f"{len(payload):,}", url, response.status)
    except urllib.error.HTTPError as error:
        detail = error.read(500).decode("utf-8", "replace").strip()
        raise LdnGraphError(f"{url} refused the data ({error.code}): {detail}") from None
    except urllib.error.URLError as error:
        raise LdnGraphError(f"cannot reach the store at {url}: {error.reason}") from None
    except (TimeoutError, ConnectionError) as error:
        raise LdnGraphError(f"the store at {url} did not take the data: {error}") from None


def _graph_url(graph_store_url: str, graph: ox.NamedNode | None) -> str:
    separator = "&" if "?" in graph_store_url else "?"
    if graph is None:
        return f"{graph_store_url}{separator}default"
    return f"{graph_store_url}{separator}{urllib.parse.urlencode({'graph': graph.value})}"


def push_release(graph_store_url: str, release_file: Path, timeout: float = 300.0) -> None:
    """Replace the store's default graph with ``release_file`` (N-Triples, optionally gzipped) via the
    Graph Store Protocol (``PUT <graph_store_url>?default``)."""
    path = Path(release_file)
    if not path.is_file():
        raise LdnGraphError(f"{path}: no such release file")
    name = path.name.removesuffix(".gz")
    if not name.endswith(".nt"):
        raise LdnGraphError(f"{path}: the release is pushed as N-Triples (.nt or .nt.gz)")
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as stream:
        payload = stream.read()
    _send(_graph_url(graph_store_url, None), "PUT", payload, "application/n-triples", timeout)


def push_data(
    graph_store_url: str,
    files: Sequence[Path],
    timeout: float = 300.0,
    progress: Callable[[str], None] = lambda _: None,
) -> int:
    """Load extra RDF files the way ``serve --data`` does into the embedded store, through the Graph
    Store Protocol: each named graph (N-Quads, TriG) replaces the store's graph of that name (``PUT
    ?graph=``), and triples outside named graphs are added to the default graph (``POST ?default``).
    Returns the number of graphs written."""
    from ldn_graph.store import load_store  # the embedded store's rules for formats and graphs

    if not files:
        return 0
    held = load_store(files[0], files[1:])
    graphs: dict[ox.NamedNode | None, list[ox.Triple]] = {}
    for quad in held:
        graph = quad.graph_name if isinstance(quad.graph_name, ox.NamedNode) else None
        graphs.setdefault(graph, []).append(quad.triple)
    for graph, triples in graphs.items():
        payload = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        method = "POST" if graph is None else "PUT"
        progress(f"{method} {len(triples):,} triples to {'the default graph' if graph is None else graph}")
        _send(_graph_url(graph_store_url, graph), method, payload, "application/n-triples", timeout)
    return len(graphs)

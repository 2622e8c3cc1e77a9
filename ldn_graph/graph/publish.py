"""Loading a release (and extra graphs) into another store through the SPARQL 1.1 Graph Store Protocol.

``push_release`` replaces one graph of the store with the release: its default graph (``PUT ?default``),
or a named graph (``PUT ?graph=IRI``) for a store that has no default graph of its own to write to, such
as Virtuoso, which reads the union of its graphs where a query names none. ``push_data`` loads extra
files the way ``serve --data`` does into the embedded store.

Stores that take writes ask for credentials: HTTP basic or digest (Virtuoso's
``/sparql-graph-crud-auth`` asks for digest), whichever the store's challenge names, from
``USER:PASSWORD@`` in the URL or given apart. Messages never show the password.
"""

from __future__ import annotations

import gzip
import http.client
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

import pyoxigraph as ox

from ldn_graph.errors import LdnGraphError
from ldn_graph.serving.store_address import USER_AGENT, StoreAddress, readable

log = logging.getLogger(__name__)

# What Virtuoso says when asked for ?default at an endpoint that maps no default graph.
_NO_DEFAULT_GRAPH = "not configured to have default graph"


class GraphStore:
    """A store's Graph Store Protocol endpoint, with the credentials to write there.

    Before each write the store is asked for the graph's headers without credentials: a store that wants
    them says which scheme (and, for digest, gives a fresh nonce), and the write carries them from its
    first byte. Answering the challenge of a refused write instead would send the release twice, and
    Virtuoso refuses a write before reading its body and closes the connection under it.
    """

    def __init__(self, url: str, credentials: str | None = None, timeout: float = 300.0):
        self.address = StoreAddress.parse(url, credentials)
        self.timeout = timeout
        self._passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        if self.address.user is not None:
            self._passwords.add_password(
                None, self.address.url, self.address.user, self.address.password or ""
            )
        self._digest = urllib.request.HTTPDigestAuthHandler(self._passwords)
        self._opener = urllib.request.build_opener()  # no handler answers challenges: we do, up front

    @property
    def url(self) -> str:
        return self.address.url

    def graph_url(self, graph: str | None) -> str:
        """The URL of the store's default graph (``graph`` None) or of the named graph ``graph``."""
        separator = "&" if "?" in self.url else "?"
        if graph is None:
            return f"{self.url}{separator}default"
        return f"{self.url}{separator}{urllib.parse.urlencode({'graph': graph})}"

    def send(self, method: str, graph: str | None, payload: bytes) -> None:
        """``PUT`` (replace) or ``POST`` (add) N-Triples to one graph; LdnGraphError saying what went wrong."""
        url = self.graph_url(graph)
        request = urllib.request.Request(
            url,
            data=payload,
            method=method,
            headers={"Content-Type": "application/n-triples", "User-Agent": USER_AGENT},
        )
        authorization = self._authorization(request, graph)
        if authorization:
            request.add_unredirected_header("Authorization", authorization)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                log.info("%s %s bytes to %s: %s", method, f"{len(payload):,}", url, response.status)
        except urllib.error.HTTPError as error:
            raise LdnGraphError(self._refusal(error, graph)) from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, ConnectionError):  # reached, then dropped while sending
                raise LdnGraphError(self._dropped(url, graph, error.reason)) from None
            raise LdnGraphError(f"cannot reach the store at {self.url}: {error.reason}") from None
        except (TimeoutError, ConnectionError, http.client.HTTPException) as error:
            raise LdnGraphError(self._dropped(url, graph, error)) from None

    def _dropped(self, url: str, graph: str | None, error: Exception) -> str:
        """Why the store dropped a write: a store that refuses it may answer before reading the data and
        close the connection under it (Virtuoso does), so ask it again for the graph, without the data."""
        plainly = f"the store at {self.url} did not take the data: {error}"
        if isinstance(error, TimeoutError):
            return plainly
        for method in ("HEAD", "GET"):  # is the graph refused; then the store's words for why
            probe = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT})
            try:
                authorization = self._authorization(probe, graph)
                if authorization:
                    probe.add_unredirected_header("Authorization", authorization)
                with self._opener.open(probe, timeout=self.timeout):
                    return plainly
            except urllib.error.HTTPError as refused:
                if refused.code == 404 or method == "GET":
                    return plainly if refused.code == 404 else self._refusal(refused, graph)
            except (LdnGraphError, OSError, http.client.HTTPException):
                return plainly
        return plainly

    def _authorization(self, write: urllib.request.Request, graph: str | None) -> str | None:
        """The Authorization header for ``write``, from the store's challenge to a HEAD of its graph;
        None when the store asks for none."""
        probe = urllib.request.Request(write.full_url, method="HEAD", headers={"User-Agent": USER_AGENT})
        try:
            with self._opener.open(probe, timeout=self.timeout):
                return None
        except urllib.error.HTTPError as error:
            if error.code != 401:
                return None  # e.g. 404 for a graph not there yet: the write itself will tell
            challenges = error.headers.get_all("WWW-Authenticate") or []
        except urllib.error.URLError as error:
            raise LdnGraphError(f"cannot reach the store at {self.url}: {error.reason}") from None
        except (TimeoutError, ConnectionError, http.client.HTTPException) as error:
            raise LdnGraphError(f"the store at {self.url} did not answer: {error}") from None
        if self.address.user is None:
            raise LdnGraphError(self._needs_credentials(graph))
        schemes = {challenge.split(None, 1)[0].lower(): challenge for challenge in challenges if challenge}
        if "digest" in schemes:
            fields = urllib.request.parse_keqv_list(
                urllib.request.parse_http_list(schemes["digest"].split(None, 1)[1])
            )
            answer = self._digest.get_authorization(write, fields)
            if answer:
                return f"Digest {answer}"
        if "basic" in schemes:
            return self.address.basic_authorization
        raise LdnGraphError(
            f"{self.url} asks for credentials in a way not supported here "
            f"({', '.join(schemes) or 'no scheme named'}): basic and digest are"
        )

    def _needs_credentials(self, graph: str | None) -> str:
        return (
            f"{self.url} asks for credentials (401) to write to {_where(graph)}: give them with "
            "--credentials USER:PASSWORD or LDNGRAPH_STORE_CREDENTIALS"
        )

    def _refusal(self, error: urllib.error.HTTPError, graph: str | None) -> str:
        detail = readable(error.read(20_000), error.headers.get("Content-Type", ""))[:500]
        if error.code == 401:
            if self.address.user is None:
                return self._needs_credentials(graph)
            return f"{self.url} refused the credentials of user {self.address.user!r} (401)"
        if error.code == 403:
            return (
                f"{self.url} does not let user {self.address.user or '(anonymous)'} write to {_where(graph)} "
                f"(403): the store must grant that user the right to update graphs "
                f"(Virtuoso: the SPARQL_UPDATE role). {detail}"
            ).strip()
        if graph is None and _NO_DEFAULT_GRAPH in detail:
            return (
                f"{self.url} has no default graph to write to ({error.code}): load into a named graph "
                "with --graph IRI and serve it with serve --store-graph IRI"
            )
        return f"{self.url} refused the data for {_where(graph)} ({error.code}): {detail}"


def _where(graph: str | None) -> str:
    return "its default graph" if graph is None else f"the graph <{graph}>"


def push_release(store: GraphStore, release_file: Path, graph: str | None = None) -> None:
    """Replace the store's default graph (or its graph ``graph``) with ``release_file`` (N-Triples,
    optionally gzipped)."""
    path = Path(release_file)
    if not path.is_file():
        raise LdnGraphError(f"{path}: no such release file")
    name = path.name.removesuffix(".gz")
    if not name.endswith(".nt"):
        raise LdnGraphError(f"{path}: the release is pushed as N-Triples (.nt or .nt.gz)")
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as stream:
        payload = stream.read()
    store.send("PUT", graph, payload)


def push_data(
    store: GraphStore,
    files: Sequence[Path],
    graph: str | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> int:
    """Load extra RDF files as ``serve --data`` loads them into the embedded store: each named graph
    (N-Quads, TriG) replaces the store's graph of that name, and triples outside named graphs are added
    to the default graph (or to ``graph``, the one that stands for it). Returns the number of graphs
    written."""
    from ldn_graph.serving.stores import load_store  # the embedded store's rules for formats and graphs

    if not files:
        return 0
    held = load_store(files[0], files[1:])
    graphs: dict[str | None, list[ox.Triple]] = {}
    for quad in held:
        name = quad.graph_name.value if isinstance(quad.graph_name, ox.NamedNode) else None
        graphs.setdefault(name, []).append(quad.triple)
    for name, triples in graphs.items():
        payload = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        method, target = ("POST", graph) if name is None else ("PUT", name)
        shown = f"<{target}>" if target else "the default graph"
        progress(f"{method} {len(triples):,} triples to {shown}")
        store.send(method, target, payload)
    return len(graphs)

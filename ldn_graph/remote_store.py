"""A remote SPARQL 1.1 store behind the same engine as the embedded one.

``RemoteStore.query`` has the signature and the return types of ``pyoxigraph.Store.query`` (solutions,
a boolean, or triples), so the endpoint's guard, formats and row cap apply unchanged whichever store
answers. Queries are parsed locally first, so a syntax error gets the same message and position as
with the embedded store, and only a well-formed, guarded query leaves the machine. ``push_release``
loads a release into a store through the SPARQL 1.1 Graph Store Protocol.

Our time limit is enforced here, at the client: the request is abandoned at the deadline. A remote
store may keep working after we leave, so set its own timeout too (docs/scale-out.md).
"""

from __future__ import annotations

import gzip
import io
import logging
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path

import pyoxigraph as ox

from ldn_graph import __version__
from ldn_graph.errors import LdnGraphError

log = logging.getLogger(__name__)

_ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9"
_USER_AGENT = f"ldn-graph/{__version__}"
_CHUNK = 64 * 1024
_DECLARED = re.compile(r"^\s*PREFIX\s+([A-Za-z][\w.-]*)?:", re.M | re.I)


class RemoteStoreError(LdnGraphError):
    """The remote store could not be reached or failed: answered 502 by the endpoint."""


class RemoteTimeout(LdnGraphError):
    """The remote store did not answer within the time limit: answered 503 by the endpoint."""


class RemoteStore:
    """A SPARQL 1.1 query endpoint used as the endpoint's store."""

    def __init__(self, query_url: str, timeout: float = 10.0):
        parts = urllib.parse.urlsplit(query_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise LdnGraphError(f"--store-url must be an http(s) SPARQL endpoint URL, not {query_url!r}")
        self.query_url = query_url
        self.timeout = timeout
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
        params = [("default-graph-uri", g.value) for g in default_graph or ()]
        params += [("named-graph-uri", g.value) for g in named_graphs or ()]
        url = self.query_url + ("?" + urllib.parse.urlencode(params) if params else "")
        request = urllib.request.Request(
            url,
            data=text.encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": "application/sparql-query",
                "Accept": _ACCEPT,
                "User-Agent": _USER_AGENT,
            },
        )
        body, media_type = self._fetch(request)
        if media_type in ("application/n-triples", "text/plain"):
            return [quad.triple for quad in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)]
        if media_type == "application/sparql-results+json":
            return ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        raise RemoteStoreError(f"{self.query_url} answered with unexpected media type {media_type!r}")

    def __len__(self) -> int:
        solutions = self.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        return int(next(iter(solutions))["n"].value)

    def _fetch(self, request: urllib.request.Request) -> tuple[bytes, str]:
        """The response body, read against one deadline for connect, headers and body together."""
        deadline = time.monotonic() + self.timeout
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                media_type = response.headers.get_content_type()
                data = io.BytesIO()
                while chunk := response.read(_CHUNK):
                    data.write(chunk)
                    if time.monotonic() > deadline:
                        raise RemoteTimeout(f"the store did not answer within {self.timeout:g} s")
                return data.getvalue(), media_type
        except urllib.error.HTTPError as error:
            detail = error.read(2000).decode("utf-8", "replace").strip()
            if error.code == 400:  # the store refused what our parser accepted: say so in its words
                raise SyntaxError(f"the store refused the query: {detail}") from None
            raise RemoteStoreError(f"{self.query_url} answered {error.code}: {detail[:300]}") from None
        except TimeoutError as error:
            raise RemoteTimeout(f"the store did not answer within {self.timeout:g} s") from error
        except urllib.error.URLError as error:
            reason = error.reason
            if isinstance(reason, TimeoutError):
                raise RemoteTimeout(f"the store did not answer within {self.timeout:g} s") from None
            raise RemoteStoreError(f"cannot reach the store at {self.query_url}: {reason}") from None
        except ConnectionError as error:
            raise RemoteStoreError(f"the store at {self.query_url} dropped the connection: {error}") from None


def _with_prefixes(query: str, prefixes: Mapping[str, str], base_iri: str | None) -> str:
    """The query with the endpoint's predeclared prefixes it does not declare itself, on one line so
    that the store's own line numbers stay close to the user's."""
    declared = {m.group(1) or "" for m in _DECLARED.finditer(query)}
    header = " ".join(f"PREFIX {p}: <{ns}>" for p, ns in prefixes.items() if p not in declared)
    if base_iri:
        header = f"BASE <{base_iri}> " + header
    return f"{header}\n{query}" if header else query


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
    separator = "&" if "?" in graph_store_url else "?"
    request = urllib.request.Request(
        f"{graph_store_url}{separator}default",
        data=payload,
        method="PUT",
        headers={"Content-Type": "application/n-triples", "User-Agent": _USER_AGENT},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            log.info("pushed %s bytes to %s: %s", f"{len(payload):,}", graph_store_url, response.status)
    except urllib.error.HTTPError as error:
        detail = error.read(500).decode("utf-8", "replace").strip()
        raise LdnGraphError(f"{graph_store_url} refused the release ({error.code}): {detail}") from None
    except urllib.error.URLError as error:
        raise LdnGraphError(f"cannot reach the store at {graph_store_url}: {error.reason}") from None

"""The settings of a running server, as the ``serve`` command gathers them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ldn_graph.serving.fair_use import FairUsePolicy

_FAIR_USE = FairUsePolicy()  # the limits' defaults are the fair-use policy's own


@dataclass(frozen=True)
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str | None = None  # the public URL, used for links; default http://HOST:PORT
    timeout: float = 10.0  # seconds a query may run
    max_rows: int = 10_000  # rows (or triples) in one answer
    workers: int = 2
    threads: int = 3  # requests in flight per worker, each with an engine process of its own
    service_allow: tuple[str, ...] = ()  # SERVICE endpoints queries may call; none by default
    cache_bytes: int = 32 << 20  # answers to repeated queries kept per worker; 0 turns reuse off
    data: tuple[Path, ...] = ()  # extra RDF files served beside the release
    release_file: Path | None = None  # None: build the graph from the curated sources
    releases: Path | None = None  # a releases directory: serve its newest valid release and its downloads
    # Fair use per client (docs/operations.md): requests in flight and seconds of serving time per window.
    client_concurrency: int = _FAIR_USE.concurrency  # 0: no limit
    client_query_time: float = _FAIR_USE.query_time  # seconds per client_window; 0: no limit
    client_window: float = _FAIR_USE.window
    client_header: str | None = None  # a trusted proxy's header naming the client (X-Forwarded-For)
    fair_use_exempt: tuple[str, ...] = _FAIR_USE.exempt  # networks never limited
    pid_file: Path | None = None  # where the main process writes its PID, for ``ldn-graph reload``
    store_url: str | None = None  # a remote SPARQL 1.1 query endpoint that holds the graph: no load
    store_graph: str | None = None  # the remote store's graph served as the default graph (Virtuoso)
    store_named_graphs: tuple[str, ...] | None = None  # the remote store's named graphs; None: ask it
    # Slow and idle clients (docs/operations.md): seconds a connection may take to send a request's
    # headers, or sit idle between two requests, before it is closed; connections each worker keeps open.
    header_timeout: float = 5.0
    connections: int = 2048
    # HTTP caching (docs/operations.md): seconds browsers and shared caches may reuse a GET answer
    # without asking again, and for shared caches only (s-maxage), when that differs.
    max_age: int = 300
    shared_max_age: int | None = None

    @property
    def public_url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def endpoint_url(self) -> str:
        return self.public_url + "/sparql"

    @property
    def void_url(self) -> str:
        return self.public_url + "/.well-known/void"

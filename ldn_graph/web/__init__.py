"""The web layer: a Flask application factory adapting the library modules to HTTP.

The store is loaded once, when the application is created; the server's main process does that before
it forks its workers, which then share it. There is no module-level application object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from flask import Flask, Response, current_app, request
from pyoxigraph import Store

from ldn_graph.graph.release import MANIFEST, Release, find_releases
from ldn_graph.serving.engine import QueryEngine
from ldn_graph.serving.engine_pool import EnginePool
from ldn_graph.serving.remote_store import RemoteStore
from ldn_graph.serving.service_description import describe_service
from ldn_graph.serving.stores import (
    built_release,
    default_graph_triples,
    graph_version,
    load_newest_release,
    load_store,
)
from ldn_graph.web.config import ServeConfig

MAX_BODY_BYTES = 1 << 20
_CORS_METHODS = "GET, HEAD, POST, OPTIONS"
# Open to scripts from any origin, never with credentials: the data is public and read-only. Scripts
# reading downloads in parts need the headers of ranges and validators too.
CORS_HEADERS = (
    ("Access-Control-Allow-Origin", "*"),
    (
        "Access-Control-Expose-Headers",
        "X-SPARQL-MaxRows, ETag, Content-Range, Accept-Ranges, Content-Location, Retry-After",
    ),
)
_CORS_HEADERS = "Accept, Content-Type"


@dataclass
class Endpoint:
    """Everything a request handler needs, made once per application."""

    config: ServeConfig
    store: Store | RemoteStore
    engine: QueryEngine | EnginePool = field(repr=False)
    release: Release | None = None  # the release served, when serving a releases directory
    releases: tuple[Release, ...] = ()  # every release that verified, offered for download

    @cached_property
    def service_description(self) -> list:
        from ldn_graph.web.fair_use import limits_text

        return describe_service(
            self.store, self.config.endpoint_url, self.config.void_url, limits_text(self.config)
        )

    @cached_property
    def graph_summary(self) -> tuple[str | None, int]:
        """(the version the served graph states, its triples), for /health."""
        return graph_version(self.store), default_graph_triples(self.store)


def endpoint() -> Endpoint:
    """The endpoint of the application handling the current request."""
    return current_app.extensions["ldngraph"]


def create_app(
    config: ServeConfig | None = None, *, store: Store | None = None, isolate_queries: bool = True
) -> Flask:
    """A Flask application serving ``config``'s dataset (or ``store``, when given).

    With ``isolate_queries`` (the server's setting) queries run in a pool of engine processes that are
    killed at the time limit; without it they run in the request's own process, which suits tests.
    """
    config = config or ServeConfig()
    release, releases = None, []
    loaded: tuple[Path, ...] = ()  # the files the graph served comes from (a release: its manifest)
    if config.store_url and store is None:
        # A remote SPARQL 1.1 store holds the graph: nothing is loaded here (docs/scale-out.md).
        store = RemoteStore(
            config.store_url,
            timeout=config.timeout,
            default_graph=config.store_graph,
            named_graphs=config.store_named_graphs,
        )
    if config.releases is not None and store is None:
        store, release, releases = load_newest_release(config.releases, config.data)
        loaded = (release.path / MANIFEST, *config.data)
    elif config.releases is not None:  # a store made by the caller, or a remote one: downloads only
        releases = find_releases(config.releases)[0]
        release = releases[0] if releases else None
    if store is None:
        graph_file = config.release_file or built_release()
        store = load_store(graph_file, config.data)
        loaded = (graph_file, *config.data)
    engine = QueryEngine(
        store,
        max_rows=config.max_rows,
        timeout=config.timeout,
        base_iri=config.endpoint_url,
        allowed_services=frozenset(config.service_allow),
    )
    app = Flask(__name__)
    # Room for the longest query the guard lets through, percent-encoded in a form; larger bodies get 413.
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    # Engine processes reach a remote store over the network: no empty network namespace for them.
    # Slow queries may take all but one of a worker's threads: the last is kept for quick ones.
    max_slow = max(1, config.threads - 1)
    remote = isinstance(store, RemoteStore)
    pool = EnginePool(engine, sandbox=not remote, max_slow=max_slow) if isolate_queries else engine
    app.extensions["ldngraph"] = Endpoint(config, store, pool, release, tuple(releases))

    from ldn_graph.web.downloads import blueprint as downloads_blueprint
    from ldn_graph.web.pages import blueprint as pages_blueprint
    from ldn_graph.web.sparql import blueprint as sparql_blueprint
    from ldn_graph.web.wellknown import blueprint as wellknown_blueprint

    app.register_blueprint(sparql_blueprint)
    app.register_blueprint(downloads_blueprint)
    app.register_blueprint(wellknown_blueprint)
    app.register_blueprint(pages_blueprint)  # the landing page at / and every IRI's page
    from ldn_graph.web.caching import cache_policy, install_caching
    from ldn_graph.web.fair_use import install_fair_use, limits_text
    from ldn_graph.web.metrics import install_metrics
    from ldn_graph.web.security_headers import install_security_headers

    install_metrics(app)  # first: its clock starts before the fair-use check and counts the 429s
    install_fair_use(app, config)
    app.after_request(_cors)
    # After the metrics' hook, so that they run before it (Flask runs these last first) and a 304 counts.
    install_caching(app, cache_policy(config, loaded, limits_text(config)))
    install_security_headers(app, config)
    from ldn_graph.web.front import SparqlFront

    # Queries skip Flask's request machinery: on a cheap query it cost more than the engine.
    app.wsgi_app = SparqlFront(app, app.wsgi_app)
    return app


def _cors(response: Response) -> Response:
    for name, value in CORS_HEADERS:
        response.headers[name] = value
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = _CORS_METHODS
        response.headers["Access-Control-Allow-Headers"] = request.headers.get(
            "Access-Control-Request-Headers", _CORS_HEADERS
        )
        response.headers["Access-Control-Max-Age"] = "86400"
    return response

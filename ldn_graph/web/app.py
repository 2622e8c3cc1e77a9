"""The Flask application factory: the served data opened once, the blueprints, and the hooks.

The store is loaded once, when the application is made; the server's main process does that before it
forks its workers, which then share it. There is no module-level application object.
"""

from __future__ import annotations

from flask import Flask, Response, request
from pyoxigraph import Store

from ldn_graph.serving.engine import QueryEngine
from ldn_graph.serving.engine_pool import EnginePool
from ldn_graph.serving.remote_store import RemoteStore
from ldn_graph.serving.result_cache import ResultCache
from ldn_graph.web.config import ServeConfig
from ldn_graph.web.served_data import open_served_data
from ldn_graph.web.state import Endpoint, WebState, install_state

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


def create_app(
    config: ServeConfig | None = None, *, store: Store | None = None, isolate_queries: bool = True
) -> Flask:
    """A Flask application serving ``config``'s dataset (or ``store``, when given).

    With ``isolate_queries`` (the server's setting) queries run in a pool of engine processes that are
    killed at the time limit; without it they run in the request's own process, which suits tests.
    """
    config = config or ServeConfig()
    served = open_served_data(config, store)
    store = served.store
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
    state = install_state(app, WebState(Endpoint(config, store, pool, served.release, served.releases)))
    if config.cache_bytes > 0:
        # The served store never changes, so its size and graphs stand for its version.
        version = (len(store), tuple(sorted(str(g) for g in store.named_graphs())))
        state.result_cache = ResultCache(version, config.cache_bytes)

    from ldn_graph.web.downloads import blueprint as downloads_blueprint
    from ldn_graph.web.pages import blueprint as pages_blueprint
    from ldn_graph.web.sparql import blueprint as sparql_blueprint
    from ldn_graph.web.wellknown import blueprint as wellknown_blueprint

    app.register_blueprint(sparql_blueprint)
    app.register_blueprint(downloads_blueprint)
    app.register_blueprint(wellknown_blueprint)
    app.register_blueprint(pages_blueprint)  # the landing page at / and every IRI's page
    from ldn_graph.web.errors import install_error_handlers
    from ldn_graph.web.site import install_template_globals

    install_template_globals(app)
    install_error_handlers(app)
    from ldn_graph.web.accounting import install_accounting
    from ldn_graph.web.caching import cache_policy, install_caching
    from ldn_graph.web.fair_use import install_fair_use, limits_text
    from ldn_graph.web.metrics import install_metrics
    from ldn_graph.web.security_headers import install_security_headers

    install_metrics(app)  # after the other blueprints: a counter for each route
    install_fair_use(app, config)
    install_accounting(app)  # first of the hooks: its clock starts first, and it sees the final response
    app.after_request(_cors)
    # After the metrics' hook, so that they run before it (Flask runs these last first) and a 304 counts.
    install_caching(app, cache_policy(config, served.loaded, limits_text(config)))
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

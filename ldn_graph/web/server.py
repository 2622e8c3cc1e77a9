"""Running the web application under gunicorn, a production WSGI server (never Flask's own).

The application, and with it the store, is created once in the gunicorn master (``preload_app``); the
workers it forks share the loaded store copy-on-write, so start-up costs one load whatever the number
of workers.
"""

from __future__ import annotations

import gc
import logging

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.http.errors import LimitRequestLine
from gunicorn.workers.gthread import ThreadWorker

from ldn_graph.web import create_app
from ldn_graph.web.config import ServeConfig
from ldn_graph.web.reload import ReloadingArbiter
from ldn_graph.web.sparql import MAX_URL_BYTES, POST_HINT

__all__ = ["ServeConfig", "gunicorn_options", "run_server"]

# Gunicorn's own worker timeout is only the last resort behind the engine process, which stops a query
# at the configured limit; a worker silent this much longer than that is stuck for another reason.
_WORKER_TIMEOUT_MARGIN = 30
_LOG_FORMAT = "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"


def gunicorn_options(config: ServeConfig) -> dict[str, object]:
    host = f"[{config.host}]" if ":" in config.host else config.host
    return {
        "bind": f"{host}:{config.port}",
        "workers": max(1, config.workers),
        # Threads keep connections alive and overlap requests; each has an engine process of its own.
        "worker_class": _Worker,
        "threads": max(1, config.threads),
        "preload_app": True,
        "timeout": int(config.timeout) + _WORKER_TIMEOUT_MARGIN,
        # Workers stopped by a reload finish their requests first: the longest one takes the time limit.
        "graceful_timeout": max(5, int(config.timeout) + 2),
        "pidfile": str(config.pid_file) if config.pid_file else None,
        # Queries come in URLs too: allow the longest request line gunicorn can take (its default is 4094).
        "limit_request_line": MAX_URL_BYTES,
        "proc_name": "ldn-graph",
        "errorlog": "-",
        "loglevel": "info",
    }


class _UrlTooLong(LimitRequestLine):
    def __str__(self) -> str:
        return f"the request URL is longer than {self.max_size:,} bytes; {POST_HINT}"


class _Worker(ThreadWorker):
    """gunicorn's threaded worker, with its engine processes forked up front and a 414 that says to POST."""

    def init_process(self) -> None:
        # Everything loaded so far lives as long as the worker: keep it out of the garbage collector's
        # sweeps (each full sweep walked tens of thousands of objects, a fifth of a busy worker's CPU)
        # and its pages shared with the master instead of copied when the collector marks them.
        gc.freeze()
        # Fork the engine processes now, while this worker still has a single thread.
        engine = self.app.wsgi().extensions["ldngraph"].engine
        if hasattr(engine, "warm"):
            engine.warm(self.cfg.threads)
        super().init_process()

    def handle_error(self, req, client, addr, exc) -> None:
        if isinstance(exc, LimitRequestLine) and not isinstance(exc, _UrlTooLong):
            exc = _UrlTooLong(exc.size, exc.max_size)
        super().handle_error(req, client, addr, exc)


class _Server(BaseApplication):
    def __init__(self, app: Flask, options: dict[str, object], config: ServeConfig):
        self.application = app
        self.options = options
        self.config = config
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        # Gunicorn 25.1+ opens a control socket at one fixed path per user, which two servers on one
        # machine would share; nothing here uses it.
        if "control_socket_disable" in self.cfg.settings:
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Flask:
        return self.application

    def run(self) -> None:
        # SIGHUP loads the new graph before gunicorn rotates the workers (ldn_graph/web/reload.py).
        arbiter = ReloadingArbiter(self)
        arbiter.pid_file = self.config.pid_file
        arbiter.run()

    def make_application(self) -> Flask:
        return create_app(self.config)


def run_server(config: ServeConfig) -> None:
    """Load the dataset, then serve it until stopped (SIGTERM or Ctrl-C); SIGHUP reloads it."""
    logging.basicConfig(level=logging.INFO, format=_LOG_FORMAT)
    app = create_app(config)  # load before binding, so a bad file fails fast with a clear message
    logging.getLogger(__name__).info("SPARQL endpoint at %s", config.endpoint_url)
    _Server(app, gunicorn_options(config), config).run()

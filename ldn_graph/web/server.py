"""Running the web application under granian, a production HTTP server written in Rust.

The application, and with it the store, is made once in the server's main process; granian forks its
workers from that process, so they share the loaded store copy-on-write and start-up costs one load
whatever the number of workers. granian parses HTTP and keeps connections in Rust, and hands each
request to one of a worker's threads, which runs the WSGI application: on a cheap query that costs a
fraction of what a Python HTTP server spent. ``SIGHUP`` reloads the graph (:mod:`ldn_graph.web.reload`).

Before anything is loaded, and again just before granian binds, the port is checked (:func:`check_port`),
so that a second server on a port in use fails with a message instead of sharing it. Given no graph at
all, the server serves the release of the curated sources, written once into its cache directory, so
that downloads work from a plain install.
"""

from __future__ import annotations

import ctypes
import errno
import gc
import logging
import multiprocessing
import os
import resource
import signal
import socket
import sys
from dataclasses import replace

from flask import Flask
from granian import Granian
from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings

from ldn_graph.errors import LdnGraphError
from ldn_graph.web.app import create_app
from ldn_graph.web.config import ServeConfig
from ldn_graph.web.reload import Reloader
from ldn_graph.web.state import state_of

__all__ = ["ServeConfig", "run_server"]

_LOG_FORMAT = "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"
# Seconds a reload leaves between starting a new worker and stopping the old one it replaces: the new
# one needs a few hundred milliseconds to fork its engine processes.
_RESPAWN_INTERVAL = 1.0
_PR_SET_PDEATHSIG = 1  # prctl(2)
# Files a worker has open besides its connections: engine pipes, the store, logs, shared memory.
_OTHER_FILES = 1024

log = logging.getLogger(__name__)


class PortInUse(LdnGraphError):
    """The address to serve on is taken (or cannot be bound); names the host and port."""


def check_port(host: str, port: int) -> None:
    """Raise PortInUse, naming the port, if anyone listens on ``host``:``port``.

    On Linux granian's workers each bind the port with SO_REUSEPORT, which lets any number of processes
    listen on one port while the kernel deals connections among them: a second server started by
    mistake would silently take half the requests, perhaps from another graph. A socket bound without
    SO_REUSEPORT cannot share the port with a listener, so binding one fails while anyone listens
    (SO_REUSEADDR only lets it reuse a port whose last connections are still closing). It is closed at
    once: while the graph loads, clients are refused rather than left waiting on a socket no one serves.
    """
    try:
        family, _, _, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise PortInUse(f"cannot serve on {host}:{port}: {error.strerror}") from None
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUse(
                    f"port {port} on {host} is already in use by another process (another ldn-graph "
                    "serve?): stop it, or choose another port with --port"
                ) from None
            raise PortInUse(f"cannot serve on {host}:{port}: {error.strerror}") from None


def _allow_open_files(connections: int) -> None:
    """Raise this process's limit on open files (inherited by the workers) to fit ``connections``."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + _OTHER_FILES
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
    if raised < wanted:
        log.warning(
            "open files are limited to %d (ulimit -n): fewer than %d connections per worker can be open",
            raised,
            connections,
        )


def with_downloads(config: ServeConfig) -> ServeConfig:
    """``config``, serving the curated sources' release (from the cache directory) when it names no
    graph: the same graph the server would build, with its downloads."""
    if config.releases or config.release_file or config.store_url:
        return config
    from ldn_graph.graph.cached_release import built_releases

    return replace(config, releases=built_releases())


def _end_with_the_main_process(main_pid: int) -> None:
    """Have the kernel kill this worker when the main process dies, however it dies.

    A graceful stop goes through the main process, which stops its workers before it exits. But a main
    process killed outright (SIGKILL from a supervisor that lost patience, the OOM killer) would leave
    its workers serving on the listening socket, with their spawners and engines, and a restarted server
    could not bind its port. Workers are forked by the main process's main thread, which lives as long as
    the process, so the parent-death signal fires exactly when the main process ends.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        log.warning("worker %d: no parent-death signal (%s)", os.getpid(), os.strerror(ctypes.get_errno()))
    elif os.getppid() != main_pid:  # the main process died before the signal was asked for
        os._exit(1)


def _worker_application(reloader: Reloader, main_pid: int) -> Flask:
    """Called in each worker just after the fork, while it still runs a single thread."""
    _end_with_the_main_process(main_pid)
    app = reloader.application
    reloader.worker_started(app)
    # Everything loaded so far lives as long as the worker: keep it out of the garbage collector's
    # sweeps (each full sweep walked tens of thousands of objects) and its pages shared with the main
    # process instead of copied when the collector marks them.
    gc.freeze()
    # Fork the engine processes now, before granian starts the worker's threads.
    engine = state_of(app).endpoint.engine
    if hasattr(engine, "warm"):
        engine.warm(reloader.config.threads)
    return app


def run_server(config: ServeConfig) -> None:
    """Load the dataset, then serve it until stopped (SIGTERM or Ctrl-C); SIGHUP reloads it."""
    logging.basicConfig(level=logging.INFO, format=_LOG_FORMAT)
    check_port(config.host, config.port)  # before loading anything: a clash fails at once
    config = with_downloads(config)
    _allow_open_files(config.connections)
    reloader = Reloader(config, create_app(config))  # load before granian binds: a bad file fails fast
    # Workers must be forked from this process to inherit the store, the shared counters and the
    # application; granian follows the start method, which newer Pythons no longer default to fork.
    multiprocessing.set_start_method("fork", force=True)
    server = Granian(
        "ldn_graph.web:create_app",  # a name for granian's log only: the loader below hands over the app
        address=config.host,
        port=config.port,
        interface=Interfaces.WSGI,
        workers=max(1, config.workers),
        blocking_threads=max(1, config.threads),  # each has an engine process of its own
        # Connections a worker keeps open, each holding one of these permits from accept to close; those
        # beyond wait in the kernel's queue. Requests beyond the worker's threads wait in Rust, not Python.
        backpressure=max(1, config.connections),
        http=HTTPModes.http1,
        # A client has this long to send its headers (also the most a keep-alive connection idles), so
        # slow clients free their permits instead of holding them for as long as they like.
        http1_settings=HTTP1Settings(header_read_timeout=max(1, round(config.header_timeout * 1000))),
        websockets=False,
        respawn_failed_workers=True,
        respawn_interval=_RESPAWN_INTERVAL,
        # A worker stopped by a reload finishes its requests first: the longest one takes the time limit.
        workers_kill_timeout=max(5, int(config.timeout) + 2),
        pid_file=config.pid_file,
        log_dictconfig={"version": 1, "disable_existing_loggers": False},  # keep our logging as set above
    )
    server.on_reload(reloader.reload)
    log.info("SPARQL endpoint at %s", config.endpoint_url)
    main_pid = os.getpid()
    check_port(config.host, config.port)  # again: another server may have started while this one loaded
    server.serve(target_loader=lambda: _worker_application(reloader, main_pid), wrap_loader=False)

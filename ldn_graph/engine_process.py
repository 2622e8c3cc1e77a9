"""Running the query engine in a child process that can be killed at the time limit.

pyoxigraph cannot interrupt a query, and a query that sorts or aggregates spends its whole time inside
one engine call, so the only way to stop it is to end the process running it. The child is forked from
the web worker, so it shares the loaded store copy-on-write and starts in milliseconds; it answers one
request at a time over a pipe. When the limit passes, the worker kills the child, answers 503, and forks
a fresh one for the next request. A crash in the engine (Oxigraph aborts on some inputs) ends only the
child, never the web worker.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import traceback
from multiprocessing.connection import Connection, Pipe

from ldn_graph.errors import LdnGraphError
from ldn_graph.sparql_engine import QueryAnswer, QueryEngine
from ldn_graph.sparql_protocol import ProtocolError, ProtocolRequest, QueryTimeout

log = logging.getLogger(__name__)

GRACE = 0.5  # seconds past the engine's own limit before the child is killed


class EngineFailure(LdnGraphError):
    """The engine process died or failed on a request: a server fault, answered 500."""


def _serve(engine: QueryEngine, connection: Connection) -> None:
    """The child's loop: answer requests until the worker closes its end of the pipe."""
    while True:
        try:
            request, accept = connection.recv()
        except (EOFError, OSError):
            return
        try:
            reply = ("answer", engine.answer(request, accept))
        except ProtocolError as error:
            reply = ("refused", error)
        except Exception:  # a bug: reported to the worker, which logs it and answers 500
            reply = ("failed", traceback.format_exc())
        connection.send(reply)


class EngineProcess:
    """A QueryEngine answering from a killable child process; same ``answer`` as the engine itself."""

    def __init__(self, engine: QueryEngine, grace: float = GRACE):
        self.engine = engine
        self.grace = grace
        self._pid: int | None = None
        self._connection: Connection | None = None
        self._owner: int | None = None  # the process that forked the child (a web worker)
        self._lock = threading.Lock()  # one request at a time per child, even under threaded workers

    def _start(self) -> Connection:
        ours, theirs = Pipe()
        pid = os.fork()
        if pid == 0:  # the child
            ours.close()
            # The worker's signal handlers (gunicorn's graceful shutdown) mean nothing here.
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1):
                signal.signal(signum, signal.SIG_DFL)
            code = 0
            try:
                _serve(self.engine, theirs)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        theirs.close()
        self._pid, self._connection, self._owner = pid, ours, os.getpid()
        log.debug("engine process %d started", pid)
        return ours

    def _stop(self) -> None:
        if self._pid is not None and self._owner == os.getpid():
            try:
                os.kill(self._pid, signal.SIGKILL)
                os.waitpid(self._pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        if self._connection is not None:
            self._connection.close()
        self._pid = self._connection = self._owner = None

    def answer(self, request: ProtocolRequest, accept: str | None) -> QueryAnswer:
        with self._lock:
            # A child forked by another process (the server's master, before it forked the workers)
            # cannot be shared: each worker forks its own.
            connection = self._connection if self._owner == os.getpid() else None
            if connection is None:
                self._pid = self._connection = None
                connection = self._start()
            try:
                connection.send((request, accept))
                ready = connection.poll(self.engine.timeout + self.grace)
                outcome, payload = connection.recv() if ready else ("late", None)
            except (EOFError, OSError) as error:
                self._stop()
                log.error("engine process died on a query: %s\n%s", error, request.query)
                raise EngineFailure("the query engine stopped unexpectedly") from None
            if outcome == "late":
                self._stop()
                log.warning("query killed at the time limit of %g s: %s", self.engine.timeout, request.query)
                raise QueryTimeout(f"the query ran past the time limit of {self.engine.timeout:g} s")
            if outcome == "refused":
                raise payload
            if outcome == "failed":
                log.error("query engine failed:\n%s", payload)
                raise EngineFailure("the query engine failed on this query")
            return payload

    def close(self) -> None:
        with self._lock:
            self._stop()

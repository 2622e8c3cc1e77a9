"""Hot reload in the server's main process: verify and load the new graph first, then rotate the workers.

On ``SIGHUP`` granian calls :meth:`Reloader.reload` in its main process and then replaces each worker
by one forked afresh, stopping the old one only after its requests are done. The reload makes a new
application (a new store from the newest release that verifies) before that rotation, so the new
workers fork from the new store while the old workers finish their requests on the old one. Each
request is answered by one worker, hence wholly from one graph. If loading fails the main process logs
why and keeps the old application, so the rotated workers serve the old graph again.

Workers about to be replaced go lame-duck first: from the reload on, every response they give says
``Connection: close``, so keep-alive clients move to a new connection (and a new worker) between two
requests instead of having a connection closed under a request they just sent.

Fair-use counts and metrics are carried from the old application to the new one, so that a reload
neither resets a client's limits nor restarts the counters.
"""

from __future__ import annotations

import logging

from flask import Flask

from ldn_graph.serving.reload import ReloadOutcome, read_outcome, write_outcome
from ldn_graph.serving.shared_memory import SharedMemory
from ldn_graph.web.config import ServeConfig
from ldn_graph.web.state import state_of

log = logging.getLogger(__name__)

_CARRIED = ("ldngraph.fair_use", "ldngraph.metrics")


class Reloader:
    """Holds the application that workers fork from, and replaces it on a reload."""

    def __init__(self, config: ServeConfig, application: Flask):
        self.config = config
        self.application = application
        # Reloads so far, shared with the workers: a worker born before the last one is being replaced.
        self._generation = SharedMemory(8, "ldn-graph-generation").array(0, 1, "q")

    def worker_started(self, application: Flask) -> None:
        """In a worker just forked: have its responses close their connections once it is replaced."""
        born, generation = self._generation[0], self._generation
        state_of(application).retiring = lambda: generation[0] != born

    def reload(self) -> None:
        from ldn_graph.web.app import create_app

        old = self.application
        self._generation[0] += 1  # granian replaces every worker after this, whether or not loading works
        count = self._handled() + 1
        try:
            fresh = create_app(self.config)
        except Exception as error:  # whatever went wrong, the server keeps serving the old graph
            log.error("reload refused; still serving the previous graph: %s", error, exc_info=True)
            self._record(old, old, count, False, f"refused: {error}")
            return
        # The fair-use counters and the metrics live in memory shared by every worker, old and new.
        state_of(fresh).fair_use = state_of(old).fair_use
        state_of(fresh).metrics = state_of(old).metrics
        self.application = fresh
        served = state_of(fresh).endpoint
        log.info(
            "reload: serving %s; rotating the workers",
            served.release.version if served.release else "the graph",
        )
        self._record(old, fresh, count, True, "loaded")

    def _handled(self) -> int:
        pid_file = self.config.pid_file
        outcome = read_outcome(pid_file) if pid_file else None
        return outcome.count if outcome else 0

    def _record(self, old: Flask, now: Flask, count: int, loaded: bool, message: str) -> None:
        metrics = state_of(old).metrics
        if metrics is not None:
            metrics.reloaded("loaded" if loaded else "refused")
        if self.config.pid_file is None:
            return
        served = state_of(now).endpoint
        version, triples = served.graph_summary
        release = served.release.version if served.release else None
        try:
            write_outcome(
                self.config.pid_file, ReloadOutcome(count, loaded, release, version, triples, message)
            )
        except OSError as error:
            log.warning("could not write the reload outcome: %s", error)

"""Hot reload in the gunicorn master: verify and load the new graph first, then rotate the workers.

gunicorn's own ``SIGHUP`` starts new workers and stops the old ones gracefully, but with
``preload_app`` it would fork the new workers from the application already loaded. Here the master
first makes a new application (a new store from the newest release that verifies); only when that
succeeds does gunicorn's rotation run, so the new workers fork from the new store while the old
workers finish their requests on the old one. Each request is answered by one worker, hence wholly
from one graph. If loading fails the master logs why, keeps the old application and rotates nothing.

Fair-use counts and metrics are carried from the old application to the new one, so that a reload
neither resets a client's limits nor restarts the counters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from gunicorn.arbiter import Arbiter

from ldn_graph.reload import ReloadOutcome, read_outcome, write_outcome

log = logging.getLogger(__name__)

_CARRIED = ("ldngraph.fair_use", "ldngraph.metrics")


class ReloadingArbiter(Arbiter):
    """An Arbiter whose application (``self.app``) offers ``application``, ``callable`` and
    ``make_application`` (a new Flask application from the configuration)."""

    make_application: Callable[[], Flask]
    pid_file: Path | None = None

    def handle_hup(self) -> None:
        old: Flask = self.app.application
        count = self._handled() + 1
        try:
            fresh = self.app.make_application()
        except Exception as error:  # whatever went wrong, the master keeps serving the old graph
            log.error("reload refused; still serving the previous graph: %s", error, exc_info=True)
            self._record(old, old, count, False, f"refused: {error}")
            return
        for name in _CARRIED:
            if name in old.extensions:
                fresh.extensions[name] = old.extensions[name]
        self.app.application = self.app.callable = fresh
        served = fresh.extensions["ldngraph"]
        log.info(
            "reload: serving %s; rotating the workers",
            served.release.version if served.release else "the graph",
        )
        self._record(old, fresh, count, True, "loaded")
        super().handle_hup()

    def _handled(self) -> int:
        outcome = read_outcome(self.pid_file) if self.pid_file else None
        return outcome.count if outcome else 0

    def _record(self, old: Flask, now: Flask, count: int, loaded: bool, message: str) -> None:
        metrics = old.extensions.get("ldngraph.metrics")
        if metrics is not None:
            metrics.reloaded("loaded" if loaded else "refused")
        if self.pid_file is None:
            return
        served = now.extensions["ldngraph"]
        version, triples = served.graph_summary
        release = served.release.version if served.release else None
        try:
            write_outcome(self.pid_file, ReloadOutcome(count, loaded, release, version, triples, message))
        except OSError as error:
            log.warning("could not write the reload outcome: %s", error)

"""Asking a running server to serve a new release: a signal, never an HTTP route.

``ldn-graph serve --pid-file PATH`` writes its master's PID there. ``SIGHUP`` to that process makes it
load the newest release that verifies (or the ``--release`` file again) into a new store *before*
anything changes; only if that succeeds does it start new workers on the new store and let the old
ones finish the requests they hold, so that every answer comes wholly from the old graph or wholly
from the new one. A release that fails to verify or load leaves the old graph serving. Either way the
master writes the outcome to ``PATH.reload.json``, which :func:`request_reload` waits for.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ldn_graph.atomic_files import write_atomic
from ldn_graph.errors import LdnGraphError


class ReloadError(LdnGraphError):
    """No server to signal, or no outcome from it in time."""


@dataclass(frozen=True)
class ReloadOutcome:
    count: int  # reload signals handled since the server started
    loaded: bool
    release: str | None  # the release served after the signal
    version: str | None  # the version the served graph states
    triples: int | None
    message: str


def status_path(pid_file: Path) -> Path:
    return pid_file.with_name(pid_file.name + ".reload.json")


def write_outcome(pid_file: Path, outcome: ReloadOutcome) -> None:
    """Write the outcome beside the PID file, atomically (readers never see half of it)."""
    write_atomic(status_path(pid_file), json.dumps(asdict(outcome)).encode("utf-8"))


def read_outcome(pid_file: Path) -> ReloadOutcome | None:
    try:
        return ReloadOutcome(**json.loads(status_path(pid_file).read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as error:
        raise ReloadError(f"{status_path(pid_file)}: not a reload outcome ({error})") from None


def server_pid(pid_file: Path) -> int:
    """The PID in ``pid_file``, checked to be a running ldn-graph server (a stale file may name another)."""
    try:
        pid = int(pid_file.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        raise ReloadError(f"{pid_file}: no such PID file; is the server running with --pid-file?") from None
    except (OSError, ValueError) as error:
        raise ReloadError(f"{pid_file}: not a PID file ({error})") from None
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        raise ReloadError(f"{pid_file}: process {pid} is not running") from None
    if b"ldn_graph" not in command and b"ldn-graph" not in command:
        raise ReloadError(f"{pid_file}: process {pid} is not an ldn-graph server ({command[:80]!r})")
    return pid


def request_reload(pid_file: Path, wait: float = 120.0, poll: float = 0.1) -> ReloadOutcome:
    """Signal the server of ``pid_file`` to reload and wait up to ``wait`` seconds for its outcome."""
    pid = server_pid(pid_file)
    before = read_outcome(pid_file)
    count = before.count if before else 0
    os.kill(pid, signal.SIGHUP)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        outcome = read_outcome(pid_file)
        if outcome is not None and outcome.count > count:
            return outcome
        time.sleep(poll)
    raise ReloadError(f"the server (process {pid}) gave no reload outcome within {wait:g} s; see its log")

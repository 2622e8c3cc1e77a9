"""Faults on the live server: an engine process killed mid-query or one that stops responding. The
client gets a clear 503, the pool replaces the process, the next requests succeed, and /metrics and the
request log record it. (An engine crash on hostile input and killing every engine while a runaway runs
are in tests/safety/test_limits.py; a release cut short by a full disk in test_reload.py.)"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
import requests
from support.timing import wait_until, within

from ldn_graph.serving.engine_pool import query_threads, runs_lowered
from ldn_graph.web.config import ServeConfig

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(8)) + " }"
TIMEOUT = 2.0


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _engines(server) -> list[int]:
    from ldn_graph.serving.engine_pool import engine_processes

    return engine_processes(server.process.pid)


@pytest.fixture
def one_worker(built_graph, launch, tmp_path):
    server = launch(
        "--release",
        str(built_graph),
        "--workers",
        "1",
        "--timeout",
        str(TIMEOUT),
        log=tmp_path / "server.log",
    )
    server.log = tmp_path / "server.log"
    yield server
    server.stop()


def _ok(server, tag: str) -> None:
    response = requests.get(server.endpoint, params={"query": f"ASK {{ ?s ?p ?o }} # {tag}"}, timeout=10)
    assert response.status_code == 200 and response.json()["boolean"] is True


@pytest.mark.timing
def test_an_engine_killed_mid_query_gives_a_clear_503_and_is_replaced(one_worker):
    result: list[requests.Response] = []
    thread = threading.Thread(
        target=lambda: result.append(requests.get(one_worker.endpoint, params={"query": RUNAWAY}, timeout=10))
    )
    thread.start()
    # The runaway's process: its query thread is lowered after 0.1 s of CPU.
    busy = wait_until(
        lambda: [pid for pid in _engines(one_worker) if runs_lowered(pid)], 3, "the runaway's engine process"
    )
    assert len(busy) == 1
    started = time.perf_counter()
    os.kill(busy[0], signal.SIGKILL)
    thread.join()
    assert time.perf_counter() - started < within(1.0)  # at once, not at the time limit
    assert result[0].status_code == 503
    assert "stopped while answering" in result[0].text and "restarted" in result[0].text
    for i in range(5):
        _ok(one_worker, f"after kill {i}")
    metrics = requests.get(one_worker.url + "/metrics", timeout=10).text
    assert 'ldngraph_http_requests_total{route="/sparql",status="503"} 1' in metrics
    records = [
        json.loads(line.split("ldn_graph.access: ", 1)[1])
        for line in one_worker.log.read_text().splitlines()
        if "ldn_graph.access: " in line
    ]
    crashed = [r for r in records if r["status"] == 503]
    assert len(crashed) == 1 and crashed[0]["route"] == "/sparql" and len(crashed[0]["query"]) == 16


def _warmed_engines(server) -> set[int] | None:
    """The engine processes the worker started, once each has named itself (just after its fork: on a
    busy machine, later than the worker answers its first query)."""
    found = set(_engines(server))
    return found if len(found) >= ServeConfig().threads else None


@pytest.mark.timing
def test_engines_that_stop_responding_are_replaced(one_worker):
    _ok(one_worker, "warm")
    stopped = wait_until(lambda: _warmed_engines(one_worker), 5, "the worker's engine processes")
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)  # alive, but never answers again

    # Each hung process costs the one request sent to it the time limit (a clear 503), then is killed
    # and replaced by a fresh one. The pool may hand a request to a fresh process before the last hung
    # one is met, so ask until every hung process is gone: then all is well.
    def ask(tag: str) -> int:
        started = time.perf_counter()
        response = requests.get(
            one_worker.endpoint, params={"query": f"ASK {{ ?s ?p ?o }} # {tag}"}, timeout=10
        )
        assert time.perf_counter() - started < TIMEOUT + within(1.0)
        assert response.status_code in (200, 503), response.text
        if response.status_code == 503:
            assert "time limit" in response.text
        return response.status_code

    statuses = []
    while stopped & set(_engines(one_worker)) and len(statuses) < 3 * len(stopped) + 5:
        statuses.append(ask(str(len(statuses))))
    assert not stopped & set(_engines(one_worker))  # every hung process was killed
    assert statuses.count(503) <= len(stopped)  # each cost one request at most
    assert [ask(f"after {i}") for i in range(5)] == [200] * 5


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_a_runaway_query_ends_even_when_its_worker_dies(one_worker):
    """An engine process whose worker is killed mid-query stops itself at its CPU limit: the time limit
    and ORPHAN_MARGIN seconds (engine_process.py), not whenever the query would have finished."""
    from ldn_graph.serving.engine_pool import ORPHAN_MARGIN, _cpu_seconds, engine_processes

    _ok(one_worker, "warm")
    (worker,) = _children(one_worker.process.pid)
    outcome: list[BaseException] = []

    def ask() -> None:
        try:
            requests.get(one_worker.endpoint, params={"query": RUNAWAY}, timeout=20)
        except requests.ConnectionError as error:  # its worker is killed under it
            outcome.append(error)

    thread = threading.Thread(target=ask, daemon=True)
    thread.start()
    busy = wait_until(
        lambda: next((pid for pid in engine_processes(worker) if _cpu_seconds(pid) > 0.1), None),
        5,
        "an engine process taking the runaway query",
    )
    # The limit is CPU time: the CPU it had used before the query, rounded up, plus the time limit
    # (rounded up) and the margin. What it had used before is at most what it has used now.
    cpu_limit = math.ceil(_cpu_seconds(busy)) + math.ceil(TIMEOUT) + ORPHAN_MARGIN
    os.kill(worker, signal.SIGKILL)
    with contextlib.suppress(PermissionError):
        # A slow query runs at nice 19, where a loaded machine gives it almost no CPU, and the limit
        # is CPU seconds: back at nice 0 it reaches the limit within seconds even beside other tests.
        for tid in query_threads(busy):
            os.setpriority(os.PRIO_PROCESS, tid, 0)
    started = time.monotonic()
    while _running(busy) and time.monotonic() - started < 120:
        used = _cpu_seconds(busy)
        assert used <= cpu_limit + 0.5, (
            f"the orphaned engine process ran {used:.1f} s of CPU, past {cpu_limit} s"
        )
        time.sleep(0.2)
    assert not _running(busy), "the orphaned engine process kept running its query"
    thread.join(5)
    assert outcome, "the client of the killed worker got an answer"
    _ok(one_worker, "after")  # the server replaced its worker


def test_a_killed_main_process_takes_its_workers_spawners_and_engines_with_it(built_graph, launch, tmp_path):
    """SIGKILL to the main process (a supervisor's last resort, the OOM killer) leaves nothing serving:
    no worker keeps the listening socket, so a new server can bind the port at once."""
    from ldn_graph.serving.engine_pool import process_tree

    server = launch("--release", str(built_graph), "--workers", "2", log=tmp_path / "server.log")
    tree: list[int] = []
    try:
        _ok(server, "warm")
        tree = process_tree(server.process.pid)
        assert len(_children(server.process.pid)) == 2, "two workers"
        assert len(tree) > 1 + 2 + 2, "workers with their spawners and engines"
        port = int(server.url.rsplit(":", 1)[1])
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(10)
        deadline = time.monotonic() + 10
        while any(_running(pid) for pid in tree) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [pid for pid in tree if _running(pid)] == []
        with pytest.raises(requests.ConnectionError):
            requests.get(server.endpoint, params={"query": "ASK {}"}, timeout=2)
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))  # the port is free again
    finally:
        server.stop()
        for pid in tree:  # what a failure left behind (and not a process that took a freed pid since)
            with contextlib.suppress(OSError):
                if _running(pid) and b"ldn_graph" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.kill(pid, signal.SIGKILL)

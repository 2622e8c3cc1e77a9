"""Hard limits: time, rows, size, depth and bad input; crashes and runaways contained by the live server.
The row cap, the result cache and the refusals made before any engine are asked of the application
through Flask's test client."""

from __future__ import annotations

import os
import signal
import statistics
import threading
import time
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from support.timing import wait_until, within

from ldn_graph import cli
from ldn_graph.serving.engine import QueryEngine
from ldn_graph.serving.engine_pool import (
    EngineCrashed,
    EnginePool,
    EngineUnavailable,
    engine_processes,
    runs_lowered,
)
from ldn_graph.serving.guard import QueryGuard
from ldn_graph.serving.protocol import (
    BadRequest,
    NotAcceptable,
    ProtocolError,
    ProtocolRequest,
    UpdateRefused,
    refusal_named,
)
from ldn_graph.serving.stores import load_store
from ldn_graph.web.app import create_app
from ldn_graph.web.config import ServeConfig

# Every triple against every other, eight times over: far more than a second of work on any machine,
# and all of it inside one engine call that Python cannot interrupt.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(8)) + " }"
CHEAP = "SELECT ?s WHERE { ?s a ?type } LIMIT 3"
TIMEOUT, MAX_ROWS = 1.0, 5  # the guarded server's --timeout and --max-rows (conftest.py)


def _cheap(endpoint: str, tag: str) -> float:
    started = time.perf_counter()
    # A distinct comment per request, so that no answer comes from the result cache.
    response = requests.get(endpoint, params={"query": f"{CHEAP} # {tag}"}, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers.get("X-Cache") != "hit"
    return time.perf_counter() - started


@pytest.mark.timing
def test_a_runaway_query_is_stopped_at_the_limit(guarded):
    started = time.perf_counter()
    response = requests.get(guarded.endpoint, params={"query": RUNAWAY}, timeout=10)
    elapsed = time.perf_counter() - started
    assert response.status_code == 503
    assert "time limit" in response.text
    assert TIMEOUT <= elapsed < TIMEOUT + within(0.5)
    # The engine process was replaced: the next query is answered at once.
    _cheap(guarded.endpoint, "after a runaway")


@pytest.mark.timing
def test_others_keep_their_latency_beside_runaways(guarded):
    before = [_cheap(guarded.endpoint, f"before {i}") for i in range(20)]
    runaways: list[int] = []

    def run_away() -> None:
        runaways.append(requests.get(guarded.endpoint, params={"query": RUNAWAY}, timeout=10).status_code)

    threads = [threading.Thread(target=run_away) for _ in range(4)]  # as many as the machine has cores, twice
    for thread in threads:
        thread.start()
    # The runaways are past their first moments: their engines' query threads have been lowered.
    wait_until(
        lambda: sum(runs_lowered(pid) for pid in _engine_processes(guarded)) >= 2, 5, "runaways at work"
    )
    during = [_cheap(guarded.endpoint, f"during {i}") for i in range(20)]
    for thread in threads:
        thread.join()
    assert runaways == [503] * 4
    # Without the pool the cheap queries would queue behind the runaways for a whole second; with it
    # they keep their ordinary latency, allowing for a machine shared with other work.
    assert statistics.median(during) < max(3 * statistics.median(before), 0.05), (before, during)
    assert max(during) < within(TIMEOUT / 2), during


def _engine_processes(server) -> list[int]:
    """The engine processes of the server: named descendants of its workers."""
    from ldn_graph.serving.engine_pool import engine_processes

    return engine_processes(server.process.pid)


def _lowered_engines(server) -> int:
    return sum(runs_lowered(pid) for pid in _engine_processes(server))


@pytest.mark.timing
def test_a_killed_engine_does_not_take_the_server_down(launch, tmp_path):
    server = launch("--workers", "1", "--timeout", "5", log=tmp_path / "server.log")
    try:
        result: list[requests.Response] = []
        thread = threading.Thread(
            target=lambda: result.append(requests.get(server.endpoint, params={"query": RUNAWAY}, timeout=10))
        )
        thread.start()
        # The busy engine is the one whose query thread was lowered once it had burnt its CPU allowance;
        # wait for that (a loaded machine takes longer), then kill every engine, busy and idle.
        wait_until(
            lambda: any(runs_lowered(pid) for pid in _engine_processes(server)), 4, "the runaway's engine"
        )
        engines = _engine_processes(server)
        killed_at = time.perf_counter()
        for pid in engines:
            os.kill(pid, signal.SIGKILL)
        thread.join()
        assert result[0].status_code == 503
        assert "stopped" in result[0].text
        assert time.perf_counter() - killed_at < within(1.5)  # at once, not at the time limit
        for i in range(10):
            _cheap(server.endpoint, f"after the kill {i}")
        assert server.process.poll() is None
    finally:
        server.stop()


def test_an_engine_that_aborts_is_replaced(release_store):
    """Oxigraph overflows its stack on a chain of 10,000 negations; past a lenient guard it ends only
    its own engine process."""
    engine = QueryEngine(release_store, timeout=5)
    engine.guard = QueryGuard(max_branches=1_000_000, held_graphs=frozenset())
    pool = EnginePool(engine)
    try:
        with pytest.raises(EngineCrashed):
            pool.answer(ProtocolRequest("ASK { FILTER(" + "!" * 10_000 + "true) }"), None)
        assert b"true" in pool.answer(ProtocolRequest("ASK {}"), None).body
    finally:
        pool.close()


@pytest.mark.parametrize(
    ("query", "accept", "refusal", "status"),
    [
        ("SELEC nothing", None, BadRequest, 400),
        ("ASK {}", "image/png", NotAcceptable, 406),
    ],
)
def test_a_refusal_made_in_an_engine_process_arrives_as_itself(release_store, query, accept, refusal, status):
    """Refusals cross from the engine process as plain values and are raised again as their own class."""
    pool = EnginePool(QueryEngine(release_store, timeout=5))
    try:
        with pytest.raises(refusal) as raised:
            pool.answer(ProtocolRequest(query), accept)
        assert type(raised.value) is refusal and raised.value.status == status and str(raised.value)
        assert b"true" in pool.answer(ProtocolRequest("ASK {}"), None).body  # the same engine answers on
    finally:
        pool.close()


def test_every_refusal_class_is_raised_again_by_name():
    from ldn_graph.serving.remote_store import RemoteStoreError, RemoteTimeout

    for kind in (BadRequest, UpdateRefused, NotAcceptable, EngineCrashed, RemoteStoreError, RemoteTimeout):
        again = refusal_named(kind.__name__, "why")
        assert type(again) is kind and again.status == kind.status and str(again) == "why"
    assert type(refusal_named("NoSuchRefusal", "why")) is ProtocolError


def test_an_engine_the_system_will_not_start_is_a_logged_503(release_store, monkeypatch, caplog):
    """When the system refuses a process (as fork(2) does with EAGAIN at a process limit, which root does
    not meet, hence the refusal is made here), the query gets 503 with a message and the log says why;
    once processes can be made again, the pool answers."""
    from ldn_graph.serving import engine_pool

    pool = EnginePool(QueryEngine(release_store, timeout=5))
    real_fork = os.fork

    def refused() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    try:
        monkeypatch.setattr(engine_pool.os, "fork", refused)
        with pytest.raises(EngineUnavailable) as refusal:
            pool.answer(ProtocolRequest("ASK {}"), None)
        assert refusal.value.status == 503 and "no engine process could be started" in str(refusal.value)
        assert any(
            record.levelname == "ERROR" and "Resource temporarily unavailable" in record.getMessage()
            for record in caplog.records
        )
        monkeypatch.setattr(engine_pool.os, "fork", real_fork)
        assert b"true" in pool.answer(ProtocolRequest("ASK {}"), None).body
    finally:
        pool.close()


def test_an_idle_engine_killed_as_it_is_borrowed_costs_no_query(release_store, monkeypatch):
    """A kill in flight can leave an idle engine process looking alive when a query borrows it; the
    query, read-only, is asked again of a new process instead of failing with 503."""
    from ldn_graph.serving import engine_pool as engine_process

    pool = EnginePool(QueryEngine(release_store, timeout=5))
    try:
        pool.warm(1)
        idle = pool._idle[0]
        os.kill(idle.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while Path(f"/proc/{idle.pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not Path(f"/proc/{idle.pid}").exists()  # ended now; the pool is told it is still alive
        monkeypatch.setattr(engine_process._Process, "alive", lambda process: True)
        assert b"true" in pool.answer(ProtocolRequest("ASK {}"), None).body
        assert pool.started == 2
    finally:
        pool.close()


def test_a_query_that_ends_its_engine_is_asked_at_most_twice(release_store):
    engine = QueryEngine(release_store, timeout=5)
    engine.guard = QueryGuard(max_branches=1_000_000, held_graphs=frozenset())
    pool = EnginePool(engine)
    try:
        assert b"true" in pool.answer(ProtocolRequest("ASK {}"), None).body  # the engine has served one
        with pytest.raises(EngineCrashed):
            pool.answer(ProtocolRequest("ASK { FILTER(" + "!" * 10_000 + "true) }"), None)
        assert pool.started == 2  # the first, then one new one for the second try
        assert b"true" in pool.answer(ProtocolRequest("ASK {}"), None).body
        assert pool.started == 3
    finally:
        pool.close()


# About a second of work on the fixture release (13 triples, six at a time), all in one engine call.
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(6)) + " }"


def _slow_in_thread(pool: EnginePool) -> tuple[threading.Thread, list]:
    answers: list = []
    thread = threading.Thread(target=lambda: answers.append(pool.answer(ProtocolRequest(SLOW), None)))
    thread.start()
    return thread, answers


def _lowered_engine(pool: EnginePool) -> int:
    """The engine process whose query thread the pool lowered, once it has."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lowered = [pid for pid in engine_processes(pool._spawner.pid) if runs_lowered(pid)]
        if lowered:
            return lowered[0]
        time.sleep(0.005)
    raise AssertionError("no engine process ran the slow query lowered")


@pytest.mark.slow
@pytest.mark.timing
def test_a_slow_query_leaves_its_engine_warm_at_normal_priority(release_store):
    """The engine process that answered a slow query (its thread lowered meanwhile) stays: the next
    query goes to it first, in a fresh thread at normal priority, with the pages it copied."""
    pool = EnginePool(QueryEngine(release_store, timeout=30), slow_after=0.05)
    try:
        pool.warm(2)
        thread, answers = _slow_in_thread(pool)
        lowered = _lowered_engine(pool)
        thread.join()
        assert b"n" in answers[0].body
        deadline = time.monotonic() + 5  # the lowered thread ends just after its answer
        while runs_lowered(lowered) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not runs_lowered(lowered)
        assert pool._warm is not None and pool._warm.pid == lowered and pool._warm.alive()
        assert b"true" in pool.answer(ProtocolRequest("ASK {}"), None).body
        assert pool._idle[-1].pid == lowered  # it answered that one too
        assert pool.started == 2  # nothing was forked afresh
    finally:
        pool.close()


@pytest.mark.slow  # its slow queries run at nice 19: beside other tests they wait for a CPU
@pytest.mark.timing
def test_one_engine_stays_warm_and_only_for_a_while(release_store):
    """Two slow queries at once: one engine process stays warm, the other is retired with its copied
    pages; and the warm one is retired once no slow query has come for keep_warm seconds."""
    pool = EnginePool(QueryEngine(release_store, timeout=30), slow_after=0.05)
    pool.keep_warm = 1.0
    try:
        pool.warm(2)
        engines = {process.pid for process in pool._idle}
        runs = [_slow_in_thread(pool) for _ in range(2)]
        for thread, answers in runs:
            thread.join()
            assert b"n" in answers[0].body
        assert len(engines) == 2
        warm = pool._warm.pid
        # The other is killed without waiting for its end; the warm one once keep_warm has passed.
        wait_until(
            lambda: {pid for pid in engines if _running(pid)} == {warm}, 10, "the other engine retired"
        )
        wait_until(lambda: not _running(warm), 10, "the warm engine retired")
        assert pool._warm is None
        assert b"true" in pool.answer(ProtocolRequest("ASK {}"), None).body
    finally:
        pool.close()


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def test_engines_started_later_do_not_pin_what_the_worker_wrote_since(release_store):
    """Engine processes are forked by the spawner, which is as the worker was when the pool started: an
    engine started after the worker has written 64 MB more does not map them (forked from the worker,
    it would, and would keep them when the worker frees or rewrites them)."""
    pool = EnginePool(QueryEngine(release_store, timeout=5))
    try:
        pool.warm(1)
        before = _resident_mb(os.getpid())
        ballast = bytearray(b"\x01") * (64 << 20)  # written, hence resident
        pool.warm(2)
        newest = pool._idle[-1]
        assert _resident_mb(os.getpid()) > before + 60
        assert _resident_mb(newest.pid) < before + 16, "the new engine maps the worker's later pages"
        assert b"true" in pool.answer(ProtocolRequest("ASK {}"), None).body
        del ballast
    finally:
        pool.close()


def test_a_killed_spawner_is_replaced(release_store):
    from ldn_graph.serving.engine_pool import ENGINE_NAME, SPAWNER_NAME, engine_processes

    pool = EnginePool(QueryEngine(release_store, timeout=5))
    try:
        pool.warm(1)
        spawner = pool._spawner.pid
        assert Path(f"/proc/{spawner}/comm").read_text().strip() == SPAWNER_NAME
        deadline = time.monotonic() + 5  # the engine names itself just after it is forked
        while engine_processes(spawner) != [pool._idle[0].pid] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert engine_processes(spawner) == [pool._idle[0].pid]
        assert Path(f"/proc/{pool._idle[0].pid}/comm").read_text().strip() == ENGINE_NAME
        os.kill(spawner, signal.SIGKILL)
        os.waitpid(spawner, 0)
        pool._idle.pop().kill()  # the next query needs a new engine process
        assert b"true" in pool.answer(ProtocolRequest("ASK {}"), None).body
        assert pool._spawner.pid != spawner
    finally:
        pool.close()


@pytest.fixture(scope="module")
def release_store(release_files):
    return load_store(release_files[0])


def test_row_cap_is_exact_and_said_before_the_body(client):
    def rows(query: str, **headers):
        response = client.get("/sparql", query_string={"query": query}, headers=headers)
        assert response.status_code == 200
        return response

    cut = rows("SELECT * WHERE { ?s ?p ?o }")
    assert len(cut.get_json()["results"]["bindings"]) == MAX_ROWS
    assert cut.headers["X-SPARQL-MaxRows"] == str(MAX_ROWS)
    exact = rows(f"SELECT * WHERE {{ ?s ?p ?o }} LIMIT {MAX_ROWS}")
    assert len(exact.get_json()["results"]["bindings"]) == MAX_ROWS
    assert "X-SPARQL-MaxRows" not in exact.headers
    one_more = rows(f"SELECT * WHERE {{ ?s ?p ?o }} LIMIT {MAX_ROWS + 1}")
    assert one_more.headers["X-SPARQL-MaxRows"] == str(MAX_ROWS)
    graph = rows("CONSTRUCT WHERE { ?s ?p ?o }", Accept="application/n-triples")
    assert len(graph.text.splitlines()) == MAX_ROWS
    assert graph.headers["X-SPARQL-MaxRows"] == str(MAX_ROWS)
    # A cut answer served again from the cache says so again (kept once its query comes a second time).
    for _ in range(3):
        again = rows("SELECT * WHERE { ?s ?p ?o }")
        assert again.headers["X-SPARQL-MaxRows"] == str(MAX_ROWS)
        assert again.get_data() == cut.get_data()
        if again.headers["X-Cache"] == "hit":
            break
    assert again.headers["X-Cache"] == "hit"


def _post(guarded, body: bytes, content_type: str = "application/sparql-query") -> requests.Response:
    return requests.post(guarded.endpoint, data=body, headers={"Content-Type": content_type}, timeout=10)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b"#" * ((1 << 20) + 1), "application/sparql-query", 413, ""),
        (b"ASK {} #" + b" " * 100_000, "application/sparql-query", 413, "100,000"),
        (b"SELECT * WHERE " + b"{" * 1000 + b"}" * 1000, "application/sparql-query", 400, "nests"),
        (b"SELECT * WHERE { ?s ?p ?o " + b"(" * 65 + b"1" + b")" * 65 + b" }", "application/sparql-query", 400, "64"),
        (
            b"SELECT * WHERE { " + b" UNION ".join(b"{ ?s ?p %d }" % i for i in range(2000)) + b" }",
            "application/sparql-query",
            400,
            "UNION",
        ),
        (b"ASK { FILTER(" + b"!" * 10_000 + b"true) }", "application/sparql-query", 400, "operators"),
        (b"ASK { FILTER(" + b" || ".join(b"%d" % i for i in range(5000)) + b") }", "application/sparql-query", 400, "operators"),
        (b"ASK { \xff\xfe }", "application/sparql-query", 400, "UTF-8"),
        (b"query=ASK%20%7B%7D%FF", "application/x-www-form-urlencoded", 400, "UTF-8"),
        (b"SELECT * WHERE { ?s ?p }", "application/sparql-query", 400, "1:"),
        (b"ASK {} ASK {}", "application/sparql-query", 400, ""),
        (b"", "application/sparql-query", 400, ""),
        (b"query=", "application/x-www-form-urlencoded", 400, ""),
        (b"ASK {}", "text/plain", 415, ""),
        (b"INSERT DATA { <a:b> <a:c> <a:d> }", "application/sparql-update", 403, ""),
    ],
    ids=[
        "body-over-1MiB", "query-over-100k", "nested-1000", "nested-65-parens", "union-2000", "not-10000",
        "or-5000", "body-not-utf8", "form-not-utf8", "syntax", "two-queries", "empty", "empty-form",
        "wrong-type", "update",
    ],
)  # fmt: skip
def test_bad_requests_get_clear_4xx(guarded, body, content_type, status, message):
    response = _post(guarded, body, content_type)
    assert response.status_code == status, response.text[:300]
    assert message in response.text
    assert requests.get(guarded.endpoint, params={"query": "ASK {}"}, timeout=10).json()["boolean"] is True


def test_a_too_long_get_url_gets_414_with_a_hint_to_post(guarded):
    query = "ASK {} # " + "x" * 9000
    response = requests.get(guarded.endpoint, params={"query": query}, timeout=10)
    assert response.status_code == 414
    assert "POST" in response.text
    assert _post(guarded, query.encode()).json()["boolean"] is True


def test_a_get_query_not_utf8_is_400(client):
    response = client.get("/sparql?query=ASK%20%7B%7D%20%23%FF")
    assert response.status_code == 400
    assert "UTF-8" in response.text


def test_answers_are_reused_by_query_format_and_dataset(client):
    query = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 2 # reuse"
    first = client.get("/sparql", query_string={"query": query})
    again = client.get("/sparql", query_string={"query": query})
    hits = [first.headers["X-Cache"], again.headers["X-Cache"]]
    # An answer is kept only when its query comes a second time.
    hits.append(client.get("/sparql", query_string={"query": query}).headers["X-Cache"])
    assert hits == ["miss", "miss", "hit"]
    assert again.get_data() == first.get_data()
    csv = client.get("/sparql", query_string={"query": query}, headers={"Accept": "text/csv"})
    assert csv.headers["X-Cache"] == "miss" and csv.headers["Content-Type"].startswith("text/csv")


def test_cache_mb_zero_turns_reuse_off(release_files):
    config = ServeConfig(cache_bytes=0, release_file=release_files[0], data=(release_files[1],))
    client = create_app(config, isolate_queries=False).test_client()
    query = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 2 # no reuse"
    answers = [client.get("/sparql", query_string={"query": query}) for _ in range(4)]
    assert all(answer.status_code == 200 and "X-Cache" not in answer.headers for answer in answers)
    assert len({answer.get_data() for answer in answers}) == 1


@pytest.mark.parametrize(
    ("arguments", "environment", "expected"),
    [
        ((), {}, 32 << 20),
        (("--cache-mb", "0.25"), {}, 1 << 18),
        ((), {"LDNGRAPH_CACHE_MB": "4"}, 4 << 20),
        (("--cache-mb", "0"), {}, 0),
    ],
)
def test_cache_mb_sets_each_workers_bound(monkeypatch, arguments, environment, expected):
    import ldn_graph.web.server as server_module

    configs = []
    monkeypatch.setattr(server_module, "run_server", configs.append)
    result = CliRunner().invoke(cli.main, ["serve", *arguments], env=environment)
    assert result.exit_code == 0, result.output
    assert [config.cache_bytes for config in configs] == [expected]


def test_negative_cache_mb_is_refused_with_the_option_named():
    result = CliRunner().invoke(cli.main, ["serve", "--cache-mb", "-1"])
    assert result.exit_code == 2 and "--cache-mb" in result.output


@pytest.mark.timing
def test_slow_queries_leave_a_worker_one_thread_for_quick_ones(launch, tmp_path):
    """With one worker of 3 threads, at most 2 slow queries run; a third is stopped once found slow
    (503, "busy"), and quick queries are answered at once meanwhile."""
    server = launch("--workers", "1", "--threads", "3", "--timeout", "3", log=tmp_path / "server.log")
    try:
        answers: list[requests.Response] = []

        def run_away() -> None:
            answers.append(requests.get(server.endpoint, params={"query": RUNAWAY}, timeout=20))

        threads = [threading.Thread(target=run_away) for _ in range(3)]
        for thread in threads:
            thread.start()
        # Every runaway is past its first 0.1 s of work: two run lowered, the third was stopped as busy.
        wait_until(lambda: answers and _lowered_engines(server) >= 2, 5, "two slow queries running")
        quick = [_cheap(server.endpoint, f"beside {i}") for i in range(10)]
        for thread in threads:
            thread.join()
        statuses = sorted((answer.status_code, "busy" in answer.text) for answer in answers)
        assert statuses == [(503, False), (503, False), (503, True)], [a.text for a in answers]
        assert max(quick) < within(0.5), quick
    finally:
        server.stop()

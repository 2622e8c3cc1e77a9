"""A supervised pool of engine processes that can be killed at the time limit.

pyoxigraph cannot interrupt a query, and a query that sorts or aggregates spends its whole time inside
one engine call, so the only way to stop it is to end the process running it. Each web worker has its
own engine processes, which share the loaded store copy-on-write and start in milliseconds; each
answers one request at a time over a socket pair (a length, then a pickled tuple of plain values), and
a worker thread borrows an idle one per query.

Engine processes are forked by a spawner, a process the worker forks once while it is fresh, never by
the busy worker itself. A process forked from the worker would keep privately the old copy of every
page the worker writes afterwards: after hours of requests each new engine process would pin tens of MB
of the worker's past. The spawner waits on its socket and writes next to nothing, so the engine
processes it forks keep sharing their pages with it and with the server's main process. ``ps`` shows
them as ``ldngraph-spawn`` and ``ldngraph-engine``.

- A query still running past the limit (plus a grace) has its process killed; the client gets 503 and
  the pool forks a fresh process on demand.
- A query that has used ``slow_after`` seconds of CPU itself has its thread lowered to the lowest CPU
  priority, so that runaway queries cannot take the CPU from other clients' quick ones; the engine
  process answers the next query in a fresh thread at normal priority (see ``_Serving``).
- The engine process that answered the last slow query is kept warm: the next query goes to it first,
  so a heavy query finds the pages of the store it needs already copied (see ``_Serving``) and runs at
  the engine's own speed. Only one is kept per worker, and it is replaced by a fresh process after
  ``KEEP_WARM`` seconds without a slow query, so that its copies do not stay in memory for good.
- At most ``max_slow`` such slow queries run in a worker at once; one more is stopped when found slow
  (503, "busy"), so that a worker always keeps a thread for quick queries, whoever sends runaways.
- A crash (Oxigraph aborts on some inputs; the kernel may kill a process) ends one engine process,
  never the web worker: the client gets 503 and the process is replaced. A process that ends before
  its query has become slow, having served earlier ones, may have been killed while idle: the query is
  asked once more of a new process, and only a second end is the query's fault.
- With no SERVICE endpoint allowed, each engine process moves into a network namespace of its own
  with no interfaces where the system allows it: a query that slipped past the guard still reaches
  nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import logging
import math
import os
import pickle
import resource
import select
import signal
import socket
import struct
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from ldn_graph.errors import LdnGraphError
from ldn_graph.serving.engine import QueryAnswer, QueryEngine
from ldn_graph.serving.protocol import ProtocolError, ProtocolRequest, QueryTimeout, refusal_named

log = logging.getLogger(__name__)

# Seconds past the engine's own limit before the process is killed: the client must have its 503 within
# the limit plus 0.5 s, and killing, reaping and answering take some of that.
GRACE = 0.25
ORPHAN_MARGIN = 5  # CPU seconds past the limit after which an engine process stops itself
SLOW_AFTER = 0.1  # CPU seconds after which a query's thread yields the CPU to quicker ones
KEEP_WARM = 60.0  # seconds the engine process of the last slow query waits for the next before it retires
_LOOK_EVERY = 0.05  # seconds between looks at a running query's CPU time
_CLONE_NEWUSER, _CLONE_NEWNET = 0x10000000, 0x40000000
_TICKS = os.sysconf("SC_CLK_TCK")
ENGINE_NAME, SPAWNER_NAME = "ldngraph-engine", "ldngraph-spawn"  # process names (at most 15 bytes)


class EngineFailure(LdnGraphError):
    """The engine failed on a request with an unexpected error: a server fault, answered 500."""


class EngineBusy(ProtocolError):
    """Too many slow queries are running already: this one was stopped when found slow (503)."""

    status = 503


class EngineUnavailable(ProtocolError):
    """No engine process could be started (the system refused a process): answered 503, and logged."""

    status = 503


class EngineCrashed(ProtocolError):
    """The engine process ended while answering (it is replaced): answered 503."""

    status = 503


class _EngineEnded(Exception):
    """An engine process ended before it answered: ``slow`` when its query had already become slow."""

    def __init__(self, pid: int, slow: bool, cause: BaseException):
        super().__init__(str(cause) or type(cause).__name__)
        self.pid, self.slow = pid, slow


def isolate_network() -> bool:
    """Move this (single-threaded) process into an empty network namespace; False where not permitted."""
    try:
        unshare = ctypes.CDLL(None, use_errno=True).unshare
    except (OSError, AttributeError):
        return False
    # Root may make a network namespace directly; others need a user namespace of their own first.
    return unshare(_CLONE_NEWNET) == 0 or unshare(_CLONE_NEWUSER | _CLONE_NEWNET) == 0


_LENGTH = struct.Struct("!I")


def _send(channel: socket.socket, message: object) -> None:
    payload = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    channel.sendall(_LENGTH.pack(len(payload)) + payload)


def _receive(channel: socket.socket) -> object:
    """One message; EOFError when the other end has closed."""
    data = channel.recv(65536)
    if len(data) < _LENGTH.size:
        data += _exactly(channel, _LENGTH.size - len(data))
    (length,) = _LENGTH.unpack_from(data)
    missing = _LENGTH.size + length - len(data)
    if missing > 0:
        data += _exactly(channel, missing)
    return pickle.loads(memoryview(data)[_LENGTH.size :])


def _exactly(channel: socket.socket, size: int) -> bytes:
    chunks = []
    while size > 0:
        chunk = channel.recv(min(size, 1 << 20))
        if not chunk:
            raise EOFError("the other end closed the channel")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


class _Serving:
    """An engine process's service: answer requests until the worker closes its end of the channel.

    Requests and answers travel as tuples of plain values, which pickle faster than the dataclasses.
    Each reply carries the CPU seconds this process has used so far, so that the worker can tell what
    the next query alone costs.

    Queries run in a query thread, not in the process's main thread. The worker lowers the priority of
    a slow query's thread (every thread of the process but the main one), and a thread's priority
    cannot be raised again without privileges; a thread inherits the priority of the thread that starts
    it, so the main thread, never lowered, starts a fresh query thread once one finds itself lowered.
    The process lives on, with every page of the store it has already copied (below), and the next query
    runs at normal priority.

    Why keep the process: Oxigraph's in-memory store counts references to the entries it reads, so a
    query writes to the pages of the store it visits, and a process forked from the one that loaded the
    store copies each such page on first touch (measured at 10^6 triples: 57,000 page copies, 220 MB,
    doubling the CPU time of a two-hop aggregate in a fresh process). A process kept warm has them.

    The worker kills a query at its time limit; should the worker itself die first (killed while
    being replaced, say), a CPU limit set afresh before each query ends a runaway one anyway: the
    kernel stops this process (SIGXCPU) once the query has burnt the time limit and a margin.
    """

    def __init__(self, engine: QueryEngine, channel: socket.socket):
        self.engine, self.channel = engine, channel
        self.cpu_margin = math.ceil(engine.timeout) + ORPHAN_MARGIN
        self.hard_limit = resource.getrlimit(resource.RLIMIT_CPU)[1]
        self.used = 0.0
        self.pending: tuple | None = None  # a request received by a query thread that was lowered
        self.closed = False

    def run(self) -> None:
        """In the main thread: a query thread at a time, each serving until it is lowered or the end."""
        while not self.closed:
            thread = threading.Thread(target=self._answer_requests, name="ldngraph-query")
            thread.start()
            thread.join()

    @staticmethod
    def _lowered() -> bool:
        """Whether this query thread runs at a lower priority than the main thread (whose thread ID is
        the process ID), which starts the next one."""
        here = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        return here > os.getpriority(os.PRIO_PROCESS, os.getpid())

    def _answer_requests(self) -> None:
        while not self._lowered():
            request, self.pending = self.pending, None
            if request is None:
                try:
                    request = _receive(self.channel)
                except (EOFError, OSError):
                    self.closed = True
                    return
                # The worker lowers a slow query's thread while it waits for the answer, and may do so
                # just after the answer left: the request after it must not run lowered.
                if self._lowered():
                    self.pending = request
                    return
            self._answer(*request)

    def _answer(self, query: str, default_graphs, named_graphs, accept: str | None) -> None:
        with contextlib.suppress(ValueError, OSError):
            limit = math.ceil(self.used) + self.cpu_margin
            resource.setrlimit(resource.RLIMIT_CPU, (limit, self.hard_limit))
        try:
            answer = self.engine.evaluate(ProtocolRequest(query, default_graphs, named_graphs), accept)
            reply = ("answer", (answer.body, answer.media_type, answer.truncated, answer.rows))
        except ProtocolError as error:
            # As its class's name and message: an exception pickled whole comes back only when its
            # constructor takes its message alone, and a subclass that takes more breaks the channel.
            reply = ("refused", (type(error).__name__, str(error)))
        except Exception:  # a bug: reported to the worker, which logs it and answers 500
            reply = ("failed", traceback.format_exc())
        times = os.times()
        self.used = times.user + times.system
        _send(self.channel, (*reply, self.used))


def _name_process(name: str) -> None:
    """Name this process as ps and top show it."""
    with contextlib.suppress(OSError), open("/proc/self/comm", "w") as comm:
        comm.write(name)


def process_tree(root: int) -> list[int]:
    """Process ``root`` and all its descendants, as /proc shows them now."""
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        for task in Path(f"/proc/{pid}/task").glob("*"):
            with contextlib.suppress(OSError, ValueError):
                pending += [int(child) for child in (task / "children").read_text().split()]
    return found


def is_engine_process(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == ENGINE_NAME
    except OSError:
        return False


def engine_processes(root: int) -> list[int]:
    """The engine processes among the descendants of process ``root`` (a server, a worker)."""
    return [pid for pid in process_tree(root)[1:] if is_engine_process(pid)]


def _reset_signals() -> None:
    # The worker's signal handlers (granian's graceful shutdown) mean nothing in a spawner or engine.
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1):
        signal.signal(signum, signal.SIG_DFL)


_PID = struct.Struct("!i")


class _Spawner:
    """A small process that forks engine processes for one worker (see the module's docstring).

    The worker sends it one end of a new socket pair; it forks an engine process serving that end and
    answers with the engine's PID. The kernel reaps the engines it forked (SIGCHLD is ignored), and it
    ends when the worker closes its channel or dies.
    """

    def __init__(self, engine: QueryEngine, sandbox: bool):
        self._channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.pid = os.fork()
        except OSError:
            self._channel.close()
            theirs.close()
            raise
        if self.pid == 0:
            code = 0
            try:
                self._channel.close()
                _name_process(SPAWNER_NAME)
                faulthandler.disable()  # a crash of an engine is the worker's to report, with its query
                _reset_signals()
                signal.signal(signal.SIGCHLD, signal.SIG_IGN)
                # The engines inherit the empty network namespace: made once, here.
                if sandbox and not isolate_network():
                    os.write(2, b"engine processes: no network namespace here; relying on the query guard\n")
                self._spawn_on_request(theirs, engine)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        theirs.close()

    @staticmethod
    def _spawn_on_request(channel: socket.socket, engine: QueryEngine) -> None:
        while True:
            _, fds, _, _ = socket.recv_fds(channel, 1, 1)
            if not fds:  # the worker closed its end, or died
                return
            pid = os.fork()
            if pid == 0:  # the engine process
                code = 0
                try:
                    channel.close()
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    _name_process(ENGINE_NAME)
                    _Serving(engine, socket.socket(fileno=fds[0])).run()
                except BaseException:
                    code = 1
                finally:
                    os._exit(code)
            os.close(fds[0])
            channel.sendall(_PID.pack(pid))

    def spawn(self) -> _Process:
        """A new engine process (the caller holds the pool's lock). OSError when the spawner is gone."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            socket.send_fds(self._channel, [b"e"], [theirs.fileno()])
            (pid,) = _PID.unpack(_exactly(self._channel, _PID.size))
        except (OSError, EOFError) as error:
            ours.close()
            raise OSError(f"the engine spawner {self.pid} is gone: {error}") from None
        finally:
            theirs.close()
        return _Process(pid, ours)

    def close(self) -> None:
        """Let the spawner end (it does when its channel closes) and reap it."""
        self._channel.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


@dataclass(eq=False)
class _Process:
    """An engine process, which is not the worker's child: it is watched and killed through a pidfd."""

    pid: int
    channel: socket.socket
    cpu: float = 0.0  # CPU seconds the process had used when its last query ended
    poller: select.poll = field(default_factory=select.poll, repr=False)
    pidfd: int = -1

    def __post_init__(self) -> None:
        self.poller.register(self.channel, select.POLLIN)
        with contextlib.suppress(OSError, AttributeError):
            self.pidfd = os.pidfd_open(self.pid)

    def ready(self, timeout: float) -> bool:
        """True once the process has replied (or ended) within ``timeout`` seconds."""
        return bool(self.poller.poll(max(0, int(timeout * 1000) + 1)))

    def alive(self) -> bool:
        """False for a process that ended while idle (killed from outside), or was killed here."""
        if self.channel.fileno() < 0:
            return False
        if self.pidfd >= 0:
            return not select.select([self.pidfd], [], [], 0)[0]  # a pidfd turns readable at the end
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def kill(self, wait: bool = False) -> None:
        """Kill the process; with ``wait``, also wait (a second at most) until it has ended.

        A query's client is answered without waiting: a process killed after it was lowered to the
        lowest CPU priority frees its memory slowly on a busy machine (up to 0.7 s measured beside
        three busy processes on two cores), and its spawner has the kernel reap it anyway.
        """
        with contextlib.suppress(ProcessLookupError, OSError):
            if self.pidfd >= 0:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
                if wait:
                    select.select([self.pidfd], [], [], 1.0)
            else:
                os.kill(self.pid, signal.SIGKILL)
        if self.pidfd >= 0:
            os.close(self.pidfd)
            self.pidfd = -1
        self.channel.close()


class EnginePool:
    """Answers like a QueryEngine, from a pool of killable engine processes of the calling worker.

    The pool grows to as many processes as the worker has requests in flight (one per thread) and keeps
    them for later requests. ``sandbox`` asks for the network namespace when no SERVICE is allowed.
    """

    def __init__(
        self,
        engine: QueryEngine,
        grace: float = GRACE,
        slow_after: float = SLOW_AFTER,
        sandbox: bool = True,
        max_slow: int = 0,
    ):
        self.engine = engine
        self.max_slow = max_slow  # 0: no limit
        self._slow = 0  # slow queries running now in this worker
        self.grace = grace
        self.slow_after = slow_after
        self.sandbox = sandbox and not engine.allowed_services
        self.keep_warm = KEEP_WARM
        self._owner: int | None = None  # the process whose engine processes these are
        self._idle: list[_Process] = []
        self._spawner: _Spawner | None = None
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # wakes the thread that retires the warm process
        self._warm: _Process | None = None  # the engine process of the last slow query
        self._cools_at = 0.0  # when it retires, unless another slow query comes first
        self._retiring: threading.Thread | None = None
        self.started = 0  # engine processes started for this worker, for tests and metrics

    def _mine(self) -> None:
        # Engine processes started for another process (the server's master, before it forked the
        # workers) cannot be shared: each worker has its own spawner and engines. Called with the lock held.
        if self._owner != os.getpid():
            self._owner, self._idle, self.started, self._spawner = os.getpid(), [], 0, None
            self._warm, self._retiring = None, None

    def _fork(self) -> _Process:
        try:
            try:
                if self._spawner is None:
                    self._spawner = _Spawner(self.engine, self.sandbox)
                process = self._spawner.spawn()
            except OSError as error:  # killed from outside: a new one, forked from the worker as it is now
                log.warning("%s; starting another", error)
                self._drop_spawner()
                self._spawner = _Spawner(self.engine, self.sandbox)
                process = self._spawner.spawn()
        except OSError as error:  # the system refuses a process (no memory, a process limit)
            self._drop_spawner()
            log.error("no engine process could be started: %s", error)
            raise EngineUnavailable("no engine process could be started; try again shortly") from error
        self.started += 1
        log.debug("engine process %d started", process.pid)
        return process

    def _drop_spawner(self) -> None:
        if self._spawner is not None:
            self._spawner.close()
            self._spawner = None

    def warm(self, count: int) -> None:
        """Start the spawner and ``count`` engine processes now (in a worker, before its threads start)."""
        with self._lock:
            self._mine()
            while len(self._idle) < count:
                self._idle.append(self._fork())

    def _borrow(self) -> tuple[_Process, bool]:
        """An engine process for one query, and whether it served earlier ones (True) or is new. The warm
        one first, when idle: a query is not known to be heavy until it has run for a while."""
        with self._lock:
            self._mine()
            while self._idle:
                warm = next((i for i, p in enumerate(self._idle) if p is self._warm), -1)
                process = self._idle.pop(warm)
                if process.alive():
                    return process, True
                log.warning("engine process %d had ended while idle; replacing it", process.pid)
                process.kill()  # closes its channel and pidfd
            return self._fork(), False

    def _give_back(self, process: _Process, slow: bool = False) -> None:
        """Return a process to the idle ones; after a slow query it becomes the warm one, unless another
        is warm already (then it is retired, and its copies of the store's pages go with it)."""
        with self._lock:
            if self._owner == os.getpid() and (not slow or self._keep_warm(process)):
                self._idle.append(process)
                return
        process.kill()

    def _keep_warm(self, process: _Process) -> bool:
        """Make ``process`` the warm one, if none other is (called with the lock held)."""
        if self._warm is not None and self._warm is not process and self._warm.alive():
            return False
        self._warm, self._cools_at = process, time.monotonic() + self.keep_warm
        if self._retiring is None:
            self._retiring = threading.Thread(
                target=self._retire_when_cold, name="ldngraph-cool", daemon=True
            )
            self._retiring.start()
        self._changed.notify()
        return True

    def _retire_when_cold(self) -> None:
        """A thread of the worker: retire the warm process once no slow query has come for keep_warm
        seconds. A warm process busy with a query then is retired when that query is done."""
        owner = os.getpid()
        with self._lock:
            while self._owner == owner:
                warm = self._warm
                left = self._cools_at - time.monotonic() if warm is not None else None
                if left is None or left > 0:
                    self._changed.wait(left)
                    continue
                if any(p is warm for p in self._idle):
                    self._idle.remove(warm)
                    self._warm = None
                    log.debug(
                        "engine process %d retired after %g s without a slow query", warm.pid, self.keep_warm
                    )
                    warm.kill()
                elif not warm.alive():
                    self._warm = None
                else:
                    self._changed.wait(self.grace)  # busy: look again once its query is likely done

    def answer(self, request: ProtocolRequest, accept: str | None) -> QueryAnswer:
        """Check the query here, then have an engine process evaluate it within the time limit."""
        self.engine.check(request)
        deadline = time.monotonic() + self.engine.timeout + self.grace
        process, reused = self._borrow()
        while True:
            try:
                return self._answer_in(process, request, accept, deadline)
            except _EngineEnded as ended:
                # A process killed from outside while idle can still look alive when borrowed (the
                # signal is in flight), and then ends under the next query through no fault of that
                # query. Queries are read-only, so one that had not yet become slow is asked once more,
                # of a new process; a query that ends a new process too is the cause: its client gets 503.
                if not reused or ended.slow:
                    raise self._crashed(request, ended) from None
                log.warning(
                    "engine process %d ended as a query began (%s); asking a new one", ended.pid, ended
                )
            with self._lock:
                process, reused = self._fork(), False

    @staticmethod
    def _crashed(request: ProtocolRequest, ended: _EngineEnded) -> EngineCrashed:
        log.error(
            "engine process %d ended on a query (%s); replacing it:\n%s", ended.pid, ended, request.query
        )
        return EngineCrashed("the query engine stopped while answering this query; it has been restarted")

    def _answer_in(
        self, process: _Process, request: ProtocolRequest, accept: str | None, deadline: float
    ) -> QueryAnswer:
        """Have ``process`` answer the request by ``deadline``; _EngineEnded when it ends first."""
        slow = False
        try:
            _send(process.channel, (request.query, request.default_graphs, request.named_graphs, accept))
            left = deadline - time.monotonic()
            ready = process.ready(min(self.slow_after, left))  # most queries are answered by then
            while not ready and (left := deadline - time.monotonic()) > 0:
                # Judge by the CPU this query has burnt, not by the time it waited: under load a quick
                # query may wait its turn, and it must not be sent to the back of the queue for that.
                if not slow and _cpu_seconds(process.pid) - process.cpu >= self.slow_after:
                    if not self._start_slow():
                        process.kill()
                        raise EngineBusy(
                            f"the server is busy with {self.max_slow} other long queries; this one was "
                            f"stopped after {self.slow_after:g} s of work: try again later"
                        )
                    slow = True
                    _lower_query_threads(process.pid)
                ready = process.ready(min(_LOOK_EVERY, left))
            outcome, payload, process.cpu = _receive(process.channel) if ready else ("late", None, 0.0)
        except (EOFError, OSError, struct.error) as error:
            process.kill()
            raise _EngineEnded(process.pid, slow, error) from None
        finally:
            self._end_slow(slow)
        if outcome == "late":
            process.kill()
            log.warning("query stopped at the time limit of %g s:\n%s", self.engine.timeout, request.query)
            raise QueryTimeout(
                f"the query ran past the time limit of {self.engine.timeout:g} s and was stopped"
            )
        self._give_back(process, slow)
        if outcome == "refused":
            raise refusal_named(*payload)
        if outcome == "failed":
            log.error("query engine failed:\n%s", payload)
            raise EngineFailure("the query engine failed on this query")
        return QueryAnswer(*payload)

    def _start_slow(self) -> bool:
        with self._lock:
            if self.max_slow and self._slow >= self.max_slow:
                return False
            self._slow += 1
            return True

    def _end_slow(self, slow: bool) -> None:
        if slow:
            with self._lock:
                self._slow -= 1

    def close(self) -> None:
        with self._lock:
            mine = self._owner == os.getpid()
            idle, spawner = (self._idle, self._spawner) if mine else ([], None)
            self._idle, self._spawner = [], None
            if mine:  # the thread that retires the warm process ends too
                self._owner, self._warm = None, None
                self._changed.notify()
        for process in idle:
            process.kill(wait=True)  # nothing of the pool outlives it
        if spawner is not None:
            spawner.close()


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (0 where /proc cannot tell)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            # Fields after the command name (which may hold spaces) : utime and stime are the 12th and 13th.
            fields = stat.read().rpartition(b")")[2].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


def query_threads(pid: int) -> list[int]:
    """The threads of engine process ``pid`` that run queries: all but its main thread."""
    try:
        return [int(tid) for tid in os.listdir(f"/proc/{pid}/task") if int(tid) != pid]
    except OSError:
        return []


def runs_lowered(pid: int) -> bool:
    """Whether engine process ``pid`` runs a query at the lowest CPU priority (a slow one)."""
    return any(_priority(tid) == 19 for tid in query_threads(pid))


def _priority(tid: int) -> int | None:
    try:
        return os.getpriority(os.PRIO_PROCESS, tid)
    except OSError:
        return None


def _lower_query_threads(pid: int) -> None:
    for tid in query_threads(pid):
        with contextlib.suppress(OSError):  # the thread ended meanwhile
            os.setpriority(os.PRIO_PROCESS, tid, 19)

"""Slow clients and ordinary ones, over raw sockets on loopback: for the test and the benchmark of
whether connections that trickle their headers delay everyone else.

A slow client opens a connection, sends a request line and then one header line at a time, slowly,
never finishing its headers (the "slowloris" pattern); an idle one opens a connection and sends
nothing. :class:`SlowClients` keeps a given number of them open from one thread (epoll, so a thousand
sockets cost one thread) and opens a new one whenever the server closes one, as an attacker would. :func:`ordinary_requests` meanwhile sends ordinary requests,
each on a new connection (the case that needs the server to accept one more), and times them.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from support.http_wire import read_message

ORDINARY_PATH = "/sparql?query=ASK%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D"


class SlowClients:
    """``count`` connections to ``port`` that each send a header line every ``interval`` seconds and
    never end their headers (or, ``idle``, send nothing at all); reopened when the server closes them.
    Use as a context manager."""

    def __init__(self, port: int, count: int, interval: float = 1.0, idle: bool = False):
        self.port, self.count, self.interval, self.idle = port, count, interval, idle
        self.opened = 0  # connections opened in all, reopened ones included
        self.closed_by_server = 0
        self.refused = 0  # connection attempts that failed
        self._selector = selectors.DefaultSelector()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slow-clients", daemon=True)
        self._ready = threading.Event()

    @property
    def open(self) -> int:
        return len(self._selector.get_map())

    def __enter__(self) -> SlowClients:
        self._thread.start()
        if not self._ready.wait(60):
            raise RuntimeError(f"could not open {self.count} slow connections within 60 s")
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()
        for key in list(self._selector.get_map().values()):
            self._close(key.fileobj)
        self._selector.close()

    def _connect(self) -> None:
        try:
            connection = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            if not self.idle:
                connection.sendall(b"GET /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        except OSError:
            self.refused += 1
            return
        connection.setblocking(False)
        self._selector.register(connection, selectors.EVENT_READ)
        self.opened += 1

    def _close(self, connection: socket.socket) -> None:
        self._selector.unregister(connection)
        connection.close()

    def _run(self) -> None:
        while self.open < self.count and not self._stop.is_set():
            self._connect()
        self._ready.set()
        line = 0
        next_trickle = time.monotonic() + self.interval
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=0.1):
                connection = key.fileobj
                try:
                    data = connection.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:  # the server gave up on it (or answered with an error and closed)
                    self._close(connection)
                    self.closed_by_server += 1
            while self.open < self.count and not self._stop.is_set():
                self._connect()
            if time.monotonic() >= next_trickle and not self.idle:
                line += 1
                for key in list(self._selector.get_map().values()):
                    with contextlib.suppress(OSError):  # closed under us: the next read sees it
                        key.fileobj.send(b"X-Trickle-%d: %d\r\n" % (line, line))
                next_trickle += self.interval


@dataclass
class Timings:
    seconds: list[float] = field(default_factory=list)  # each answered request, in order of completion
    failures: list[str] = field(default_factory=list)
    wall: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.seconds) / self.wall if self.wall else 0.0

    def percentile_ms(self, q: float) -> float:
        if not self.seconds:
            return float("nan")
        if len(self.seconds) == 1:
            return self.seconds[0] * 1000
        return statistics.quantiles(self.seconds, n=1000, method="inclusive")[round(q * 10) - 1] * 1000


def _one_request(port: int, timeout: float) -> float:
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(
            f"GET {ORDINARY_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/sparql-results+json\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        answer = read_message(connection)
    if not answer.startswith(b"HTTP/1.1 200"):
        raise ConnectionError(f"answered {answer[:40]!r}")
    return time.perf_counter() - started


def ordinary_requests(
    port: int,
    *,
    count: int | None = None,
    duration: float | None = None,
    threads: int = 4,
    timeout: float = 5.0,
) -> Timings:
    """Ordinary requests from ``threads`` clients, each on a new connection: ``count`` in all, or as many
    as fit in ``duration`` seconds. A request not answered 200 within ``timeout`` is a failure."""
    timings = Timings()
    lock = threading.Lock()
    remaining = [count]
    deadline = time.monotonic() + duration if duration is not None else None

    def more() -> bool:
        with lock:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            if remaining[0] is not None:
                if remaining[0] <= 0:
                    return False
                remaining[0] -= 1
            return True

    def client() -> None:
        while more():
            try:
                seconds = _one_request(port, timeout)
            except OSError as error:
                with lock:
                    timings.failures.append(f"{type(error).__name__}: {error}")
                continue
            with lock:
                timings.seconds.append(seconds)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(client) for _ in range(threads)]:
            future.result()
    timings.wall = time.perf_counter() - started
    return timings

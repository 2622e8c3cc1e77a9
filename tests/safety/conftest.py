"""Fixtures: the real server with its limits set low, and a loopback listener that counts every hit."""

from __future__ import annotations

import importlib.util
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

_ENDPOINT = Path(__file__).resolve().parents[1] / "endpoint"
TIMEOUT, MAX_ROWS = 1.0, 5  # the guarded server's limits (test_limits.py states them too)


def _endpoint_fixtures():
    # The endpoint tests' server launcher, loaded by path: test folders are not packages.
    spec = importlib.util.spec_from_file_location("endpoint_conftest", _ENDPOINT / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


_fixtures = _endpoint_fixtures()
start_server = _fixtures.start_server
RELEASE, PROTOCOL_GRAPHS = _fixtures.RELEASE, _fixtures.PROTOCOL_GRAPHS

_ANSWER = (
    b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"literal","value":"from the listener"}}]}}'
)


class Listener:
    """A tiny HTTP server on 127.0.0.1 that counts connections and answers any request with one row."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.hits = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.hits += 1
            with connection:
                connection.settimeout(2)
                try:
                    connection.recv(65536)
                    connection.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
                        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(_ANSWER), _ANSWER)
                    )
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()


@pytest.fixture(scope="session")
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.fixture(scope="session")
def release_files() -> tuple[Path, Path]:
    """The fixture release and the W3C protocol graphs (named graphs) every server here serves."""
    return RELEASE, PROTOCOL_GRAPHS


@pytest.fixture(scope="session")
def launch():
    """A server of the test's own: ``launch(*options, log=path)``, on the fixture release and graphs."""

    def launch(*options: str, log: Path):
        return start_server("--release", str(RELEASE), "--data", str(PROTOCOL_GRAPHS), *options, log=log)

    return launch


@pytest.fixture(scope="session")
def guarded(tmp_path_factory):
    """The real server with a 1 s time limit, 5 rows, and the W3C protocol graphs as named graphs."""
    log = tmp_path_factory.mktemp("guarded") / "server.log"
    server = start_server(
        "--release", str(RELEASE), "--data", str(PROTOCOL_GRAPHS), "--workers", "2",
        "--timeout", str(TIMEOUT), "--max-rows", str(MAX_ROWS),
        log=log,
    )  # fmt: skip
    yield server
    server.stop()

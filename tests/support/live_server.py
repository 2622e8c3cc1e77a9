"""The real server started as a subprocess on a free loopback port, for every test folder that needs one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

START_LIMIT = 20.0  # seconds to wait for readiness before giving up (the product target is 2 s)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ServerProcess:
    """A server the tests started, and stop."""

    process: subprocess.Popen
    url: str  # the server root, e.g. http://127.0.0.1:PORT

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class LiveServer(ServerProcess):
    started_in: float  # seconds from start to the first answer

    @property
    def endpoint(self) -> str:
        return self.url + "/sparql"


def start_server(
    *options: str, log: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> LiveServer:
    """``python -m ldn_graph serve`` on a free loopback port (run in ``cwd``), polled until it answers.

    The environment's own ``LDNGRAPH_*`` settings are dropped so that only ``options`` and ``env`` count.
    """
    port = free_port()
    command = [sys.executable, "-m", "ldn_graph", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += options
    env = {key: value for key, value in os.environ.items() if not key.startswith("LDNGRAPH_")} | (env or {})
    started = time.perf_counter()
    with log.open("wb") as stream:
        process = subprocess.Popen(command, stdout=stream, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    url = f"http://127.0.0.1:{port}"
    while time.perf_counter() - started < START_LIMIT:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if requests.get(url + "/sparql", params={"query": "ASK {}"}, timeout=2).status_code == 200:
                return LiveServer(process, url, time.perf_counter() - started)
        except requests.ConnectionError:
            time.sleep(0.02)
    process.kill()
    process.wait()
    raise RuntimeError(f"the server did not answer within {START_LIMIT} s:\n{log.read_text()}")

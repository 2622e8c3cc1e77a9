"""A port in use is refused: ``serve`` on a port another process listens on exits non-zero with a message
naming the port, instead of sharing it (granian's workers bind with SO_REUSEPORT, which would let two
servers deal the same port's requests between them); and ``scripts/serve`` never rewrites the release a
running server reads."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.live  # servers of its own on a port in use

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "endpoint" / "fixtures" / "release.nt"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def _environment(**more: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("LDNGRAPH_")} | more


def _serve(port: int, *options: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "ldn_graph", "serve", "--port", str(port), *options]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=_environment())


def _port(server) -> int:
    return int(server.url.rsplit(":", 1)[1])


def _triples(server) -> int:
    answer = requests.get(server.endpoint, params={"query": COUNT}, timeout=10).json()
    return int(answer["results"]["bindings"][0]["n"]["value"])


def test_a_port_another_process_listens_on_is_refused_by_name():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        refused = _serve(port, "--release", str(FIXTURE))
    assert refused.returncode == 2
    assert f"error: port {port} on 127.0.0.1 is already in use" in refused.stderr
    assert "Traceback" not in refused.stderr and "panicked" not in refused.stderr


def test_a_second_server_on_the_port_of_a_running_one_exits_and_shares_nothing(launch, built_graph, tmp_path):
    first = launch("--release", str(FIXTURE), "--workers", "2", log=tmp_path / "first.log")
    try:
        ours = _triples(first)
        # Another graph on the same port: had it started, about half the answers would count its triples.
        second = subprocess.Popen(
            [sys.executable, "-m", "ldn_graph", "serve", "--port", str(_port(first)), "--release", str(built_graph)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_environment(),
        )  # fmt: skip
        try:
            _, errors = second.communicate(timeout=60)
        finally:
            if second.poll() is None:
                second.kill()
                second.wait()
        assert second.returncode == 2 and f"port {_port(first)}" in errors, errors
        assert {_triples(first) for _ in range(40)} == {ours}
    finally:
        first.stop()


def test_scripts_serve_never_rewrites_the_release_a_running_server_reads(launch, tmp_path):
    cache = tmp_path / "cache"
    first = launch("--workers", "1", env={"LDNGRAPH_CACHE_DIR": str(cache)}, log=tmp_path / "first.log")
    try:
        (release,) = (cache / "ldn-graph").glob("releases-*/[0-9]*")
        before = {path.name: (path.stat().st_ino, path.stat().st_mtime_ns) for path in release.iterdir()}
        clash = subprocess.run(
            [str(ROOT / "scripts" / "serve"), "--port", str(_port(first))],
            capture_output=True, text=True, timeout=300, env=_environment(LDNGRAPH_CACHE_DIR=str(cache)),
        )  # fmt: skip
        assert clash.returncode != 0 and f"port {_port(first)}" in clash.stderr, clash.stderr[-2000:]
        after = {path.name: (path.stat().st_ino, path.stat().st_mtime_ns) for path in release.iterdir()}
        assert after == before
        served = requests.get(f"{first.url}/downloads/latest/ldn-graph.nt", timeout=10)
        assert served.status_code == 200 and served.content == (release / "ldn-graph.nt").read_bytes()
    finally:
        first.stop()

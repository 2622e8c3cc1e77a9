"""Real SPARQL stores on loopback for the tests: Oxigraph's server (PyPI ``oxigraph``) and Virtuoso Open
Source (Debian ``virtuoso-opensource``, which ``scripts/test`` installs), each started as a process of
its own with a fresh database, and loaded the way a data engineer loads them: ``ldn-graph load``."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.live_server import ServerProcess, free_port
from support.paths import ROOT

# The graph that stands for the default graph on Virtuoso, whose own default graph is the union of all.
VIRTUOSO_GRAPH = "https://w3id.org/ldngraph/release"
# A fresh Virtuoso database has this administrator and password.
VIRTUOSO_CREDENTIALS = "dba:dba"
# The named graphs of the W3C protocol tests (tests/w3c/protocol-graphs.nq), which the stores are loaded with.
PROTOCOL_GRAPH_NAMES = tuple(f"http://kasei.us/2009/09/sparql/data/data{n}.rdf" for n in (1, 2, 3))
START_LIMIT = 60.0  # seconds; Virtuoso creates its database on first start (about 4 s here)


@dataclass
class StoreProcess(ServerProcess):
    log: Path

    def wait_until_answering(self, probe_url: str) -> None:
        started = time.monotonic()
        while True:
            try:
                with urllib.request.urlopen(probe_url, timeout=2) as answer:
                    answer.read()
                return
            except OSError:
                if time.monotonic() - started > START_LIMIT or self.process.poll() is not None:
                    self.stop()
                    pytest.fail(f"{self.url} did not start:\n{self.log.read_text(errors='replace')[-3000:]}")
                time.sleep(0.1)


@dataclass
class OxigraphServer(StoreProcess):
    """``oxigraph serve``: its query and Graph Store Protocol endpoints."""

    @property
    def query_url(self) -> str:
        return self.url + "/query"

    @property
    def store_url(self) -> str:
        return self.url + "/store"


def start_oxigraph(log: Path, *options: str, port: int | None = None) -> OxigraphServer:
    """``oxigraph serve`` (in memory) on a loopback port, polled until it answers."""
    binary = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    if not Path(binary).is_file():
        pytest.fail("the `oxigraph` server binary is missing: pip install oxigraph (in the test extra)")
    port = port or free_port()
    with log.open("ab") as stream:
        process = subprocess.Popen(
            [binary, "serve", "--bind", f"127.0.0.1:{port}", *options], stdout=stream, stderr=stream
        )
    server = OxigraphServer(process, f"http://127.0.0.1:{port}", log)
    server.wait_until_answering(server.query_url + "?query=ASK%7B%7D")
    return server


@dataclass
class VirtuosoServer(StoreProcess):
    """``virtuoso-t`` on a database of its own: its SPARQL endpoint, and its Graph Store Protocol
    endpoint that takes writes from a user with credentials (HTTP digest)."""

    sql_port: int = 0

    @property
    def query_url(self) -> str:
        return self.url + "/sparql"

    @property
    def store_url(self) -> str:
        return self.url + "/sparql-graph-crud-auth"

    def isql(self, statements: str) -> str:
        """Run SQL statements through Virtuoso's own client (``isql-vt``) as the administrator."""
        user, password = VIRTUOSO_CREDENTIALS.split(":")
        result = subprocess.run(
            [_binary("isql-vt"), f"127.0.0.1:{self.sql_port}", user, password, f"exec={statements}"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0 and "*** Error" not in result.stdout, result.stdout + result.stderr
        return result.stdout


# The settings docs/scale-out.md gives for a Virtuoso behind ldn-graph, on a small database.
_VIRTUOSO_INI = """\
[Database]
DatabaseFile       = {directory}/virtuoso.db
ErrorLogFile       = {directory}/virtuoso.log
LockFile           = {directory}/virtuoso.lck
TransactionFile    = {directory}/virtuoso.trx
xa_persistent_file = {directory}/virtuoso.pxa
[TempDatabase]
DatabaseFile       = {directory}/virtuoso-temp.db
TransactionFile    = {directory}/virtuoso-temp.trx
[Parameters]
ServerPort         = 127.0.0.1:{sql_port}
DisableUnixSocket  = 1
NumberOfBuffers    = 10000
MaxDirtyBuffers    = 6000
DirsAllowed        = ., {directory}
[HTTPServer]
ServerPort           = 127.0.0.1:{http_port}
ServerRoot           = {directory}
ServerThreads        = 20
MaxClientConnections = 20
MaxKeepAlives        = 20
[SPARQL]
ResultSetMaxRows      = 1000000
MaxQueryExecutionTime = {query_seconds}
"""


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"`{name}` is missing: install Debian's virtuoso-opensource (scripts/test does, run as root)"
        )
    return found


def start_virtuoso(directory: Path, query_seconds: int = 10) -> VirtuosoServer:
    """Virtuoso on loopback with a fresh database in ``directory`` and its own time limit set."""
    binary = _binary("virtuoso-t")
    directory.mkdir(parents=True, exist_ok=True)
    http_port, sql_port = free_port(), free_port()
    ini = directory / "virtuoso.ini"
    ini.write_text(
        _VIRTUOSO_INI.format(
            directory=directory, sql_port=sql_port, http_port=http_port, query_seconds=query_seconds
        )
    )
    log = directory / "stdout.log"
    with log.open("ab") as stream:
        process = subprocess.Popen(
            [binary, "+foreground", "+configfile", str(ini)], cwd=directory, stdout=stream, stderr=stream
        )
    server = VirtuosoServer(process, f"http://127.0.0.1:{http_port}", log, sql_port)
    server.wait_until_answering(server.query_url + "?query=ASK%7B%7D")
    return server


def serve_options(store: StoreProcess) -> list[str]:
    """``serve``'s options to answer from ``store`` as docs/scale-out.md gives them."""
    options = ["--store-url", store.query_url]
    if isinstance(store, VirtuosoServer):
        options += ["--store-graph", VIRTUOSO_GRAPH]
        for name in PROTOCOL_GRAPH_NAMES:
            options += ["--store-named-graph", name]
    return options


def ldn_graph_load(store_url: str, *options: str, credentials: str | None = None) -> str:
    """``ldn-graph load`` as a data engineer runs it; its messages (stderr), or a failed test."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LDNGRAPH_")}
    if credentials:
        env["LDNGRAPH_STORE_CREDENTIALS"] = credentials
    result = subprocess.run(
        [sys.executable, "-m", "ldn_graph", "load", "--store-url", store_url, *options],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


# --- what differs between stores by design --------------------------------------------------------

_XSD = "http://www.w3.org/2001/XMLSchema#"
_RESULT_FORMATS = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/tab-separated-values": "tsv",
    "text/csv": "csv",
}


def portable_term(term):
    """``term`` as every store can give it: Virtuoso has no boolean type (it answers 1 and 0 as integers:
    openlink/virtuoso-opensource#251), and decimals are compared by value, not by how they are written."""
    import pyoxigraph as ox

    if not isinstance(term, ox.Literal):
        return term
    datatype = term.datatype.value
    if datatype == _XSD + "boolean":
        return ox.Literal(
            "1" if term.value in ("true", "1") else "0", datatype=ox.NamedNode(_XSD + "integer")
        )
    if datatype == _XSD + "decimal":
        from decimal import Decimal

        return ox.Literal(format(Decimal(term.value).normalize(), "f"), datatype=term.datatype)
    return term


def portable_answer(body: bytes, media_type: str) -> list:
    """A SELECT answer's rows, in order, with each term as :func:`portable_term` gives it. CSV carries no
    types, so there the words a boolean is written as stand for its numbers."""
    import csv
    import io

    import pyoxigraph as ox

    key = _RESULT_FORMATS[media_type.partition(";")[0]]
    if key == "csv":
        cells = {"true": "1", "false": "0"}
        return [[cells.get(c, c) for c in row] for row in csv.reader(io.StringIO(body.decode("utf-8")))]
    formats = {
        "json": ox.QueryResultsFormat.JSON,
        "xml": ox.QueryResultsFormat.XML,
        "tsv": ox.QueryResultsFormat.TSV,
    }
    solutions = ox.parse_query_results(body, format=formats[key])
    names = [variable.value for variable in solutions.variables]
    return [names] + [[portable_term(solution[name]) for name in names] for solution in solutions]


# --- the tiers in front: Varnish and HAProxy as deploy/ configures them ---------------------------------

DEPLOY = ROOT / "deploy"
_SBIN = "/usr/sbin"  # where Debian puts varnishd and haproxy, off a user's PATH


def system_binary(name: str, package: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=_SBIN)
    if found is None:
        pytest.fail(f"`{name}` is missing: install Debian's {package} (scripts/test does, run as root)")
    return found


def wait_for_port(port: int, seconds: float = 20) -> None:
    """Until something listens on the loopback ``port``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"nothing listens on port {port}")
            time.sleep(0.05)


def start_haproxy(directory: Path, nodes: list[str]) -> StoreProcess:
    """HAProxy with deploy/haproxy.cfg as shipped, balancing ``nodes`` (``HOST:PORT`` each)."""
    binary = system_binary("haproxy", "haproxy")
    port = free_port()
    env = dict(os.environ, LDNGRAPH_BALANCER_BIND=f"127.0.0.1:{port}")
    env |= {f"LDNGRAPH_NODE{number}": node for number, node in enumerate(nodes, start=1)}
    log = directory / "haproxy.log"
    with log.open("ab") as stream:
        process = subprocess.Popen(
            [binary, "-db", "-f", str(DEPLOY / "haproxy.cfg")], stdout=stream, stderr=stream, env=env
        )
    balancer = StoreProcess(process, f"http://127.0.0.1:{port}", log)
    balancer.wait_until_answering(balancer.url + "/health")
    return balancer


def start_varnish(directory: Path, backend: str, default_ttl: float = 60) -> StoreProcess:
    """Varnish with deploy/varnish.vcl as shipped, its backend set to ``backend`` (``HOST:PORT``), and
    answers that say nothing of their freshness kept ``default_ttl`` seconds."""
    binary = system_binary("varnishd", "varnish")
    host, _, backend_port = backend.rpartition(":")
    vcl = (DEPLOY / "varnish.vcl").read_text(encoding="utf-8")
    vcl = vcl.replace('.host = "127.0.0.1";', f'.host = "{host}";').replace(
        '.port = "8080";', f'.port = "{backend_port}";'
    )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ldn-graph.vcl").write_text(vcl, encoding="utf-8")
    port = free_port()
    log = directory / "varnish.log"
    command = [
        binary, "-F", "-j", "none", "-n", str(directory / "work"), "-a", f"127.0.0.1:{port}",
        "-f", str(directory / "ldn-graph.vcl"), "-s", "malloc,64m", "-t", str(default_ttl),
        "-T", "none",  # no management port: the tests stop it as a process
    ]  # fmt: skip
    with log.open("ab") as stream:
        process = subprocess.Popen(command, stdout=stream, stderr=stream)
    cache = StoreProcess(process, f"http://127.0.0.1:{port}", log)
    cache.wait_until_answering(cache.url + "/health")
    return cache

"""Endpoint benchmark: our server (every limit on) against Oxigraph's server and rdflib-endpoint, one run.

Each server serves the same release on loopback; wrk loads it at 1 and 16 connections for a fixed time
per cell, on the competency-query mix (queries/*.rq) and on a single-entity lookup, cold (every request
distinct: a unique trailing comment) and warm (the same requests repeated). Printed per cell:
requests/s, p99 latency, errors, our result-cache hit rate, the CPU time each server spent per request
(summed over all its processes: on a machine shared with other work this says more than requests/s),
and our ratios to Oxigraph and to rdflib-endpoint; then the memory (PSS summed over every process) of
each server. Results go to
bench/results/endpoint.{json,md,svg}.

    python bench/endpoint.py [--duration 10] [--release FILE] [--rdflib-endpoint PATH]

Needs wrk (Debian package ``wrk``), the ``oxigraph`` server (PyPI ``oxigraph``, in the test extra) and
rdflib-endpoint in a virtualenv of its own, since it pins other versions of our dependencies:
``python -m venv bench/.venv && bench/.venv/bin/pip install rdflib-endpoint``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ldn_graph.serving.engine_pool import process_tree

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
LOOKUP = "SELECT ?p ?o WHERE { <https://w3id.org/ldngraph/id/naltrexone> ?p ?o }"


def release_and_mix(release: Path | None) -> tuple[Path, int, list[str]]:
    """The N-Triples release to serve (the built LDN graph by default), its triple count, and the
    competency-query mix."""
    sys.path.insert(0, str(ROOT))
    from ldn_graph.graph.cached_release import built_release

    release = release or built_release()
    triples = sum(1 for line in release.open("rb") if line.strip() and not line.startswith(b"#"))
    return release, triples, [path.read_text() for path in sorted((ROOT / "queries").glob("*.rq"))]


JSON_RESULTS = "application/sparql-results+json"
TARGETS = {"mix cold": 0.5, "mix warm": 1.0, "lookup cold": 0.15}  # PRODUCT.md, vs Oxigraph at 16
P99_LIMIT_MS, RDFLIB_FACTOR, PSS_LIMIT_MB = 25.0, 30.0, 300.0

# wrk script: POST each query of the list in turn (or GET it, the query percent-encoded already); "cold"
# makes every request distinct with a trailing comment. Counts cache hits per thread (ours: X-Cache;
# Varnish's: two transactions in X-Varnish) and prints one JSON line at the end.
_LUA = r"""
local queries, cold, path, salt, get = {QUERIES}, {COLD}, "{PATH}", "{SALT}", {GET}
local threads = {}
function setup(thread) thread:set("id", #threads) table.insert(threads, thread) end
function init(args) n = 0 hits = 0 end
function request()
  n = n + 1
  local query = queries[(n % #queries) + 1]
  if get then
    if cold then query = query .. "%0A%23%20" .. salt .. "-" .. id .. "-" .. n end
    return wrk.format("GET", path .. "?query=" .. query, {["Accept"] = "application/sparql-results+json"})
  end
  if cold then query = query .. "\n# " .. salt .. "-" .. id .. "-" .. n end
  return wrk.format("POST", path, {["Content-Type"] = "application/sparql-query",
                                   ["Accept"] = "application/sparql-results+json"}, query)
end
function response(status, headers, body)
  local varnish = headers["X-Varnish"] or headers["x-varnish"]
  if varnish then
    if string.find(varnish, " ") then hits = hits + 1 end
  elseif (headers["X-Cache"] or headers["x-cache"]) == "hit" then hits = hits + 1 end
end
function done(summary, latency, requests)
  local hits = 0
  for _, t in ipairs(threads) do hits = hits + t:get("hits") end
  local e = summary.errors
  io.write(string.format('BENCH {"requests": %d, "seconds": %f, "p50_us": %d, "p99_us": %d, ' ..
    '"errors": %d, "non_2xx": %d, "hits": %d}\n', summary.requests, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status, hits))
end
"""


@dataclass
class Server:
    name: str
    url: str  # the query endpoint
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def pss_mb(self) -> float:
        """PSS summed over the server's process and all its descendants."""
        total = 0
        for pid in process_tree(self.process.pid):
            try:
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total / 1024

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server's processes, with that of children already reaped."""
        ticks = 0
        for pid in process_tree(self.process.pid):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            ticks += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
        return ticks / _TICKS


_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Cell:
    server: str
    workload: str  # "mix cold", "mix warm", "lookup cold", "lookup warm"
    connections: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    hit_rate: float | None = None
    cpu_us: float | None = None  # server CPU time per request, all its processes


@dataclass
class Report:
    release: str
    triples: int
    duration: float
    cells: list[Cell] = field(default_factory=list)
    pss_mb: dict[str, float] = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _post(url: str, body: bytes, content_type: str, timeout: float = 30) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": content_type, "Accept": JSON_RESULTS}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _exit_on_sigterm(signum: int, _frame) -> None:
    raise SystemExit(128 + signum)


def _start(name: str, command: list[str], url: str, workdir: Path, wait: float = 120) -> Server:
    if threading.current_thread() is threading.main_thread():
        # A benchmark stopped with SIGTERM (kill, a CI timeout) then unwinds like one stopped with ^C:
        # its finally blocks stop the servers it started instead of leaving them on their ports.
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    log = workdir / f"{name}.log"
    with log.open("wb") as stream:
        process = subprocess.Popen(command, stdout=stream, stderr=subprocess.STDOUT)
    server = Server(name, url, process, log)
    deadline = time.monotonic() + wait  # rdflib-endpoint parses the release with rdflib first
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited:\n{log.read_text()[-2000:]}")
        try:
            if _post(url, b"ASK {}", "application/sparql-query", timeout=5)[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    raise SystemExit(f"{name} did not answer within {wait:g} s:\n{log.read_text()[-2000:]}")


def start_servers(release: Path, rdflib_endpoint: str | None, workdir: Path) -> list[Server]:
    servers = []
    port = _free_port()
    command = [sys.executable, "-m", "ldn_graph", "serve", "--release", str(release)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    env_free = {k: v for k, v in os.environ.items() if not k.startswith("LDNGRAPH_")}
    os.environ.clear()
    os.environ.update(env_free)  # every limit at its default: nothing switched off by the environment
    servers.append(_start("ldn-graph", command, f"http://127.0.0.1:{port}/sparql", workdir))
    port = _free_port()
    oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    server = _start(
        "oxigraph",
        [oxigraph, "serve", "--bind", f"127.0.0.1:{port}"],
        f"http://127.0.0.1:{port}/query",
        workdir,
    )
    status, body = _post(
        f"http://127.0.0.1:{port}/store?default", release.read_bytes(), "application/n-triples", 120
    )
    if status not in (200, 201, 204):
        raise SystemExit(f"oxigraph refused the release: {status} {body[:300]!r}")
    servers.append(server)
    if rdflib_endpoint:
        port = _free_port()
        command = [rdflib_endpoint, "serve", "--host", "127.0.0.1", "--port", str(port), str(release)]
        servers.append(_start("rdflib-endpoint", command, f"http://127.0.0.1:{port}/", workdir))
    return servers


def check_answers(servers: list[Server], queries: list[str]) -> None:
    """Every server answers every query with the same number of rows before it is timed."""
    for query in queries:
        counts = {}
        for server in servers:
            status, body = _post(server.url, query.encode(), "application/sparql-query", timeout=60)
            if status != 200:
                raise SystemExit(f"{server.name} answered {status} to:\n{query}\n{body[:500]!r}")
            counts[server.name] = len(json.loads(body)["results"]["bindings"])
        if len(set(counts.values())) != 1:
            print(f"  warning: servers disagree on the row count {counts} for:\n{query[:200]}", flush=True)


def run_wrk(
    server: Server,
    queries: list[str],
    cold: bool,
    connections: int,
    duration: float,
    workdir: Path,
    get: bool = False,
) -> Cell:
    """wrk on ``server``: the queries POSTed in turn, or sent as GETs (which a shared cache may keep)."""
    url = server.url
    host, _, path = url.removeprefix("http://").partition("/")
    if get:
        queries = [urllib.parse.quote(query, safe="") for query in queries]
    lua = workdir / "load.lua"
    lua.write_text(
        _LUA.replace("{QUERIES}", "{" + ", ".join(_lua_string(q) for q in queries) + "}")
        .replace("{COLD}", "true" if cold else "false")
        .replace("{GET}", "true" if get else "false")
        .replace("{PATH}", "/" + path)
        .replace("{SALT}", uuid.uuid4().hex)  # no two runs send the same cold request
    )
    threads = min(connections, 2)
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration:g}s", "--timeout", "10s"]
    cpu_before = server.cpu_seconds()
    output = subprocess.run(
        [*command, "-s", str(lua), f"http://{host}/"], capture_output=True, text=True, check=True
    ).stdout
    cpu = server.cpu_seconds() - cpu_before
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    stats = json.loads(line.removeprefix("BENCH "))
    requests = stats["requests"]
    return Cell(
        server=server.name,
        workload="",
        connections=connections,
        rps=requests / stats["seconds"],
        p50_ms=stats["p50_us"] / 1000,
        p99_ms=stats["p99_us"] / 1000,
        errors=stats["errors"] + stats["non_2xx"],
        hit_rate=stats["hits"] / requests if server.name == "ldn-graph" and requests else None,
        cpu_us=cpu / requests * 1e6 if requests else None,
    )


def comparison_arguments(doc: str) -> argparse.Namespace:
    """The options of the benchmarks that compare servers side by side, once wrk is there."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per cell (default 5)")
    parser.add_argument("--release", type=Path, help="N-Triples release (default: the built LDN graph)")
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 16])
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    return args


def progress_line(done: int, total: int, label: str, workload: str, cell: Cell) -> str:
    """One line per cell as it is measured, for the benchmarks that compare servers by label."""
    hits = "" if cell.hit_rate is None else f", cache hits {cell.hit_rate:.0%}"
    return (
        f"[{done}/{total}] {label:18} {workload:11} c={cell.connections:<2} {cell.rps:9,.0f} req/s  "
        f"p50 {cell.p50_ms:6.1f} ms  p99 {cell.p99_ms:6.1f} ms  errors {cell.errors}{hits}"
    )


def write_results(name: str, report, text: str, svg: str | None = None) -> None:
    """Print the table and write bench/results/NAME.{md,json} (and .svg)."""
    print("\n" + text)
    (RESULTS / f"{name}.md").write_text(text)
    (RESULTS / f"{name}.json").write_text(json.dumps(asdict(report), indent=2) + "\n")
    if svg is not None:
        (RESULTS / f"{name}.svg").write_text(svg)
    print(f"written: {RESULTS / name}.md, .json{', .svg' if svg is not None else ''}")


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def render(report: Report) -> str:
    by = {(c.server, c.workload, c.connections): c for c in report.cells}
    lines = [
        f"Release {report.release}: {report.triples:,} triples; {report.duration:g} s per cell; wrk on loopback.",
        "",
        "| workload | conns | ldn-graph req/s | p99 ms | errors | cache hits | CPU µs/req | Oxigraph req/s "
        "| p99 ms | CPU µs/req | rdflib-endpoint req/s | vs Oxigraph | vs rdflib-endpoint | target |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for workload in ("mix cold", "mix warm", "lookup cold", "lookup warm"):
        for connections in (1, 16):
            ours = by.get(("ldn-graph", workload, connections))
            oxi = by.get(("oxigraph", workload, connections))
            rdf = by.get(("rdflib-endpoint", workload, connections))
            if ours is None:
                continue
            vs_oxi = ours.rps / oxi.rps if oxi and oxi.rps else None
            vs_rdf = ours.rps / rdf.rps if rdf and rdf.rps else None
            target = TARGETS.get(workload) if connections == 16 else None
            verdict = ""
            if target is not None and vs_oxi is not None:
                verdict = f"≥ {target}× {'met' if vs_oxi >= target else 'missed'}"
            lines.append(
                f"| {workload} | {connections} | {ours.rps:,.0f} | {ours.p99_ms:.1f} | {ours.errors} | "
                f"{'' if ours.hit_rate is None else f'{ours.hit_rate:.0%}'} | {_us(ours)} | "
                f"{oxi.rps if oxi else float('nan'):,.0f} | {oxi.p99_ms if oxi else float('nan'):.1f} | "
                f"{_us(oxi)} | "
                f"{rdf.rps if rdf else float('nan'):,.1f} | "
                f"{'' if vs_oxi is None else f'{vs_oxi:.2f}×'} | {'' if vs_rdf is None else f'{vs_rdf:,.0f}×'} | "
                f"{verdict} |"
            )
    lines += ["", "| server | PSS, all processes (MB) |", "|---|---|"]
    lines += [f"| {name} | {mb:.0f} |" for name, mb in report.pss_mb.items()]
    ours = [c for c in report.cells if c.server == "ldn-graph"]
    worst_p99 = max((c.p99_ms for c in ours), default=0)
    lines += [
        "",
        f"ldn-graph: worst p99 {worst_p99:.1f} ms (target < {P99_LIMIT_MS:g}); "
        f"errors {sum(c.errors for c in ours)} (target 0); "
        f"PSS {report.pss_mb.get('ldn-graph', 0):.0f} MB (target < {PSS_LIMIT_MB:g}).",
    ]
    return "\n".join(lines) + "\n"


def _us(cell: Cell | None) -> str:
    return "" if cell is None or cell.cpu_us is None else f"{cell.cpu_us:,.0f}"


def svg_chart(report: Report) -> str:
    """Grouped horizontal bars: requests/s per workload and connection count, one bar per server."""
    colours = {"ldn-graph": "#2b7bba", "oxigraph": "#e08214", "rdflib-endpoint": "#7f7f7f"}
    groups = [(w, c) for w in ("mix cold", "mix warm", "lookup cold", "lookup warm") for c in (1, 16)]
    by = {(c.server, c.workload, c.connections): c for c in report.cells}
    servers = [s for s in colours if any(c.server == s for c in report.cells)]
    top = max((c.rps for c in report.cells), default=1)
    bar, gap, left, width = 14, 12, 150, 520
    height = 60 + len(groups) * (len(servers) * bar + gap) + 30
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 120}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<text x="10" y="20" font-size="14" font-weight="bold">SPARQL endpoint throughput, requests/s '
        f"(wrk, {report.duration:g} s per cell, {report.triples:,} triples)</text>",
    ]
    for i, server in enumerate(servers):
        out.append(f'<rect x="{10 + i * 160}" y="32" width="12" height="12" fill="{colours[server]}"/>')
        out.append(f'<text x="{26 + i * 160}" y="43">{server}</text>')
    y = 60
    for workload, connections in groups:
        out.append(f'<text x="10" y="{y + bar * len(servers) / 2 + 4}">{workload}, {connections} conn</text>')
        for server in servers:
            cell = by.get((server, workload, connections))
            rps = cell.rps if cell else 0
            length = max(1, width * rps / top)
            out.append(
                f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{bar - 2}" fill="{colours[server]}"/>'
            )
            out.append(f'<text x="{left + length + 4:.1f}" y="{y + bar - 4}">{rps:,.0f}</text>')
            y += bar
        y += gap
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per cell (default 10)")
    parser.add_argument("--release", type=Path, help="N-Triples release (default: the built LDN graph)")
    parser.add_argument(
        "--rdflib-endpoint",
        default=shutil.which("rdflib-endpoint") or str(ROOT / "bench" / ".venv" / "bin" / "rdflib-endpoint"),
        help="the rdflib-endpoint command (default: on PATH, else bench/.venv)",
    )
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 16])
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    rdflib_endpoint = args.rdflib_endpoint if Path(args.rdflib_endpoint).exists() else None
    if rdflib_endpoint is None:
        print("rdflib-endpoint not found: its column stays empty (see the module docstring)", flush=True)
    release, triples, mix = release_and_mix(args.release)
    workloads = {"mix": mix, "lookup": [LOOKUP]}
    report = Report(str(release), triples, args.duration)
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        print(f"starting the servers on {release} ({triples:,} triples)", flush=True)
        servers = start_servers(release, rdflib_endpoint, workdir)
        try:
            check_answers(servers, [*mix, LOOKUP])
            total = len(servers) * len(workloads) * 2 * len(args.connections)
            done = 0
            for name, queries in workloads.items():
                for cold in (True, False):
                    workload = f"{name} {'cold' if cold else 'warm'}"
                    for connections in args.connections:
                        for server in servers:
                            done += 1
                            cell = run_wrk(server, queries, cold, connections, args.duration, workdir)
                            cell.workload = workload
                            report.cells.append(cell)
                            hits = "" if cell.hit_rate is None else f", cache hits {cell.hit_rate:.0%}"
                            print(
                                f"[{done}/{total}] {server.name:16} {workload:11} c={connections:<2} "
                                f"{cell.rps:9,.0f} req/s  p99 {cell.p99_ms:6.1f} ms  errors {cell.errors}  "
                                f"CPU {_us(cell)} µs/req{hits}",
                                flush=True,
                            )
            for server in servers:
                report.pss_mb[server.name] = server.pss_mb()
        finally:
            for server in servers:
                server.stop()
    text = render(report)
    print("\n" + text)
    (RESULTS / "endpoint.md").write_text(text)
    (RESULTS / "endpoint.json").write_text(json.dumps(asdict(report), indent=2) + "\n")
    (RESULTS / "endpoint.svg").write_text(svg_chart(report))
    print(f"written: {RESULTS / 'endpoint.md'}, endpoint.json, endpoint.svg")


if __name__ == "__main__":
    main()

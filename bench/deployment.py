"""Scale-out benchmark: deploy/ as shipped (Varnish in front, HAProxy balancing two nodes over one store)
against Oxigraph's server, and our server on each store, side by side on one machine, in one run.

The stack: an ``oxigraph serve`` holding the release (loaded with ``ldn-graph load``), two ``ldn-graph
serve --store-url`` nodes on it, HAProxy with deploy/haproxy.cfg before them and Varnish with
deploy/varnish.vcl before that. Beside it: the same Oxigraph server asked directly, one node on that
store alone, one node on the embedded store, and one node on Virtuoso (Debian ``virtuoso-opensource``,
loaded with ``ldn-graph load --graph``). wrk loads each for a fixed time per cell with the competency
queries (queries/*.rq) as GETs:

- *mix warm*: the same GETs repeated. The cache answers them, our nodes keep them in their result cache,
  Oxigraph computes each again. The aim: the cache at ten times Oxigraph's rate or more.
- *mix cold*: every GET distinct (a trailing comment), so no cache answers: the balancer with two nodes
  against one node on the same store, and the embedded store against Virtuoso.

Printed per cell: requests/s, p50 and p99, errors, cache hits, and the ratios. Results go to
bench/results/deployment.{json,md}.

    python bench/deployment.py [--duration 5] [--connections 1 16]

Needs wrk (Debian ``wrk``), Varnish, HAProxy and Virtuoso (Debian ``varnish``, ``haproxy``,
``virtuoso-opensource``) and the ``oxigraph`` server (PyPI, in the test extra). About 16 cells at each
connection count: two and a half minutes at the defaults.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from endpoint import (
    Server,
    _free_port,
    _start,
    check_answers,
    comparison_arguments,
    progress_line,
    release_and_mix,
    run_wrk,
    write_results,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "tests"))  # the launchers the deployment tests use: one way to start each tier
from support.stores import (  # noqa: E402
    VIRTUOSO_CREDENTIALS,
    VIRTUOSO_GRAPH,
    ldn_graph_load,
    start_haproxy,
    start_varnish,
    start_virtuoso,
)

WARM = ("cache, 2 nodes", "1 node", "Oxigraph direct")
COLD = ("balancer, 2 nodes", "1 node", "Oxigraph direct", "embedded", "Virtuoso")
CACHE_AIM = 10.0  # repeated GETs through the cache against Oxigraph's server, at the highest concurrency


@dataclass
class Report:
    release: str
    triples: int
    duration: float
    cells: dict[str, list] = field(default_factory=dict)  # "workload: label" -> cells


def _tier(name: str, process, url: str, workdir: Path) -> Server:
    """A tier the test launchers started, as the benchmark's Server (CPU, memory, stop)."""
    return Server(name, url, process.process, workdir / f"{name}.log")


def start(release: Path, workdir: Path) -> dict[str, Server]:
    env_free = {k: v for k, v in os.environ.items() if not k.startswith("LDNGRAPH_")}
    os.environ.clear()
    os.environ.update(env_free)  # every limit at its default: nothing switched off by the environment
    servers: dict[str, Server] = {}
    serve = [sys.executable, "-m", "ldn_graph", "serve", "--host", "127.0.0.1"]

    def node(label: str, *options: str) -> Server:
        port = _free_port()
        # Named ldn-graph so that run_wrk counts our result-cache hits.
        servers[label] = _start(
            "ldn-graph", [*serve, "--port", str(port), *options], f"http://127.0.0.1:{port}/sparql", workdir
        )
        return servers[label]

    try:
        port = _free_port()
        oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
        store = _start(
            "oxigraph",
            [oxigraph, "serve", "--bind", f"127.0.0.1:{port}"],
            f"http://127.0.0.1:{port}/query",
            workdir,
        )
        servers["Oxigraph direct"] = store
        ldn_graph_load(f"http://127.0.0.1:{port}/store", "--release", str(release))
        nodes = [
            node(f"node {n}", "--store-url", store.url, "--client-header", "X-Forwarded-For") for n in (1, 2)
        ]
        balancer = start_haproxy(
            workdir, [n.url.removeprefix("http://").removesuffix("/sparql") for n in nodes]
        )
        servers["balancer, 2 nodes"] = _tier("ldn-graph", balancer, balancer.url + "/sparql", workdir)
        cache = start_varnish(workdir / "varnish", balancer.url.removeprefix("http://"), default_ttl=3600)
        servers["cache, 2 nodes"] = _tier("ldn-graph", cache, cache.url + "/sparql", workdir)
        node("1 node", "--store-url", store.url)
        node("embedded", "--release", str(release))
        virtuoso = start_virtuoso(workdir / "virtuoso", query_seconds=30)
        servers["Virtuoso store"] = _tier("virtuoso", virtuoso, virtuoso.query_url, workdir)
        ldn_graph_load(
            virtuoso.store_url,
            "--graph",
            VIRTUOSO_GRAPH,
            "--release",
            str(release),
            credentials=VIRTUOSO_CREDENTIALS,
        )
        node("Virtuoso", "--store-url", virtuoso.query_url, "--store-graph", VIRTUOSO_GRAPH)
    except BaseException:
        for server in servers.values():
            server.stop()
        raise
    return servers


# Each row's ratio: to what it stands beside.
RATIOS = {
    "mix warm": {"cache, 2 nodes": "Oxigraph direct", "1 node": "Oxigraph direct"},
    "mix cold": {
        "balancer, 2 nodes": "1 node",
        "1 node": "Oxigraph direct",
        "embedded": "Oxigraph direct",
        "Virtuoso": "embedded",
    },
}


def render(report: Report) -> str:
    lines = [
        f"Release {report.release}: {report.triples:,} triples; {report.duration:g} s per cell; wrk on "
        "loopback; every tier on the same machine; the competency queries as GETs.",
        "",
        "| workload | conns | server | req/s | p50 / p99 ms | errors | cache hits | ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    connection_counts = sorted({c.connections for cells in report.cells.values() for c in cells})
    for workload, labels in (("mix warm", WARM), ("mix cold", COLD)):
        for connections in connection_counts:
            by = {
                label: next(
                    (c for c in report.cells.get(f"{workload}: {label}", []) if c.connections == connections),
                    None,
                )
                for label in labels
            }
            for label, cell in by.items():
                if cell is None:
                    continue
                base = RATIOS[workload].get(label)
                reference = by.get(base) if base else None
                ratio = f"{cell.rps / reference.rps:.2f}× {base}" if reference and reference.rps else ""
                hits = "" if cell.hit_rate is None else f"{cell.hit_rate:.0%}"
                lines.append(
                    f"| {workload} | {connections} | {label} | {cell.rps:,.0f} | {cell.p50_ms:.1f} / {cell.p99_ms:.1f} "
                    f"| {cell.errors} | {hits} | {ratio} |"
                )
    top = max(connection_counts, default=0)
    cache = next((c for c in report.cells.get("mix warm: cache, 2 nodes", []) if c.connections == top), None)
    direct = next(
        (c for c in report.cells.get("mix warm: Oxigraph direct", []) if c.connections == top), None
    )
    if cache and direct and direct.rps:
        ratio = cache.rps / direct.rps
        verdict = "met" if ratio >= CACHE_AIM else "missed"
        lines += [
            "",
            f"Repeated GETs through the cache at {top} connections: {ratio:.1f}× Oxigraph's server "
            f"(aim ≥ {CACHE_AIM:g}×: {verdict}).",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    args = comparison_arguments(__doc__)
    release, triples, mix = release_and_mix(args.release)
    report = Report(str(release), triples, args.duration)
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        print(
            f"starting the store, the nodes, the balancer, the cache and Virtuoso ({triples:,} triples)",
            flush=True,
        )
        servers = start(release, workdir)
        try:
            check_answers(
                [
                    servers[label]
                    for label in (
                        "cache, 2 nodes",
                        "balancer, 2 nodes",
                        "embedded",
                        "Virtuoso",
                        "Oxigraph direct",
                    )
                ],
                mix,
            )
            plan = [("mix warm", label, False) for label in WARM] + [
                ("mix cold", label, True) for label in COLD
            ]
            total, done = len(plan) * len(args.connections), 0
            for connections in args.connections:
                for workload, label, cold in plan:
                    done += 1
                    cell = run_wrk(servers[label], mix, cold, connections, args.duration, workdir, get=True)
                    cell.workload, cell.server = workload, label
                    report.cells.setdefault(f"{workload}: {label}", []).append(cell)
                    print(progress_line(done, total, label, workload, cell), flush=True)
        finally:
            for server in servers.values():
                server.stop()
    write_results("deployment", report, render(report))


if __name__ == "__main__":
    main()

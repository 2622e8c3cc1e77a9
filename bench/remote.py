"""Embedded against remote store: the same server, one option apart, on the same machine, one run.

Three servers on loopback hold the same release: ``ldn-graph serve --release FILE`` (the embedded
store), ``ldn-graph serve --store-url`` in front of an ``oxigraph serve`` process (the remote store),
and that Oxigraph server asked directly (what the remote store alone does, without our layer). wrk loads
each at 1 and 16 connections for a fixed time per cell, on the competency-query mix (queries/*.rq) and
a single-entity lookup, cold (every request distinct, so the result cache does not hide the store) and
the mix warm (repeated). Printed per cell: requests/s, p50 and p99 latency, errors, and the remote
store's ratios to the embedded one. Results go to bench/results/remote.{json,md,svg}.

    python bench/remote.py [--duration 5] [--release FILE]

Needs wrk (Debian package ``wrk``) and the ``oxigraph`` server (PyPI ``oxigraph``, in the test extra).
About 20 cells: a minute and a half at the default duration.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from endpoint import (
    LOOKUP,
    Cell,
    Server,
    _free_port,
    _post,
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
WORKLOADS = ("mix cold", "lookup cold", "mix warm")
SERVERS = ("embedded", "remote", "oxigraph direct")


@dataclass
class Report:
    release: str
    triples: int
    duration: float
    cells: dict[str, list[Cell]] = field(default_factory=dict)  # server label -> its cells


def start_servers(release: Path, workdir: Path) -> dict[str, Server]:
    """The Oxigraph server loaded with the release, and our server on each store, default settings."""
    env_free = {k: v for k, v in os.environ.items() if not k.startswith("LDNGRAPH_")}
    os.environ.clear()
    os.environ.update(env_free)  # every limit at its default: nothing switched off by the environment
    port = _free_port()
    oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    store = _start(
        "oxigraph",
        [oxigraph, "serve", "--bind", f"127.0.0.1:{port}"],
        f"http://127.0.0.1:{port}/query",
        workdir,
    )
    servers = {"oxigraph direct": store}
    try:
        # Loaded as users load it: ldn-graph load (SPARQL 1.1 Graph Store Protocol).
        load = [sys.executable, "-m", "ldn_graph", "load", "--store-url", f"http://127.0.0.1:{port}/store"]
        subprocess_run([*load, "--release", str(release)])
        serve = [sys.executable, "-m", "ldn_graph", "serve", "--host", "127.0.0.1"]
        for label, option in (
            ("embedded", ["--release", str(release)]),
            ("remote", ["--store-url", store.url]),
        ):
            port = _free_port()
            # Named ldn-graph so that run_wrk counts our result-cache hits.
            servers[label] = _start(
                "ldn-graph",
                [*serve, "--port", str(port), *option],
                f"http://127.0.0.1:{port}/sparql",
                workdir,
            )
    except BaseException:
        for server in servers.values():
            server.stop()
        raise
    return servers


def subprocess_run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")


def render(report: Report) -> str:
    by = {(label, c.workload, c.connections): c for label, cells in report.cells.items() for c in cells}
    lines = [
        f"Release {report.release}: {report.triples:,} triples; {report.duration:g} s per cell; "
        "wrk on loopback; every server on the same machine.",
        "",
        "| workload | conns | embedded req/s | p50 / p99 ms | remote req/s | p50 / p99 ms | remote / embedded "
        "| Oxigraph direct req/s | p50 / p99 ms | errors (emb., rem., Oxigraph) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for workload in WORKLOADS:
        for connections in sorted({c.connections for cells in report.cells.values() for c in cells}):
            cells = [by.get((label, workload, connections)) for label in SERVERS]
            if any(cell is None for cell in cells):
                continue
            embedded, remote, direct = cells
            ratio = remote.rps / embedded.rps if embedded.rps else float("nan")
            lines.append(
                f"| {workload} | {connections} | {embedded.rps:,.0f} | {embedded.p50_ms:.1f} / {embedded.p99_ms:.1f} "
                f"| {remote.rps:,.0f} | {remote.p50_ms:.1f} / {remote.p99_ms:.1f} | {ratio:.2f}× "
                f"| {direct.rps:,.0f} | {direct.p50_ms:.1f} / {direct.p99_ms:.1f} "
                f"| {embedded.errors}, {remote.errors}, {direct.errors} |"
            )
    return "\n".join(lines) + "\n"


def svg_chart(report: Report) -> str:
    """Requests/s per workload and connection count: one bar per server, the ratio beside the remote's."""
    colours = {"embedded": "#2b6cb0", "remote": "#dd6b20", "oxigraph direct": "#a0aec0"}
    rows = [
        (workload, connections)
        for workload in WORKLOADS
        for connections in sorted({c.connections for c in report.cells["embedded"]})
    ]
    by = {(label, c.workload, c.connections): c for label, cells in report.cells.items() for c in cells}
    top = max((c.rps for cells in report.cells.values() for c in cells), default=1) or 1
    bar, gap, left, width = 14, 12, 150, 560
    height = 50 + len(rows) * (3 * bar + gap) + 30
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 130}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<text x="10" y="20" font-size="14">Requests/s: embedded store vs remote store ({report.triples:,} triples)'
        "</text>",
    ]
    for n, (label, colour) in enumerate(colours.items()):
        out.append(f'<rect x="{10 + n * 170}" y="30" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{26 + n * 170}" y="41">{label}</text>')
    y = 55
    for workload, connections in rows:
        out.append(f'<text x="10" y="{y + 1.8 * bar}">{workload}, c={connections}</text>')
        for label, colour in colours.items():
            cell = by.get((label, workload, connections))
            rps = cell.rps if cell else 0
            length = max(1, width * rps / top)
            out.append(f'<rect x="{left}" y="{y}" width="{length:.0f}" height="{bar - 2}" fill="{colour}"/>')
            note = f"{rps:,.0f}"
            embedded = by.get(("embedded", workload, connections))
            if label == "remote" and embedded and embedded.rps:
                note += f" ({rps / embedded.rps:.2f}×)"
            out.append(f'<text x="{left + length + 4:.0f}" y="{y + bar - 4}">{note}</text>')
            y += bar
        y += gap
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> None:
    args = comparison_arguments(__doc__)
    release, triples, mix = release_and_mix(args.release)
    queries = {"mix": mix, "lookup": [LOOKUP]}
    report = Report(str(release), triples, args.duration)
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        print(f"starting Oxigraph and our server on each store ({release}, {triples:,} triples)", flush=True)
        servers = start_servers(release, workdir)
        try:
            check_answers(list(servers.values()), [*mix, LOOKUP])
            for query in [*mix, LOOKUP]:  # our two servers: the same bytes, not only the same row count
                answers = {
                    _post(servers[label].url, query.encode(), "application/sparql-query")
                    for label in SERVERS[:2]
                }
                if len(answers) != 1:
                    raise SystemExit(f"the embedded and the remote store answer differently:\n{query[:300]}")
            total = len(WORKLOADS) * len(args.connections) * len(SERVERS)
            done = 0
            for workload in WORKLOADS:
                name, temperature = workload.split()
                for connections in args.connections:
                    for label in SERVERS:
                        done += 1
                        cell = run_wrk(
                            servers[label],
                            queries[name],
                            temperature == "cold",
                            connections,
                            args.duration,
                            workdir,
                        )
                        cell.workload, cell.server = workload, label
                        report.cells.setdefault(label, []).append(cell)
                        print(progress_line(done, total, label, workload, cell), flush=True)
        finally:
            for server in servers.values():
                server.stop()
    write_results("remote", report, render(report), svg_chart(report))


if __name__ == "__main__":
    main()

"""Ordinary requests beside slow clients: requests/s and latency with and without 1,000 connections that
trickle their headers and never finish them (slowloris).

    python bench/slow_clients.py [--connections 1000] [--duration 10] [--threads 4] [--idle] [--serve "OPTIONS"]

Our server (default settings, every limit on) serves a release on loopback. Ordinary clients (each
request on a new connection, ``--threads`` at once) query it for ``--duration`` seconds twice: first
alone, then while ``--connections`` slow clients are held open (each sends a header line every
``--interval`` seconds, or with ``--idle`` nothing at all, and is reopened as soon as the server closes
it). Printed per phase: requests/s, median, p99 and worst latency, failures (no 200 within 5 s), and how
many slow connections the server closed. ``--serve`` passes options to ``ldn-graph serve`` (e.g.
``--serve "--connections 256 --header-timeout 10"``, the settings before slow clients were measured).
Results go to bench/results/slow_clients.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
from endpoint import _free_port, _start  # noqa: E402  (the endpoint benchmark's server helpers)
from support.slow_clients import SlowClients, Timings, ordinary_requests  # noqa: E402  (shared with the tests)

RESULTS = ROOT / "bench" / "results"


def _row(phase: str, slow: int, timings: Timings, closed: int | None) -> dict:
    return {
        "phase": phase,
        "slow_connections": slow,
        "requests": len(timings.seconds),
        "rps": timings.rate,
        "p50_ms": timings.percentile_ms(50),
        "p99_ms": timings.percentile_ms(99),
        "max_ms": max(timings.seconds, default=float("nan")) * 1000,
        "failures": len(timings.failures),
        "first_failures": timings.failures[:3],
        "slow_closed_by_server": closed,
    }


def render(rows: list[dict]) -> str:
    lines = [
        "| phase | slow connections held | requests | req/s | p50 ms | p99 ms | worst ms | failures | slow connections the server closed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        closed = "" if r["slow_closed_by_server"] is None else f"{r['slow_closed_by_server']:,}"
        lines.append(
            f"| {r['phase']} | {r['slow_connections']:,} | {r['requests']:,} | {r['rps']:,.0f} | "
            f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} | {r['failures']} | {closed} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=1000, help="slow connections held (default 1000)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase (default 10)")
    parser.add_argument("--threads", type=int, default=4, help="ordinary clients at once (default 4)")
    parser.add_argument(
        "--interval", type=float, default=1.0, help="seconds between header lines (default 1)"
    )
    parser.add_argument("--idle", action="store_true", help="slow clients that send nothing at all")
    parser.add_argument("--serve", default="", help="more options for ldn-graph serve, as one string")
    args = parser.parse_args()
    from ldn_graph.graph.release import make_release

    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="ldn-slow-clients-") as scratch:
        workdir = Path(scratch)
        make_release(workdir / "releases")
        port = _free_port()
        command = [sys.executable, "-m", "ldn_graph", "serve", "--port", str(port)]
        command += ["--releases", str(workdir / "releases"), *shlex.split(args.serve)]
        server = _start("ldn-graph", command, f"http://127.0.0.1:{port}/sparql", workdir)
        try:
            ordinary_requests(port, duration=2, threads=args.threads)  # warm the workers
            print(f"alone: {args.duration:g} s ...", file=sys.stderr)
            rows.append(
                _row("alone", 0, ordinary_requests(port, duration=args.duration, threads=args.threads), None)
            )
            print(f"beside {args.connections} slow connections: {args.duration:g} s ...", file=sys.stderr)
            with SlowClients(port, args.connections, args.interval, idle=args.idle) as slow:
                timings = ordinary_requests(port, duration=args.duration, threads=args.threads)
                phase = "beside idle clients" if args.idle else "beside slow clients"
                rows.append(_row(phase, args.connections, timings, slow.closed_by_server))
        finally:
            server.stop()
    table = render(rows)
    print(table)
    (RESULTS / "slow_clients.md").write_text(table + "\n", encoding="utf-8")
    (RESULTS / "slow_clients.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    print(f"written: {RESULTS / 'slow_clients.md'}, slow_clients.json", file=sys.stderr)


if __name__ == "__main__":
    main()

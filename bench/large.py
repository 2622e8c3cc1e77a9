"""Large graphs served: ours (``serve --data``) beside Oxigraph's server and pyoxigraph in-process, one run.

    python bench/large.py --triples 1e6              # about 3 minutes on 2 cores
    python bench/large.py --triples 1e7 --runs 9     # about 15 minutes; about 15 GB of memory at once

A synthetic graph of the given size (bench/synthetic.py, its sources converted once into one N-Triples
file with pyoxigraph, both kept in ``--work``) is served three ways, all loaded at once:

- ours: ``ldn-graph serve --data FILE`` with default settings and every limit on (it serves the
  curated release too, from its cache);
- Oxigraph's own server (``oxigraph serve``, in-memory), loaded with the same release and FILE by
  ``POST /store?default``;
- pyoxigraph in this process, loaded with the same two files: the engine itself, with no HTTP and no
  limits around it.

Measured: the start (ours: launch to the first answered query; Oxigraph: launch to the end of its
load, reading the same files), PSS summed over every process of each server after the start and
after the runs, the heavy query (a two-hop join with an aggregate; cold: a distinct comment each
time) asked of the three in turn ``--runs`` times, with the median of each and our ratios to the two
others, and the competency-query mix (``queries/*.rq``) under wrk, cold, at 1 and 16 connections.
The load average is printed with every figure: the machine is shared. Results go to
bench/results/large-<size>.{md,json,svg}.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
sys.path.insert(0, str(BENCH))

from endpoint import JSON_RESULTS, Server, _free_port, _start, run_wrk  # noqa: E402
from synthetic import parse_size  # noqa: E402

# Per evidence status, how many citations its statements make and how many distinct people wrote the
# publications they cite: two joins, then an aggregate over every statement of the graph.
HEAVY = """PREFIX schema: <https://schema.org/>
PREFIX ldngraph: <https://w3id.org/ldngraph/ontology/>
PREFIX cito: <http://purl.org/spar/cito/>
SELECT ?status (COUNT(*) AS ?citations) (COUNT(DISTINCT ?person) AS ?authors) WHERE {
  ?statement ldngraph:evidenceStatus ?status ;
             cito:citesAsEvidence ?publication .
  ?publication schema:author ?person .
} GROUP BY ?status
"""
HEAVY_RATIO_AIM, START_RATIO_AIM, MEMORY_RATIO_AIM = 1.15, 2.0, 1.5  # issue targets, ours against peers


@dataclass
class Figures:
    label: str
    triples: int  # in the data file (the release adds its own)
    load_average: dict[str, list[float]] = field(default_factory=dict)  # phase -> 1, 5, 15 minutes
    start_s: dict[str, float] = field(default_factory=dict)  # ours, oxigraph, pyoxigraph (its load)
    pss_mb: dict[str, dict[str, float]] = field(default_factory=dict)  # phase -> server -> MB
    heavy_ms: dict[str, list[float]] = field(default_factory=dict)  # ours, pyoxigraph, oxigraph
    heavy_cpu_ms: dict[str, list[float]] = field(default_factory=dict)  # CPU time, every process
    mix: list[dict] = field(default_factory=list)  # wrk cells
    mix_seconds: float = 0.0  # per cell

    def median(self, name: str) -> float:
        return statistics.median(self.heavy_ms[name])

    def median_cpu(self, name: str) -> float:
        return statistics.median(self.heavy_cpu_ms[name])


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def note_load(figures: Figures, phase: str) -> str:
    figures.load_average[phase] = [round(x, 2) for x in os.getloadavg()]
    return f"load average {figures.load_average[phase][0]:.2f}"


def data_file(triples: int, work: Path) -> Path:
    """The synthetic graph of ``triples`` as one N-Triples file, generated on first use."""
    label = f"{triples:.0e}".replace("+0", "")
    target = work / f"synthetic-{label}.nt"
    if target.is_file():
        return target
    sources = work / f"synthetic-{label}"
    if not sources.is_dir():
        log(f"generating {triples:,} synthetic triples into {sources}")
        subprocess.run(
            [
                sys.executable,
                str(BENCH / "synthetic.py"),
                "--triples",
                str(triples),
                "--valid",
                "--out",
                str(sources),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    from pyoxigraph import RdfFormat, parse, serialize

    log(f"converting {sources} into {target}")
    partial = target.with_suffix(".partial")
    with partial.open("wb") as out:
        for path in sorted(sources.rglob("*.ttl")):
            serialize(parse(path=str(path), format=RdfFormat.TURTLE), out, RdfFormat.N_TRIPLES)
    partial.replace(target)
    return target


def served_release() -> Path:
    """The N-Triples of the curated sources' release, which ``serve --data`` serves beside the data:
    written into the server's cache now, before anything is timed."""
    from ldn_graph.graph.cached_release import built_releases
    from ldn_graph.releases import find_releases

    newest = find_releases(built_releases())[0][0]
    return newest.path / newest.manifest.graph


def start_ours(data: Path, workdir: Path) -> tuple[Server, float]:
    port = _free_port()
    command = [sys.executable, "-m", "ldn_graph", "serve", "--data", str(data)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    started = time.perf_counter()
    server = _start("ldn-graph", command, f"http://127.0.0.1:{port}/sparql", workdir, wait=1800)
    return server, time.perf_counter() - started


def start_oxigraph(files: list[Path], workdir: Path) -> tuple[Server, float]:
    port = _free_port()
    oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    started = time.perf_counter()
    server = _start(
        "oxigraph",
        [oxigraph, "serve", "--bind", f"127.0.0.1:{port}"],
        f"http://127.0.0.1:{port}/query",
        workdir,
    )
    for path in files:
        with path.open("rb") as body:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/store?default",
                data=body,
                headers={"Content-Type": "application/n-triples", "Content-Length": str(path.stat().st_size)},
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=3600) as response:
                if response.status not in (200, 201, 204):
                    raise SystemExit(f"oxigraph refused {path}: {response.status}")
    return server, time.perf_counter() - started


def load_in_process(files: list[Path]):
    from pyoxigraph import RdfFormat, Store

    store = Store()
    started = time.perf_counter()
    for path in files:
        store.load(path=str(path), format=RdfFormat.N_TRIPLES)
    return store, time.perf_counter() - started


class _Client:
    """One kept-alive connection to a server's query endpoint, as a script asking query after query."""

    def __init__(self, url: str):
        host, _, path = url.removeprefix("http://").partition("/")
        self.connection, self.path = http.client.HTTPConnection(host, timeout=600), "/" + path

    def rows(self, query: str) -> int:
        headers = {"Content-Type": "application/sparql-query", "Accept": JSON_RESULTS}
        self.connection.request("POST", self.path, query.encode(), headers)
        response = self.connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"{self.path} answered {response.status} to the heavy query: {body[:300]!r}")
        return len(json.loads(body)["results"]["bindings"])


def heavy_runs(name: str, server: Server, store, runs: int, figures: Figures) -> None:
    """The heavy query, cold, of the server and of pyoxigraph in this process in turn, each round
    starting with the other one, so that the machine's other load falls on both alike. Besides the
    time, the CPU each spent on it (every process of the server): a measure that the machine's other
    load does not stretch."""
    client, engine = _Client(server.url), f"pyoxigraph beside {name}"
    answers: dict[str, int] = {}
    for who in (name, engine):
        figures.heavy_ms[who], figures.heavy_cpu_ms[who] = [], []
    for run in range(runs + 1):  # the first round warms both up, and is not counted
        for who in (name, engine) if run % 2 else (engine, name):
            query = f"{HEAVY}# {who} {run} {time.time_ns()}\n"
            cpu = time.process_time() if who == engine else server.cpu_seconds()
            started = time.perf_counter()
            rows = len(list(store.query(query))) if who == engine else client.rows(query)
            elapsed = (time.perf_counter() - started) * 1000
            cpu = (time.process_time() if who == engine else server.cpu_seconds()) - cpu
            answers.setdefault(who, rows)
            if run:
                figures.heavy_ms[who].append(elapsed)
                figures.heavy_cpu_ms[who].append(cpu * 1000)
    if len(set(answers.values())) != 1:
        raise SystemExit(f"{name} and pyoxigraph disagree on the heavy query's rows: {answers}")


def render(figures: Figures) -> str:
    ours, peer = figures.median("ldn-graph"), figures.median("oxigraph")
    beside_ours, beside_peer = (
        figures.median("pyoxigraph beside ldn-graph"),
        figures.median("pyoxigraph beside oxigraph"),
    )
    start, memory = figures.start_s, figures.pss_mb
    cpu = {name: figures.median_cpu(name) for name in figures.heavy_cpu_ms}
    lines = [
        f"# Large graphs: {figures.label} synthetic triples (+ the LDN release)",
        "",
        "Load average (1, 5, 15 min) by phase: "
        + "; ".join(
            f"{phase} {', '.join(f'{x:.2f}' for x in values)}"
            for phase, values in figures.load_average.items()
        ),
        "",
        f"| heavy query (cold, median of {len(figures.heavy_ms['ldn-graph'])}) | ms | CPU ms "
        "| server / pyoxigraph in-process, asked in turn | CPU |",
        "|---|---|---|---|---|",
        f"| ours, /sparql (every limit on) | {ours:.0f} | {cpu['ldn-graph']:.0f} "
        f"| **{ours / beside_ours:.2f}×** (aim ≤ {HEAVY_RATIO_AIM}) "
        f"| {cpu['ldn-graph'] / cpu['pyoxigraph beside ldn-graph']:.2f}× |",
        f"| pyoxigraph in-process, beside ours | {beside_ours:.0f} | {cpu['pyoxigraph beside ldn-graph']:.0f} | | |",
        f"| Oxigraph's server | {peer:.0f} | {cpu['oxigraph']:.0f} | {peer / beside_peer:.2f}× "
        f"| {cpu['oxigraph'] / cpu['pyoxigraph beside oxigraph']:.2f}× |",
        f"| pyoxigraph in-process, beside Oxigraph's server | {beside_peer:.0f} "
        f"| {cpu['pyoxigraph beside oxigraph']:.0f} | | |",
        "",
        f"Ours against Oxigraph's server (asked at different moments): {ours / peer:.2f}× the time, "
        f"{cpu['ldn-graph'] / cpu['oxigraph']:.2f}× the CPU.",
        "",
        "| start | s | |",
        "|---|---|---|",
        f"| ours: launch to first answer | {start['ldn-graph']:.1f} | **{start['ldn-graph'] / start['oxigraph']:.2f}×** Oxigraph's (aim ≤ {START_RATIO_AIM}) |",
        f"| Oxigraph: launch to loaded | {start['oxigraph']:.1f} | |",
        f"| pyoxigraph in-process: load | {start['pyoxigraph']:.1f} | |",
        "",
        "| PSS, every process (MB) | ours | Oxigraph | ours / Oxigraph |",
        "|---|---|---|---|",
    ]
    for phase, by in memory.items():
        ratio = by["ldn-graph"] / by["oxigraph"]
        lines.append(
            f"| {phase} | {by['ldn-graph']:,.0f} | {by['oxigraph']:,.0f} | {ratio:.2f}× (aim ≤ {MEMORY_RATIO_AIM}) |"
        )
    if figures.mix:
        lines += [
            "",
            f"| competency mix, cold (wrk, {figures.mix_seconds:g} s) | conns | ours req/s | answered (2xx) /s "
            "| p99 ms | errors | Oxigraph req/s | answered /s | p99 ms | errors | ours / Oxigraph, answered |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        by_cell = {(c["server"], c["connections"]): c for c in figures.mix}
        for connections in sorted({c["connections"] for c in figures.mix}):
            a, b = by_cell[("ldn-graph", connections)], by_cell[("oxigraph", connections)]
            # wrk counts every response, a 503 too: what was answered is the rate less the errors.
            ok_a, ok_b = (max(0.0, c["rps"] - c["errors"] / figures.mix_seconds) for c in (a, b))
            lines.append(
                f"| mix cold | {connections} | {a['rps']:,.1f} | {ok_a:,.1f} | {a['p99_ms']:,.0f} | {a['errors']} | "
                f"{b['rps']:,.1f} | {ok_b:,.1f} | {b['p99_ms']:,.0f} | {b['errors']} | "
                f"{ok_a / ok_b if ok_b else float('nan'):.2f}× |"
            )
    return "\n".join(lines) + "\n"


def chart(figures: Figures) -> str:
    """Four panels of horizontal bars: heavy query, start, memory after start, mix at most connections."""
    colours = {
        "ldn-graph": "#2b7bba",
        "oxigraph": "#e08214",
        "pyoxigraph": "#59a14f",
        "pyoxigraph beside ldn-graph": "#59a14f",
        "pyoxigraph beside oxigraph": "#8cd17d",
    }
    mix = {(c["server"], c["connections"]): c["rps"] for c in figures.mix}
    most = max((c["connections"] for c in figures.mix), default=0)
    first_phase = "after start"
    panels = [
        ("heavy query, median ms (less is better)", {n: figures.median(n) for n in figures.heavy_ms}),
        ("start to first answer / loaded, s", figures.start_s),
        (f"PSS {first_phase}, MB", figures.pss_mb[first_phase]),
    ]
    if most:
        panels.append(
            (f"mix cold, req/s at {most} connections", {n: mix[(n, most)] for n in ("ldn-graph", "oxigraph")})
        )
    bar, left, width = 16, 190, 360
    height = 40 + sum(30 + bar * len(values) for _, values in panels)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 110}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<text x="10" y="20" font-size="14" font-weight="bold">{figures.label} synthetic triples, served</text>',
    ]
    y = 40
    for title, values in panels:
        out.append(f'<text x="10" y="{y + 14}" font-weight="bold">{title}</text>')
        y += 22
        top = max(values.values()) or 1
        for name, value in values.items():
            length = max(1.0, width * value / top)
            out.append(f'<text x="10" y="{y + bar - 4}">{name}</text>')
            out.append(
                f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{bar - 3}" fill="{colours[name]}"/>'
            )
            out.append(f'<text x="{left + length + 4:.1f}" y="{y + bar - 4}">{value:,.1f}</text>')
            y += bar
        y += 8
    out.append("</svg>")
    return "\n".join(out) + "\n"


def measure(name: str, start, store, args, mix: list[str], figures: Figures, workdir: Path) -> None:
    """Start one server, then its memory, the heavy query beside pyoxigraph and the mix."""
    log(f"starting {name}; {note_load(figures, f'before {name}')}")
    server, figures.start_s[name] = start()
    try:
        figures.pss_mb.setdefault("after start", {})[name] = server.pss_mb()
        log(
            f"  answered after {figures.start_s[name]:.1f} s, PSS {server.pss_mb():,.0f} MB; heavy query × {args.runs}"
        )
        heavy_runs(name, server, store, args.runs, figures)
        engine = f"pyoxigraph beside {name}"
        log(
            f"  medians: {name} {figures.median(name):.0f} ms ({figures.median_cpu(name):.0f} ms CPU), "
            f"pyoxigraph {figures.median(engine):.0f} ms ({figures.median_cpu(engine):.0f} ms CPU); "
            + note_load(figures, f"heavy query, {name}")
        )
        figures.pss_mb.setdefault("after the heavy queries", {})[name] = server.pss_mb()
        if args.mix_duration:
            for connections in (1, 16):
                cell = run_wrk(server, mix, True, connections, args.mix_duration, workdir)
                cell.workload = "mix cold"
                figures.mix.append(asdict(cell))
                log(
                    f"  mix c={connections}: {cell.rps:,.1f} req/s, p99 {cell.p99_ms:,.0f} ms, errors {cell.errors}"
                )
            log(f"  {note_load(figures, f'mix, {name}')}")
            figures.pss_mb.setdefault("after the mix", {})[name] = server.pss_mb()
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--triples", type=parse_size, default=1_000_000, help="synthetic triples (default 1e6)"
    )
    parser.add_argument("--runs", type=int, default=15, help="heavy queries asked of each (default 15)")
    parser.add_argument("--mix-duration", type=float, default=5.0, help="seconds per wrk cell; 0: no mix")
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "ldn-large", help="kept data"
    )
    args = parser.parse_args(argv)
    if args.mix_duration and shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk (or --mix-duration 0)")
    args.work.mkdir(parents=True, exist_ok=True)
    data = data_file(args.triples, args.work)
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")
    release = served_release()
    mix = [path.read_text() for path in sorted((ROOT / "queries").glob("*.rq"))]
    label = f"{args.triples:.0e}".replace("+0", "").replace("e", "×10^").replace("1×", "")
    figures = Figures(label, sum(1 for _ in data.open("rb")), mix_seconds=args.mix_duration)
    RESULTS.mkdir(exist_ok=True)
    log(f"loading pyoxigraph in this process with {figures.triples:,} triples and the release")
    store, figures.start_s["pyoxigraph"] = load_in_process([release, data])
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        # One server at a time beside the engine in this process: at 10^7 triples each holds gigabytes.
        measure("ldn-graph", lambda: start_ours(data, workdir), store, args, mix, figures, workdir)
        measure(
            "oxigraph", lambda: start_oxigraph([release, data], workdir), store, args, mix, figures, workdir
        )
    text = render(figures)
    stem = f"large-{args.triples:.0e}".replace("+0", "")
    (RESULTS / f"{stem}.md").write_text(text, encoding="utf-8")
    (RESULTS / f"{stem}.json").write_text(json.dumps(asdict(figures), indent=1) + "\n", encoding="utf-8")
    (RESULTS / f"{stem}.svg").write_text(chart(figures), encoding="utf-8")
    print(text)
    log(f"wrote {RESULTS / stem}.md, .json and .svg")
    return 0


if __name__ == "__main__":
    sys.exit(main())

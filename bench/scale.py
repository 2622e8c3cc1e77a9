"""How build, validate and release scale: wall time and peak memory per stage, per graph size.

    python bench/scale.py --sizes 1e4,1e5,1e6

For each size a synthetic graph (bench/synthetic.py) is generated twice: with violations injected, and
without (a graph a release accepts). Every stage runs as its own process, as a user runs it:

- the pipeline, on the graph without violations, in a cache directory of its own that starts empty:
  ``ldn-graph build``, ``ldn-graph validate`` (pyshacl-turbo, the default) and ``ldn-graph release``,
  in turn, so that validate and release find the graph build kept, and release the report validate
  kept (ldn_graph/build_cache.py); validation must find the graph conforms;
- ``ldn-graph validate --no-cache`` of the graph with violations: it must report exactly the
  violations the generator injected (its manifest);
- ``ldn-graph release --no-cache``: a release that builds and validates itself, nothing kept;
- up to ``--reference-max`` triples, ``ldn-graph validate --no-cache --engine pyshacl``, the reference,
  which must report the same violations.

Peak memory is the process's maximum resident set (``wait4``), so it is a whole-process figure; the
load average is sampled while each stage runs (the machine may be shared). The LDN graph itself runs
first. Results: bench/results/scale.md (table), scale.svg (picture), scale.json (raw).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
sys.path.insert(0, str(BENCH))

from synthetic import parse_size  # noqa: E402

STAGES = ("generate", "build", "validate", "release", "validate-injected", "release-cold", "validate-pyshacl")
PIPELINE = ("build", "validate", "release")
COLOURS = {
    "generate": "#bbbbbb",
    "build": "#4e79a7",
    "validate": "#f28e2b",
    "release": "#59a14f",
    "validate-injected": "#edc948",
    "release-cold": "#76b7b2",
    "validate-pyshacl": "#e15759",
}


@dataclass
class Run:
    size: str
    stage: str
    seconds: float | None
    peak_mb: float | None
    status: str
    note: str = ""
    load: tuple[float, float] = (0.0, 0.0)  # the lowest and highest 1-minute load average seen


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0]) if Path("/proc/loadavg").exists() else 0.0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def timed(
    command: list[str], label: str, log_file: Path, timeout: float, env: dict | None = None
) -> tuple[float, float, int | None, tuple[float, float]]:
    """Run ``command``; return wall seconds, peak resident MB, the exit code (None: stopped at the
    time limit) and the range of the load average meanwhile. Prints a heartbeat while it runs."""
    started = time.perf_counter()
    loads = [load_average()]
    with log_file.with_suffix(".out").open("wb") as out, log_file.open("wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT, env=env)
        outcome: dict = {}

        def reap() -> None:
            _, status, usage = os.wait4(process.pid, 0)
            outcome.update(status=status, usage=usage, ended=time.perf_counter())

        waiter = threading.Thread(target=reap, daemon=True)
        waiter.start()
        while waiter.is_alive():
            waiter.join(2)
            loads.append(load_average())
            elapsed = time.perf_counter() - started
            if waiter.is_alive():
                if elapsed > timeout:
                    process.kill()
                    waiter.join()
                    return elapsed, outcome["usage"].ru_maxrss / 1024, None, (min(loads), max(loads))
                if int(elapsed) % 10 < 2:
                    log(f"    {label}: {elapsed:.0f} s …")
        process.returncode = os.waitstatus_to_exitcode(outcome["status"])
    seconds, peak = outcome["ended"] - started, outcome["usage"].ru_maxrss / 1024
    return seconds, peak, process.returncode, (min(loads), max(loads))


def findings(report_file: Path) -> set[tuple[str, str]]:
    report = json.loads(report_file.read_text(encoding="utf-8"))
    return {(v["focus"], v["rule"]) for v in report["violations"]}


def compare(found: set, expected: set) -> tuple[str, str]:
    if found == expected:
        return "ok", f"{len(expected)} injected violations found exactly"
    return "MISMATCH", f"missing {sorted(expected - found)[:5]}, unexpected {sorted(found - expected)[:5]}"


def ldn_graph(*args: str) -> list[str]:
    return [sys.executable, "-m", "ldn_graph", *args]


def bench_size(label: str, triples: int | None, work: Path, args) -> list[Run]:
    """All stages for one size; ``triples`` None means the LDN graph itself (no generation)."""
    runs: list[Run] = []
    directory = work / label
    directory.mkdir(parents=True, exist_ok=True)
    cache = directory / "cache"  # the pipeline's own, empty at its start
    shutil.rmtree(cache, ignore_errors=True)
    env = dict(os.environ, LDNGRAPH_CACHE_DIR=str(cache))

    def stage(name: str, command: list[str], timeout: float = args.timeout) -> tuple[Run, int | None]:
        log(f"  {label} {name} …")
        seconds, peak, code, load = timed(command, f"{label} {name}", directory / f"{name}.log", timeout, env)
        if code is None:
            run = Run(label, name, None, peak, "timeout", f"stopped after {timeout:.0f} s", load)
        else:
            run = Run(label, name, seconds, peak, "ok" if code in (0, 1) else f"exit {code}", load=load)
        log(
            f"  {label} {name}: {seconds:.2f} s, {peak:.0f} MB, load {load[0]:.1f}-{load[1]:.1f} ({run.status})"
        )
        runs.append(run)
        return run, code

    if triples is None:
        valid_dir = invalid_dir = ROOT
        expected = set()
    else:
        invalid_dir, valid_dir = directory / "sources", directory / "sources-valid"
        generate = [sys.executable, str(BENCH / "synthetic.py"), "--triples", str(triples)]
        run, _ = stage("generate", [*generate, "--out", str(invalid_dir)])
        if run.status != "ok":
            return runs
        subprocess.run([*generate, "--valid", "--out", str(valid_dir)], check=True, capture_output=True)
        expected = {
            tuple(pair) for pair in json.loads((invalid_dir / "manifest.json").read_text())["expected"]
        }

    # The pipeline: one graph built, validated and released in turn, as a curator or CI runs it.
    run, code = stage(
        "build", ldn_graph("build", "--out", str(directory / "graph.nt"), "--data-dir", str(valid_dir))
    )
    lines = (directory / "graph.nt").read_bytes().count(b"\n") if code == 0 else 0
    run.note = f"{lines:,} triples built"
    run, code = stage("validate", ldn_graph("validate", "--data-dir", str(valid_dir), "--format", "json"))
    if code in (0, 1):
        run.status = "ok" if code == 0 else "MISMATCH"
        run.note = "conforms" if code == 0 else "the graph without violations does not conform"
    target = directory / "release"
    shutil.rmtree(target, ignore_errors=True)
    stage("release", ldn_graph("release", "--out", str(target), "--data-dir", str(valid_dir)))

    # Validation must find exactly the injected violations; a release that keeps nothing.
    report = directory / "report.json"
    validate = ldn_graph("validate", "--no-cache", "--data-dir", str(invalid_dir), "--format", "json")
    run, code = stage("validate-injected", validate, args.timeout)
    if code in (0, 1):
        shutil.copy(directory / "validate-injected.out", report)
        run.status, run.note = compare(findings(report), expected)
    if not args.skip_cold:
        cold = directory / "release-cold"
        shutil.rmtree(cold, ignore_errors=True)
        stage(
            "release-cold",
            ldn_graph("release", "--no-cache", "--out", str(cold), "--data-dir", str(valid_dir)),
        )

    if (triples or 0) <= args.reference_max:
        run, code = stage("validate-pyshacl", [*validate, "--engine", "pyshacl"], args.reference_timeout)
        if code in (0, 1):
            run.status, run.note = compare(findings(directory / "validate-pyshacl.out"), expected)
    return runs


def table(runs: list[Run], built: dict[str, str]) -> str:
    sizes = list(dict.fromkeys(r.size for r in runs))
    stages = [s for s in STAGES if s != "generate" and any(r.stage == s for r in runs)]
    by = {(r.size, r.stage): r for r in runs}
    head = [
        "graph",
        "triples built",
        *[f"{s} (s / MB)" for s in stages],
        "build+validate+release (s), peak",
        "load average",
        "checks",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for size in sizes:
        cells = [size, built.get(size, "")]
        for s in stages:
            r = by.get((size, s))
            if r is None:
                cells.append("–")
            elif r.seconds is None:
                cells.append(f"did not finish ({r.note})")
            else:
                cells.append(f"{r.seconds:.2f} / {r.peak_mb:.0f}")
        chain = [by[(size, s)] for s in PIPELINE if (size, s) in by]
        if len(chain) == len(PIPELINE) and all(r.seconds for r in chain):
            cells.append(f"{sum(r.seconds for r in chain):.2f} s, {max(r.peak_mb for r in chain):,.0f} MB")
        else:
            cells.append("–")
        mine = [r for r in runs if r.size == size and r.stage != "generate"]
        cells.append(f"{min(r.load[0] for r in mine):.1f}–{max(r.load[1] for r in mine):.1f}")
        checks = [
            f"{r.stage}: {r.status} ({r.note})" if r.note else f"{r.stage}: {r.status}"
            for s in ("validate", "validate-injected", "validate-pyshacl")
            if (r := by.get((size, s)))
        ]
        cells.append("; ".join(checks))
        lines.append("| " + " | ".join(cells) + " |")
    ratios = []
    for size in sizes:
        fast, ref = by.get((size, "validate-injected")), by.get((size, "validate-pyshacl"))
        if fast and ref and fast.seconds and ref.seconds:
            ratios.append(
                f"- {size}: pyshacl-turbo {fast.seconds:.2f} s vs pySHACL {ref.seconds:.2f} s "
                f"({ref.seconds / fast.seconds:.1f}× faster), peak {fast.peak_mb:.0f} vs {ref.peak_mb:.0f} MB"
            )
    return (
        "\n".join(lines)
        + (
            "\n\nValidation, side by side (whole process, including building):\n" + "\n".join(ratios)
            if ratios
            else ""
        )
        + "\n"
    )


def chart(runs: list[Run]) -> str:
    """Grouped bars: seconds per stage for each size (log scale), with the peak memory written above."""
    import math

    sizes = list(dict.fromkeys(r.size for r in runs))
    stages = [s for s in STAGES if any(r.stage == s and r.seconds for r in runs)]
    by = {(r.size, r.stage): r for r in runs}
    width, height, left, top, bottom = 140 + 150 * len(sizes), 380, 60, 40, 60
    plot_h = height - top - bottom
    low, high = -2, max(2, math.ceil(math.log10(max(r.seconds for r in runs if r.seconds))))

    def y(seconds: float) -> float:
        value = min(max(math.log10(max(seconds, 10**low)), low), high)
        return top + plot_h * (1 - (value - low) / (high - low))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width + 150}" height="{height}" font-family="sans-serif" font-size="11">',
        f'<text x="{left}" y="20" font-size="14">ldn-graph: seconds per stage by graph size (log scale; label: peak MB)</text>',
    ]
    for exponent in range(low, high + 1):
        ty = y(10**exponent)
        parts.append(f'<line x1="{left}" x2="{width}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end">{10.0**exponent:g} s</text>')
    bar = 120 / max(1, len(stages))
    for i, size in enumerate(sizes):
        x0 = left + 20 + 150 * i
        for j, stage_name in enumerate(stages):
            r = by.get((size, stage_name))
            if not r or not r.seconds:
                continue
            x, ty = x0 + j * bar, y(r.seconds)
            parts.append(
                f'<rect x="{x:.1f}" y="{ty:.1f}" width="{bar - 2:.1f}" height="{top + plot_h - ty:.1f}" '
                f'fill="{COLOURS[stage_name]}"><title>{size} {stage_name}: {r.seconds:.2f} s, {r.peak_mb:.0f} MB</title></rect>'
            )
            parts.append(
                f'<text x="{x + bar / 2 - 1:.1f}" y="{ty - 3:.1f}" text-anchor="middle" font-size="9">{r.peak_mb:.0f}</text>'
            )
        parts.append(f'<text x="{x0 + 60:.1f}" y="{top + plot_h + 18}" text-anchor="middle">{size}</text>')
    for j, stage_name in enumerate(stages):
        ly = top + 20 * j
        parts.append(f'<rect x="{width + 10}" y="{ly}" width="12" height="12" fill="{COLOURS[stage_name]}"/>')
        parts.append(f'<text x="{width + 28}" y="{ly + 10}">{stage_name}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="1e4,1e5,1e6", help="comma-separated triple counts (default: 1e4,1e5,1e6)"
    )
    parser.add_argument(
        "--reference-max",
        type=parse_size,
        default=10_000,
        help="run the reference pySHACL up to this size (default 1e4)",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before a stage is stopped")
    parser.add_argument(
        "--reference-timeout", type=float, default=600, help="seconds before pySHACL is stopped"
    )
    parser.add_argument("--work", type=Path, default=None, help="keep generated graphs and logs here")
    parser.add_argument("--skip-ldn", action="store_true", help="leave out the LDN graph itself")
    parser.add_argument(
        "--skip-cold", action="store_true", help="leave out the release that keeps nothing (large sizes)"
    )
    args = parser.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]

    work = args.work or Path(tempfile.mkdtemp(prefix="ldn-scale-"))
    env_epoch = os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")
    log(f"work directory {work}; SOURCE_DATE_EPOCH={env_epoch}")
    runs: list[Run] = []
    plan = ([("ldn", None)] if not args.skip_ldn else []) + [(f"{n:.0e}".replace("+0", ""), n) for n in sizes]
    for label, triples in plan:
        log(f"{label}:")
        runs += bench_size(label, triples, work, args)
    built = {r.size: r.note.split(" ")[0] for r in runs if r.stage == "build"}

    RESULTS.mkdir(exist_ok=True)
    markdown = table(runs, built)
    (RESULTS / "scale.md").write_text(
        "# ldn-graph at scale\n\n" + markdown + f"\nMachine: {os.cpu_count()} cores; "
        "wall time and peak resident memory of each stage's whole process.\n",
        encoding="utf-8",
    )
    (RESULTS / "scale.svg").write_text(chart(runs), encoding="utf-8")
    (RESULTS / "scale.json").write_text(json.dumps([asdict(r) for r in runs], indent=1), encoding="utf-8")
    print(markdown)
    log(f"wrote {RESULTS / 'scale.md'}, {RESULTS / 'scale.svg'}, {RESULTS / 'scale.json'}")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(r.status == "ok" for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())

"""How build, validate and release scale: wall time and peak memory per stage, per graph size.

    python bench/scale.py --sizes 1e4,1e5,1e6

For each size a synthetic graph (bench/synthetic.py) is generated, then every stage runs as its own
process, as a user runs it: ``ldn-graph build``, ``ldn-graph validate`` (pyshacl-turbo, the default),
``ldn-graph release`` (once committed; of the same graph without the injected violations, since a
release refuses a graph that does not conform) and, up to ``--reference-max`` triples, ``ldn-graph
validate --engine pyshacl``, the reference, side by side. Peak memory is the process's maximum resident
set (``wait4``), so it is a whole-process figure. Validation must report exactly the violations the
generator injected (its manifest), and the reference engine the same ones. The LDN graph itself runs first.
Results: bench/results/scale.md (table), scale.svg (picture), scale.json (raw).
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

STAGES = ("generate", "build", "validate", "release", "validate-pyshacl")
COLOURS = {
    "generate": "#bbbbbb",
    "build": "#4e79a7",
    "validate": "#f28e2b",
    "release": "#59a14f",
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


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def timed(command: list[str], label: str, log_file: Path, timeout: float) -> tuple[float, float, int | None]:
    """Run ``command``; return wall seconds, peak resident MB and the exit code (None: stopped at the
    time limit). Prints a heartbeat while it runs."""
    started = time.perf_counter()
    with log_file.with_suffix(".out").open("wb") as out, log_file.open("wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT)
        outcome: dict = {}

        def reap() -> None:
            _, status, usage = os.wait4(process.pid, 0)
            outcome.update(status=status, usage=usage, ended=time.perf_counter())

        waiter = threading.Thread(target=reap, daemon=True)
        waiter.start()
        while waiter.is_alive():
            waiter.join(10)
            elapsed = time.perf_counter() - started
            if waiter.is_alive():
                if elapsed > timeout:
                    process.kill()
                    waiter.join()
                    return elapsed, outcome["usage"].ru_maxrss / 1024, None
                log(f"    {label}: {elapsed:.0f} s …")
        process.returncode = os.waitstatus_to_exitcode(outcome["status"])
    return outcome["ended"] - started, outcome["usage"].ru_maxrss / 1024, process.returncode


def findings(report_file: Path) -> set[tuple[str, str]]:
    report = json.loads(report_file.read_text(encoding="utf-8"))
    return {(v["focus"], v["rule"]) for v in report["violations"]}


def compare(found: set, expected: set) -> tuple[str, str]:
    if found == expected:
        return "ok", f"{len(expected)} injected violations found exactly"
    return "MISMATCH", f"missing {sorted(expected - found)[:5]}, unexpected {sorted(found - expected)[:5]}"


def release_available() -> bool:
    """``ldn-graph release`` is benchmarked once its module is committed."""
    committed = subprocess.run(
        ["git", "log", "-1", "--format=%h", "--", "ldn_graph/graph/release.py"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    return bool(committed.stdout.strip())


def ldn_graph(*args: str) -> list[str]:
    return [sys.executable, "-m", "ldn_graph", *args]


def bench_size(label: str, triples: int | None, work: Path, args) -> list[Run]:
    """All stages for one size; ``triples`` None means the LDN graph itself (no generation)."""
    runs: list[Run] = []
    directory = work / label
    directory.mkdir(parents=True, exist_ok=True)

    def stage(name: str, command: list[str], timeout: float = args.timeout) -> tuple[Run, int | None]:
        log(f"  {label} {name} …")
        seconds, peak, code = timed(command, f"{label} {name}", directory / f"{name}.log", timeout)
        if code is None:
            run = Run(label, name, None, peak, "timeout", f"stopped after {timeout:.0f} s")
        else:
            run = Run(label, name, seconds, peak, "ok" if code in (0, 1) else f"exit {code}")
        log(f"  {label} {name}: {seconds:.2f} s, {peak:.0f} MB ({run.status})")
        runs.append(run)
        return run, code

    if triples is None:
        data_dir, expected = ROOT, set()
    else:
        data_dir = directory / "sources"
        run, _ = stage(
            "generate",
            [sys.executable, str(BENCH / "synthetic.py"), "--triples", str(triples), "--out", str(data_dir)],
        )
        if run.status != "ok":
            return runs
        expected = {tuple(pair) for pair in json.loads((data_dir / "manifest.json").read_text())["expected"]}

    run, code = stage(
        "build", ldn_graph("build", "--out", str(directory / "graph.nt"), "--data-dir", str(data_dir))
    )
    lines = (directory / "graph.nt").read_bytes().count(b"\n") if code == 0 else 0
    run.note = f"{lines:,} triples built"

    report = directory / "report.json"
    validate = ldn_graph("validate", "--data-dir", str(data_dir), "--format", "json")
    run, code = stage("validate", [*validate], args.timeout)
    if code in (0, 1):
        shutil.copy(directory / "validate.out", report)
        run.status, run.note = compare(findings(report), expected)

    if release_available():
        # A release refuses a graph with violations: it gets the same graph without the injected ones.
        release_dir = data_dir
        if triples is not None:
            release_dir = directory / "sources-valid"
            generate = [sys.executable, str(BENCH / "synthetic.py"), "--triples", str(triples), "--valid"]
            subprocess.run([*generate, "--out", str(release_dir)], check=True, capture_output=True)
        target = directory / "release"
        shutil.rmtree(target, ignore_errors=True)
        stage("release", ldn_graph("release", "--out", str(target), "--data-dir", str(release_dir)))

    if (triples or 0) <= args.reference_max:
        run, code = stage("validate-pyshacl", [*validate, "--engine", "pyshacl"], args.reference_timeout)
        if code in (0, 1):
            run.status, run.note = compare(findings(directory / "validate-pyshacl.out"), expected)
    return runs


def table(runs: list[Run], built: dict[str, str]) -> str:
    sizes = list(dict.fromkeys(r.size for r in runs))
    stages = [s for s in STAGES if any(r.stage == s for r in runs)]
    by = {(r.size, r.stage): r for r in runs}
    head = [
        "graph",
        "triples built",
        *[f"{s} (s / MB)" for s in stages],
        "build+validate+release (s)",
        "validation check",
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
        chain = [by.get((size, s)) for s in ("build", "validate", "release")]
        cells.append(f"{sum(r.seconds for r in chain if r and r.seconds):.2f}")
        checks = [
            f"{r.stage}: {r.status}"
            for r in (by.get((size, "validate")), by.get((size, "validate-pyshacl")))
            if r
        ]
        cells.append("; ".join(checks))
        lines.append("| " + " | ".join(cells) + " |")
    ratios = []
    for size in sizes:
        fast, ref = by.get((size, "validate")), by.get((size, "validate-pyshacl"))
        if fast and ref and fast.seconds and ref.seconds:
            ratios.append(
                f"- {size}: pyshacl-turbo {fast.seconds:.2f} s vs pySHACL {ref.seconds:.2f} s "
                f"({ref.seconds / fast.seconds:.1f}× faster), peak {fast.peak_mb:.0f} vs {ref.peak_mb:.0f} MB"
            )
    return (
        "\n".join(lines)
        + (
            "\n\nValidation, side by side (whole process, including parsing):\n" + "\n".join(ratios)
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
    args = parser.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]

    work = args.work or Path(tempfile.mkdtemp(prefix="ldn-scale-"))
    env_epoch = os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")
    log(
        f"work directory {work}; SOURCE_DATE_EPOCH={env_epoch}; release stage: {'yes' if release_available() else 'not yet available'}"
    )
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

"""Memory per request, route by route: a leak detector far more sensitive than a soak's slope.

    python bench/leak.py --seconds 180

A soak at 50 requests/s measures growth per hour, and ±1 MB of noise (allocator arenas trimmed and
regrown, pages moving between shared and private as engine processes come and go) hides a slope of a
few MB per hour for hours. Here wrk drives one kind of request at a time as fast as the server answers
(entity pages, small SELECTs half of them distinct, downloads, hostile queries, then all of them
mixed as in the soak, the mixture over 64 connections at once as the soak's clients keep open, and
the mixture again with a new connection for each request), so each phase sends what a soak sends in
hours, and the long-lived processes' private memory (main, workers, spawners, as in bench/soak.py) is
sampled every 5 s. A leak of even a few bytes per request then shows as MB. The
first fifth of each phase is left out as warm-up. The server runs with every limit on, a one-second
time limit (so runaway queries, and with them the engine processes that replace the killed ones, come
often) and a result cache small enough to fill within the warm-up.

Prints, per phase: requests, their statuses, memory at the end of warm-up and at the end, and the
growth per 100,000 requests fitted over the measured part. Results go to bench/results/leak.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from endpoint import _free_port, _lua_string, _start
from soak import HOSTILE, RUNAWAY, SMALL_QUERIES, _entities, _memory_sample, serve_command

RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results"
WARMUP_SHARE = 0.2
SAMPLE_EVERY = 5.0

# One Lua function per kind of request; a phase is its connections and the function that makes each of
# its requests. `pick(list)` chooses at random, and every request names one of 20 clients, so that fair
# use sees readers, not one client.
_LUA_REQUESTS = """
local n = 0
local entities, queries, hostile = {ENTITIES}, {QUERIES}, {HOSTILE}
local names = {"ldn-graph.nt.gz", "void.ttl", "SHA256SUMS"}
local function pick(list) return list[math.random(#list)] end
local function client() return "bench-" .. math.random(20) end
local function encode(s) return (s:gsub("[^%w]", function(c) return string.format("%%%02X", string.byte(c)) end)) end

local function entity()
  local suffix, accept = "", "text/html"
  if math.random() < 0.5 then suffix, accept = ".ttl", "text/turtle" end
  return wrk.format("GET", "/id/" .. pick(entities) .. suffix, {["Accept"] = accept, ["X-Client"] = client()})
end

local function select()  -- half of them distinct, so that no answer is reused
  n = n + 1
  local query = pick(queries)
  if math.random() < 0.5 then query = query .. " # " .. n .. "-" .. math.random(1000000000) end
  return wrk.format("GET", "/sparql?query=" .. encode(query), {["X-Client"] = client()})
end

local function download()
  return wrk.format("GET", "/downloads/VERSION/" .. pick(names), {["X-Client"] = client()})
end

local function attack()
  return wrk.format("POST", "/sparql", {["Content-Type"] = "application/sparql-query", ["X-Client"] = client()}, pick(hostile))
end

-- Hostile queries that are refused before any engine runs them (400, 413, and 429 for the two clients
-- that send them all): the runaway, which holds an engine for the time limit, left out, so that these
-- come by the hundred thousand.
local refusable = {REFUSABLE}
local function refused()
  return wrk.format("POST", "/sparql", {["Content-Type"] = "application/sparql-query", ["X-Client"] = "hostile-" .. math.random(2)}, pick(refusable))
end

-- The soak's mixture at full speed: growth that no route shows alone (allocator fragmentation from
-- interleaved sizes, one path's leftovers meeting another's) would show here.
local function mix()
  local roll = math.random()
  if roll < 0.45 then return entity() elseif roll < 0.89 then return select()
  elseif roll < 0.99 then return download() end
  return attack()
end

-- The mixture again, each request on a new connection: growth that comes with connections rather
-- than requests (a soak's clients reconnect whenever the server closes an idle connection).
local function reconnect()
  local req = mix()
  return (req:gsub("\\r\\n", "\\r\\nConnection: close\\r\\n", 1))
end
"""
PHASES = {
    "entity": (4, "entity"),
    "select": (2, "select"),
    "download": (2, "download"),
    "hostile": (4, "attack"),
    "refused": (8, "refused"),
    "mix": (4, "mix"),
    "crowd": (64, "mix"),  # the mixture over as many connections as the soak keeps open
    "reconnect": (4, "reconnect"),
}


def _lua_list(items) -> str:
    return "{" + ", ".join(_lua_string(item) for item in items) + "}"


def run_phase(name: str, base: str, master: int, seconds: float, lua: Path) -> dict:
    connections, _ = PHASES[name]
    samples: list[tuple[float, float]] = []
    done = threading.Event()

    def sample() -> None:
        started = time.monotonic()
        while not done.is_set():
            samples.append((time.monotonic() - started, _memory_sample(master)[2]))
            done.wait(SAMPLE_EVERY)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "-s", str(lua), base]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    done.set()
    sampler.join()
    sent = int(next(line for line in output.splitlines() if " requests in " in line).split()[0])
    measured = [(t, mb) for t, mb in samples if t >= seconds * WARMUP_SHARE]
    per_second = statistics.linear_regression([t for t, _ in measured], [mb for _, mb in measured]).slope
    rate = sent / seconds
    return {
        "phase": name,
        "requests": sent,
        "requests_per_s": rate,
        "mb_after_warmup": measured[0][1],
        "mb_at_end": measured[-1][1],
        "mb_range": (min(mb for _, mb in measured), max(mb for _, mb in measured)),
        "mb_per_100k_requests": per_second / rate * 100_000 if rate else 0.0,
        "bytes_per_request": per_second / rate * 2**20 if rate else 0.0,
    }


def render(results: list[dict], statuses: dict[str, dict]) -> str:
    lines = [
        "| phase | requests | req/s | statuses | MB after warm-up | MB at end | range | MB per 100k requests | bytes per request |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        low, high = r["mb_range"]
        counted = ", ".join(f"{status}: {count:,}" for status, count in sorted(statuses[r["phase"]].items()))
        lines.append(
            f"| {r['phase']} | {r['requests']:,} | {r['requests_per_s']:,.0f} | {counted} | {r['mb_after_warmup']:.2f} | "
            f"{r['mb_at_end']:.2f} | {low:.2f}-{high:.2f} | {r['mb_per_100k_requests']:+.2f} | {r['bytes_per_request']:+.1f} |"
        )
    return "\n".join(lines)


def _statuses(log: Path, offset: int) -> tuple[dict[str, int], int]:
    """Statuses of the access lines the server logged since ``offset`` bytes into its log."""
    counts: dict[str, int] = {}
    with log.open("rb") as stream:
        stream.seek(offset)
        for line in stream:
            if b"ldn_graph.access: " in line:
                status = str(json.loads(line.split(b"ldn_graph.access: ", 1)[1])["status"])
                counts[status] = counts.get(status, 0) + 1
        return counts, stream.tell()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=180.0, help="per phase (default 180)")
    parser.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated, of {', '.join(PHASES)}")
    args = parser.parse_args()
    phases = [name for name in args.phases.split(",") if name]
    shortest = 3 * SAMPLE_EVERY / (1 - WARMUP_SHARE)  # three samples after warm-up make a slope
    if args.seconds < shortest:
        parser.error(f"--seconds must be at least {shortest:g}: a phase needs three samples after warm-up")
    if unknown := set(phases) - set(PHASES):
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    from ldn_graph.graph.release import make_release

    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ldn-leak-") as scratch:
        workdir = Path(scratch)
        version = make_release(workdir / "releases").name
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        command = serve_command(port, workdir / "releases", timeout=1, cache_mb=0.25)
        server = _start("ldn-graph-leak", command, base + "/sparql", workdir)
        results, statuses, offset = [], {}, 0
        try:
            entities = _entities(base + "/sparql")
            for name in phases:
                body = (
                    (_LUA_REQUESTS + f"request = {PHASES[name][1]}\n")
                    .replace("{ENTITIES}", _lua_list(entities))
                    .replace("{QUERIES}", _lua_list(SMALL_QUERIES))
                    .replace("{HOSTILE}", _lua_list(HOSTILE))
                    .replace("{REFUSABLE}", _lua_list(q for q in HOSTILE if q != RUNAWAY))
                    .replace("VERSION", version)
                )
                lua = workdir / f"{name}.lua"
                lua.write_text(body, encoding="utf-8")
                print(f"{name}: {args.seconds:g} s ...", file=sys.stderr, flush=True)
                results.append(run_phase(name, base, server.process.pid, args.seconds, lua))
                statuses[name], offset = _statuses(server.log, offset)
                print(render(results[-1:], statuses).splitlines()[-1], file=sys.stderr, flush=True)
        finally:
            server.stop()
    text = render(results, statuses)
    print(text)
    (RESULTS / "leak.md").write_text(text + "\n", encoding="utf-8")
    (RESULTS / "leak.json").write_text(
        json.dumps({"results": results, "statuses": statuses}, indent=1), encoding="utf-8"
    )
    print(f"written: {RESULTS / 'leak.md'}, leak.json")


if __name__ == "__main__":
    main()

"""Soak test: a bounded load at a fixed rate against our server on loopback, with hostile clients.

    python bench/soak.py --rate 50 --duration 600

Serves a fresh release of the LDN graph (``--releases``, so downloads are real) with every limit on and
``--client-header X-Client``, so that simulated clients are told apart on one machine. Requests leave at
a fixed rate whatever the answers do (an open loop: a slow server cannot slow the load down): entity
pages (HTML and Turtle twins), small SELECTs (half repeated, half distinct), downloads, and, from the
second third of the run on, hostile clients sending runaway, oversize, deeply nested and SERVICE
queries as fast as their share allows. The load goes over 64 keep-alive connections, all opened
before the clock starts and kept open (see CONNECTIONS). Side by side in one run: the well-behaved
clients' latency before the hostile clients start and while they run (the ratio must stay near 1).

Prints requests/s, p50/p95/p99 per route, error and 5xx rates (well-behaved clients must see no
errors at all), how hostile requests were answered, the connections open, and memory growth after
warm-up in % per hour: the slope of the long-lived processes' private memory (see _memory_sample),
beside PSS and the memory held between queries. Results also go to
bench/results/soak.{json,md,svg}; the chart shows memory and latency over the run.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from endpoint import _free_port, _start

from ldn_graph.serving.engine_pool import is_engine_process, process_tree

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
P95_TARGET_MS, GROWTH_TARGET = 50.0, 1.0  # entity and small-query p95; memory growth % per hour
# A bound on one run, however it is called; at 50 requests/s it still allows the hours after warm-up
# that a memory slope under 1 % per hour needs to stand out of the noise.
MAX_REQUESTS = 500_000
WINDOW = 30.0  # seconds per point of the latency chart
TIMEOUT = 10.0
# Client threads, each with one keep-alive connection, all opened before the clock starts. The server's
# memory follows the number of connections open at once (granian keeps each one's buffers, and reuses
# what a closed one freed rather than returning it), so a pool that grew a thread whenever a burst found
# every thread busy made the server grow for hours with it: a growth of the load, not of the server.
CONNECTIONS = 64

SMALL_QUERIES = (
    "SELECT ?label WHERE { <https://w3id.org/ldngraph/id/naltrexone> rdfs:label ?label }",
    "SELECT ?s WHERE { ?s a schema:MedicalCondition } LIMIT 20",
    "SELECT ?p ?o WHERE { <https://w3id.org/ldngraph/id/low-dose-naltrexone> ?p ?o }",
    "ASK { ?s biolink:treats ?o }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?s a rdf:Statement }",
)
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(8)) + " }"
HOSTILE = (
    RUNAWAY,
    "SELECT * WHERE " + "{" * 500 + " ?s ?p ?o " + "}" * 500,
    "ASK { FILTER(" + "!" * 5000 + "true) }",
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    'ASK { FILTER("' + "x" * 150_000 + '" = "y") }',
    "SELECT * WHERE { ?s ?p }",
)


@dataclass
class Outcome:
    route: str
    client: str  # "reader" or "hostile"
    phase: str  # "calm" or "attack"
    status: int  # 0: no answer
    ms: float
    late_ms: float  # how late the request left against its schedule
    at: float  # seconds into the run when it left
    target: str  # method and path
    error: str = ""  # why there was no answer (status 0)
    retried: str = ""  # why the first attempt failed, when the request was sent a second time


@dataclass
class Report:
    rate: float
    duration: float
    cache_mb: float | None = None  # each worker's result cache; None: serve's default
    sent: int = 0
    achieved_rps: float = 0.0
    routes: dict = field(default_factory=dict)
    hostile: dict = field(default_factory=dict)
    reader_errors: int = 0
    reader_statuses: dict = field(default_factory=dict)
    reader_5xx: int = 0
    calm_p95_ms: float = 0.0
    attack_p95_ms: float = 0.0
    # (seconds, PSS of every process, held between queries, long-lived processes' private memory, median
    # private memory of an idle engine process), in MB
    pss_mb: list = field(default_factory=list)
    growth_pct_per_hour: float = 0.0  # every process
    footprint_growth_pct_per_hour: float = 0.0  # held between queries
    long_lived_growth_pct_per_hour: float = 0.0  # the verdict: see _memory_sample
    idle_engine_mb_per_hour: float = 0.0
    max_late_ms: float = 0.0
    max_late_at: float = 0.0  # seconds into the run when the latest departure left
    warmup: float = 0.0
    attack_from: float = 0.0  # seconds into the run when hostile clients start
    connections: list = field(default_factory=list)  # (seconds, connections open to the server)
    windows: list = field(default_factory=list)  # (start s, entity and small-query p95 ms, failures)
    started_at: str = ""  # wall clock (UTC) at the run's start, to match the server log
    reader_failures: list = field(default_factory=list)  # (seconds into the run, target, status or reason)
    reader_retries: list = field(default_factory=list)  # (seconds into the run, target, first failure)


def _entities(endpoint: str) -> list[str]:
    query = 'SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER STRSTARTS(STR(?s), "https://w3id.org/ldngraph/id/") }'
    rows = requests.get(endpoint, params={"query": query}, timeout=30).json()["results"]["bindings"]
    return [row["s"]["value"].removeprefix("https://w3id.org/ldngraph/id/") for row in rows]


class Load:
    def __init__(self, base: str, entities: list[str], version: str, seed: int):
        self.base, self.entities, self.version = base, entities, version
        self.random = random.Random(seed)
        self.local = threading.local()
        self.distinct = 0

    def connect(self, everyone: threading.Barrier) -> None:
        """Open this thread's connection, then wait until every client thread has opened its own."""
        self.session().get(self.base + "/health", timeout=TIMEOUT).raise_for_status()
        self.local.last = time.perf_counter()
        everyone.wait(timeout=60)

    def session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def pick(self, attack: bool) -> tuple[str, str, dict, str]:
        """(route, method-and-url, request keywords, client kind) of the next request."""
        roll = self.random.random()
        reader = {"X-Client": f"reader-{self.random.randrange(20)}"}
        if attack and roll < 0.10:
            query = self.random.choice(HOSTILE)
            headers = {
                "X-Client": f"hostile-{self.random.randrange(2)}",
                "Content-Type": "application/sparql-query",
            }
            return "hostile", "POST /sparql", {"data": query.encode(), "headers": headers}, "hostile"
        if roll < 0.45:
            slug = self.random.choice(self.entities)
            suffix, accept = self.random.choice((("", "text/html"), (".ttl", "text/turtle")))
            return "entity", f"GET /id/{slug}{suffix}", {"headers": reader | {"Accept": accept}}, "reader"
        if roll < 0.90:
            query = self.random.choice(SMALL_QUERIES)
            if self.random.random() < 0.5:
                self.distinct += 1
                query += f" # {self.distinct}"  # distinct text: no answer reuse
            return "select", "GET /sparql", {"params": {"query": query}, "headers": reader}, "reader"
        name = self.random.choice(("ldn-graph.nt.gz", "void.ttl", "SHA256SUMS"))
        return "download", f"GET /downloads/{self.version}/{name}", {"headers": reader}, "reader"

    def send(
        self, route: str, target: str, keywords: dict, client: str, phase: str, due: float, start: float
    ) -> Outcome:
        late = (time.perf_counter() - due) * 1000
        method, path = target.split(" ", 1)
        session = self.session()
        started = time.perf_counter()
        idle = started - getattr(self.local, "last", started)  # since this thread's connection was last used
        retried = ""
        for attempt in (1, 2):
            try:
                response = session.request(method, self.base + path, timeout=TIMEOUT + 5, **keywords)
                response.content  # noqa: B018  (read the whole body)
                status, error = response.status_code, ""
                break
            except requests.RequestException as exception:
                status, error = 0, f"{_reason(exception)} (connection idle {idle:.2f} s)"
                # HTTP/1.1 lets either side close an idle connection at any time, so a request can meet
                # the server's close on the wire (RFC 9112 9.3.1). Browsers and curl then send an
                # idempotent request once more on a new connection (RFC 9110 9.2.2); so does a reader
                # here, and the report counts every such retry. Timeouts are never retried.
                if attempt == 2 or client != "reader" or not _closed_under_us(exception, idle):
                    break
                retried, idle = error, 0.0
        self.local.last = time.perf_counter()
        ms = (time.perf_counter() - started) * 1000
        return Outcome(route, client, phase, status, ms, late, started - start, target, error, retried)


def _closed_under_us(exception: requests.RequestException, idle: float) -> bool:
    """True when a reused connection was closed or reset before an answer came (no timeout)."""
    return (
        idle > 0
        and isinstance(exception, requests.ConnectionError)
        and not isinstance(exception, requests.Timeout)
    )


def _reason(exception: requests.RequestException) -> str:
    """Why a request got no answer: the outer and innermost exception, "ReadTimeout: TimeoutError"."""
    cause: BaseException = exception
    while True:
        inner = cause.__cause__ or cause.__context__ or (cause.args[0] if cause.args else None)
        if not isinstance(inner, BaseException):
            return f"{type(exception).__name__}: {type(cause).__name__}"
        cause = inner


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _rollup_kb(pid: int) -> dict[str, int]:
    """A process's memory totals in kB: "Pss", "Private_Clean", "Private_Dirty"..."""
    totals = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            name, value = line.split(":", 1)
            totals[name] = int(value.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return totals


def _memory_sample(master: int) -> tuple[float, float, float, float]:
    """What a soak watches of the server's memory, in MB: (PSS of every process, memory held between
    queries, private memory of the long-lived processes, median private memory of an idle engine).

    - PSS summed over the whole process tree counts every page once. Engine processes running a
      runaway query hold tens of MB until they are killed, so this saws up and down.
    - Held between queries: the same, less the private pages of engines running a query at this moment
      (in the run queue, or slow: the pool lowers their priority to nice 19 and never reuses them).
      Idle engines count in full; but how many are idle varies with the load (1 to 3 per worker), a
      few MB each.
    - Long-lived processes (main, workers, spawners): their private pages (USS), which a leak or a
      growing cache in them would grow. Engines fork from the spawner, so engines coming and going do
      not move these. Shared pages only ever turn private, so these bound the server's growth; with
      the idle engines' median (a leak in engines reused for hours), they are the measure of growth.
    """
    total = held = long_lived = 0
    idle = []
    for pid in process_tree(master):
        rollup = _rollup_kb(pid)
        private = rollup.get("Private_Clean", 0) + rollup.get("Private_Dirty", 0)
        total += rollup.get("Pss", 0)
        if not is_engine_process(pid):
            long_lived += private
        elif _running_a_query(pid):
            held -= private
        else:
            idle.append(private)
    held += total
    return total / 1024, held / 1024, long_lived / 1024, statistics.median(idle) / 1024 if idle else 0.0


def _open_connections(port: int) -> int:
    """Established TCP connections to ``port`` on this machine (IPv4), as /proc/net/tcp lists them."""
    local = f":{port:04X}"
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return 0
    return sum(1 for line in lines if line.split()[1].endswith(local) and line.split()[3] == "01")


def _running_a_query(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return False
    return fields[0] == "R" or int(fields[16]) > 0  # state; nice


def _slope_mb_per_hour(samples: list[tuple[float, float]]) -> float:
    if len(samples) < 3:
        return 0.0
    times, values = [t for t, _ in samples], [v for _, v in samples]
    return statistics.linear_regression(times, values).slope * 3600


def _slope_pct_per_hour(samples: list[tuple[float, float]]) -> float:
    if len(samples) < 3:
        return 0.0
    return _slope_mb_per_hour(samples) / statistics.fmean(v for _, v in samples) * 100


def serve_command(port: int, releases: Path, timeout: float, cache_mb: float | None) -> list[str]:
    """Our server on ``releases`` with every limit on, simulated clients told apart by ``X-Client``."""
    command = [sys.executable, "-m", "ldn_graph", "serve", "--port", str(port), "--releases", str(releases)]
    command += ["--client-header", "X-Client", "--timeout", str(timeout)]
    if cache_mb is not None:
        command += ["--cache-mb", str(cache_mb)]
    return command


def run(
    rate: float, duration: float, calm: float, warmup: float, seed: int, cache_mb: float | None, workdir: Path
) -> Report:
    from ldn_graph.graph.release import make_release

    releases = workdir / "releases"
    version = make_release(releases).name
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start(
        "ldn-graph-soak", serve_command(port, releases, TIMEOUT, cache_mb), base + "/sparql", workdir
    )
    report = Report(rate, duration, cache_mb)
    try:
        load = Load(base, _entities(base + "/sparql"), version, seed)
        outcomes: list[Outcome] = []
        pss: list[tuple[float, float]] = []
        total = int(rate * duration)
        with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:
            # Idle threads take work in turn (first come, first served), so each connection carries a
            # request every CONNECTIONS / rate seconds and none idles into the server's 10-s close.
            everyone = threading.Barrier(CONNECTIONS)
            for opened in [pool.submit(load.connect, everyone) for _ in range(CONNECTIONS)]:
                opened.result()
            started = time.perf_counter()
            report.started_at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
            futures = []
            next_sample = started
            for number in range(total):
                due = started + number / rate
                while (now := time.perf_counter()) < due:
                    time.sleep(min(due - now, 0.01))
                if now >= next_sample:
                    pss.append((now - started, *_memory_sample(server.process.pid)))
                    report.connections.append((round(now - started), _open_connections(port)))
                    next_sample += 5.0
                    if len(pss) % 12 == 0:
                        print(
                            f"  {now - started:5.0f} s: {number:,} sent, PSS {pss[-1][1]:.0f} MB, "
                            f"long-lived {pss[-1][3]:.1f} MB, {report.connections[-1][1]} connections open",
                            file=sys.stderr,
                        )
                phase = "attack" if now - started >= calm else "calm"
                route, target, keywords, client = load.pick(phase == "attack")
                futures.append(pool.submit(load.send, route, target, keywords, client, phase, due, started))
            outcomes = [future.result() for future in futures]
        elapsed = time.perf_counter() - started
        report.sent = len(outcomes)
        report.achieved_rps = len(outcomes) / elapsed
        latest = max(outcomes, key=lambda o: o.late_ms)
        report.max_late_ms, report.max_late_at = latest.late_ms, latest.at
        by_route = defaultdict(list)
        for outcome in outcomes:
            by_route[outcome.route].append(outcome)
        for route, items in sorted(by_route.items()):
            times = [o.ms for o in items]
            report.routes[route] = {
                "requests": len(items),
                "rps": len(items) / elapsed,
                "p50_ms": _percentile(times, 50),
                "p95_ms": _percentile(times, 95),
                "p99_ms": _percentile(times, 99),
                "errors": sum(1 for o in items if not 200 <= o.status < 400),
                "5xx": sum(1 for o in items if o.status >= 500 or o.status == 0),
            }
        readers = [o for o in outcomes if o.client == "reader"]
        report.reader_errors = sum(1 for o in readers if not 200 <= o.status < 400)
        report.reader_5xx = sum(1 for o in readers if o.status >= 500 or o.status == 0)
        report.reader_statuses = dict(
            Counter(f"{o.route} {o.status or o.error}" for o in readers if not 200 <= o.status < 400)
        )
        report.reader_failures = [
            (round(o.at, 3), o.target, o.status or o.error) for o in readers if not 200 <= o.status < 400
        ]
        report.reader_retries = [(round(o.at, 3), o.target, o.retried) for o in readers if o.retried]
        report.hostile = dict(Counter(str(o.status or o.error) for o in outcomes if o.client == "hostile"))
        quick = [o for o in readers if o.route in ("entity", "select")]
        report.calm_p95_ms = _percentile([o.ms for o in quick if o.phase == "calm"], 95)
        report.attack_p95_ms = _percentile([o.ms for o in quick if o.phase == "attack"], 95)
        report.pss_mb = pss
        report.warmup, report.attack_from = warmup, calm
        report.windows = _windows(quick, WINDOW)
        steady = [sample for sample in pss if sample[0] >= warmup]
        held = statistics.fmean(sample[2] for sample in steady) if steady else 1.0
        report.growth_pct_per_hour = _slope_pct_per_hour([(t, total) for t, total, *_ in steady])
        report.footprint_growth_pct_per_hour = _slope_pct_per_hour([(t, kept) for t, _, kept, *_ in steady])
        # Growth of the long-lived processes' private memory, as a share of all the server holds.
        report.long_lived_growth_pct_per_hour = (
            _slope_mb_per_hour([(s[0], s[3]) for s in steady]) / held * 100
        )
        report.idle_engine_mb_per_hour = _slope_mb_per_hour([(s[0], s[4]) for s in steady if s[4]])
    finally:
        server.stop()
    return report


def _windows(outcomes: list[Outcome], seconds: float) -> list[tuple[float, float, int]]:
    """(start, p95 ms, requests without an answer) of each ``seconds``-long slice of the run."""
    slices = defaultdict(list)
    for outcome in outcomes:
        slices[int(outcome.at // seconds)].append(outcome)
    return [
        (number * seconds, _percentile([o.ms for o in items], 95), sum(1 for o in items if o.status == 0))
        for number, items in sorted(slices.items())
    ]


def svg_chart(report: Report) -> str:
    """Two panels over the run's time: memory (held between queries) above the
    well-behaved clients' p95 per window; the warm-up and the attack are shaded, the slope drawn."""
    left, width, panel, gap, top = 60, 640, 170, 60, 50
    end = max(report.duration, 1.0)
    samples = report.pss_mb
    height = top + 2 * panel + gap + 40

    def x(seconds: float) -> float:
        return left + width * min(seconds, end) / end

    def polyline(points: list[tuple[float, float]], colour: str, stroke: float = 1.5) -> str:
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        return f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="{stroke}"/>'

    def panel_frame(y0: float, high: float, unit: str) -> list[str]:
        out = [
            f'<rect x="{x(report.attack_from):.1f}" y="{y0}" width="{x(end) - x(report.attack_from):.1f}" '
            f'height="{panel}" fill="#fdecea"/>',
            f'<rect x="{x(0):.1f}" y="{y0}" width="{x(report.warmup) - left:.1f}" height="{panel}" '
            'fill="#999" fill-opacity="0.15"/>',
        ]
        for step in range(5):
            value = high * step / 4
            ty = y0 + panel * (1 - step / 4)
            out.append(f'<line x1="{left}" x2="{left + width}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#ddd"/>')
            out.append(f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end">{value:.0f} {unit}</text>')
        return out

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 40}" height="{height}" '
        'font-family="sans-serif" font-size="11">',
        f'<text x="10" y="18" font-size="14" font-weight="bold">Soak at {report.rate:g} requests/s for '
        f"{report.duration:g} s: memory and latency (grey: warm-up; red: hostile clients)</text>",
    ]
    # Memory: what is held between queries, the measure of growth.
    high = max([sample[2] for sample in samples] + [1.0]) * 1.2
    y0 = top
    out += panel_frame(y0, high, "MB")

    def my(mb: float) -> float:
        return y0 + panel * (1 - mb / high)

    out.append(polyline([(x(sample[0]), my(sample[2])) for sample in samples], "#2b7bba", 2))
    out.append(polyline([(x(sample[0]), my(sample[3])) for sample in samples], "#1a9850", 2))
    steady = [(sample[0], sample[3]) for sample in samples if sample[0] >= report.warmup]
    if len(steady) >= 3:
        fit = statistics.linear_regression([t for t, _ in steady], [v for _, v in steady])
        ends = [steady[0][0], steady[-1][0]]
        out.append(polyline([(x(t), my(fit.intercept + fit.slope * t)) for t in ends], "#d62728", 1))
    out.append(f'<text x="{left}" y="{y0 - 8}" fill="#2b7bba">memory held between queries (blue);</text>')
    out.append(
        f'<text x="{left + 215}" y="{y0 - 8}" fill="#1a9850">long-lived processes\' private memory: '
        f"{report.long_lived_growth_pct_per_hour:+.2f} % per hour after warm-up (red line)</text>"
    )
    # Latency: p95 of entity pages and small queries per window, and windows with failures.
    y0 = top + panel + gap
    high = max([p95 for _, p95, _ in report.windows] + [P95_TARGET_MS]) * 1.1
    out += panel_frame(y0, high, "ms")

    def ly(ms: float) -> float:
        return y0 + panel * (1 - ms / high)

    target = ly(P95_TARGET_MS)
    out.append(
        f'<line x1="{left}" x2="{left + width}" y1="{target:.1f}" y2="{target:.1f}" stroke="#d62728" '
        'stroke-dasharray="4 3"/>'
    )
    out.append(polyline([(x(t + WINDOW / 2), ly(p95)) for t, p95, _ in report.windows], "#2b7bba", 2))
    for t, _, failed in report.windows:
        if failed:
            out.append(f'<circle cx="{x(t + WINDOW / 2):.1f}" cy="{y0 + panel - 4}" r="4" fill="#d62728"/>')
    out.append(
        f'<text x="{left}" y="{y0 - 8}" fill="#2b7bba">entity and small-query p95 per {WINDOW:g} s '
        f"(dashed: target {P95_TARGET_MS:g} ms; dots: windows with a request left unanswered)</text>"
    )
    out.append(
        f'<text x="{left + width / 2}" y="{height - 8}" text-anchor="middle">seconds into the run</text>'
    )
    for step in range(6):
        seconds = end * step / 5
        out.append(f'<text x="{x(seconds):.1f}" y="{height - 24}" text-anchor="middle">{seconds:.0f}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def render(report: Report) -> str:
    lines = [
        f"Soak from {report.started_at} UTC: {report.sent:,} requests at {report.rate:g}/s for {report.duration:g} s "
        f"(achieved {report.achieved_rps:.1f}/s; latest departure {report.max_late_ms:.0f} ms behind schedule, "
        f"at {report.max_late_at:.0f} s); "
        f"hostile clients from {report.attack_from:g} s, memory slope from {report.warmup:g} s; result cache "
        f"{'serve default' if report.cache_mb is None else f'{report.cache_mb:g} MiB'} per worker",
        "",
        "| route | requests | req/s | p50 ms | p95 ms | p99 ms | non-2xx/3xx | 5xx or no answer |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for route, row in report.routes.items():
        lines.append(
            f"| {route} | {row['requests']:,} | {row['rps']:.1f} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | "
            f"{row['p99_ms']:.1f} | {row['errors']} | {row['5xx']} |"
        )
    readers = sum(row["requests"] for route, row in report.routes.items() if route != "hostile")
    growth_ok = report.long_lived_growth_pct_per_hour < GROWTH_TARGET
    totals = [sample[1] for sample in report.pss_mb]
    first, last = report.pss_mb[0], report.pss_mb[-1]
    p95 = max(report.routes.get(r, {}).get("p95_ms", 0) for r in ("entity", "select"))
    ratio = report.attack_p95_ms / report.calm_p95_ms if report.calm_p95_ms else float("nan")
    lines += [
        "",
        f"Well-behaved clients: {report.reader_errors} errors and {report.reader_5xx} 5xx in {readers:,} requests "
        f"({100 * report.reader_5xx / max(readers, 1):.2f} % 5xx; target 0 %): {report.reader_statuses}.",
        *(f"  failed at {at:.1f} s: {target} -> {why}" for at, target, why in report.reader_failures[:20]),
        f"Requests sent again after a reused connection closed under them: {len(report.reader_retries)}.",
        *(f"  retried at {at:.1f} s: {target} after {why}" for at, target, why in report.reader_retries[:20]),
        f"Hostile requests answered: {report.hostile} (time-limit 503s are runaway queries stopped; "
        "429 is fair use).",
        f"Entity and small-query p95: {p95:.1f} ms (target < {P95_TARGET_MS:g} ms): "
        f"{'met' if p95 < P95_TARGET_MS else 'missed'}.",
        f"Their p95 before hostile clients {report.calm_p95_ms:.1f} ms, during {report.attack_p95_ms:.1f} ms "
        f"(ratio {ratio:.2f}).",
        f"Memory, PSS of every process: {totals[0]:.0f} MB at start, {min(totals):.0f}-{max(totals):.0f} MB "
        f"over the run (engine processes running runaway queries hold tens of MB each until killed); slope "
        f"after warm-up {report.growth_pct_per_hour:+.2f} % per hour.",
        f"Memory held between queries (PSS of every process less the private pages of engines running "
        f"a query): {first[2]:.0f} -> {last[2]:.0f} MB; slope after warm-up "
        f"{report.footprint_growth_pct_per_hour:+.2f} % per hour (idle engines, a few MB each, vary in number).",
        f"Private memory of the long-lived processes (main, workers, spawners): {first[3]:.1f} -> {last[3]:.1f} "
        f"MB; growth after warm-up {report.long_lived_growth_pct_per_hour:+.2f} % per hour of the memory held "
        f"(target < {GROWTH_TARGET:g} %): {'met' if growth_ok else 'missed'}. An idle engine's private memory: "
        f"{first[4]:.1f} -> {last[4]:.1f} MB (median), {report.idle_engine_mb_per_hour:+.2f} MB per hour.",
    ]
    if report.connections:
        counts = [n for _, n in report.connections]
        lines.append(
            f"Connections open to the server: {min(counts)}-{max(counts)} over the run "
            f"({CONNECTIONS} client connections, each reopened whenever the server closes it)."
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second (default 50)")
    parser.add_argument("--duration", type=float, default=600.0, help="seconds (default 600)")
    parser.add_argument(
        "--warmup",
        type=float,
        help="seconds left out of the memory slope (default: until 5 minutes after hostile clients start, "
        "so that every kind of request has been served)",
    )
    parser.add_argument(
        "--calm",
        type=float,
        help="seconds before the hostile clients start (default: a third of the run)",
    )
    parser.add_argument(
        "--cache-mb",
        type=float,
        help="each worker's result cache, passed to serve (default: serve's own). A small cache fills "
        "during warm-up, so that the slope after it shows growth other than the cache reaching its bound",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--redraw", action="store_true", help="only draw soak.svg again from the last run's soak.json"
    )
    args = parser.parse_args()
    if args.redraw:
        saved = json.loads((RESULTS / "soak.json").read_text(encoding="utf-8"))
        report = Report(saved["rate"], saved["duration"])
        report.__dict__.update(saved)
        (RESULTS / "soak.svg").write_text(svg_chart(report), encoding="utf-8")
        print(f"written: {RESULTS / 'soak.svg'}")
        return
    if args.rate * args.duration > MAX_REQUESTS:
        parser.error(f"a soak run is bounded: at most {MAX_REQUESTS:,} requests")
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ldn-soak-") as workdir:
        try:
            calm = args.calm if args.calm is not None else args.duration / 3
            warmup = args.warmup if args.warmup is not None else min(calm + 300, args.duration / 2)
            report = run(args.rate, args.duration, calm, warmup, args.seed, args.cache_mb, Path(workdir))
        finally:
            _keep_server_log(Path(workdir) / "ldn-graph-soak.log")
    text = render(report)
    print(text)
    (RESULTS / "soak.md").write_text(text + "\n", encoding="utf-8")
    (RESULTS / "soak.json").write_text(json.dumps(report.__dict__, indent=1), encoding="utf-8")
    (RESULTS / "soak.svg").write_text(svg_chart(report), encoding="utf-8")
    print(f"written: {RESULTS / 'soak.md'}, soak.json, soak.svg")


def _keep_server_log(log: Path) -> None:
    """Keep what the server logged besides its access lines (worker exits, engine crashes, warnings)."""
    if not log.exists():
        return
    lines = [line for line in log.read_text(errors="replace").splitlines() if _worth_keeping(line)]
    (RESULTS / "soak-server.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"server log, quick access lines left out: {RESULTS / 'soak-server.log'} ({len(lines):,} lines)")


def _worth_keeping(line: str) -> bool:
    """Every line but the access log's, and of those the slow ones (a second or more)."""
    if "ldn_graph.access" not in line:
        return True
    try:
        return json.loads(line.split("ldn_graph.access: ", 1)[1])["ms"] >= 1000
    except (IndexError, ValueError, KeyError):
        return True


if __name__ == "__main__":
    main()

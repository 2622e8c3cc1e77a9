"""Page benchmark: condition, study and entity pages on the built graph, against Oxigraph's own server.

Our server (every limit on) is measured twice: as it runs, where a page read again is sent as
rendered the first time (the result cache keeps pages), and with the cache off (``--cache-mb 0``),
where every request asks the engine the page's queries and renders the page. Oxigraph's server (PyPI
``oxigraph``, in-memory store loaded with the same release) answers the two queries the page rests on
(its nodes, then their triples as N-Triples): the data a page needs with no page around it. Each page
is fetched ``--requests`` times in a row over one kept-alive connection after a warm-up, one client at
a time, so the figures are latencies, not throughput. Printed per page: p50 and p95 in milliseconds for
each, and the ratio of our p95 to Oxigraph's. The product's goal: entity and condition pages p95 under
20 ms. Results go to bench/results/pages.{json,md,svg}.

    python bench/pages.py [--requests 200] [--release FILE]
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import time
import urllib.parse
from dataclasses import asdict, dataclass
from pathlib import Path

from endpoint import ROOT, _free_port, _post, _start  # the same server starters as bench/endpoint.py

from ldn_graph.graph.cached_release import built_release
from ldn_graph.serving import page_queries
from ldn_graph.vocab.prefixes import ID

PAGES = {
    "condition: fibromyalgia": "fibromyalgia",
    "condition: long COVID": "long-covid",
    "condition: multiple sclerosis": "multiple-sclerosis",
    "condition: Crohn's disease": "crohns-disease",
    "study: FINAL trial": "final-trial",
    "study: Bested 2023 crossover trial": "bested-2023-trial",
    "study: Vatvani 2024 meta-analysis": "vatvani-2024-ma",
    "publication: Bruun 2024": "bruun-2024",
    "entity: low-dose naltrexone": "low-dose-naltrexone",
}
GOAL_MS = 20.0
QUERY = "application/sparql-query"


@dataclass
class Row:
    page: str
    ours_p50: float
    ours_p95: float
    rendered_p50: float  # with the result cache off: the page's queries and its rendering every time
    rendered_p95: float
    oxigraph_p50: float
    oxigraph_p95: float

    @property
    def ratio(self) -> float:
        return self.ours_p95 / self.oxigraph_p95


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _timed(connection: http.client.HTTPConnection, method: str, path: str, body=None, headers=None) -> float:
    started = time.perf_counter()
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    payload = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200 or not payload:
        raise SystemExit(f"{method} {path}: {response.status} {payload[:200]!r}")
    return elapsed


def time_ours(port: int, slug: str, requests: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    path = f"/id/{slug}"
    for _ in range(10):
        _timed(connection, "GET", path, headers={"Accept": "text/html"})
    return [_timed(connection, "GET", path, headers={"Accept": "text/html"}) for _ in range(requests)]


def time_oxigraph(port: int, slug: str, requests: int) -> list[float]:
    """The page's two queries, as our server asks its engine: the nodes, then their triples."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    iri = ID + slug
    select = page_queries.nodes_query(iri)

    def ask(query: str, accept: str) -> bytes:
        connection.request(
            "POST", "/query", body=query.encode(), headers={"Content-Type": QUERY, "Accept": accept}
        )
        response = connection.getresponse()
        body = response.read()
        if response.status != 200 or not body:
            raise SystemExit(f"oxigraph could not answer the page query of {slug}: {response.status}")
        return body

    def once() -> float:
        started = time.perf_counter()
        rows = json.loads(ask(select, "application/sparql-results+json"))["results"]["bindings"]
        ask(page_queries.description_query(iri, [row["x"]["value"] for row in rows]), "application/n-triples")
        return (time.perf_counter() - started) * 1000

    for _ in range(10):
        once()
    return [once() for _ in range(requests)]


def render(rows: list[Row], requests: int, release: Path) -> str:
    lines = [
        f"Pages on {release.name}, {requests} requests each, one client, kept-alive connection.",
        "",
        "| page | ours p50 ms | ours p95 ms | cache off: p50 ms | p95 ms | Oxigraph (page queries) p50 ms "
        "| p95 ms | ours / Oxigraph p95 | goal p95 < 20 ms (ours; cache off) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        verdicts = "; ".join("met" if p95 < GOAL_MS else "missed" for p95 in (row.ours_p95, row.rendered_p95))
        lines.append(
            f"| {row.page} | {row.ours_p50:.1f} | {row.ours_p95:.1f} | {row.rendered_p50:.1f} | "
            f"{row.rendered_p95:.1f} | {row.oxigraph_p50:.1f} | {row.oxigraph_p95:.1f} | {row.ratio:.1f}× | "
            f"{verdicts} |"
        )
    return "\n".join(lines) + "\n"


def chart(rows: list[Row]) -> str:
    """Horizontal bars of p95 per page: ours, ours with the cache off, Oxigraph's page queries; the goal
    as a dashed line."""
    series = (
        ("ldn-graph", "ours_p95", "#2b7bba"),
        ("ldn-graph, cache off", "rendered_p95", "#9ecae1"),
        ("Oxigraph, page queries", "oxigraph_p95", "#e08214"),
    )
    bar, gap, left, width = 12, 10, 230, 460
    top = max([GOAL_MS] + [getattr(row, field) for row in rows for _, field, _ in series])
    scale = width / top
    height = 70 + len(rows) * (len(series) * bar + gap) + 20
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 70}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        '<text x="10" y="20" font-size="14" font-weight="bold">Page latency, p95 in ms (one client)</text>',
    ]
    for i, (label, _, colour) in enumerate(series):
        out.append(f'<rect x="{10 + i * 190}" y="32" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{26 + i * 190}" y="43">{label}</text>')
    y = 60
    for row in rows:
        out.append(f'<text x="10" y="{y + bar * len(series) / 2 + 4}">{row.page}</text>')
        for _, field, colour in series:
            value = getattr(row, field)
            length = max(1.0, value * scale)
            out.append(f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{bar - 2}" fill="{colour}"/>')
            out.append(f'<text x="{left + length + 4:.1f}" y="{y + bar - 3}">{value:.1f}</text>')
            y += bar
        y += gap
    goal = left + GOAL_MS * scale
    out.append(
        f'<line x1="{goal:.1f}" y1="52" x2="{goal:.1f}" y2="{y}" stroke="#b2182b" stroke-dasharray="4 3"/>'
    )
    out.append(f'<text x="{goal + 3:.1f}" y="{y + 12}" fill="#b2182b">goal {GOAL_MS:g} ms</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--release", type=Path, default=None)
    options = parser.parse_args()
    release = options.release or built_release()
    with tempfile.TemporaryDirectory() as workdir:
        ours_port, rendering_port, oxigraph_port = _free_port(), _free_port(), _free_port()
        serve = [sys.executable, "-m", "ldn_graph", "serve", "--release", str(release)]
        ours = _start(
            "ldn-graph",
            [*serve, "--port", str(ours_port)],
            f"http://127.0.0.1:{ours_port}/sparql",
            Path(workdir),
        )
        rendering = _start(
            "ldn-graph-cache-off",
            [*serve, "--port", str(rendering_port), "--cache-mb", "0"],
            f"http://127.0.0.1:{rendering_port}/sparql",
            Path(workdir),
        )
        oxigraph_binary = str(Path(sys.executable).with_name("oxigraph"))
        oxigraph = _start(
            "oxigraph",
            [oxigraph_binary, "serve", "--bind", f"127.0.0.1:{oxigraph_port}"],
            f"http://127.0.0.1:{oxigraph_port}/query",
            Path(workdir),
        )
        try:
            status, body = _post(
                f"http://127.0.0.1:{oxigraph_port}/store?default",
                release.read_bytes(),
                "application/n-triples",
                120,
            )
            if status not in (200, 201, 204):
                raise SystemExit(f"oxigraph refused the release: {status} {body[:300]!r}")
            rows = []
            for name, slug in PAGES.items():
                mine = time_ours(ours_port, slug, options.requests)
                rendered = time_ours(rendering_port, slug, options.requests)
                theirs = time_oxigraph(oxigraph_port, urllib.parse.quote(slug), options.requests)
                rows.append(
                    Row(
                        name,
                        *(
                            _percentile(samples, share)
                            for samples in (mine, rendered, theirs)
                            for share in (0.5, 0.95)
                        ),
                    )
                )
                print(render(rows[-1:], options.requests, release).splitlines()[-1], flush=True)
        finally:
            ours.stop()
            rendering.stop()
            oxigraph.stop()
    report = render(rows, options.requests, release)
    print()
    print(report)
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "pages.md").write_text(report, encoding="utf-8")
    (results / "pages.svg").write_text(chart(rows), encoding="utf-8")
    (results / "pages.json").write_text(
        json.dumps([asdict(row) | {"ratio": row.ratio} for row in rows], indent=1) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()

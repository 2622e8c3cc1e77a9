"""The long fuzz run: many more generated, hostile and mutated queries than CI runs, on loopback.

    python bench/fuzz.py --examples 5000 [--seed N]

Starts our server on the built graph with a 1 s time limit and a loopback listener that counts every
connection, then sends each input by GET, form or body (tests/reliability/sparql_fuzz_grammar.py). An
input fails when it gets a 5xx other than the time limit's 503, an answer later than the limit + 0.5 s
(with slack for a shared machine), or makes anything connect to the listener. Failing inputs are written
to tests/reliability/regressions/, which the test suite replays. Side by side, the same inputs go to
Oxigraph's own server (``oxigraph serve --timeout-s 1``, PyPI ``oxigraph``) on the same graph, to show what the guard
and the engine pool stop: its 5xx, its crashes (restarted) and its late answers are counted the same way.
Prints inputs per second, the status classes of both, and the failures.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "reliability"))
sys.path.insert(0, str(ROOT / "tests"))  # support.*, which the fuzz check shares with the tests
sys.path.insert(0, str(ROOT / "bench"))
from endpoint import _free_port, _post, _start  # noqa: E402  (the endpoint benchmark's server helpers)
from fuzz_check import FuzzFailure, check, keep_regression, send  # noqa: E402
from sparql_fuzz_grammar import any_query  # noqa: E402

LIMIT = 1.0


def _listener():
    sys.path.insert(0, str(ROOT / "tests"))
    from support.listener import Listener  # the safety tests' counting listener

    return Listener()


def _oxigraph(graph: Path, workdir: Path, name: str = "oxigraph"):
    """Oxigraph's server, in memory, with the same time limit, loaded with the same graph."""
    binary = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [binary, "serve", "--bind", f"127.0.0.1:{port}", "--timeout-s", str(int(LIMIT))]
    server = _start(name, command, url + "/query", workdir)
    status, _ = _post(url + "/store?default", graph.read_bytes(), "application/n-triples", timeout=60)
    assert status in (200, 201, 204), status
    return server, url + "/query"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=None, help="default: random, printed")
    parser.add_argument("--no-peer", action="store_true", help="skip Oxigraph's server")
    args = parser.parse_args()
    chosen = args.seed if args.seed is not None else random.randrange(2**32)
    print(f"seed {chosen} (rerun with --seed {chosen})", file=sys.stderr)

    from ldn_graph.graph.cached_release import built_release

    graph = built_release()
    listener = _listener()
    with tempfile.TemporaryDirectory(prefix="ldn-fuzz-") as work:
        workdir = Path(work)
        port = _free_port()
        ours = _start(
            "ldn-graph",
            [
                sys.executable,
                "-m",
                "ldn_graph",
                "serve",
                "--port",
                str(port),
                "--release",
                str(graph),
                "--timeout",
                str(LIMIT),
            ],
            f"http://127.0.0.1:{port}/sparql",
            workdir,
        )
        peer = None if args.no_peer else _oxigraph(graph, workdir)
        ours_statuses, peer_statuses, failures = Counter(), Counter(), []
        peer_crashes = peer_hits = 0
        started = time.perf_counter()

        @hypothesis_seed(chosen)
        @settings(
            max_examples=args.examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(query=any_query(listener.url), how=st.sampled_from(("get", "form", "direct")))
        def fuzz(query: str, how: str) -> None:
            nonlocal peer, peer_crashes, peer_hits
            hits = listener.hits
            try:
                ours_statuses[check(ours.url, query, LIMIT, how) // 100] += 1
            except FuzzFailure as failure:
                failures.append(str(failure))
                print(f"FAIL {failure}\n  kept as {keep_regression(query)}", file=sys.stderr)
            if listener.hits != hits:
                failures.append(f"connection to the listener from {query[:200]!r}")
                keep_regression(query)
            if peer is None:
                return
            before = listener.hits
            try:
                response = send(peer[1], query, how if how != "form" else "direct", timeout=LIMIT + 10)
                peer_statuses[response.status_code // 100] += 1
            except requests.RequestException:
                peer_statuses["no answer"] += 1
                if peer[0].process.poll() is not None:  # it crashed: count it and start it again
                    peer_crashes += 1
                    peer = _oxigraph(graph, workdir, f"oxigraph-{peer_crashes}")
            time.sleep(0.05)  # a connection the peer made is counted by the listener's thread
            peer_hits += listener.hits - before

        fuzz()
        elapsed = time.perf_counter() - started
        ours.stop()
        if peer is not None:
            peer[0].stop()
    listener.close()
    print(f"{args.examples:,} inputs in {elapsed:.0f} s ({args.examples / elapsed:.1f}/s), seed {chosen}")
    ours_hits = listener.hits - peer_hits
    print(f"ldn-graph: status classes {dict(ours_statuses)}; failures {len(failures)}; outbound {ours_hits}")
    if peer_statuses:
        print(
            f"oxigraph serve (same {LIMIT:g} s limit, no guard): status classes {dict(peer_statuses)}; "
            f"crashes {peer_crashes}; outbound connections {peer_hits}"
        )
    for failure in failures[:20]:
        print("  " + failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

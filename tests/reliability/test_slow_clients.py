"""Slow and idle clients do not delay the others: with 1,000 connections held open that trickle their
headers (or send nothing), ordinary requests on new connections keep p99 under 100 ms and none fails.

The server runs with its default settings: each worker keeps up to ``--connections`` open and closes a
connection whose headers take longer than ``--header-timeout`` (5 s); the slow clients reopen at once
what it closes, as an attacker would. Bounded: 1,000 connections, 7 s of ordinary requests each.
"""

from __future__ import annotations

import resource

import pytest
from support.slow_clients import SlowClients, ordinary_requests

SLOW = 1000
SECONDS = 7.0  # past the 5-s header timeout: the server closes every first slow connection meanwhile


@pytest.fixture(scope="module")
def server(launch, built_graph, tmp_path_factory):
    # This process holds the 1,000 connections too: make room for them beside pytest's own files.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = SLOW + 1024
    if soft != resource.RLIM_INFINITY and soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.fail(f"this test holds {SLOW} connections but the open-file limit is {hard} (ulimit -Hn)")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    log = tmp_path_factory.mktemp("slow-clients") / "server.log"
    live = launch("--release", str(built_graph), "--workers", "2", log=log)
    yield live
    live.stop()


@pytest.mark.parametrize("idle", [False, True], ids=["trickling headers", "idle"])
def test_a_thousand_slow_connections_do_not_delay_ordinary_requests(server, idle):
    port = int(server.url.rsplit(":", 1)[1])
    with SlowClients(port, SLOW, idle=idle) as slow:
        timings = ordinary_requests(port, duration=SECONDS, threads=2)
        held, closed = slow.open, slow.closed_by_server
    assert timings.failures == [], timings.failures[:5]
    assert len(timings.seconds) > 200
    assert timings.percentile_ms(99) < 100, (timings.percentile_ms(50), timings.percentile_ms(99))
    # The slow connections were really there throughout, and the server let go of them only at its
    # header timeout (each was reopened at once).
    assert held == SLOW and SLOW <= closed <= 2 * SLOW

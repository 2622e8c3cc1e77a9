"""The deployment of deploy/ on loopback: Varnish in front of HAProxy, which balances two ldn-graph
servers answering from one Oxigraph server, each tier started as its own process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support.live_server import start_server
from support.stores import StoreProcess, ldn_graph_load, start_haproxy, start_oxigraph, start_varnish

TESTS = Path(__file__).resolve().parents[1]
RELEASE = TESTS / "endpoint" / "fixtures" / "release.nt"
# How long shared caches may keep an answer, in seconds (the nodes' --max-age): short, for the reload test.
CACHE_TTL = 3


@dataclass
class Deployment:
    store: StoreProcess
    release: Path = RELEASE
    max_age: int = CACHE_TTL  # the nodes' --max-age
    nodes: list = field(default_factory=list)  # LiveServer, each with its pid file
    pid_files: list[Path] = field(default_factory=list)
    balancer: StoreProcess | None = None
    cache: StoreProcess | None = None
    directory: Path | None = None

    def stop(self) -> None:
        for tier in (self.cache, self.balancer, *self.nodes, self.store):
            if tier is not None:
                tier.stop()


def deploy(directory: Path, *node_options: str) -> Deployment:
    """One store, two nodes, the balancer and the cache, as docs/deployment.md starts them."""
    store = start_oxigraph(directory / "oxigraph.log")
    deployment = Deployment(store, directory=directory)
    try:
        ldn_graph_load(store.store_url, "--release", str(RELEASE))
        for number in (1, 2):
            pid_file = directory / f"node{number}.pid"
            options = ["--store-url", store.query_url, "--workers", "1", "--pid-file", str(pid_file)]
            options += ["--client-header", "X-Forwarded-For", "--max-age", str(CACHE_TTL), *node_options]
            deployment.pid_files.append(pid_file)
            deployment.nodes.append(start_server(*options, log=directory / f"node{number}.log"))
        deployment.balancer = start_haproxy(
            directory, [node.url.removeprefix("http://") for node in deployment.nodes]
        )
        deployment.cache = start_varnish(
            directory / "varnish", deployment.balancer.url.removeprefix("http://"), default_ttl=CACHE_TTL
        )
    except BaseException:
        deployment.stop()
        raise
    return deployment


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Iterator[Deployment]:
    running = deploy(tmp_path_factory.mktemp("deployment"))
    yield running
    running.stop()


@pytest.fixture
def own_deployment(tmp_path) -> Iterator[Deployment]:
    """A deployment for a test that changes it (reloads it, kills a node)."""
    running = deploy(tmp_path)
    yield running
    running.stop()

"""deploy/ as shipped, every tier a real process on loopback (docs/deployment.md): repeated GETs come from
Varnish, a reload shows through the cache within the answer's max-age, and a node killed mid-run loses
no request HAProxy can send again."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import requests
from support.stores import ldn_graph_load

SPARQL_JSON = {"Accept": "application/sparql-results+json"}
_REQUESTS = re.compile(r'^ldngraph_http_requests_total\{route="/sparql",status="\d+"\} (\d+)$', re.M)


def sparql_requests_seen(deployment) -> int:
    """The /sparql requests the nodes have answered, from their metrics."""
    return sum(
        int(count)
        for node in deployment.nodes
        for count in _REQUESTS.findall(requests.get(node.url + "/metrics", timeout=10).text)
    )


def hits(response: requests.Response) -> bool:
    """Varnish names two transactions on an answer from its cache (this one's and the one that stored
    it), one on an answer it fetched."""
    return len(response.headers["X-Varnish"].split()) == 2


def test_repeated_gets_are_served_by_the_cache(deployment):
    query = {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o } # repeated"}
    before = sparql_requests_seen(deployment)
    first = requests.get(deployment.cache.url + "/sparql", params=query, headers=SPARQL_JSON, timeout=30)
    again = [
        requests.get(deployment.cache.url + "/sparql", params=query, headers=SPARQL_JSON, timeout=30)
        for _ in range(5)
    ]
    assert first.status_code == 200 and not hits(first)
    assert all(r.status_code == 200 and hits(r) and r.content == first.content for r in again)
    assert sparql_requests_seen(deployment) - before == 1  # only the first reached a node
    # Another Accept is another answer (Vary: Accept), kept apart and served from the cache in turn.
    as_csv = [
        requests.get(
            deployment.cache.url + "/sparql", params=query, headers={"Accept": "text/csv"}, timeout=30
        )
        for _ in range(2)
    ]
    assert [r.headers["Content-Type"].split(";")[0] for r in as_csv] == ["text/csv"] * 2
    assert [hits(r) for r in as_csv] == [False, True]
    # POSTed queries, /health and /metrics always reach a node.
    for _ in range(2):
        posted = requests.post(deployment.cache.url + "/sparql", data=query, headers=SPARQL_JSON, timeout=30)
        assert posted.status_code == 200 and not hits(posted)
        assert not hits(requests.get(deployment.cache.url + "/health", timeout=30))


def test_errors_are_not_kept(deployment):
    refused = {"query": "SELECT * WHERE { ?s ?p }"}
    answers = [requests.get(deployment.cache.url + "/sparql", params=refused, timeout=30) for _ in range(2)]
    assert [r.status_code for r in answers] == [400, 400]  # a 4xx the app marks as it likes; a 5xx never kept
    gone = requests.get(
        deployment.cache.url + "/id/no-such-entity", headers={"Accept": "text/html"}, timeout=30
    )
    assert gone.status_code == 404


def _max_age(response: requests.Response) -> float:
    """How long a shared cache may keep ``response``, by its Cache-Control."""
    control = response.headers["Cache-Control"]
    found = re.search(r"s-maxage=(\d+)", control) or re.search(r"max-age=(\d+)", control)
    assert found, control
    return float(found.group(1))


def _edition(deployment, tmp_path, value: str) -> None:
    quads = tmp_path / f"{value}.nq"
    quads.write_text(f'<urn:x-test:deployment> <urn:x-test:edition> "{value}" <urn:x-test:edition-graph> .\n')
    ldn_graph_load(deployment.store.store_url, "--release", str(deployment.release), "--data", str(quads))


def test_a_reload_changes_what_the_cache_serves_within_its_max_age(own_deployment, tmp_path):
    deployment = own_deployment
    query = {"query": "SELECT ?v WHERE { GRAPH <urn:x-test:edition-graph> { ?s ?p ?v } }"}

    def through_the_cache() -> tuple[str, requests.Response]:
        answer = requests.get(
            deployment.cache.url + "/sparql", params=query, headers={"Accept": "text/csv"}, timeout=30
        )
        assert answer.status_code == 200
        return answer.text.split()[-1], answer

    _edition(deployment, tmp_path, "first")
    value, first = through_the_cache()
    stored_at = time.monotonic() - float(first.headers.get("Age", 0))
    assert value == "first"
    # A new release in the store, and every node reloaded: the nodes answer from it at once.
    _edition(deployment, tmp_path, "second")
    for pid_file in deployment.pid_files:
        reload = subprocess.run(
            [sys.executable, "-m", "ldn_graph", "reload", "--pid-file", str(pid_file)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert reload.returncode == 0, reload.stderr
    for node in deployment.nodes:
        direct = requests.get(node.endpoint, params=query, headers={"Accept": "text/csv"}, timeout=30)
        assert direct.text.split()[-1] == "second"
    # The cache serves what it holds until the answer's max-age is over, and then the new answer.
    max_age = _max_age(first)
    assert max_age == deployment.max_age
    while (value := through_the_cache()[0]) == "first":
        assert time.monotonic() - stored_at <= max_age + 1.0, "the cache kept an answer past its max-age"
        time.sleep(0.1)
    assert value == "second"


def test_a_node_killed_mid_run_loses_no_request(own_deployment):
    """Distinct queries (so each goes past the cache) from four clients; halfway, one node is killed
    outright. Every request is answered, the ones it held sent again to the other node."""
    deployment = own_deployment
    total, clients = 240, 4
    answers: list[tuple[int, int, str]] = []
    done = threading.Semaphore(0)

    def client(offset: int) -> None:
        for number in range(offset, total, clients):
            query = {"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o }} # request {number}"}
            try:
                answer = requests.get(
                    deployment.cache.url + "/sparql", params=query, headers={"Accept": "text/csv"}, timeout=30
                )
                answers.append((number, answer.status_code, answer.text.split()[-1]))
            except requests.RequestException as error:
                answers.append((number, 0, str(error)))
            done.release()

    threads = [threading.Thread(target=client, args=(offset,)) for offset in range(clients)]
    for thread in threads:
        thread.start()
    for _ in range(total // 3):
        done.acquire(timeout=60)
    victim = deployment.nodes[0]
    os.kill(victim.process.pid, signal.SIGKILL)  # its workers follow it (parent-death signal)
    victim.process.wait()
    for thread in threads:
        thread.join(120)
    expected = requests.get(
        deployment.nodes[1].endpoint,
        params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
        headers={"Accept": "text/csv"},
        timeout=30,
    ).text.split()[-1]
    assert len(answers) == total
    failed = [a for a in answers if a[1] != 200 or a[2] != expected]
    assert not failed, failed[:5]

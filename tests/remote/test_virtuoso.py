"""Virtuoso Open Source (Debian's virtuoso-opensource) as the store: what a data engineer meets loading a
stock Virtuoso with ``ldn-graph load``, and how the client reads what Virtuoso answers when it stops a
query or holds other graphs than ours."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from support.stores import VIRTUOSO_CREDENTIALS, VIRTUOSO_GRAPH, VirtuosoServer

from ldn_graph.serving.protocol import BadRequest
from ldn_graph.serving.remote_store import RemoteStore, RemoteTimeout

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "docs" / "scale-out.md").read_text(encoding="utf-8")
# A filtered cross product no store finishes in seconds, and its COUNT: without the limits, an answer of 0.
RUNAWAY_COUNT = """SELECT (COUNT(*) AS ?n) WHERE {
  ?a ?b ?c . ?d ?e ?f . ?g ?h ?i FILTER(STRLEN(STR(?c)) + STRLEN(STR(?f)) + STRLEN(STR(?i)) < 0)
}"""


def load(store_url: str, *options: str, credentials: str | None = None) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LDNGRAPH_")}
    if credentials:
        env["LDNGRAPH_STORE_CREDENTIALS"] = credentials
    return subprocess.run(
        [sys.executable, "-m", "ldn_graph", "load", "--store-url", store_url, *options],
        capture_output=True, text=True, timeout=120, check=False, env=env,
    )  # fmt: skip


def test_load_needs_credentials_and_says_so(virtuoso_full, release_nt):
    graph = ["--graph", "urn:x-test:credentials", "--release", str(release_nt)]
    refused = load(virtuoso_full.store_url, *graph)
    assert refused.returncode == 2
    assert "asks for credentials (401)" in refused.stderr and "LDNGRAPH_STORE_CREDENTIALS" in refused.stderr
    wrong = load(virtuoso_full.store_url, *graph, credentials="dba:not-the-password")
    assert wrong.returncode == 2 and "refused the credentials of user 'dba' (401)" in wrong.stderr
    assert "not-the-password" not in wrong.stderr
    user, password = VIRTUOSO_CREDENTIALS.split(":")
    in_url = virtuoso_full.store_url.replace("://", f"://{user}:{password}@")
    loaded = load(in_url, *graph)
    assert loaded.returncode == 0, loaded.stderr
    assert password not in loaded.stderr.replace(f"user '{user}'", "")


def test_load_says_when_the_store_has_no_default_graph(virtuoso_full, release_nt):
    refused = load(virtuoso_full.store_url, "--release", str(release_nt), credentials=VIRTUOSO_CREDENTIALS)
    assert refused.returncode == 2
    assert "has no default graph to write to" in refused.stderr and "--graph IRI" in refused.stderr


def test_load_says_when_the_user_may_not_write(virtuoso_full, release_nt):
    virtuoso_full.isql("DB.DBA.USER_CREATE('reader', 'reader-secret');")
    refused = load(
        virtuoso_full.store_url, "--graph", "urn:x-test:forbidden", "--release", str(release_nt),
        credentials="reader:reader-secret",
    )  # fmt: skip
    assert refused.returncode == 2
    assert "does not let user reader write to the graph <urn:x-test:forbidden> (403)" in refused.stderr
    assert "SPARQL_UPDATE" in refused.stderr


def test_the_documented_bulk_load(virtuoso_full, release_nt, tmp_path):
    """The bulk loader docs/scale-out.md gives for large releases, run as written there."""
    block = re.search(r"```sh\n(isql-vt [^`]*?)```", DOCS, re.S)
    assert block, "docs/scale-out.md shows the bulk load with isql-vt"
    statements = re.search(r'exec="([^"]*)"', block.group(1).replace("\\\n", " ")).group(1)
    graph = "urn:x-test:bulk"
    directory = Path(virtuoso_full.log).parent  # in the database's DirsAllowed
    (directory / "bulk").mkdir(exist_ok=True)
    (directory / "bulk" / release_nt.name).write_bytes(release_nt.read_bytes())
    statements = (
        statements.replace("/srv/releases/0.2.0", str(directory / "bulk"))
        .replace("ldn-graph-0.2.0.nt.gz", release_nt.name)
        .replace(VIRTUOSO_GRAPH, graph)
    )
    virtuoso_full.isql(statements)
    with RemoteStore(virtuoso_full.query_url, default_graph=graph) as store:
        assert len(store) == len(release_nt.read_text(encoding="utf-8").splitlines())


def test_a_partial_answer_is_not_passed_off_as_whole(virtuoso_full):
    """Given a time limit of its own in the request, Virtuoso answers what it found by then as if it were
    the whole answer, saying otherwise only in a header: a COUNT of 0 here. That is a 503, not an answer."""
    with RemoteStore(virtuoso_full.query_url + "?timeout=500", 20, default_graph=VIRTUOSO_GRAPH) as store:
        started = time.monotonic()
        with pytest.raises(RemoteTimeout, match="sent what it had found"):
            store.query(RUNAWAY_COUNT)
        assert time.monotonic() - started < 10


def test_the_stores_own_time_limit_is_a_503(virtuoso_full):
    with (
        RemoteStore(virtuoso_full.query_url, 20, default_graph=VIRTUOSO_GRAPH) as store,
        pytest.raises(RemoteTimeout, match="stopped the query at its own time limit"),
    ):
        store.query(RUNAWAY_COUNT)


def test_graphs_of_the_store_that_are_not_served_stay_out(virtuoso_full):
    """Virtuoso's default graph is the union of everything it holds, its own system graphs too: only the
    release graph and the named graphs served are read, and naming another graph is refused."""
    with RemoteStore(
        virtuoso_full.query_url,
        default_graph=VIRTUOSO_GRAPH,
        named_graphs=["http://kasei.us/2009/09/sparql/data/data1.rdf"],
    ) as store:
        graphs = {s["g"].value for s in store.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}
        assert graphs == {"http://kasei.us/2009/09/sparql/data/data1.rdf"}
        system = "http://www.openlinksw.com/schemas/virtrdf#"
        assert not bool(store.query(f"ASK {{ ?s ?p ?o FILTER (STRSTARTS(STR(?p), '{system}')) }}"))
        for held in (system, VIRTUOSO_GRAPH):
            with pytest.raises(BadRequest, match="does not serve as a named graph"):
                store.query(f"SELECT * WHERE {{ GRAPH <{held}> {{ ?s ?p ?o }} }}")
        # A graph the store does not hold is empty (Virtuoso would answer one empty solution).
        assert list(store.query("SELECT * WHERE { GRAPH <http://example.org/none> { ?s ?p ?o } }")) == []


def test_a_graph_not_served_is_refused_through_the_server(remote_server, full_store):
    answer = requests.get(
        remote_server.endpoint,
        params={"query": f"ASK {{ GRAPH <{VIRTUOSO_GRAPH}> {{ ?s ?p ?o }} }}"},
        timeout=30,
    )
    if isinstance(full_store, VirtuosoServer):  # the release's graph there is not a named graph
        assert answer.status_code == 400 and "does not serve as a named graph" in answer.text
    else:
        assert answer.status_code == 200 and "false" in answer.text

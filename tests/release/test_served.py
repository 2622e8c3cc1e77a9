"""A releases directory served: downloads with HTTP validators and ranges, /.well-known/void against the
endpoint's own counts, /health, refusal of a release cut short while the previous one keeps serving,
asked of the application through Flask's test client; and over the real server on loopback, the data
engineer's path: download, verify and load into a second engine that gives the same answers."""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import json
import logging
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic

from ldn_graph.graph.dataset_description import DATASET
from ldn_graph.graph.namespaces import VOID
from ldn_graph.graph.release import make_release
from ldn_graph.releases import verify_release
from ldn_graph.web.app import create_app
from ldn_graph.web.config import ServeConfig

ROOT = Path(__file__).resolve().parents[2]
QUERY = ROOT / "queries" / "02-receptors-antagonised.rq"
JSON_RESULTS = "application/sparql-results+json"


@pytest.fixture(scope="module")
def client(releases_dir) -> FlaskClient:
    return create_app(ServeConfig(releases=releases_dir), isolate_queries=False).test_client()


@pytest.fixture(scope="module")
def served(releases_dir, tmp_path_factory, launch):
    server = launch("--releases", str(releases_dir), log=tmp_path_factory.mktemp("served") / "server.log")
    yield server
    server.stop()


SITE = ServeConfig().public_url  # where the application's links point


def count(client: FlaskClient, pattern: str) -> int:
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}"
    answer = client.get("/sparql", query_string={"query": query}, headers={"Accept": JSON_RESULTS})
    assert answer.status_code == 200, answer.text
    return int(answer.get_json()["results"]["bindings"][0]["n"]["value"])


def served_void(client: FlaskClient, accept: str = "text/turtle") -> Graph:
    response = client.get("/.well-known/void", headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["Vary"] == "Accept"
    formats = {"text/turtle": "turtle", "application/n-triples": "nt", "application/rdf+xml": "xml"}
    return Graph().parse(data=response.get_data(), format=formats[accept])


def test_void_counts_match_the_endpoints_own_count(client):
    void = served_void(client)
    number = lambda predicate, node=DATASET: int(void.value(node, predicate))  # noqa: E731
    assert number(VOID.triples) == count(client, "?s ?p ?o")
    assert number(VOID.distinctSubjects) == count(client, "SELECT DISTINCT ?s { ?s ?p ?o }")
    assert number(VOID.properties) == count(client, "SELECT DISTINCT ?p { ?s ?p ?o }")
    assert number(VOID.classes) == count(client, "SELECT DISTINCT ?c { ?s a ?c }")
    entities = 'SELECT DISTINCT ?s { ?s ?p ?o FILTER STRSTARTS(STR(?s), "https://w3id.org/ldngraph/id/") }'
    assert number(VOID.entities) == count(client, entities)
    partitions = list(void.objects(DATASET, VOID.classPartition))
    assert len(partitions) == number(VOID.classes)
    for partition in partitions:
        cls = void.value(partition, VOID["class"])
        assert number(VOID.entities, partition) == count(client, f"?s a <{cls}>"), cls


def test_void_is_the_releases_void_in_every_format(client, released):
    shipped = Graph().parse(released.path / "void.ttl", format="turtle")
    for accept in ("text/turtle", "application/n-triples", "application/rdf+xml"):
        assert isomorphic(served_void(client, accept), shipped), accept
    jsonld = client.get("/.well-known/void", headers={"Accept": "application/ld+json"})
    assert json.loads(jsonld.get_data())["@context"]["schema"] == "https://schema.org/"
    refused = client.get("/.well-known/void", headers={"Accept": "image/png"})
    assert refused.status_code == 406 and "text/turtle" in refused.text


def test_the_service_description_links_to_the_void(client):
    description = client.get("/sparql", headers={"Accept": "text/turtle"}).text
    assert f"<{SITE}/.well-known/void>" in description


def test_health_reports_the_served_release(client, released):
    health = client.get("/health")
    assert health.status_code == 200
    assert health.headers["Cache-Control"] == "no-store"
    assert health.get_json() == {
        "status": "ready",
        "ready": True,
        "version": released.version,
        "release": released.version,
        "triples": released.manifest.triples,
    }


@pytest.mark.parametrize("version_path", ["{version}", "latest"])
@pytest.mark.parametrize("name", ["ldn-graph.nt.gz", "ldn-graph.ttl", "manifest.json", "SHA256SUMS"])
def test_downloads_are_the_release_files(client, released, version_path, name):
    with client.get(f"/downloads/{version_path.format(version=released.version)}/{name}") as response:
        assert response.status_code == 200
        body = (released.path / name).read_bytes()
        assert response.get_data() == body
        assert int(response.headers["Content-Length"]) == len(body)
        assert response.headers["ETag"] == f'"{hashlib.sha256(body).hexdigest()}"'
        assert response.headers["Accept-Ranges"] == "bytes"
        assert "Last-Modified" in response.headers
        assert "Content-Encoding" not in response.headers  # a .gz arrives as the file sha256sum checks
        if name.endswith(".gz"):
            assert response.headers["Content-Type"] == "application/gzip"
        if version_path == "latest":
            assert response.headers["Content-Location"] == f"/downloads/{released.version}/{name}"
            assert "immutable" not in response.headers["Cache-Control"]
        else:
            assert "immutable" in response.headers["Cache-Control"]


def test_downloads_answer_ranges_and_conditional_requests(client, released):
    url = f"/downloads/{released.version}/ldn-graph.nt"
    body = (released.path / "ldn-graph.nt").read_bytes()

    def get(**headers: str):
        with client.get(url, headers=headers) as response:  # closes the file it sends
            response.get_data()
            return response

    first = get()
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]

    part = get(Range="bytes=100-199")
    assert part.status_code == 206
    assert part.get_data() == body[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(body)}"
    assert part.headers["Content-Length"] == "100"

    tail = get(Range="bytes=-50")
    assert tail.status_code == 206 and tail.get_data() == body[-50:]

    beyond = get(Range=f"bytes={len(body) + 10}-")
    assert beyond.status_code == 416

    assert get(**{"If-None-Match": etag}).status_code == 304
    assert get(**{"If-None-Match": '"another"'}).status_code == 200
    assert get(**{"If-Modified-Since": modified}).status_code == 304
    earlier = email.utils.formatdate(
        email.utils.parsedate_to_datetime(modified).timestamp() - 3600, usegmt=True
    )
    assert get(**{"If-Modified-Since": earlier}).status_code == 200

    # If-Range: the part when the validator still matches, the whole file when it does not.
    resumed = get(Range="bytes=0-9", **{"If-Range": etag})
    assert resumed.status_code == 206 and resumed.get_data() == body[:10]
    stale = get(Range="bytes=0-9", **{"If-Range": '"old"'})
    assert stale.status_code == 200 and stale.get_data() == body

    with client.head(url) as head:
        assert head.status_code == 200 and head.get_data() == b""
        assert int(head.headers["Content-Length"]) == len(body)


def test_download_index_lists_every_file(client, released):
    index = client.get("/downloads/")
    assert index.status_code == 200 and "text/html" in index.headers["Content-Type"]
    assert f'href="{released.version}/"' in index.text
    page = client.get(f"/downloads/{released.version}/").text
    for entry in released.manifest.files:
        assert f'href="{entry.name}"' in page and entry.sha256 in page
    assert 'href="SHA256SUMS"' in page
    redirect = client.get(f"/downloads/{released.version}")
    assert redirect.status_code in (301, 308)


@pytest.mark.parametrize(
    "path",
    [
        "/downloads/9.9.9/ldn-graph.nt",
        "/downloads/{version}/no-such-file.ttl",
        "/downloads/{version}/..%2fmanifest.json",
        "/downloads/{version}/.hidden",
    ],
)
def test_downloads_refuse_what_is_not_a_release_file(client, released, path):
    response = client.get(path.format(version=released.version))
    assert response.status_code == 404
    assert '"sha256"' not in response.text  # whoever answers the 404, it is not the manifest


def test_fetch_verify_and_load_into_another_triplestore(served, client, released, tmp_path, loopback_port):
    """The data engineer's path, over the real server: download, `sha256sum -c`, load into an Oxigraph
    server, same answers."""
    for name in ("ldn-graph.nt.gz", "SHA256SUMS"):
        (tmp_path / name).write_bytes(
            requests.get(f"{served.url}/downloads/latest/{name}", timeout=10).content
        )
    checked = subprocess.run(
        ["sha256sum", "-c", "--ignore-missing", "SHA256SUMS"], cwd=tmp_path, capture_output=True, text=True
    )
    assert checked.returncode == 0 and "ldn-graph.nt.gz: OK" in checked.stdout, checked.stdout

    oxigraph = shutil.which("oxigraph")
    assert oxigraph, "the oxigraph server (PyPI oxigraph, in the test extra) is needed"
    port = loopback_port()
    other = subprocess.Popen(
        [oxigraph, "serve", "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while True:
            try:
                loaded = requests.post(
                    base + "/store?default",
                    data=gzip.decompress((tmp_path / "ldn-graph.nt.gz").read_bytes()),
                    headers={"Content-Type": "application/n-triples"},
                    timeout=30,
                )
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the oxigraph server did not start"
                time.sleep(0.05)
        assert loaded.status_code in (200, 201, 204), loaded.text
        query = QUERY.read_text(encoding="utf-8")
        ours = requests.post(
            served.endpoint, data={"query": query}, headers={"Accept": JSON_RESULTS}, timeout=10
        )
        theirs = requests.post(
            base + "/query",
            data=query.encode(),
            headers={"Content-Type": "application/sparql-query", "Accept": JSON_RESULTS},
            timeout=10,
        )
        assert ours.status_code == theirs.status_code == 200
        rows = ours.json()["results"]["bindings"]
        assert len(rows) >= 3
        assert rows == theirs.json()["results"]["bindings"]
        total = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
        their_count = requests.post(
            base + "/query",
            data=total.encode(),
            headers={"Content-Type": "application/sparql-query", "Accept": JSON_RESULTS},
            timeout=10,
        ).json()["results"]["bindings"][0]["n"]["value"]
        assert int(their_count) == count(client, "?s ?p ?o") == released.manifest.triples
    finally:
        other.terminate()
        other.wait(timeout=10)


def _cut_release(releases: Path, version, sources: Path, changelog) -> Path:
    """A newer release whose N-Triples were then cut at a statement boundary (it still parses)."""
    changelog(version("0.1.1"))
    target = make_release(releases, sources)
    dump = target / "ldn-graph.nt"
    lines = dump.read_bytes().splitlines(keepends=True)
    dump.write_bytes(b"".join(lines[:-40]))
    assert len(Graph().parse(dump, format="nt")) == len(lines) - 40
    return target


def test_a_release_cut_short_is_refused_and_the_previous_keeps_serving(
    tmp_path, sources, version, changelog, caplog
):
    releases = tmp_path / "releases"
    make_release(releases, sources)
    first = create_app(ServeConfig(releases=releases), isolate_queries=False).test_client()
    cut = _cut_release(releases, version, sources, changelog)
    assert (releases / "latest").resolve() == cut  # the files say 0.1.1 is the newest...
    with caplog.at_level(logging.WARNING, logger="ldn_graph"):
        second = create_app(ServeConfig(releases=releases), isolate_queries=False).test_client()
    for client in (first, second):  # ...but both answer from 0.1.0
        health = client.get("/health").get_json()
        assert health["version"] == health["release"] == "0.1.0"
        assert health["triples"] == verify_release(releases / "0.1.0").manifest.triples
        assert count(client, "?s ?p ?o") == health["triples"]
    (refusal,) = [r.getMessage() for r in caplog.records if "release refused" in r.getMessage()]
    assert "0.1.1/ldn-graph.nt" in refusal and "cut short" in refusal
    assert second.get("/downloads/0.1.1/ldn-graph.nt").status_code == 404
    with second.get("/downloads/latest/manifest.json") as latest:
        assert json.loads(latest.get_data())["version"] == "0.1.0"


def test_a_release_whose_triples_disagree_with_its_manifest_is_refused(released, tmp_path):
    from ldn_graph.graph.release import checksums_text
    from ldn_graph.releases import CHECKSUMS, MANIFEST, Manifest, sha256_of
    from ldn_graph.serving.stores import StoreLoadError, load_release

    # Consistent hashes, but a manifest that claims another number of triples: only loading finds it.
    copy = tmp_path / released.version
    shutil.copytree(released.path, copy)
    manifest = released.manifest
    lying = Manifest(manifest.version, manifest.issued, manifest.triples + 1, manifest.graph, manifest.files)
    (copy / MANIFEST).write_bytes(lying.to_json())
    sums = [(f.name, f.sha256) for f in manifest.files] + [(MANIFEST, sha256_of(copy / MANIFEST))]
    (copy / CHECKSUMS).write_bytes(checksums_text(sums))
    with pytest.raises(StoreLoadError, match="but the manifest says"):
        load_release(verify_release(copy))


def test_no_release_that_verifies_is_a_clear_error(tmp_path, launch):
    (tmp_path / "0.1.0").mkdir()
    (tmp_path / "0.1.0" / "manifest.json").write_text("{", encoding="utf-8")
    with pytest.raises(RuntimeError, match="no release here verifies"):
        launch("--releases", str(tmp_path), log=tmp_path / "server.log")


def test_no_downloads_without_a_releases_directory(store):
    # The built graph, served without a releases directory: no downloads, and VoID from the graph itself.
    client = create_app(ServeConfig(), store=store, isolate_queries=False).test_client()
    response = client.get("/downloads/")
    assert response.status_code == 404 and b"--releases" in response.data
    void = client.get("/.well-known/void")
    graph = Graph().parse(data=void.data, format="turtle")
    assert (DATASET, VOID.triples, None) in graph
    assert (URIRef(DATASET), URIRef("http://www.w3.org/ns/dcat#distribution"), None) not in graph


def test_download_pages_are_in_the_site_layout(client, released):
    """They had no stylesheet and no way back to the rest of the site."""
    for path in ("/downloads/", f"/downloads/{released.version}/"):
        page = client.get(path).text
        assert 'href="/static/pages.css"' in page or f'href="{SITE}/static/pages.css"' in page
        assert '<nav aria-label="Site">' in page and "Evidence map" in page
        assert "CC BY-SA 4.0" in page and "<main" in page


def test_landing_page_describes_the_dataset_in_schema_org_json_ld(client, released):
    page = client.get("/").text
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    dataset = json.loads(found.group(1))
    assert dataset["@context"] == "https://schema.org" and dataset["@type"] == "Dataset"
    assert dataset["license"] == "https://creativecommons.org/licenses/by-sa/4.0/"
    assert dataset["version"] == released.version
    downloads = {d["contentUrl"].rsplit("/", 1)[-1]: d for d in dataset["distribution"]}
    assert set(downloads) == {f.name for f in released.manifest.files}
    nt = downloads["ldn-graph.nt.gz"]
    assert nt["encodingFormat"] == "application/gzip" and nt["contentUrl"].startswith(SITE)

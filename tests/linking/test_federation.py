"""Federation both ways with a real second engine: an Oxigraph server (PyPI ``oxigraph``) on loopback,
holding small Wikidata-, UniProt- and MONDO-shaped test fixtures, and our server started for real.

1. Oxigraph runs the documented Wikidata join with ``SERVICE <our /sparql>``;
2. our server, with that Oxigraph on its SERVICE allow-list, runs the reverse join;
3. Oxigraph joins its UniProt and MONDO IRIs to our ``skos:exactMatch`` mappings.
The documented queries are run as written, only their SERVICE IRIs pointed at the test servers.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from rdflib.namespace import DCTERMS
from support.live_server import free_port, start_server

from ldn_graph.graph.build import build_graph, serialise, write_graph
from ldn_graph.vocab.schemes import SCHEMES, split_curie
from ldn_graph.web.app import create_app
from ldn_graph.web.config import ServeConfig

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FEDERATED = ROOT / "queries" / "federated"
FIXTURES = HERE / "fixtures"
OUR_ENDPOINT = "https://w3id.org/ldngraph/sparql"
WIKIDATA_ENDPOINT = "https://query.wikidata.org/sparql"
ID = "https://w3id.org/ldngraph/id/"
WD = "http://www.wikidata.org/entity/"


def query_text(name: str, **services: str) -> str:
    text = (FEDERATED / name).read_text(encoding="utf-8")
    for documented, actual in services.items():
        text = text.replace(f"SERVICE <{documented}>", f"SERVICE <{actual}>")
    return text


def select(url: str, query: str) -> list[dict[str, str]]:
    response = requests.post(
        url,
        data=query.encode("utf-8"),
        headers={"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return [{k: v["value"] for k, v in b.items()} for b in response.json()["results"]["bindings"]]


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory) -> Iterator[str]:
    """``oxigraph serve`` (in-memory store) on a free loopback port, loaded with the test fixtures."""
    port = free_port()
    log = tmp_path_factory.mktemp("oxigraph") / "oxigraph.log"
    with log.open("wb") as stream:
        process = subprocess.Popen(
            ["oxigraph", "serve", "--bind", f"127.0.0.1:{port}"], stdout=stream, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, log.read_text()
            try:
                requests.get(url + "/query", params={"query": "ASK {}"}, timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
        for fixture in ("wikidata.ttl", "uniprot-mondo.ttl"):
            loaded = requests.post(
                url + "/store?default",
                data=(FIXTURES / fixture).read_bytes(),
                headers={"Content-Type": "text/turtle"},
                timeout=10,
            )
            assert loaded.status_code in (200, 201, 204), loaded.text
        yield url + "/query"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _serve(tmp_path_factory, *options: str) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("ours")
    release = folder / "release.nt"
    write_graph(build_graph().graph, release)
    live = start_server("--release", str(release), "--workers", "1", *options, log=folder / "server.log")
    yield live.endpoint
    live.stop()


@pytest.fixture(scope="module")
def ours(tmp_path_factory) -> Iterator[str]:
    """Our server on the graph built from the sources, with federation off (the default)."""
    yield from _serve(tmp_path_factory)


@pytest.fixture(scope="module")
def ours_allowing(tmp_path_factory, oxigraph) -> Iterator[str]:
    """Our server with the Oxigraph server as its one allowed SERVICE."""
    yield from _serve(tmp_path_factory, "--service-allow", oxigraph)


def slug(iri: str) -> str:
    return iri.removeprefix(ID)


def test_wikidata_join_runs_on_oxigraph_with_service_to_us(oxigraph, ours):
    rows = select(oxigraph, query_text("wikidata-items-by-identifier.rq", **{OUR_ENDPOINT: ours}))
    found = {(slug(r["entity"]), r["item"].removeprefix(WD), r["value"]) for r in rows}
    assert found == {
        ("naltrexone", "Q99990001", "DB00704"),
        ("naltrexone", "Q99990001", "7465"),
        ("mu-opioid-receptor", "Q99990002", "P35372"),
        ("crohns-disease", "Q99990003", "MONDO:0005011"),
        ("crohns-disease", "Q99990003", "D003424"),
        ("parker-2018", "Q99990004", "29607497"),
        ("parker-2018", "Q99990004", "6494424"),
        ("parker-2018", "Q99990004", "10.1002/14651858.CD010410.PUB3"),
        ("final-trial", "Q99990005", "NCT04270877"),
    }


def test_reverse_join_runs_on_our_server_with_oxigraph_allowed(oxigraph, ours_allowing, store):
    query = query_text("claims-for-wikidata-items.rq", **{WIKIDATA_ENDPOINT: oxigraph})
    rows = select(ours_allowing, query)
    found = {(r["item"].removeprefix(WD), slug(r["entity"]), r["statement"].rsplit("/", 1)[-1]) for r in rows}
    assert ("Q99990001", "naltrexone", "naltrexone-antagonises-mu-opioid-receptor") in found
    assert ("Q99990003", "crohns-disease", "ldn-applied-to-treat-crohns-disease") in found
    assert {item for item, _, _ in found} == {"Q99990001", "Q99990003"}  # decoys never join
    evidence = {r["statement"].rsplit("/", 1)[-1]: r["evidence"] for r in rows}
    assert evidence["naltrexone-antagonises-mu-opioid-receptor"] == "established"
    # The same join evaluated locally (the fixture's items loaded beside the graph) gives the same rows.
    local = ox.Store()
    for quad in store:
        local.add(quad)
    local.load(path=str(FIXTURES / "wikidata.ttl"), format=ox.RdfFormat.TURTLE, to_graph=ox.DefaultGraph())
    unfederated = re.sub(r"SERVICE <[^>]*>", "", query)
    expected = {
        (s["item"].value.removeprefix(WD), slug(s["entity"].value), s["statement"].value.rsplit("/", 1)[-1])
        for s in local.query(unfederated)
    }
    assert found == expected


def test_our_server_refuses_a_service_off_its_allow_list(store):
    config = ServeConfig(service_allow=("http://127.0.0.1:9/sparql",))  # never called: the query is refused
    client = create_app(config, store=store, isolate_queries=False).test_client()
    query = query_text("claims-for-wikidata-items.rq")  # still naming Wikidata, which is not allowed
    response = client.post("/sparql", data={"query": query})
    assert response.status_code == 400 and "query.wikidata.org" in response.text


def test_uniprot_and_mondo_iris_join_to_our_claims(oxigraph, ours):
    rows = select(oxigraph, query_text("claims-by-external-iri.rq", **{OUR_ENDPOINT: ours}))
    found = {(r["iri"], slug(r["entity"]), r["statement"].rsplit("/", 1)[-1]) for r in rows}
    assert (
        "http://purl.uniprot.org/uniprot/P35372",
        "mu-opioid-receptor",
        "naltrexone-antagonises-mu-opioid-receptor",
    ) in found
    assert (
        "http://purl.obolibrary.org/obo/MONDO_0005011",
        "crohns-disease",
        "ldn-applied-to-treat-crohns-disease",
    ) in found
    assert {iri for iri, _, _ in found} == {
        "http://purl.uniprot.org/uniprot/P35372",
        "http://purl.obolibrary.org/obo/MONDO_0005011",
    }
    assert all(r["theirLabel"].startswith("test record") for r in rows)


# --- the documented queries cannot drift from the scheme table ------------------------------------------


def values_rows(query: str) -> dict[str, str]:
    (block,) = re.findall(r"VALUES \(\?curiePrefix[^)]*\) \{(.*?)\}", query, flags=re.DOTALL)
    return dict(re.findall(r'\("([^"]+)" wdt:(P\d+)', block))


def test_wikidata_join_covers_every_scheme_with_a_wikidata_property():
    rows = values_rows(query_text("wikidata-items-by-identifier.rq"))
    assert rows == {s.curie_prefix: s.wikidata_property for s in SCHEMES.values() if s.wikidata_property}


def test_wikidata_join_applies_each_schemes_transform(built, table):
    """Every identifier of the graph, plus one table identifier of each scheme the graph lacks, written as
    ``to_wikidata`` says under its property: the query must join each to its own entity and to no other."""
    store = ox.Store()
    store.load(serialise(built.graph, "nt"), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.DefaultGraph())
    identifiers = {(s, str(o)) for s, o in built.graph.subject_objects(DCTERMS.identifier)}
    present = {split_curie(curie)[0].key for _, curie in identifiers}
    for row in table.rows:
        scheme = SCHEMES.get(row.scheme)
        if scheme and scheme.wikidata_property and row.emit and scheme.key not in present:
            entity = f"urn:test:entity:{scheme.key}"
            identifiers.add((entity, scheme.curie(row.identifier)))
            present.add(scheme.key)
            for triple in (
                (entity, "http://purl.org/dc/terms/identifier", ox.Literal(scheme.curie(row.identifier))),
                (entity, "http://www.w3.org/2000/01/rdf-schema#label", ox.Literal("test", language="en")),
            ):
                store.add(ox.Quad(ox.NamedNode(triple[0]), ox.NamedNode(triple[1]), triple[2]))
    expected = set()
    for n, (entity, curie) in enumerate(sorted(identifiers, key=str)):
        scheme, local = split_curie(curie)
        if not scheme.wikidata_property:
            continue
        item = f"urn:test:item:{n}"
        prop = f"http://www.wikidata.org/prop/direct/{scheme.wikidata_property}"
        store.add(ox.Quad(ox.NamedNode(item), ox.NamedNode(prop), ox.Literal(scheme.to_wikidata(local))))
        expected.add((str(entity), item))
    query = re.sub(r"SERVICE <[^>]*>", "", query_text("wikidata-items-by-identifier.rq"))
    found = {(s["entity"].value, s["item"].value) for s in store.query(query)}
    assert found == expected
    assert {"hgnc", "ncbigene", "doi", "pmc", "mondo"} <= present  # the transforms that differ are exercised


def test_reverse_join_transforms_agree_with_the_scheme_table():
    query = query_text("claims-for-wikidata-items.rq")
    pairs = re.findall(r'wdt:(P\d+) \?value \. BIND \("([^"]*)" AS \?curiePrefix\)', query)
    assert len(pairs) == 2
    by_property = {s.wikidata_property: s for s in SCHEMES.values() if s.wikidata_property}
    samples = {"drugbank": "DB00704", "mondo": "0005011"}
    for prop, prefix in pairs:
        scheme = by_property[prop]
        local = samples[scheme.key]
        assert prefix + scheme.to_wikidata(local) == scheme.curie(local), prop

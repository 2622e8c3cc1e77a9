"""Build: deterministic output, persistent IRIs, materialised standard types, version stamp, VoID."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, XSD

from ldn_graph import __version__
from ldn_graph.atomic_files import write_atomic
from ldn_graph.graph.build import build_graph, serialise
from ldn_graph.graph.dataset_description import DATASET
from ldn_graph.graph.namespaces import BIOLINK, DCAT, FOAF, LDN, LDNGRAPH, PROV, SCHEMA, VCARD, VOID
from ldn_graph.vocab.prefixes import ID, ONTOLOGY_IRI

ROOT = Path(__file__).resolve().parents[1]
XSD_DECIMAL = ox.NamedNode(str(XSD.decimal))


def run_build(out: Path, epoch: str = "1700000000") -> subprocess.CompletedProcess:
    """``ldn-graph build`` in a process of its own (another hash seed), from the sources: a build kept in
    the cache by an earlier command would be copied, not made again."""
    env = dict(os.environ, SOURCE_DATE_EPOCH=epoch)
    return subprocess.run(
        [sys.executable, "-m", "ldn_graph", "build", "--out", str(out), "--no-cache"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.parametrize("suffix", [".ttl", ".nt"])
def test_same_input_same_bytes(tmp_path, suffix):
    first, second = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    assert run_build(first).returncode == 0
    assert run_build(second).returncode == 0
    assert first.read_bytes() == second.read_bytes()
    parsed = Graph().parse(first, format="nt" if suffix == ".nt" else "turtle")
    assert len(parsed) > 3000


def test_issued_date_comes_from_source_date_epoch(tmp_path):
    out = tmp_path / "g.nt"
    assert run_build(out, epoch="1767225600").returncode == 0  # 2026-01-01
    graph = Graph().parse(out, format="nt")
    assert graph.value(DATASET, URIRef("http://purl.org/dc/terms/issued")) == Literal(
        "2026-01-01", datatype=XSD.date
    )


def test_ntriples_are_sorted(built):
    lines = serialise(built.graph, "nt").decode().splitlines()
    assert lines == sorted(lines)


def test_no_blank_nodes_anywhere(built):
    assert not [t for t in built.graph if any(isinstance(x, BNode) for x in t)]


def test_entities_use_the_persistent_base(built):
    ours = {s for s in built.graph.subjects() if str(s).startswith("https://w3id.org/ldngraph/")}
    assert ours
    for node in ours:
        assert str(node).startswith((ID, "https://w3id.org/ldngraph/ontology")), node


def test_version_is_stamped_once(built):
    ontology = URIRef(ONTOLOGY_IRI)
    assert built.graph.value(ontology, OWL.versionInfo) == Literal(__version__)
    assert str(built.graph.value(ontology, OWL.versionIRI)).endswith(f"/{__version__}/ontology")
    assert built.graph.value(DATASET, OWL.versionInfo) == Literal(__version__)


@pytest.mark.parametrize(
    ("entity", "types"),
    [
        ("naltrexone", [SCHEMA.Drug, BIOLINK.SmallMolecule]),
        ("6beta-naltrexol", [BIOLINK.SmallMolecule]),
        ("low-dose-naltrexone", [SCHEMA.MedicalTherapy, BIOLINK.Treatment]),
        ("ultra-low-dose-naltrexone", [SCHEMA.MedicalTherapy, BIOLINK.Treatment]),
        ("mu-opioid-receptor", [BIOLINK.Protein]),
        ("crohns-disease", [SCHEMA.MedicalCondition, BIOLINK.Disease]),
        ("chronic-pain", [SCHEMA.MedicalCondition, BIOLINK.PhenotypicFeature]),
        ("dopamine-secretion", [BIOLINK.BiologicalProcess]),
        ("gaba-a-receptor-activity", [BIOLINK.MolecularActivity]),
        ("final-trial", [SCHEMA.MedicalStudy, SCHEMA.MedicalTrial]),
        ("norway-ldn-cohort-study", [SCHEMA.MedicalStudy, SCHEMA.MedicalObservationalStudy]),
        ("younger-2014", [SCHEMA.ScholarlyArticle]),
        ("nmss-low-dose-naltrexone", [SCHEMA.WebPage]),
        ("steenhuysen-2022", [SCHEMA.NewsArticle]),
        ("eve-2020", [SCHEMA.Report]),
        ("ldn-status-united-kingdom", [SCHEMA.DrugLegalStatus]),
        ("dose-ldn-typical", [SCHEMA.DoseSchedule]),
        ("statement/ldn-efficacy-long-covid", [RDF.Statement]),
    ],
)
def test_standard_types_are_materialised(built, entity, types):
    for standard in types:
        assert (LDN[entity], RDF.type, standard) in built.graph


def test_void_counts_describe_the_graph(built):
    graph = built.graph
    described = int(graph.value(DATASET, VOID.triples))
    description = len(list(graph.triples((DATASET, None, None))))
    assert description > 10
    assert described == len(graph)  # the description counts itself too
    assert int(graph.value(DATASET, VOID.entities)) > 100
    linksets = set(graph.objects(DATASET, VOID.subset))
    assert LDN["dataset/linkset/mondo"] in linksets
    assert LDN["dataset/linkset/uniprot"] in linksets
    assert (LDN["dataset/linkset/mondo"], RDF.type, VOID.Linkset) in graph


@pytest.mark.parametrize("cls", ["StudyResult", "StudyArm", "EvidenceSummary", "RegistryRecord"])
def test_void_partitions_count_the_evidence_classes(built, cls):
    graph = built.graph
    (partition,) = graph.subjects(VOID["class"], LDNGRAPH[cls])
    assert partition in set(graph.objects(DATASET, VOID.classPartition))
    instances = set(graph.subjects(RDF.type, LDNGRAPH[cls]))
    assert int(graph.value(partition, VOID.entities)) == len(instances) > 0


def test_the_description_names_agents_and_sources_as_nodes(built):
    graph = built.graph
    creator = graph.value(DATASET, DCTERMS.creator)
    assert isinstance(creator, URIRef) and graph.value(DATASET, DCTERMS.publisher) == creator
    assert (creator, RDF.type, FOAF.Agent) in graph and graph.value(creator, FOAF.name) is not None
    contact = graph.value(DATASET, DCAT.contactPoint)
    assert (contact, RDF.type, VCARD.Kind) in graph
    assert graph.value(contact, VCARD.hasURL) == URIRef("https://w3id.org/ldngraph/")
    assert not any(str(o).startswith("mailto:") for o in graph.objects(contact, None))
    assert (DATASET, PROV.wasDerivedFrom, LDN["source-article"]) in graph
    assert (DATASET, DCTERMS.source, None) not in graph  # DCAT-AP: a dct:source is a dataset
    assert len(set(graph.objects(DATASET, DCAT.keyword))) >= 3
    assert graph.value(DATASET, DCAT.theme) == URIRef(
        "http://publications.europa.eu/resource/authority/data-theme/HEAL"
    )


def test_every_status_concept_says_whether_it_asserts(built):
    statuses = set(
        built.graph.subjects(
            URIRef("http://www.w3.org/2004/02/skos/core#inScheme"), LDNGRAPH.EvidenceStatusScheme
        )
    )
    assert len(statuses) >= 6
    for status in statuses:
        assert built.graph.value(status, LDNGRAPH.assertsTriple) is not None


def test_write_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "graph.nt"
    target.write_bytes(b"old\n")

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError):
        write_atomic(target, b"new\n")
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["graph.nt"]


def test_build_from_another_checkout(tmp_path):
    for folder in ("ontology", "graph_data"):
        (tmp_path / folder).mkdir()
    for path in (ROOT / "ontology").glob("*.ttl"):
        (tmp_path / "ontology" / path.name).write_bytes(path.read_bytes())
    (tmp_path / "graph_data" / "only.ttl").write_text(
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "@prefix ldngraph: <https://w3id.org/ldngraph/ontology/> .\n"
        "@prefix ldn: <https://w3id.org/ldngraph/id/> .\n"
        'ldn:x a ldngraph:Drug ; rdfs:label "x"@en .\n'
    )
    result = build_graph(tmp_path)
    assert (LDN.x, RDF.type, SCHEMA.Drug) in result.graph
    assert len(result.sources.files) == 2  # ontology/ldngraph.ttl and graph_data/only.ttl (shapes apart)


def test_literal_only_identifiers_link_to_the_provider_page(built):
    graph = built.graph
    url = URIRef("https://schema.org/url")
    assert (LDN.naltrexone, url, URIRef("https://go.drugbank.com/drugs/DB00704")) in graph
    assert (
        LDN["younger-2014"],
        url,
        URIRef("https://www.ncbi.nlm.nih.gov/pmc/articles/PMC3962576/"),
    ) in graph
    assert (LDN["final-trial"], url, URIRef("https://clinicaltrials.gov/study/NCT04270877")) in graph
    # a scheme with an IRI of the thing itself is mapped, not given a page
    assert (LDN.naltrexone, url, URIRef("http://purl.obolibrary.org/obo/CHEBI_7465")) not in graph


@pytest.mark.parametrize("fmt", ["ttl", "nt"])
def test_dumps_hold_the_literals_the_endpoint_returns(built, store, fmt):
    """The engine stores literals in canonical form ("20"^^xsd:decimal, not "20.0"); the dumps must
    read back, term for term, as the triples the endpoint answers with."""
    parsed = ox.parse(serialise(built.graph, fmt), format=ox.RdfFormat.TURTLE)
    dumped = {ox.Triple(q.subject, q.predicate, q.object) for q in parsed}
    served = {ox.Triple(q.subject, q.predicate, q.object) for q in store}
    assert dumped == served
    decimals = [
        t.object for t in dumped if isinstance(t.object, ox.Literal) and t.object.datatype == XSD_DECIMAL
    ]
    assert decimals and all(not d.value.endswith(".0") for d in decimals)


def test_written_files_get_the_usual_mode(tmp_path):
    """Atomic writes go through a private temp file (0600); the result must be readable like any file
    the user creates (0644 under umask 022), so a web server or a colleague can read a dump."""
    target = tmp_path / "graph.ttl"
    previous = os.umask(0o022)
    try:
        subprocess.run(
            [sys.executable, "-c", f"from ldn_graph.graph.build import write_atomic; write_atomic(__import__('pathlib').Path({str(target)!r}), b'x')"],
            check=True, cwd=ROOT,
        )  # fmt: skip
    finally:
        os.umask(previous)
    assert target.stat().st_mode & 0o777 == 0o644


def test_ntriples_from_a_store_are_written_as_rdflib_writes_them():
    """Oxigraph escapes control characters that rdflib's N-Triples writer leaves as they are; the
    store's dump is brought to rdflib's bytes, whatever a literal holds (a backslash before a t too)."""
    from ldn_graph.graph.ntriples import sorted_ntriples
    from ldn_graph.graph.store_graph import StoreGraph

    texts = ["tab\there", "back\\t", "\\\\", 'q"uote\\', "bell\x07", "del\x7f", "form\x0cfeed", "vt\x0b"]
    texts += ["nl\n", "cr\r", "ls\u2028", "nel\x85", "é 中 😀", "\ufeff", "".join(map(chr, range(32)))]
    reference, store = Graph(), StoreGraph()
    for number, text in enumerate(texts):
        for literal in (Literal(text), Literal(text, lang="en"), Literal(text, datatype=XSD.token)):
            triple = (URIRef(f"https://example.org/{number}"), URIRef("https://example.org/p"), literal)
            reference.add(triple)
            store.add(triple)
    lines = reference.serialize(format="nt11", encoding="utf-8").decode("utf-8").splitlines()
    expected = ("\n".join(sorted(line for line in lines if line.strip())) + "\n").encode("utf-8")
    assert sorted_ntriples(store.ntriples()) == expected
    without_line_ends = [t for t in reference if not any(c in str(t[2]) for c in "\x0b\x0c\x85\u2028")]
    plain, plain_store = Graph(), StoreGraph()
    for triple in without_line_ends:
        plain.add(triple)
        plain_store.add(triple)
    lines = plain.serialize(format="nt11", encoding="utf-8").decode("utf-8").splitlines()
    assert sorted_ntriples(plain_store.ntriples()) == ("\n".join(sorted(lines)) + "\n").encode("utf-8")


@pytest.mark.parametrize("store", [False, True])
def test_jsonld_written_node_by_node_is_the_document_as_json_dumps_writes_it(store):
    from ldn_graph.graph.jsonld import to_jsonld

    written = to_jsonld(build_graph(store=store).graph)
    document = json.loads(written)
    assert len(document["@graph"]) > 500
    assert written == (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    assert (
        to_jsonld(Graph())
        == (json.dumps({"@context": document["@context"], "@graph": []}, indent=1) + "\n").encode()
    )


def _tricky_store_graph(with_unbound_predicate: bool, doubles: bool = True):
    """Literals and IRIs that rdflib's Turtle writer writes each in its own way, in a store. (Oxigraph
    and rdflib write a double's canonical form differently: the graph holds none.)"""
    from ldn_graph.graph.store_graph import StoreGraph

    graph = StoreGraph()
    texts = ["plain", 'q"uote', 'ends "', 'three """ quotes', "line\nbreak", "ends\n", "cr\r", "back\\slash"]
    texts += ["tab\there", "é 中 😀", "", 'nl and quote at end\n"', "\\\n\\"]
    typed = [
        ("42", XSD.integer),
        ("-7", XSD.integer),
        ("20", XSD.decimal),
        ("0.5", XSD.decimal),
        ("1.0E3", XSD.double),
        ("true", XSD.boolean),
        ("2024-05-01", XSD.date),
        ("2014", XSD.gYear),
        ("https://example.org/x", XSD.anyURI),
        ("custom", URIRef("https://example.org/datatype")),
        ("NaN", XSD.double),
    ]
    subject = URIRef(f"{ID}tricky")
    for number, text in enumerate(texts):
        graph.add((subject, URIRef(f"{LDNGRAPH}text{number % 3}"), Literal(text)))
        graph.add(
            (subject, URIRef(f"{LDNGRAPH}tagged"), Literal(text or "x", lang=("en", "de", "fr")[number % 3]))
        )
    for lexical, datatype in typed if doubles else [t for t in typed if t[1] != XSD.double]:
        graph.add((subject, SCHEMA.value, Literal(lexical, datatype=datatype)))
        graph.add(
            (
                URIRef(f"{ID}typed-{lexical.replace(':', '')[:8]}"),
                SCHEMA.value,
                Literal(lexical, datatype=datatype),
            )
        )
    mixed = URIRef(f"{ID}mixed")
    for obj in (Literal("b"), URIRef(f"{ID}a"), Literal("a", lang="en"), Literal("a"), URIRef(f"{ID}tricky")):
        graph.add((mixed, RDF.value, obj))
    for iri in (
        "https://example.org/ends-with.",
        "https://example.org/(paren)",
        "https://example.org/per%cent",
    ):
        graph.add((URIRef(iri), DCTERMS.title, Literal("odd IRI")))
        graph.add((mixed, DCTERMS.references, URIRef(iri)))
    graph.add((URIRef(f"{LDNGRAPH}Thing"), RDF.type, URIRef("http://www.w3.org/2000/01/rdf-schema#Class")))
    graph.add((mixed, RDF.type, URIRef(f"{LDNGRAPH}Thing")))
    graph.add((mixed, OWL.sameAs, RDF.nil))
    if with_unbound_predicate:
        graph.add((mixed, URIRef("https://example.org/vocab/predicate"), Literal("invented prefix")))
    return graph


@pytest.mark.parametrize("with_unbound_predicate", [False, True])
def test_turtle_from_a_store_is_what_rdflibs_writer_writes(with_unbound_predicate):
    from ldn_graph.graph.build import as_rdflib

    graph = _tricky_store_graph(with_unbound_predicate)
    expected = as_rdflib(graph).serialize(format="canonical-turtle", encoding="utf-8")
    assert serialise(graph, "ttl") == expected


def test_jsonld_from_a_store_is_the_document_json_dumps_writes():
    from ldn_graph.graph.build import as_rdflib
    from ldn_graph.graph.jsonld import to_jsonld

    graph = _tricky_store_graph(with_unbound_predicate=True, doubles=False)
    written = to_jsonld(graph)
    assert written == to_jsonld(as_rdflib(graph))
    assert written == (json.dumps(json.loads(written), ensure_ascii=False, indent=1) + "\n").encode("utf-8")


@pytest.mark.parametrize("run_bytes", [1 << 26, 4096, 100])
def test_ntriples_sorted_in_runs_are_the_ntriples_sorted_at_once(monkeypatch, run_bytes):
    """Dumps longer than a run are sorted run by run on disk and merged: the same bytes."""
    from ldn_graph.graph import ntriples
    from ldn_graph.graph.store_graph import StoreGraph

    graph = _tricky_store_graph(with_unbound_predicate=True)
    for number in range(300):
        graph.add(
            (URIRef(f"{ID}n{number % 37}"), URIRef(f"{LDNGRAPH}p{number % 5}"), Literal(f"v\t{number}"))
        )
    graph.add((URIRef(f"{ID}vt"), URIRef(f"{LDNGRAPH}p"), Literal("line\x0bend and \u2028 too")))
    monkeypatch.setattr(ntriples, "RUN_BYTES", run_bytes)
    in_runs = b"".join(ntriples.sorted_ntriples_of(graph.store))
    assert in_runs == ntriples.sorted_ntriples(graph.ntriples())
    assert b"".join(ntriples.sorted_ntriples_of(StoreGraph().store)) == b"\n"


def test_plain_iris_are_named_as_rdflibs_writer_names_them(built):
    """The Turtle writer names IRIs of the plainest kind itself: each as rdflib's writer names it."""
    from ldn_graph.graph.turtle import _Names

    iris = {str(term) for triple in built.graph for term in triple if isinstance(term, URIRef)}
    iris |= {
        f"{ID}a",
        f"{ID}statement/x-1",
        f"{ID}123abc",
        f"{ID}1234",
        f"{ID}_under",
        f"{ID}dataset/class/biolink-Agent",
        f"{ID}statement/",
        f"{ID}statement",
        "https://w3id.org/ldngraph/ontology",
        "http://purl.obolibrary.org/obo/MONDO_0005011",
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil",
        "http://www.w3.org/XML/1998/namespace#lang",
        "https://example.org/unbound/thing",
        "urn:isbn:0451450523",
        "https://example.org/ünïcode/x",
        "https://example.org/a:b",
        "https://example.org/q?x=1",
        "https://doi.org/10.5555/ldn-syn.369",
        "https://example.org/ends-with-dash-",
    }
    plain, asked = _Names(), _Names()
    named = 0
    for iri in sorted(iris):
        mine = plain._plain_name(iri)
        if mine is not None:
            named += 1
            assert mine == asked.writer.label(URIRef(iri), 2), iri
    assert named > len(iris) / 2
    assert set(plain.writer.namespaces.items()) <= set(asked.writer.namespaces.items())

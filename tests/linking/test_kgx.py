"""KGX export: every category, predicate, qualifier and enum value exists in the Biolink model; ids are
the best external CURIEs, and an entity with none is not a node; no unasserted claim becomes an edge.
(KGX itself reads the export in ``test_kgx_tool.py``.)"""

from __future__ import annotations

import csv
import importlib.resources
import io

import pytest
import yaml
from rdflib import URIRef
from rdflib.namespace import RDF

from ldn_graph.graph.kgx import EDGE_COLUMNS, ID_PREFIXES, NODE_COLUMNS, KgxExport, export_kgx
from ldn_graph.graph.namespaces import LDNGRAPH
from ldn_graph.vocab.prefixes import STATEMENT


@pytest.fixture(scope="module")
def biolink() -> dict:
    schema = importlib.resources.files("biolink_model") / "schema" / "biolink_model.yaml"
    return yaml.safe_load(schema.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def export(built, table) -> KgxExport:
    return export_kgx(built.graph, table)


def rows(tsv: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE))


def snake(name: str) -> str:
    return name.replace(" ", "_")


def camel(name: str) -> str:
    return "".join(word[:1].upper() + word[1:] for word in name.split(" "))


def ancestors(slots: dict, name: str) -> list[str]:
    chain = []
    while name:
        chain.append(name)
        name = (slots.get(name) or {}).get("is_a")
    return chain


def class_id_prefixes(classes: dict, name: str) -> list[str]:
    while name:
        if classes[name].get("id_prefixes"):
            return classes[name]["id_prefixes"]
        name = classes[name].get("is_a")
    return []


def test_every_column_is_a_biolink_slot(biolink):
    slots = {snake(name) for name in biolink["slots"]}
    assert set(NODE_COLUMNS) <= slots
    assert set(EDGE_COLUMNS) <= slots


def test_categories_exist(biolink, export):
    classes = {f"biolink:{camel(name)}" for name in biolink["classes"]}
    for node in rows(export.nodes_tsv()):
        for category in node["category"].split("|"):
            assert category in classes, node


def test_predicates_and_qualifiers_exist(biolink, export):
    slots = biolink["slots"]
    predicates = {f"biolink:{snake(name)}": name for name in slots if "related to" in ancestors(slots, name)}
    enums = biolink["enums"]
    aspects = set(enums["GeneOrGeneProductOrChemicalEntityAspectEnum"]["permissible_values"])
    directions = set(enums["DirectionQualifierEnum"]["permissible_values"])
    levels = set(enums["KnowledgeLevelEnum"]["permissible_values"])
    agents = set(enums["AgentTypeEnum"]["permissible_values"])
    edges = rows(export.edges_tsv())
    assert len(edges) >= 18
    for edge in edges:
        assert edge["predicate"] in predicates, edge
        assert edge["qualified_predicate"] in {"", *predicates}, edge
        assert edge["object_aspect_qualifier"] in {"", *aspects}, edge
        assert edge["object_direction_qualifier"] in {"", *directions}, edge
        assert edge["knowledge_level"] in levels and edge["agent_type"] in agents, edge
        assert edge["primary_knowledge_source"] == "infores:ldn-graph"


def test_our_id_prefix_order_is_biolinks(biolink):
    classes = biolink["classes"]
    by_camel = {camel(name): name for name in classes}
    for category, ours in ID_PREFIXES.items():
        theirs = class_id_prefixes(classes, by_camel[category])
        assert [p for p in dict.fromkeys(theirs) if p in ours] == list(ours), category


def test_node_ids_are_best_external_curies(biolink, export):
    nodes = {node["iri"].rsplit("/", 1)[-1]: node for node in rows(export.nodes_tsv())}
    assert nodes["naltrexone"]["id"] == "CHEBI:7465"
    assert nodes["crohns-disease"]["id"] == "MONDO:0005011"
    assert nodes["mu-opioid-receptor"]["id"] == "UniProtKB:P35372"
    assert nodes["chronic-pain"]["id"] == "HP:0012532"  # a phenotypic feature: HP first
    assert nodes["long-covid"]["id"] == "MONDO:0100233"  # the exact one, not the broader MONDO:0100320
    assert "DRUGBANK:DB00704" in nodes["naltrexone"]["xref"].split("|")
    classes = biolink["classes"]
    by_camel = {camel(name): name for name in classes}
    for node in nodes.values():
        prefix = node["id"].partition(":")[0]
        allowed = {
            p for c in node["category"].split("|") for p in class_id_prefixes(classes, by_camel[c[8:]])
        }
        assert prefix in allowed, node


def test_entities_without_an_identifier_biolink_knows_are_not_nodes(built, export):
    nodes = {node["iri"] for node in rows(export.nodes_tsv())}
    for local in ("low-dose-naltrexone", "ultra-low-dose-naltrexone", "final-trial", "final-trial-result-1"):
        assert f"https://w3id.org/ldngraph/id/{local}" not in nodes
    for row in rows(export.nodes_tsv()) + rows(export.edges_tsv()):
        for column in ("id", "subject", "object"):
            assert not row.get(column, "x:").startswith("ldn:"), row


def test_a_therapy_is_said_of_its_drug_with_its_iri_as_the_original_subject(export):
    edges = {edge["id"].rsplit("/", 1)[-1]: edge for edge in rows(export.edges_tsv())}
    crohns = edges["ldn-applied-to-treat-crohns-disease"]
    assert (crohns["subject"], crohns["predicate"], crohns["object"]) == (
        "CHEBI:7465",
        "biolink:applied_to_treat",
        "MONDO:0005011",
    )
    assert crohns["original_subject"] == "https://w3id.org/ldngraph/id/low-dose-naltrexone"
    assert edges["naltrexone-treats-alcohol-dependence"]["original_subject"] == ""
    # "LDN uses naltrexone" would say naltrexone of itself: not an edge.
    assert "ldn-uses-naltrexone" not in edges and "uldn-uses-naltrexone" not in edges


def test_only_asserted_triples_become_edges(built, export):
    graph = built.graph
    edges = rows(export.edges_tsv())
    exported = {edge["id"].removeprefix(str(STATEMENT)) for edge in edges}
    for statement in graph.subjects(RDF.type, LDNGRAPH.Statement):
        triple = tuple(graph.value(statement, RDF[p]) for p in ("subject", "predicate", "object"))
        if triple not in graph:
            assert str(statement).rsplit("/", 1)[-1] not in exported
    assert "ldn-antagonises-toll-like-receptor-4" not in exported
    assert "ldn-efficacy-long-covid" not in exported
    ldn = [e for e in edges if e["original_subject"].endswith("/low-dose-naltrexone")]
    assert ldn and "biolink:treats" not in {e["predicate"] for e in ldn}


def test_edges_carry_sources_and_quotes(export):
    edges = {edge["id"]: edge for edge in rows(export.edges_tsv())}
    mu = edges[STATEMENT + "naltrexone-antagonises-mu-opioid-receptor"]
    assert (mu["subject"], mu["predicate"], mu["object"]) == (
        "CHEBI:7465",
        "biolink:affects",
        "UniProtKB:P35372",
    )
    assert (mu["qualified_predicate"], mu["object_aspect_qualifier"], mu["object_direction_qualifier"]) == (
        "biolink:causes",
        "activity",
        "decreased",
    )
    assert mu["original_predicate"] == "RO:0018029" and mu["publications"] == "PMID:23881605"
    assert mu["knowledge_level"] == "knowledge_assertion" and mu["agent_type"] == "manual_agent"
    assert "competitive antagonists" in mu["supporting_text"]
    trial = edges[STATEMENT + "ldn-in-clinical-trials-for-fibromyalgia"]
    assert (trial["predicate"], trial["object"]) == ("biolink:in_clinical_trials_for", "MONDO:0005546")


def test_every_edge_end_is_a_node(export):
    ids = {node["id"] for node in rows(export.nodes_tsv())}
    assert len(ids) == len(export.nodes)
    for edge in rows(export.edges_tsv()):
        assert edge["subject"] in ids and edge["object"] in ids


def test_cli_writes_both_files(cli, tmp_path):
    result = cli("export", "kgx", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    nodes = rows((tmp_path / "ldn-graph_nodes.tsv").read_text(encoding="utf-8"))
    edges = rows((tmp_path / "ldn-graph_edges.tsv").read_text(encoding="utf-8"))
    assert any(n["id"] == "CHEBI:7465" for n in nodes) and len(edges) >= 18


def test_edge_ids_are_the_iris_of_their_statements(built, export):
    statements = set(built.graph.subjects(RDF.type, LDNGRAPH.Statement))
    for edge in rows(export.edges_tsv()):
        assert URIRef(edge["id"]) in statements, edge["id"]

"""The prefix module: one map, scheme patterns, IRIs and the Wikidata value transforms."""

from __future__ import annotations

import re

import pytest

from ldn_graph.graph.validate import identifier_pattern
from ldn_graph.vocab.prefixes import PREFIXES, shorten, sparql_header, turtle_header
from ldn_graph.vocab.schemes import SCHEMES, split_curie


def test_contract_namespaces_are_exact():
    assert PREFIXES["schema"] == "https://schema.org/"  # not http: the contract's IRIs
    assert PREFIXES["biolink"] == "https://w3id.org/biolink/vocab/"
    assert PREFIXES["obo"] == "http://purl.obolibrary.org/obo/"
    assert PREFIXES["ldngraph"] == "https://w3id.org/ldngraph/ontology/"
    assert PREFIXES["unit"] == "http://qudt.org/vocab/unit/"
    assert PREFIXES["cito"] == "http://purl.org/spar/cito/"


def test_namespaces_are_unique():
    assert len(set(PREFIXES.values())) == len(PREFIXES)


@pytest.mark.parametrize(
    ("scheme", "local_id", "wikidata"),  # not "ours": a live fixture's name marks a test live
    [
        ("doi", "10.1007/s10067-014-2517-2", "10.1007/S10067-014-2517-2"),
        ("pmc", "PMC6494424", "6494424"),
        ("mondo", "0005011", "MONDO:0005011"),
        ("doid", "8778", "DOID:8778"),
        ("hp", "0012532", "HP:0012532"),
        ("go", "0004890", "GO:0004890"),
        ("cl", "0000129", "CL:0000129"),
        ("chebi", "7465", "7465"),
        ("drugbank", "DB00704", "DB00704"),
        ("uniprot", "P35372", "P35372"),
        ("mesh", "D009271", "D009271"),
        ("pmid", "29607497", "29607497"),
        ("clinicaltrials", "NCT04270877", "NCT04270877"),
    ],
)
def test_wikidata_value_transforms(scheme, local_id, wikidata):
    assert SCHEMES[scheme].to_wikidata(local_id) == wikidata


@pytest.mark.parametrize(
    ("curie", "iri"),
    [
        ("CHEBI:7465", "http://purl.obolibrary.org/obo/CHEBI_7465"),
        ("MONDO:0005011", "http://purl.obolibrary.org/obo/MONDO_0005011"),
        ("UniProtKB:P35372", "http://purl.uniprot.org/uniprot/P35372"),
        ("MESH:D009271", "http://id.nlm.nih.gov/mesh/D009271"),
        ("PUBCHEM.COMPOUND:5360515", "http://rdf.ncbi.nlm.nih.gov/pubchem/compound/CID5360515"),
        ("CHEMBL.COMPOUND:CHEMBL19019", "http://rdf.ebi.ac.uk/resource/chembl/molecule/CHEMBL19019"),
        ("WIKIDATA:Q30", "http://www.wikidata.org/entity/Q30"),
        ("doi:10.1002/pds.4110", "https://doi.org/10.1002/pds.4110"),
        ("PMID:29607497", "https://pubmed.ncbi.nlm.nih.gov/29607497"),
        ("DRUGBANK:DB00704", None),
        ("PMC:PMC6494424", None),
        ("CLINICALTRIALS:NCT04270877", None),
    ],
)
def test_canonical_iris(curie, iri):
    scheme, local = split_curie(curie)
    assert scheme.iri(local) == iri


@pytest.mark.parametrize(
    "bad",
    [
        "DRUGBANK:DB704",
        "doi:10.1007/S11916-020-00898-0",
        "MONDO:5011",
        "chebi:7465",
        "RXNORM:7243",
        "PMC:6494424",
    ],
)
def test_bad_identifiers_are_refused(bad):
    with pytest.raises(ValueError):
        split_curie(bad)
    assert not re.match(identifier_pattern(), bad)


def test_headers_carry_every_prefix():
    for prefix, namespace in PREFIXES.items():
        assert f"@prefix {prefix}: <{namespace}> ." in turtle_header()
        assert f"PREFIX {prefix}: <{namespace}>" in sparql_header()


def test_shorten():
    assert shorten("https://w3id.org/ldngraph/id/naltrexone") == "ldn:naltrexone"
    assert shorten("https://w3id.org/ldngraph/id/statement/x") == "ldns:x"
    assert shorten("http://example.org/x") == "<http://example.org/x>"

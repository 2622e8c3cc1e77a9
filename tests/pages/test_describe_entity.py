"""The library behind the pages: IRI <-> path mapping, the queries it writes, the data it reads back."""

from __future__ import annotations

import pytest
from pyoxigraph import DefaultGraph, RdfFormat, Store

from ldn_graph import describe_entity as describe
from ldn_graph.prefixes import ID, ONTOLOGY, ONTOLOGY_IRI, STATEMENT


@pytest.fixture(scope="module")
def store(release) -> Store:
    store = Store()
    store.load(path=str(release), format=RdfFormat.N_TRIPLES, to_graph=DefaultGraph())
    return store


@pytest.mark.parametrize(
    ("path", "iri"),
    [
        ("/id/naltrexone", ID + "naltrexone"),
        ("/id/statement/ldn-efficacy-long-covid", STATEMENT + "ldn-efficacy-long-covid"),
        ("/id/dataset/linkset/pubchem.compound", ID + "dataset/linkset/pubchem.compound"),
        ("/ontology", ONTOLOGY_IRI),
        ("/ontology/EfficacyNotShown", ONTOLOGY + "EfficacyNotShown"),
    ],
)
def test_paths_and_iris_map_both_ways(path, iri):
    assert describe.iri_for_path(path) == iri
    assert describe.server_path(iri) == path


@pytest.mark.parametrize(
    "path", ["/id/", "/id/a b", "/id/../x", "/id/x>y", "/ontology/a/b", "/ontology/1x", "/other/x", "/id//x"]
)
def test_paths_that_name_no_iri_are_refused(path):
    with pytest.raises(describe.UnknownPath):
        describe.iri_for_path(path)


def test_iris_outside_the_base_have_no_server_path():
    assert describe.server_path("http://purl.obolibrary.org/obo/MONDO_0005011") is None


def test_an_iri_cannot_break_out_of_the_query():
    with pytest.raises(ValueError):
        describe.description_query(ID + "x> ?p ?o } #")


def test_search_text_stays_inside_its_string(store):
    rows = list(store.query(describe.search_query('x" ) } INSERT DATA { <a:b> <a:b> <a:b> } #')))
    assert rows == []
    assert list(store.query(describe.search_query("FIBROMYALGIA")))  # case does not matter


def test_entity_page_of_a_condition(store):
    iri = ID + "multiple-sclerosis"
    page = describe.entity_page(iri, store.query(describe.description_query(iri)))
    assert page is not None and page.label == "multiple sclerosis"
    assert {t.iri for t in page.types} >= {ONTOLOGY + "Disease", "https://schema.org/MedicalCondition"}
    assert page.types[0].local  # our own classes come first
    statuses = {claim.status.label for claim in page.claims}
    assert {"no supporting evidence", "insufficient evidence", "reported finding"} <= statuses
    dated = next(c for c in page.claims if c.statement.iri.endswith("ldn-efficacy-multiple-sclerosis-2014"))
    assert dated.date == "2014" and not dated.asserted and dated.sources
    assert any(i.curie == "MONDO:0005301" and i.url for i in page.identifiers)
    centre = page.neighbourhood
    assert ID + "low-dose-naltrexone" in {node.link.iri for node in centre.nodes}
    assert all(0 <= node.x <= centre.width and 0 <= node.y <= centre.height for node in centre.nodes)


def test_unknown_iri_has_no_page(store):
    iri = ID + "nothing-here"
    assert describe.entity_page(iri, store.query(describe.description_query(iri))) is None
    assert not list(store.query(describe.exists_query(iri)))


def test_a_claim_without_a_source_says_citation_needed(store):
    iri = STATEMENT + "ldn-efficacy-immune-system-dysregulation"
    claim = describe.entity_page(iri, store.query(describe.description_query(iri))).claims[0]
    assert claim.statement.iri == iri
    assert not claim.sources and claim.citation_needed.label == "citation needed"


def test_evidence_map_rows_columns_and_cells(store):
    rows = [
        {
            name: solution[name]
            for name in ("condition", "conditionLabel", "status", "statusLabel", "claims", "sources")
            if solution[name] is not None
        }
        for solution in store.query(describe.evidence_map_query())
    ]
    grid = describe.evidence_map(rows)
    assert [s.iri for s in grid.statuses][: len(describe.EVIDENCE_ORDER)] == list(describe.EVIDENCE_ORDER)
    labels = [c.label for c in grid.conditions]
    assert labels == sorted(labels, key=str.lower) and "long COVID" in labels
    long_covid = next(c for c in grid.conditions if c.label == "long COVID")
    not_shown = next(s for s in grid.statuses if s.iri == ONTOLOGY + "EfficacyNotShown")
    cell = grid.cell(long_covid, not_shown)
    assert cell.claims == 1 and cell.sources == 2
    claims = describe.claims(store.query(describe.evidence_claims_query(long_covid.iri, not_shown.iri)))
    assert [c.statement.iri for c in claims] == [STATEMENT + "ldn-efficacy-long-covid"]

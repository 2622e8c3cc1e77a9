"""The library behind the pages: IRI <-> path mapping, the queries it writes, the data it reads back."""

from __future__ import annotations

import pytest
from pyoxigraph import DefaultGraph, RdfFormat, Store

from ldn_graph.serving import entity_page as describe
from ldn_graph.serving import page_queries
from ldn_graph.vocab import iri_paths
from ldn_graph.vocab.prefixes import ID, ONTOLOGY, ONTOLOGY_IRI, STATEMENT


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
    assert iri_paths.iri_for_path(path) == iri
    assert iri_paths.server_path(iri) == path


@pytest.mark.parametrize(
    "path", ["/id/", "/id/a b", "/id/../x", "/id/x>y", "/ontology/a/b", "/ontology/1x", "/other/x", "/id//x"]
)
def test_paths_that_name_no_iri_are_refused(path):
    with pytest.raises(iri_paths.UnknownPath):
        iri_paths.iri_for_path(path)


def test_iris_outside_the_base_have_no_server_path():
    assert iri_paths.server_path("http://purl.obolibrary.org/obo/MONDO_0005011") is None


def test_an_iri_cannot_break_out_of_the_query():
    with pytest.raises(ValueError):
        page_queries.description_query(ID + "x> ?p ?o } #")


def test_search_text_stays_inside_its_string(store):
    rows = list(store.query(page_queries.search_query('x" ) } INSERT DATA { <a:b> <a:b> <a:b> } #')))
    assert rows == []
    assert list(store.query(page_queries.search_query("FIBROMYALGIA")))  # case does not matter


def describe_in(store, iri):
    nodes = [row["x"].value for row in store.query(page_queries.nodes_query(iri))]
    return describe.Triples(store.query(page_queries.description_query(iri, nodes)))


def test_entity_page_of_a_condition(store):
    iri = ID + "multiple-sclerosis"
    page = describe.entity_page(iri, describe_in(store, iri))
    assert page is not None and page.label == "multiple sclerosis"
    assert {t.iri for t in page.types} >= {ONTOLOGY + "Disease", "https://schema.org/MedicalCondition"}
    assert page.types[0].local  # our own classes come first
    statuses = {claim.status.label for claim in page.claims}
    assert {"no supporting evidence", "insufficient evidence", "reported finding"} <= statuses
    dated = next(c for c in page.claims if c.statement.iri.endswith("ldn-efficacy-multiple-sclerosis-2014"))
    assert dated.date == "2014" and not dated.asserted and dated.sources
    assert any(i.curie == "MONDO:0005301" and i.url for i in page.identifiers)
    # The ontology says which statuses state their claim as fact: no supporting evidence does not.
    assert dated.status.asserts_triple is False and dated.status.definition
    assert [u.status.label for u in dated.updates] == ["efficacy not shown"]


def test_unknown_iri_has_no_page(store):
    iri = ID + "nothing-here"
    assert describe.entity_page(iri, describe_in(store, iri)) is None
    assert not list(store.query(page_queries.exists_query(iri)))


def test_a_claim_without_a_source_says_citation_needed(store):
    iri = STATEMENT + "ldn-efficacy-immune-system-dysregulation"
    claim = describe.entity_page(iri, describe_in(store, iri)).claims[0]
    assert claim.statement.iri == iri
    assert not claim.sources and claim.citation_needed.label == "citation needed"


def test_evidence_map_rows_standing_and_cells(store):
    query = page_queries.evidence_map_query()
    rows = [
        {v.value: solution[v.value] for v in solutions.variables if solution[v.value] is not None}
        for solutions in [store.query(query)]
        for solution in solutions
    ]
    grid = describe.evidence_map(rows)
    labels = [c.label for c in grid.conditions]
    assert labels == sorted(labels, key=str.lower) and "long COVID" in labels
    long_covid = next(c for c in grid.conditions if c.label == "long COVID")
    not_shown = next(s for s in grid.statuses if s.iri == ONTOLOGY + "EfficacyNotShown")
    cell = grid.cell(long_covid, not_shown)
    assert cell.claims == 1 and cell.sources == 2
    row = next(r for r in grid.rows if r.condition == long_covid)
    assert row.standing.status.label == "efficacy not shown" and row.standing.date == "2025"
    assert row.standing.certainty.label == "low certainty" and row.standing.rated_by is not None
    # Statuses that state their claim as fact come first, as the ontology marks them.
    flags = [s.asserts_triple for s in grid.statuses]
    assert flags == sorted(flags, key=lambda asserted: not asserted)
    nodes = [
        r["x"].value
        for r in store.query(page_queries.evidence_claims_nodes_query(long_covid.iri, not_shown.iri))
    ]
    claims = describe.claims(store.query(page_queries.evidence_claims_query(nodes)))
    assert [c.statement.iri for c in claims] == [STATEMENT + "ldn-efficacy-long-covid"]


def test_fibromyalgia_gathers_every_claim_about_it_and_its_studies(store):
    """Outcome claims (ldngraph:inCondition) and claims about its review were missing before."""
    page = describe.entity_page(ID + "fibromyalgia", describe_in(store, ID + "fibromyalgia"))
    found = {c.statement.iri.removeprefix(STATEMENT) for c in page.claims}
    assert {
        "ldn-fibromyalgia-improves-pain",
        "ldn-fibromyalgia-improves-pain-tolerance",
        "fibromyalgia-review-small-samples",
        "fibromyalgia-review-further-research-needed",
        "ldn-efficacy-fibromyalgia-2023",
        "ldn-in-clinical-trials-for-fibromyalgia",
    } <= found
    trial = next(
        c for c in page.claims if c.statement.iri.endswith("ldn-in-clinical-trials-for-fibromyalgia")
    )
    assert trial.date is None and trial.source_date  # undated claim: its source's date is shown instead

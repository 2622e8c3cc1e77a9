"""The data itself: identifiers held to the reference table, every claim of the article present and
graded, sources complete, and the article's citation errors corrected."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS

from ldn_graph.graph.namespaces import BIOLINK, CITO, LDN, LDNGRAPH, MAPPING_PREDICATES
from ldn_graph.vocab.schemes import SCHEMES, split_curie

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "graph_data" / "reference" / "identifiers.tsv"
STATEMENT = LDN["statement/"]


def reference_rows(path: Path = TABLE) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def table_key(scheme: str, identifier: str) -> tuple[str, str]:
    # The contract writes DOIs in lower case; the table keeps the registry's spelling.
    return scheme, identifier.lower() if scheme == "doi" else identifier


@pytest.fixture(scope="module")
def table() -> dict[tuple[str, str], dict[str, str]]:
    rows = {}
    for row in reference_rows():
        if row["identifier"]:
            rows[table_key(row["scheme"], row["identifier"])] = row
    return rows


def graph_identifiers(graph):
    for entity, literal in graph.subject_objects(DCTERMS.identifier):
        scheme, local = split_curie(str(literal))
        yield entity, scheme, local


def row_identities(path: Path) -> set[tuple[str, str, str]]:
    """Each row's entity, scheme and identifier: what a row is about, apart from how it was checked."""
    return {(r["entity_label"], r["scheme"], r["identifier"]) for r in reference_rows(path)}


def test_the_reference_table_holds_the_shared_one():
    # Beside a checkout on a developer's machine: the project's copy holds every row of the shared table
    # (the evidence layer adds its own rows); CI has only the project's copy. A row re-checked here keeps
    # its entity, scheme and identifier but may change its evidence, confidence and emit columns.
    shared = Path("/work/shared/reference/identifiers.tsv")
    if shared.exists():
        assert row_identities(shared) <= row_identities(TABLE)


# Identifiers that come from the article's own reference list and other curated sources rather than the
# table: ISSNs of journals and MeSH publication-type / off-label concepts (reference/verification-notes.md).
OUTSIDE_TABLE = {("issn", "1745-6215")}


def test_every_identifier_is_an_emitted_row_of_the_table(built, table):
    for entity, scheme, local in graph_identifiers(built.graph):
        if str(entity).startswith(str(LDNGRAPH)) or (scheme.key, local) in OUTSIDE_TABLE:
            continue  # ontology concepts carry MeSH publication types and descriptors from vocabularies.md
        row = table.get(table_key(scheme.key, local))
        assert row is not None, f"{entity} has {scheme.curie(local)}, which is not in identifiers.tsv"
        assert row["emit"] == "yes", f"{scheme.curie(local)} is marked emit = {row['emit']}"


def test_mapping_predicates_follow_the_table(built, table):
    graph = built.graph
    for entity, scheme, local in graph_identifiers(graph):
        iri = scheme.iri(local)
        if iri is None or str(entity).startswith(str(LDNGRAPH)) or (scheme.key, local) in OUTSIDE_TABLE:
            continue
        expected = MAPPING_PREDICATES.get(table[table_key(scheme.key, local)]["mapping"])
        found = [p for p in MAPPING_PREDICATES.values() if (entity, p, URIRef(iri)) in graph]
        assert found == [expected], f"{entity} → {iri}: expected {expected}, found {found}"


def test_identifiers_marked_no_never_appear(built):
    literals = {str(o) for o in built.graph.objects(None, DCTERMS.identifier)}
    objects = {str(o) for o in built.graph.objects()}
    for row in reference_rows():
        if row["emit"] == "no" and row["identifier"] and row["scheme"] in SCHEMES:
            scheme = SCHEMES[row["scheme"]]
            assert scheme.curie(row["identifier"]) not in literals
            assert scheme.iri(row["identifier"]) not in objects


@pytest.mark.parametrize(
    "forbidden",
    [
        "http://purl.obolibrary.org/obo/MONDO_0002046",  # alcohol abuse, not dependence
        "http://purl.obolibrary.org/obo/CHEBI_174632",  # 6β-naltrexol ChEBI entry with suspect stereo
        "http://purl.obolibrary.org/obo/CHEBI_192658",  # 6α-naltrexol
        "http://www.ebi.ac.uk/efo/EFO_0000384",  # obsolete EFO
    ],
)
def test_known_traps_are_avoided(built, forbidden):
    assert URIRef(forbidden) not in set(built.graph.objects())


def test_hashimoto_doid_is_close_not_exact(built):
    doid = URIRef("http://purl.obolibrary.org/obo/DOID_7188")
    assert (LDN["hashimotos-disease"], SKOS.closeMatch, doid) in built.graph
    assert (LDN["hashimotos-disease"], SKOS.exactMatch, doid) not in built.graph


def statement(name: str) -> URIRef:
    return LDN[f"statement/{name}"]


def status_of(graph, name: str) -> URIRef:
    return graph.value(statement(name), LDNGRAPH.evidenceStatus)


# The claims of the article the issue lists, each with the evidence status it must carry.
CLAIMS = {
    "ldn-applied-to-treat-crohns-disease": "ReportedFinding",
    "ldn-applied-to-treat-hashimotos-disease": "ReportedFinding",
    "ldn-applied-to-treat-multiple-sclerosis": "ReportedFinding",
    "ldn-efficacy-crohns-disease": "InsufficientEvidence",
    "ldn-efficacy-hashimotos-disease": "InsufficientEvidence",
    "ldn-efficacy-multiple-sclerosis": "InsufficientEvidence",
    "naltrexone-treats-opioid-dependence": "ApprovedUse",
    "naltrexone-treats-alcohol-dependence": "ApprovedUse",
    "naltrexone-is-strong-opioid-antagonist": "Established",
    "ldn-anti-inflammatory-agent": "Hypothesised",
    "ldn-efficacy-immune-system-dysregulation": "Hypothesised",
    "naltrexone-antagonises-mu-opioid-receptor": "Established",
    "naltrexone-antagonises-kappa-opioid-receptor": "Established",
    "naltrexone-antagonises-delta-opioid-receptor": "Established",
    "6beta-naltrexol-antagonises-mu-opioid-receptor": "Established",
    "6beta-naltrexol-antagonises-kappa-opioid-receptor": "Established",
    "6beta-naltrexol-antagonises-delta-opioid-receptor": "Established",
    "naltrexone-has-metabolite-6beta-naltrexol": "Established",
    "naltrexone-prevents-inhibition-of-gaba-a-receptors": "NotTrueAsStated",
    "naltrexone-blocks-dopamine-release": "NotTrueAsStated",
    "ldn-typical-dose": "Established",
    "ldn-inhibits-opioid-receptors": "Hypothesised",
    "ldn-increases-endorphin-production": "Hypothesised",
    "ldn-upregulates-immune-system": "Hypothesised",
    "ldn-antagonises-toll-like-receptor-4": "Hypothesised",
    "ldn-reduces-inflammation": "Hypothesised",
    "uldn-co-administered-with-opioid-analgesics": "ReportedFinding",
    "uldn-microgram-doses": "ReportedFinding",
    "uldn-nanogram-doses": "ReportedFinding",
    "uldn-picogram-doses": "ReportedFinding",
    "ldn-efficacy-chronic-pain": "Promising",
    "ldn-efficacy-autoimmune-disease": "Promising",
    "ldn-efficacy-cancer": "Promising",
    "ldn-efficacy-multiple-sclerosis-2014": "NoSupportingEvidence",
    "ldn-in-clinical-trials-for-fibromyalgia": "UnderInvestigation",
    "ldn-not-licensed-united-kingdom": "Unsourced",
    "ldn-not-licensed-european-union": "Unsourced",
    "ldn-not-licensed-united-states": "Unsourced",
    "ldn-studied-to-treat-long-covid": "UnderInvestigation",
    "ldn-efficacy-long-covid": "EfficacyNotShown",
    "norway-study-follows-documentary": "ReportedFinding",
    "norway-study-uses-norpd": "ReportedFinding",
    "norway-study-uses-manufacturer-sales-data": "ReportedFinding",
    "norway-study-incomplete-coverage": "ReportedFinding",
    "norway-2014-doctors-prescribing-ldn": "ReportedFinding",
    "norway-2014-gps-prescribing-ldn": "ReportedFinding",
    "ldn-efficacy-fibromyalgia-2023": "Promising",
    "ldn-fibromyalgia-improves-pain": "Promising",
    "ldn-fibromyalgia-improves-pain-tolerance": "Promising",
    "ldn-fibromyalgia-mild-side-effects": "ReportedSafetyFinding",
    "fibromyalgia-review-small-samples": "ReportedFinding",
    "fibromyalgia-review-further-research-needed": "ReportedFinding",
    "nhs-2020-trials-necessary": "InsufficientEvidence",
}


@pytest.mark.parametrize(("name", "status"), sorted(CLAIMS.items()))
def test_claim_is_present_with_its_evidence_status(built, name, status):
    assert (statement(name), RDF.type, LDNGRAPH.Statement) in built.graph
    assert status_of(built.graph, name) == LDNGRAPH[status]


@pytest.mark.parametrize(
    ("name", "year"),
    [
        ("ldn-efficacy-multiple-sclerosis-2014", "2014"),
        ("norway-2014-gps-prescribing-ldn", "2014"),
        ("ldn-efficacy-fibromyalgia-2023", "2023"),
        ("nhs-2020-trials-necessary", "2020"),
        ("norway-study-follows-documentary", "2013"),
    ],
)
def test_dates_the_article_gives_are_data(built, name, year):
    assert str(built.graph.value(statement(name), DCTERMS.date)) == year


def test_only_unsourced_sentences_lack_sources(built):
    unsourced = {
        str(s).rsplit("/", 1)[-1]
        for s in built.graph.subjects(RDF.type, LDNGRAPH.Statement)
        if (s, CITO.citesAsEvidence, None) not in built.graph
    }
    assert unsourced == {
        "naltrexone-treats-opioid-dependence",
        "naltrexone-treats-alcohol-dependence",
        "naltrexone-is-strong-opioid-antagonist",
        "ldn-anti-inflammatory-agent",
        "ldn-efficacy-immune-system-dysregulation",
        "ldn-not-licensed-united-kingdom",
        "ldn-not-licensed-european-union",
        "ldn-not-licensed-united-states",
        # the article cites references for their sentences that do not address these claims
        "ldn-applied-to-treat-hashimotos-disease",
        "ldn-efficacy-hashimotos-disease",
        "recreational-drugs-inhibit-gaba",
        "recreational-drugs-stimulate-dopamine-release",
    }


def test_citation_needed_sentence_is_quoted_with_its_flag(built):
    quote = built.graph.value(
        statement("ldn-not-licensed-united-kingdom"), URIRef("https://w3id.org/biolink/vocab/supporting_text")
    )
    assert str(quote).endswith("[citation needed]")


def test_twelve_publications_for_thirteen_references(built):
    cited = {o for o in built.graph.objects(None, LDNGRAPH.articleCites)}
    publications = set(built.graph.subjects(RDF.type, LDNGRAPH.Publication)) & cited
    assert len(publications) == 12  # the article's 13 references, each cited for a sentence (4 = 7)
    publications = set(built.graph.subjects(RDF.type, LDNGRAPH.Publication))
    younger = LDN["younger-2014"]
    doi = Literal("doi:10.1007/s10067-014-2517-2")
    assert [p for p in publications if (p, DCTERMS.identifier, doi) in built.graph] == [younger]


@pytest.mark.parametrize(
    ("publication", "words"),
    [
        ("younger-2014", ["References 4 and 7", "Clirheumatology", "Clinical Rheumatology"]),
        ("raknes-2017", ["2016", "2017 Feb;26(2):136-142"]),
        ("bruun-2021", ["December 2021", "Nov 15"]),
        ("niciu-2013", ["24 July 2013", "October 2013"]),
        ("kim-2020", ["Systemic Review", "(10 ed.)"]),
        ("aitcheson-2023", ["DOI and PMID"]),
    ],
)
def test_citation_errors_are_corrected_with_a_note(built, publication, words):
    note = " ".join(str(n) for n in built.graph.objects(LDN[publication], SKOS.editorialNote))
    for word in words:
        assert word in note


def test_corrected_dates(built):
    schema = "https://schema.org/"
    assert str(built.graph.value(LDN["raknes-2017"], URIRef(schema + "datePublished"))) == "2017-02"
    assert str(built.graph.value(LDN["bruun-2021"], URIRef(schema + "datePublished"))) == "2021-11-15"
    assert str(built.graph.value(LDN["niciu-2013"], URIRef(schema + "datePublished"))) == "2013-10"


def test_authors_keep_their_order(built):
    graph = built.graph
    schema = "https://schema.org/"
    roles = list(graph.objects(LDN["bruun-2021"], URIRef(schema + "author")))
    ordered = sorted(roles, key=lambda r: int(graph.value(r, URIRef(schema + "position"))))
    names = [str(graph.value(graph.value(r, URIRef(schema + "author")), RDFS.label)) for r in ordered]
    assert names[0] == "Bruun KD" and names[-1] == "Toft P" and len(names) == 7


def test_numbers_are_typed(built):
    graph = built.graph
    schema = "https://schema.org/"
    dose = graph.value(LDN["dose-ldn-typical"], URIRef(schema + "doseValue"))
    assert dose.datatype == URIRef("http://www.w3.org/2001/XMLSchema#decimal") and float(dose) == 4.5
    share = graph.value(LDN["norway-2014-gps-prescribing-ldn"], URIRef(schema + "value"))
    assert float(share) == 71.0
    assert graph.value(LDN["norway-2014-gps-prescribing-ldn"], URIRef(schema + "unitCode")) == URIRef(
        "http://qudt.org/vocab/unit/PERCENT"
    )


# ---- article-layer repair (0.2.0): citation scope, asserted triples, grades that fit -----------------

ARTICLE_REFERENCES = {
    1: "nmss-low-dose-naltrexone", 2: "parker-2018", 3: "niciu-2013", 4: "younger-2014", 5: "eve-2020",
    6: "kim-2020", 7: "younger-2014", 8: "li-2018", 9: "bruun-2021", 10: "steenhuysen-2022",
    11: "okelly-2022", 12: "raknes-2017", 13: "aitcheson-2023",
}  # fmt: skip


def article_statements(graph):
    source = LDN["source-article"]
    return [
        s for s in graph.subjects(RDF.type, LDNGRAPH.Statement) if (s, PROV.wasDerivedFrom, source) in graph
    ]


def test_the_sentence_citation_is_kept_as_data(built):
    """Every [n] of a statement's sentence is an ldngraph:articleCites of it."""
    import re

    graph = built.graph
    for s in article_statements(graph):
        text = str(graph.value(s, BIOLINK.supporting_text))
        markers = {LDN[ARTICLE_REFERENCES[int(n)]] for n in re.findall(r"\[(\d+)\]", text)}
        assert markers <= set(graph.objects(s, LDNGRAPH.articleCites)), s


def test_evidence_only_from_sources_the_sentence_cites(built):
    graph = built.graph
    for s in article_statements(graph):
        assert set(graph.objects(s, CITO.citesAsEvidence)) <= set(graph.objects(s, LDNGRAPH.articleCites)), s


# Which of the sentence's references address each per-condition claim (issue: a Crohn's review is no
# evidence for Hashimoto's disease, a chronic-pain review none for cancer).
SCOPED = {
    "ldn-applied-to-treat-crohns-disease": {"parker-2018"},
    "ldn-efficacy-crohns-disease": {"parker-2018"},
    "ldn-applied-to-treat-multiple-sclerosis": {"nmss-low-dose-naltrexone"},
    "ldn-efficacy-multiple-sclerosis": {"nmss-low-dose-naltrexone"},
    "ldn-applied-to-treat-hashimotos-disease": set(),
    "ldn-efficacy-hashimotos-disease": set(),
    "ldn-studied-to-treat-chronic-pain": {"kim-2020", "younger-2014"},
    "ldn-efficacy-chronic-pain": {"kim-2020", "younger-2014"},
    "ldn-studied-to-treat-autoimmune-disease": {"li-2018"},
    "ldn-efficacy-autoimmune-disease": {"li-2018"},
    "ldn-studied-to-treat-cancer": {"li-2018"},
    "ldn-efficacy-cancer": {"li-2018"},
}


@pytest.mark.parametrize(("name", "sources"), sorted(SCOPED.items()))
def test_citations_are_scoped_to_the_claim(built, name, sources):
    cited = {
        str(o).removeprefix(str(LDN)) for o in built.graph.objects(statement(name), CITO.citesAsEvidence)
    }
    assert cited == sources


@pytest.mark.parametrize(
    "triple",
    [
        (LDN["naltrexone"], LDNGRAPH.preventsInhibitionOf, None),
        (LDN["naltrexone"], LDNGRAPH.decreases, LDN["dopamine-secretion"]),
        (None, URIRef("http://purl.obolibrary.org/obo/RO_0002212"), None),
        (None, URIRef("http://purl.obolibrary.org/obo/RO_0002213"), None),
        (LDN["low-dose-naltrexone"], URIRef("https://schema.org/legalStatus"), None),
    ],
)
def test_claims_not_true_as_stated_are_not_asserted(built, triple):
    assert next(built.graph.triples(triple), None) is None


def test_statuses_that_do_not_assert_are_not_asserted(built):
    graph = built.graph
    for s in graph.subjects(RDF.type, LDNGRAPH.Statement):
        status = graph.value(s, LDNGRAPH.evidenceStatus)
        triple = tuple(graph.value(s, p) for p in (RDF.subject, RDF.predicate, RDF.object))
        asserted = triple in graph
        assert asserted == graph.value(status, LDNGRAPH.assertsTriple).toPython(), s


def test_unsourced_claims_never_carry_a_grade_that_says_a_source_reported_them(built):
    graph = built.graph
    reporting = {LDNGRAPH.ReportedFinding, LDNGRAPH.Established, LDNGRAPH.Promising}
    for s in graph.subjects(LDNGRAPH.citationNeeded, LDNGRAPH.CitationNeeded):
        flagged_by_article = "[citation needed]" in str(graph.value(s, BIOLINK.supporting_text))
        if flagged_by_article:
            assert graph.value(s, LDNGRAPH.evidenceStatus) not in reporting, s


def test_safety_is_graded_on_a_safety_status(built):
    assert status_of(built.graph, "ldn-fibromyalgia-mild-side-effects") == LDNGRAPH.ReportedSafetyFinding


def test_the_2021_date_is_the_final_trials_start(built):
    graph = built.graph
    claim = statement("ldn-in-clinical-trials-for-fibromyalgia")
    assert graph.value(claim, DCTERMS.date) is None
    assert graph.value(claim, LDNGRAPH.aboutStudy) == LDN["final-trial"]
    assert str(graph.value(LDN["final-trial"], URIRef("https://schema.org/startDate"))).startswith("2021")


def test_studies_carry_no_undated_kind_of_date(built):
    graph = built.graph
    for study in graph.subjects(RDF.type, LDNGRAPH.Study):
        assert graph.value(study, DCTERMS.date) is None, (
            f"{study}: say startDate, endDate or leave it to the publication"
        )


def test_kim_2020_is_a_narrative_review_indexed_as_systematic(built):
    graph = built.graph
    assert (
        graph.value(LDN["chronic-pain-review-2020"], LDNGRAPH.studyDesign) == LDNGRAPH.NarrativeReviewDesign
    )
    assert graph.value(LDN["kim-2020"], URIRef("https://schema.org/publicationType")) == URIRef(
        "http://id.nlm.nih.gov/mesh/D000078182"
    )


def test_the_recreational_drug_claims_are_statements(built):
    for name in ("recreational-drugs-inhibit-gaba", "recreational-drugs-stimulate-dopamine-release"):
        assert (statement(name), RDF.type, LDNGRAPH.Statement) in built.graph


def test_article_text_is_not_reused_as_a_definition(built):
    article = (ROOT / "graph_data" / "source" / "low-dose-naltrexone.wikiprojectmed.txt").read_text(
        encoding="utf-8"
    )
    for entity in ("dopamine", "gaba", "gaba-a-receptor", "dopamine-secretion"):
        for definition in built.graph.objects(LDN[entity], SKOS.definition):
            assert str(definition) not in article


def test_the_dose_range_is_a_qualifier_without_invented_bounds(built):
    graph = built.graph
    dose = LDN["dose-ldn-typical"]
    assert graph.value(dose, LDNGRAPH.typicalDoseRange) == LDNGRAPH.WithinACoupleOfMilligrams
    assert graph.value(dose, URIRef("https://schema.org/minValue")) is None


def test_statistics_name_their_study(built):
    for stat in built.graph.subjects(RDF.type, LDNGRAPH.Statistic):
        assert built.graph.value(stat, LDNGRAPH.reportedBy) is not None, stat


def test_every_exact_match_is_a_row_marked_exact(built, table):
    graph = built.graph
    for entity, scheme, local in graph_identifiers(graph):
        iri = scheme.iri(local)
        if (
            iri
            and (entity, SKOS.exactMatch, URIRef(iri)) in graph
            and not str(entity).startswith(str(LDNGRAPH))
        ):
            assert table[table_key(scheme.key, local)]["mapping"] == "exact", f"{entity} → {iri}"

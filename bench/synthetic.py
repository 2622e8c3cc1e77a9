"""Synthetic graphs shaped like ldn-graph, at any size, with known violations injected.

A generated directory holds ``ontology/`` (our ontology and shapes), ``graph_data/`` (our curated files,
then synthetic ones: conditions with identifiers and mappings, journal articles with authors, issues,
volumes and periodicals, clinical trials, doses, statistics and one statement per claim, each with its
evidence status, source and quotation) and ``graph_data/source/`` (our article followed by the synthetic
passages the statements quote). ``manifest.json`` lists every injected violation as the (focus, rule)
pair ``ldn-graph validate`` must report; the graph has no other violation.

    python bench/synthetic.py --triples 1e5 --out /tmp/ldn-1e5
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph
from rdflib.namespace import RDF

from ldn_graph import resources
from ldn_graph.graph.load import SHAPES_FILE, source_files
from ldn_graph.graph.namespaces import LDNGRAPH
from ldn_graph.vocab.prefixes import ID, ONTOLOGY, STATEMENT, shorten, turtle_header

ARTICLE_NAME = resources.source_article().name
CHANGELOG = "CHANGELOG-DATA.md"
UNITS_PER_FILE = 500
#: How many times each kind of violation is injected.
SITES_PER_FAULT = 2

# The ontology edits behind the two shapes that only the ontology can break: without its
# rdfs:subClassOf link, nothing materialises the standard type of a drug or a receptor.
ONTOLOGY_EDITS = {
    "DrugTypes": (
        "    rdfs:subClassOf schema:Drug, biolink:SmallMolecule ;\n",
        "    rdfs:subClassOf biolink:SmallMolecule ;\n",
        LDNGRAPH.Drug,
    ),
    "ReceptorTypes": (
        '    skos:definition "A protein that binds a signalling molecule, such as the μ-opioid receptor."@en ;\n'
        "    rdfs:subClassOf biolink:Protein ;\n",
        '    skos:definition "A protein that binds a signalling molecule, such as the μ-opioid receptor."@en ;\n',
        LDNGRAPH.Receptor,
    ),
}


@dataclass
class Unit:
    """One synthetic study with everything around it, as Turtle blocks, and the article passages it quotes."""

    index: int
    blocks: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    sentences: list[str] = field(default_factory=list)
    expected: list[tuple[str, str]] = field(default_factory=list)

    def node(self, name: str) -> str:
        return f"ldn:syn-{name}-{self.index}"

    def add(self, subject: str, *pairs: tuple[str, str]) -> None:
        self.blocks.setdefault(subject, []).extend(pairs)

    def drop(self, subject: str, predicate: str) -> None:
        self.blocks[subject] = [(p, o) for p, o in self.blocks[subject] if p != predicate]

    def replace(self, subject: str, predicate: str, value: str) -> None:
        self.drop(subject, predicate)
        self.add(subject, (predicate, value))

    def expect(self, node: str, rule: str) -> None:
        self.expected.append((shorten(expand(node)), rule))

    def triples(self) -> int:
        return sum(len(pairs) for pairs in self.blocks.values())

    def turtle(self) -> str:
        return "".join(block(s, pairs) for s, pairs in self.blocks.items() if pairs)


def expand(curie: str) -> str:
    """The IRI of one of the CURIEs the generator writes (ldn:, ldns:, ldngraph: or <…>)."""
    if curie.startswith("<"):
        return curie[1:-1]
    prefix, local = curie.split(":", 1)
    return {"ldn": ID, "ldns": STATEMENT, "ldngraph": ONTOLOGY}[prefix] + local


def block(subject: str, pairs: list[tuple[str, str]]) -> str:
    body = " ;\n    ".join(f"{p} {o}" for p, o in pairs)
    return f"{subject} {body} .\n"


def lit(text: str, lang: str | None = "en") -> str:
    return f'"{text}"@{lang}' if lang else f'"{text}"'


def statement(
    unit: Unit, name: str, triple: tuple[str, str, str], status: str, quote: str, label: str
) -> str:
    node = f"ldns:syn-{name}-{unit.index}"
    s, p, o = triple
    unit.add(
        node,
        ("a", "ldngraph:Statement"),
        ("rdfs:label", lit(label)),
        ("rdf:subject", s),
        ("rdf:predicate", p),
        ("rdf:object", o),
        ("ldngraph:evidenceStatus", status),
        ("cito:citesAsEvidence", unit.node("pub")),
        ("biolink:supporting_text", lit(quote, None)),
        ("prov:wasDerivedFrom", "ldn:source-article"),
        ("biolink:knowledge_level", '"knowledge_assertion"'),
        ("biolink:agent_type", '"manual_agent"'),
        ("dcterms:date", f'"{2000 + unit.index % 25}"^^xsd:gYear'),
    )
    return node


def make_unit(i: int, persons: int, periodicals: int) -> Unit:
    """A valid study cluster: condition, publication (authors, issue), trial, dose, statistic and four
    statements, two of them asserted and two (promising, under hypothesis) only as statements."""
    u = Unit(i)
    condition, pub, study = u.node("condition"), u.node("pub"), u.node("study")
    dose, stat, issue = u.node("dose"), u.node("statistic"), u.node("issue")
    mondo, pmid = f"9{i:06d}", 30000000 + i
    participants, share, mg = 20 + i % 180, 10 + i % 85, f"{1 + i % 9}.5"
    first = (
        f"Synthetic study {i} examined low-dose naltrexone in synthetic condition {i} "
        f"with {participants} participants.[S{i}]"
    )
    second = f"In synthetic study {i}, {share}% of participants reported improvement at {mg} mg daily.[S{i}]"
    u.sentences += [first, second]

    u.add(
        condition,
        ("a", "ldngraph:Disease"),
        ("rdfs:label", lit(f"synthetic condition {i}")),
        ("skos:definition", lit(f"A made-up disease number {i}, for benchmarks.")),
        ("dcterms:identifier", f'"MONDO:{mondo}"'),
        ("skos:exactMatch", f"obo:MONDO_{mondo}"),
    )
    journal = i % periodicals
    u.add(
        issue,
        ("a", "schema:PublicationIssue"),
        ("rdfs:label", lit(f"synthetic journal {journal}, issue {i}")),
        ("schema:issueNumber", f'"{i}"'),
        ("schema:isPartOf", f"ldn:syn-journal-{journal}-volume"),
    )
    authors = [f"ldn:syn-pub-{i}-author-{n}" for n in (1, 2)]
    u.add(
        pub,
        ("a", "ldngraph:JournalArticle"),
        ("rdfs:label", lit(f"Synthetic et al.: study {i}")),
        ("dcterms:title", lit(f"Low-dose naltrexone in synthetic condition {i}")),
        *[("schema:author", a) for a in authors],
        ("schema:datePublished", f'"{2000 + i % 25}-0{1 + i % 9}-1{i % 10}"^^xsd:date'),
        ("schema:isPartOf", issue),
        ("schema:pageStart", f'"{1 + i % 400}"'),
        ("schema:publicationType", "mesh:D016449"),
        ("dcterms:identifier", f'"doi:10.5555/ldn-syn.{i}"'),
        ("dcterms:identifier", f'"PMID:{pmid}"'),
        ("skos:exactMatch", f"<https://doi.org/10.5555/ldn-syn.{i}>"),
        ("skos:exactMatch", f"<https://pubmed.ncbi.nlm.nih.gov/{pmid}>"),
    )
    for n, authorship in enumerate(authors, 1):
        u.add(
            authorship,
            ("a", "ldngraph:Authorship"),
            ("rdfs:label", lit(f"synthetic study {i}, author {n}")),
            ("schema:position", str(n)),
            ("schema:author", f"ldn:syn-person-{(i * 2 + n) % persons}"),
        )
    u.add(
        study,
        ("a", "ldngraph:ClinicalTrial"),
        ("rdfs:label", lit(f"synthetic trial {i} of low-dose naltrexone")),
        ("schema:healthCondition", condition),
        ("schema:studySubject", "ldn:low-dose-naltrexone"),
        ("ldngraph:studyDesign", "ldngraph:RandomisedControlledTrialDesign"),
        ("dcterms:date", f'"{2000 + i % 25}"^^xsd:gYear'),
        ("schema:subjectOf", pub),
        ("dcterms:identifier", f'"CLINICALTRIALS:NCT{90000000 + i:08d}"'),
        ("ldngraph:reportsStatistic", stat),
        ("schema:doseSchedule", dose),
    )
    u.add(
        dose,
        ("a", "ldngraph:DoseSchedule"),
        ("rdfs:label", lit(f"{mg} mg daily in synthetic trial {i}")),
        ("schema:doseValue", mg),
        ("schema:doseUnit", "unit:MilliGM"),
        ("ldngraph:doseLevel", "ldngraph:LowDose"),
    )
    u.add(
        stat,
        ("a", "ldngraph:Statistic"),
        ("rdfs:label", lit(f"share of participants of synthetic trial {i} reporting improvement: {share} %")),
        ("schema:value", f"{share}.0"),
        ("schema:unitCode", "unit:PERCENT"),
        ("ldngraph:measure", lit("reported improvement", None)),
        ("ldngraph:population", lit(f"participants of synthetic trial {i}", None)),
    )
    u.add("ldn:low-dose-naltrexone", ("biolink:studied_to_treat", condition))
    statement(
        u,
        "studied",
        ("ldn:low-dose-naltrexone", "biolink:studied_to_treat", condition),
        "ldngraph:UnderInvestigation",
        first,
        f"low-dose naltrexone was studied for synthetic condition {i}",
    )
    statement(
        u,
        "efficacy",
        ("ldn:low-dose-naltrexone", "ldngraph:hasEfficacyFor", condition),
        "ldngraph:Promising",
        f"{first} {second}" if i % 10 == 0 else second,  # now and then a quote spans two sentences
        f"low-dose naltrexone may be effective in synthetic condition {i}",
    )
    dosed = statement(
        u,
        "dose",
        (study, "schema:doseSchedule", dose),
        "ldngraph:Established",
        second,
        f"synthetic trial {i} gave {mg} mg daily",
    )
    if i % 7 == 3:  # some claims have no source: flagged, as the contract asks
        u.blocks[dosed] = [
            ("ldngraph:citationNeeded", "ldngraph:CitationNeeded") if p == "cito:citesAsEvidence" else (p, o)
            for p, o in u.blocks[dosed]
        ]
    statement(
        u,
        "statistic",
        (study, "ldngraph:reportsStatistic", stat),
        "ldngraph:ReportedFinding",
        second,
        f"{share} % of participants of synthetic trial {i} reported improvement",
    )
    return u


# Each fault turns a valid unit into one that breaks one rule, and names the (focus, rule) pairs that
# validation must report. None of them breaks another rule.
def _labelled(u: Unit) -> None:
    node = u.node("condition")
    if u.index % 2:
        u.add(node, ("rdfs:label", lit(f"synthetic disease {u.index}")))  # two English labels
    else:
        u.replace(node, "rdfs:label", lit(f"synthetic condition {u.index}", None))  # no language tag
    u.expect(node, "Labelled")


def _persistent_iri(u: Unit) -> None:
    node = f"<http://example.org/synthetic/{u.index}>"
    u.add(node, ("rdfs:label", lit(f"an entity outside our IRI space {u.index}")))
    u.expect(node, "PersistentIri")


def _deprecation(u: Unit) -> None:
    u.add(u.node("condition"), ("owl:deprecated", "true"))
    u.expect(u.node("condition"), "Deprecation")


def _dangling(u: Unit) -> None:
    u.add(u.node("study"), ("schema:studyLocation", u.node("nowhere")))
    u.expect(u.node("nowhere"), "NoDanglingReference")


def _ontology_term(u: Unit) -> None:
    node = f"ldngraph:SyntheticQualifier{u.index}"
    u.add(
        node,
        ("a", "skos:Concept"),
        ("rdfs:label", lit(f"synthetic qualifier {u.index}")),
        ("skos:prefLabel", lit(f"synthetic qualifier {u.index}")),
        ("skos:inScheme", "ldngraph:QualifierScheme"),
    )
    u.expect(node, "OntologyTerm")


def _concept(u: Unit) -> None:
    node = f"ldngraph:SyntheticUnlabelledConcept{u.index}"
    u.add(
        node,
        ("a", "skos:Concept"),
        ("rdfs:label", lit(f"synthetic concept {u.index}")),
        ("skos:definition", lit("A concept without a preferred label.")),
        ("rdfs:isDefinedBy", "<https://w3id.org/ldngraph/ontology>"),
        ("skos:inScheme", "ldngraph:QualifierScheme"),
    )
    u.expect(node, "Concept")


def _ontology_edit(rule: str) -> Callable[[Unit], None]:
    def fault(u: Unit) -> None:
        name = "drug" if rule == "DrugTypes" else "receptor"
        cls = "ldngraph:Drug" if rule == "DrugTypes" else "ldngraph:Receptor"
        u.add(u.node(name), ("a", cls), ("rdfs:label", lit(f"synthetic {name} {u.index}")))
        u.expect(u.node(name), rule)

    return fault


def _therapy(u: Unit) -> None:
    node = u.node("therapy")
    u.add(
        node,
        ("a", "ldngraph:Therapy"),
        ("rdfs:label", lit(f"synthetic therapy {u.index}")),
        ("skos:definition", lit("A therapy that names no drug.")),
    )
    u.expect(node, "TherapyTypes")


def _condition_types(u: Unit) -> None:
    u.replace(u.node("condition"), "a", "ldngraph:Condition")
    u.expect(u.node("condition"), "ConditionTypes")


def _mechanism(u: Unit) -> None:
    u.add(
        u.node("mechanism"),
        ("a", "ldngraph:Mechanism"),
        ("rdfs:label", lit(f"synthetic mechanism {u.index}")),
    )
    u.expect(u.node("mechanism"), "MechanismTypes")


def _study_types(u: Unit) -> None:
    u.drop(u.node("study"), "ldngraph:studyDesign")
    u.expect(u.node("study"), "StudyTypes")


def _regulatory(u: Unit) -> None:
    node = u.node("status")
    u.add(
        node,
        ("a", "ldngraph:RegulatoryStatus"),
        ("rdfs:label", lit(f"synthetic legal status {u.index}")),
        ("schema:applicableLocation", "<http://www.wikidata.org/wiki/Q145>"),  # the page, not the entity
    )
    u.expect(node, "RegulatoryStatus")


def _mapping(u: Unit) -> None:
    u.add(u.node("pub"), ("skos:closeMatch", f"<https://doi.org/10.5555/LDN-SYN.{u.index}>"))
    u.expect(u.node("pub"), "Mapping")


def _same_as(u: Unit) -> None:
    u.add(u.node("condition"), ("owl:sameAs", f"obo:MONDO_9{u.index:06d}"))
    u.expect(u.node("condition"), "NoSameAs")


def _mapped_identifier(u: Unit) -> None:
    u.add(u.node("condition"), ("skos:broadMatch", "obo:MONDO_0005011"))
    u.expect(u.node("condition"), "MappedIdentifier")


def _statement(u: Unit) -> None:
    node = f"ldns:syn-efficacy-{u.index}"
    if u.index % 2:
        u.replace(node, "biolink:knowledge_level", '"KnowledgeAssertion"')
    else:
        u.replace(node, "dcterms:date", '"2020"')
    u.expect(node, "Statement")


def _evidence_status(u: Unit) -> None:
    node = f"ldns:syn-efficacy-{u.index}"
    u.replace(node, "ldngraph:evidenceStatus", "ldngraph:Strong")
    u.expect(node, "Statement")
    u.expect("ldngraph:Strong", "EvidenceStatusConcept")  # reported on the concept the statement points to


def _sourced(u: Unit) -> None:
    node = f"ldns:syn-studied-{u.index}"
    if u.index % 2:
        u.drop(node, "cito:citesAsEvidence")  # neither source nor flag
    else:
        u.add(node, ("ldngraph:citationNeeded", "ldngraph:CitationNeeded"))  # both
    u.expect(node, "SourcedOrFlagged")


def _asserted(u: Unit) -> None:
    u.blocks["ldn:low-dose-naltrexone"] = []  # an established claim whose triple is missing
    u.expect(f"ldns:syn-studied-{u.index}", "AssertedWhenTrue")


def _treats(u: Unit) -> None:
    u.add(u.node("study"), ("biolink:treats", u.node("condition")))
    u.expect(u.node("study"), "TreatsOnlyFromDrug")


def _dose(u: Unit) -> None:
    if u.index % 2:
        u.drop(u.node("dose"), "schema:doseUnit")
    else:
        u.replace(u.node("dose"), "schema:doseValue", '"4.5 mg"')
    u.expect(u.node("dose"), "DoseSchedule")


def _statistic(u: Unit) -> None:
    u.replace(u.node("statistic"), "schema:value", '"71%"')
    u.expect(u.node("statistic"), "Statistic")


def _publication(u: Unit) -> None:
    u.add(u.node("pub"), ("dcterms:title", lit("A second title")))
    u.expect(u.node("pub"), "Publication")


def _journal_article(u: Unit) -> None:
    u.drop(u.node("pub"), "schema:isPartOf")
    u.expect(u.node("pub"), "JournalArticle")


def _publication_date(u: Unit) -> None:
    u.drop(u.node("pub"), "schema:datePublished")
    u.expect(u.node("pub"), "PublicationDate")


def _publication_type(u: Unit) -> None:
    u.drop(u.node("pub"), "schema:publicationType")
    u.expect(u.node("pub"), "PublicationType")


def _authorship(u: Unit) -> None:
    node = f"ldn:syn-pub-{u.index}-author-2"
    u.drop(node, "schema:position")
    u.expect(node, "Authorship")


def _periodical(u: Unit) -> None:
    node = u.node("periodical")
    u.add(
        node,
        ("a", "schema:Periodical"),
        ("rdfs:label", lit(f"synthetic periodical {u.index}")),
        ("schema:name", lit(f"Synthetic Periodical {u.index}", None)),
        ("schema:issn", '"17456215"'),
    )
    u.expect(node, "Periodical")


def _unique(u: Unit) -> None:
    again = f"ldn:syn-pub-{u.index}-again"
    u.add(
        again,
        ("a", "ldngraph:WebPage"),
        ("rdfs:label", lit(f"Synthetic study {u.index} (cited again)")),
        ("dcterms:title", lit(f"Low-dose naltrexone in synthetic condition {u.index}")),
        ("dcterms:identifier", f'"doi:10.5555/ldn-syn.{u.index}"'),
    )
    u.expect(u.node("pub"), "UniquePublication")
    u.expect(again, "UniquePublication")


def _identifier(u: Unit) -> None:
    u.add(u.node("condition"), ("dcterms:identifier", '"MONDO:12"'))
    u.expect(u.node("condition"), "IdentifierPattern")


def _quote(u: Unit) -> None:
    node = f"ldns:syn-dose-{u.index}"
    u.replace(
        node, "biolink:supporting_text", lit(f"Synthetic study {u.index} used a dose of {u.index} mg.", None)
    )
    u.expect(node, "SupportingTextVerbatim")


# Quotes recorded in graph_data/reference/curation-notes.md, so that a synthetic result quotes a
# recorded sentence and breaks only the shape it is meant to break.
_RECORDED = "We did a single-centre, randomised, double-blind, placebo-controlled trial in Denmark."
_RECORDED_99 = (
    "We screened 158 participants for eligibility from Jan 6, 2021, to Dec 27, 2022, and 99 patients were "
    "randomly assigned to low-dose naltrexone (n=49) or placebo (n=50)."
)


def _result(u: Unit, node: str, quote: str, source: str, *extra: tuple[str, str]) -> None:
    u.add(
        node,
        ("a", "ldngraph:StudyResult"),
        ("rdfs:label", lit(f"synthetic result {u.index}")),
        ("ldngraph:outcome", lit(f"synthetic outcome {u.index}")),
        ("ldngraph:statistic", "ldngraph:Count"),
        ("ldngraph:direction", "ldngraph:DirectionNotApplicable"),
        ("ldngraph:reportedBy", u.node("study")),
        ("biolink:supporting_text", lit(quote, None)),
        ("cito:citesAsEvidence", source),
        *extra,
    )


def _study_result(u: Unit) -> None:
    _result(u, u.node("result"), _RECORDED, u.node("pub"))  # neither an estimate nor a p-value
    u.expect(u.node("result"), "StudyResult")


def _evidence_study(u: Unit) -> None:
    u.add(u.node("study"), ("ldngraph:hasArm", u.node("dose")))  # an arm, but no quote of the study
    u.expect(u.node("study"), "EvidenceStudy")


def _quoted_source(u: Unit) -> None:
    page = u.node("unidentified-page")
    u.add(
        page,
        ("a", "ldngraph:WebPage"),
        ("rdfs:label", lit(f"page {u.index}")),
        ("dcterms:title", lit(f"page {u.index}")),
    )
    _result(u, u.node("result"), _RECORDED_99, page, ("schema:value", "99.0"))
    u.expect(u.node("result"), "QuotedSource")
    u.expect(page, "QuotedSource")  # the report names the result and the source it cannot identify


def _summary(u: Unit, node: str, *pairs: tuple[str, str]) -> None:
    u.add(
        node,
        ("a", "ldngraph:EvidenceSummary"),
        ("rdfs:label", lit(f"synthetic summary {u.index}")),
        ("schema:healthCondition", u.node("condition")),
        ("ldngraph:evidenceStatus", "ldngraph:InsufficientEvidence"),
        ("prov:wasDerivedFrom", u.node("study")),
        ("rdfs:comment", lit("A synthetic summary.")),
        *pairs,
    )


def _evidence_summary(u: Unit) -> None:
    _summary(u, u.node("summary"), ("ldngraph:certainty", "ldngraph:NotRated"))  # no date
    u.expect(u.node("summary"), "EvidenceSummary")


def _certainty_rater(u: Unit) -> None:
    _summary(
        u,
        u.node("summary"),
        ("dcterms:date", '"2025"^^xsd:gYear'),
        ("ldngraph:certainty", "ldngraph:LowCertainty"),
    )
    u.expect(u.node("summary"), "CertaintyRater")


FAULTS: dict[str, Callable[[Unit], None]] = {
    "Labelled": _labelled,
    "PersistentIri": _persistent_iri,
    "Deprecation": _deprecation,
    "NoDanglingReference": _dangling,
    "OntologyTerm": _ontology_term,
    "Concept": _concept,
    "DrugTypes": _ontology_edit("DrugTypes"),
    "ReceptorTypes": _ontology_edit("ReceptorTypes"),
    "TherapyTypes": _therapy,
    "ConditionTypes": _condition_types,
    "MechanismTypes": _mechanism,
    "StudyTypes": _study_types,
    "RegulatoryStatus": _regulatory,
    "Mapping": _mapping,
    "NoSameAs": _same_as,
    "MappedIdentifier": _mapped_identifier,
    "Statement": _statement,
    "EvidenceStatusConcept": _evidence_status,
    "SourcedOrFlagged": _sourced,
    "AssertedWhenTrue": _asserted,
    "TreatsOnlyFromDrug": _treats,
    "DoseSchedule": _dose,
    "Statistic": _statistic,
    "Publication": _publication,
    "JournalArticle": _journal_article,
    "PublicationDate": _publication_date,
    "PublicationType": _publication_type,
    "Authorship": _authorship,
    "Periodical": _periodical,
    "UniquePublication": _unique,
    "IdentifierPattern": _identifier,
    "SupportingTextVerbatim": _quote,
    "StudyResult": _study_result,
    "EvidenceStudy": _evidence_study,
    "QuotedSource": _quoted_source,
    "EvidenceSummary": _evidence_summary,
    "CertaintyRater": _certainty_rater,
}


def pools(persons: int, periodicals: int) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """The people and journals that synthetic publications share."""
    for n in range(persons):
        yield (
            f"ldn:syn-person-{n}",
            [
                ("a", "ldngraph:Person"),
                ("rdfs:label", lit(f"Synthetic Author {n}")),
                ("schema:name", lit(f"Synthetic Author {n}", None)),
            ],
        )
    for j in range(periodicals):
        yield (
            f"ldn:syn-journal-{j}",
            [
                ("a", "schema:Periodical"),
                ("rdfs:label", lit(f"Journal of Synthetic Medicine {j}")),
                ("schema:name", lit(f"Journal of Synthetic Medicine {j}", None)),
                ("schema:issn", f'"{2000 + j:04d}-{j % 1000:03d}{j % 10}"'),
            ],
        )
        yield (
            f"ldn:syn-journal-{j}-volume",
            [
                ("a", "schema:PublicationVolume"),
                ("rdfs:label", lit(f"Journal of Synthetic Medicine {j}, volume 1")),
                ("schema:volumeNumber", '"1"'),
                ("schema:isPartOf", f"ldn:syn-journal-{j}"),
            ],
        )


@dataclass
class Manifest:
    triples_target: int
    source_triples: int
    units: int
    files: int
    expected: list[tuple[str, str]]

    def to_json(self) -> str:
        return json.dumps(
            {
                "triples_target": self.triples_target,
                "source_triples": self.source_triples,
                "units": self.units,
                "files": self.files,
                "rules": sorted({rule for _, rule in self.expected}),
                "expected": sorted(self.expected),
            },
            indent=1,
        )


def base_instances(files: list[Path], ontology: Path) -> tuple[int, dict[str, list[str]]]:
    """Triples of our own sources, and our instances of the classes the ontology edits break."""
    graph = Graph()
    for path in [*files, ontology]:
        graph.parse(path, format="turtle")
    found = {
        rule: sorted(shorten(str(s)) for s in graph.subjects(RDF.type, cls))
        for rule, (_, _, cls) in ONTOLOGY_EDITS.items()
    }
    return len(graph), found


def copy_sources(out: Path, faults: bool = True) -> tuple[int, list[tuple[str, str]]]:
    """Copy our ontology (with the two edits, when injecting faults), curated data and data changelog
    (a release needs it); return their size in triples and the violations they will show."""
    ontology_out, data_out = out / "ontology", out / "graph_data"
    shutil.copytree(resources.data_dir(), data_out)  # with source/ and reference/, which a release reads
    ontology_out.mkdir(parents=True)
    files = source_files()
    ontology_dir, data_dir = resources.ontology_dir(), resources.data_dir()
    shutil.copy(ontology_dir / SHAPES_FILE, ontology_out / SHAPES_FILE)
    for path in files:
        target = (
            ontology_out / path.name if path.parent == ontology_dir else data_out / path.relative_to(data_dir)
        )
        text = path.read_text(encoding="utf-8")
        if path.name == "ldngraph.ttl" and faults:
            for before, after, _ in ONTOLOGY_EDITS.values():
                if before not in text:
                    sys.exit(f"ontology changed: cannot break {before.strip()!r}; update ONTOLOGY_EDITS")
                text = text.replace(before, after, 1)
        target.write_text(text, encoding="utf-8")
    triples, instances = base_instances(
        [p for p in files if p.parent != ontology_dir], ontology_dir / "ldngraph.ttl"
    )
    changelog = resources.project_root() / CHANGELOG
    if changelog.exists():
        shutil.copy(changelog, out / CHANGELOG)
    expected = [(node, rule) for rule, nodes in instances.items() for node in nodes] if faults else []
    return triples, expected


def generate(
    out: Path, triples: int, progress: Callable[[str], None] = lambda _: None, faults: bool = True
) -> Manifest:
    """Write a synthetic source directory of about ``triples`` triples (ontology + data) into ``out``;
    without ``faults``, a graph that conforms (what a release needs)."""
    if out.exists():
        shutil.rmtree(out)
    base, expected = copy_sources(out, faults)
    faulty = [(rule, site) for site in range(SITES_PER_FAULT) for rule in FAULTS] if faults else []
    probe = make_unit(1, 1, 1).triples()
    units = max(len(faulty), round((triples - base) / (probe + 5)))
    persons, periodicals = max(10, units // 4), max(3, units // 50)
    pool_triples = persons * 3 + periodicals * 8
    units = max(len(faulty), round((triples - base - pool_triples) / probe))
    # Faulty units are spread evenly through the graph, one fault each, so no two faults meet.
    at = {int((k + 0.5) * units / len(faulty)): rule for k, (rule, _) in enumerate(faulty)}
    assert len(at) == len(faulty), "every fault needs a unit of its own"
    units = max(units, 1)

    data = out / "graph_data"
    header = turtle_header()
    written = base
    with (data / "synthetic-0000-people-and-journals.ttl").open("w", encoding="utf-8") as stream:
        stream.write(header)
        for subject, pairs in pools(persons, periodicals):
            stream.write(block(subject, pairs))
            written += len(pairs)
    article = [resources.source_article().read_text(encoding="utf-8").rstrip(), "", "Synthetic passages", ""]
    files = 1
    stream = None
    for i in range(units):
        if i % UNITS_PER_FILE == 0:
            if stream:
                stream.close()
            files += 1
            stream = (data / f"synthetic-{files - 1:04d}.ttl").open("w", encoding="utf-8")
            stream.write(header)
            progress(f"{i:,}/{units:,} units, {written:,} triples")
        unit = make_unit(i, persons, periodicals)
        if i in at:
            FAULTS[at[i]](unit)
            expected += unit.expected
        stream.write(unit.turtle())
        written += unit.triples()
        article.append(" ".join(unit.sentences))
    if stream:
        stream.close()
    (data / "source" / ARTICLE_NAME).write_text("\n".join(article) + "\n", encoding="utf-8")
    manifest = Manifest(triples, written, units, files, sorted(set(expected)))
    (out / "manifest.json").write_text(manifest.to_json() + "\n", encoding="utf-8")
    return manifest


def parse_size(text: str) -> int:
    """``1e5``, ``100000`` or ``100_000``."""
    if not re.fullmatch(r"[0-9_.eE+]+", text):
        raise argparse.ArgumentTypeError(f"not a number of triples: {text!r}")
    return int(float(text.replace("_", "")))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=parse_size, required=True, help="about how many triples (e.g. 1e5)")
    parser.add_argument("--out", type=Path, required=True, help="directory to write (replaced if present)")
    parser.add_argument(
        "--valid", action="store_true", help="inject no violations (a graph a release accepts)"
    )
    args = parser.parse_args(argv)
    manifest = generate(
        args.out,
        args.triples,
        progress=lambda m: print(m, file=sys.stderr, flush=True),
        faults=not args.valid,
    )
    print(
        f"{manifest.source_triples:,} source triples in {manifest.files} synthetic files; "
        f"{len(manifest.expected)} injected violations over {len(set(r for _, r in manifest.expected))} rules",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()

"""The evidence layer as a reader meets it: a condition's summary and studies, a study, a publication.

Read from the same answered triples as the rest of a page (:func:`describe_entity.description_query`
gathers the studies, arms, results, summaries and publications a page needs), and turned into plain
data: a studies table, results with their intervals, the dated summaries. No web framework here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ldn_graph.serving.entity_page import (
    CITES,
    DATE,
    EVIDENCE_STATUS,
    HEALTH_CONDITION,
    PUBLISHED,
    SUPPORTING_TEXT,
    Concept,
    Identifier,
    Link,
    Source,
    Triples,
    _definition,
    _identifiers,
    concept,
    source,
    sources_of,
)
from ldn_graph.vocab.prefixes import ONTOLOGY, PREFIXES

_SCHEMA = PREFIXES["schema"]
_BIOLINK = PREFIXES["biolink"]
STUDY = ONTOLOGY + "Study"
CLINICAL_TRIAL = ONTOLOGY + "ClinicalTrial"
OBSERVATIONAL_STUDY = ONTOLOGY + "ObservationalStudy"
REVIEW = ONTOLOGY + "Review"
CONDITION = ONTOLOGY + "Condition"
PUBLICATION = ONTOLOGY + "Publication"
REGISTRY_RECORD = ONTOLOGY + "RegistryRecord"
SUMMARY = ONTOLOGY + "EvidenceSummary"
STUDY_RESULT = ONTOLOGY + "StudyResult"
STUDY_ARM = ONTOLOGY + "StudyArm"

_REGISTRY_SCHEMES = ("CLINICALTRIALS:", "EUCLINICALTRIALS:", "ANZCTR:", "CTRI:", "ISRCTN:")


def _number(graph: Triples, node: str, predicate: str) -> Decimal | None:
    value = graph.first(node, predicate)
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def plain_number(value: Decimal | float | int | None) -> str:
    """A number as a reader writes it: no trailing zeros, a true minus sign."""
    if value is None:
        return ""
    text = format(Decimal(str(value)).normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace("-", "−")


def _text(graph: Triples, node: str, predicate: str) -> str | None:
    return graph.first(node, predicate)


def _concept_of(graph: Triples, node: str, predicate: str) -> Concept | None:
    iri = graph.first(node, predicate)
    return concept(graph, iri) if iri else None


def _quotes(graph: Triples, node: str) -> tuple[str, ...]:
    return tuple(literal.value for literal in graph.objects(node, SUPPORTING_TEXT))


# --- results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """One outcome at one time point, as a study reports it."""

    link: Link
    study: Link | None
    outcome: str
    primary: bool | None
    time_point: str | None
    statistic: Concept | None
    statistic_description: str | None
    value: Decimal | None
    ci_lower: Decimal | None
    ci_upper: Decimal | None
    ci_level: Decimal | None
    p_value: Decimal | None
    p_relation: str | None
    direction: Concept | None
    group_sizes: tuple[int | None, int | None]
    comparator_value: Decimal | None
    quotes: tuple[str, ...]
    sources: tuple[Source, ...]

    @property
    def interval(self) -> str:
        """The estimate with its interval and p-value, e.g. "−0.34 (95% CI −0.95 to 0.27; p = 0.27)"."""
        parts = []
        if self.ci_lower is not None and self.ci_upper is not None:
            level = f"{plain_number(self.ci_level)}% CI " if self.ci_level is not None else "CI "
            parts.append(f"{level}{plain_number(self.ci_lower)} to {plain_number(self.ci_upper)}")
        if self.p_value is not None:
            parts.append(f"p {self.p_relation or '='} {plain_number(self.p_value)}")
        estimate = plain_number(self.value) if self.value is not None else "no estimate"
        return f"{estimate} ({'; '.join(parts)})" if parts else estimate

    @property
    def statistic_words(self) -> str:
        return self.statistic_description or (self.statistic.label if self.statistic else "estimate")


def result(graph: Triples, node: str) -> Result:
    study = graph.first(node, ONTOLOGY + "reportedBy")
    primary = graph.first(node, ONTOLOGY + "primaryOutcome")
    therapy_n = _number(graph, node, ONTOLOGY + "groupSizeTherapy")
    comparator_n = _number(graph, node, ONTOLOGY + "groupSizeComparator")
    return Result(
        link=graph.link(node),
        study=graph.link(study) if study else None,
        outcome=_text(graph, node, ONTOLOGY + "outcome") or graph.label(node),
        primary=None if primary is None else primary == "true",
        time_point=_text(graph, node, ONTOLOGY + "timePoint"),
        statistic=_concept_of(graph, node, ONTOLOGY + "statistic"),
        statistic_description=_text(graph, node, ONTOLOGY + "statisticDescription"),
        value=_number(graph, node, _SCHEMA + "value"),
        ci_lower=_number(graph, node, ONTOLOGY + "ciLower"),
        ci_upper=_number(graph, node, ONTOLOGY + "ciUpper"),
        ci_level=_number(graph, node, ONTOLOGY + "ciLevel"),
        p_value=_number(graph, node, _BIOLINK + "p_value"),
        p_relation=_text(graph, node, ONTOLOGY + "pValueRelation"),
        direction=_concept_of(graph, node, ONTOLOGY + "direction"),
        group_sizes=(
            int(therapy_n) if therapy_n is not None else None,
            int(comparator_n) if comparator_n is not None else None,
        ),
        comparator_value=_number(graph, node, ONTOLOGY + "comparatorValue"),
        quotes=_quotes(graph, node),
        sources=sources_of(graph, node),
    )


# --- arms and studies -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Arm:
    link: Link
    role: Concept | None
    dose: str | None  # "4.5 mg"
    frequency: str | None
    duration: str | None  # "12 weeks"
    group_size: int | None
    quotes: tuple[str, ...]
    sources: tuple[Source, ...]

    @property
    def regimen(self) -> str:
        """Dose, frequency and duration in a few words, e.g. "6 mg once daily for 12 weeks"."""
        words = " ".join(part for part in (self.dose, self.frequency) if part)
        if self.duration:
            words = f"{words} for {self.duration}" if words else self.duration
        return words


def arm(graph: Triples, node: str) -> Arm:
    value = _number(graph, node, _SCHEMA + "doseValue")
    unit = graph.first(node, _SCHEMA + "doseUnit")
    dose = None
    if value is not None:
        dose = f"{plain_number(value)} {graph.label(unit)}" if unit else plain_number(value)
    duration = graph.first(node, ONTOLOGY + "duration")
    size = _number(graph, node, ONTOLOGY + "groupSize")
    return Arm(
        link=graph.link(node),
        role=_concept_of(graph, node, ONTOLOGY + "armRole"),
        dose=dose,
        frequency=_text(graph, node, _SCHEMA + "frequency"),
        duration=_duration(graph, duration) if duration else None,
        group_size=int(size) if size is not None else None,
        quotes=_quotes(graph, node),
        sources=sources_of(graph, node),
    )


def _duration(graph: Triples, node: str) -> str:
    value = _number(graph, node, _SCHEMA + "value")
    unit = graph.first(node, _SCHEMA + "unitCode")
    if value is None:
        return graph.label(node)
    return f"{plain_number(value)} {graph.label(unit)}" if unit else plain_number(value)


@dataclass(frozen=True)
class Study:
    link: Link
    kind: Link | None  # the most specific of our study classes: clinical trial, review, …
    design: Concept | None
    trial_design: tuple[Link, ...]
    condition: Link | None
    therapy: Link | None
    population: str | None
    comparator: Concept | None
    size: int | None
    size_counts: str | None
    planned_size: int | None
    registry_numbers: tuple[Identifier, ...]
    status: str | None  # the registry's status, in words
    started: str | None
    ended: str | None
    publications: tuple[Source, ...]  # schema:subjectOf, publications first, registry records after
    conclusion: str | None
    arms: tuple[Arm, ...]
    results: tuple[Result, ...]
    includes: tuple[Link, ...]
    quotes: tuple[str, ...]
    sources: tuple[Source, ...]
    year: str | None  # when it ran or was first reported, for ordering

    @property
    def participants(self) -> str:
        if self.size is not None:
            counts = f" {self.size_counts}" if self.size_counts else ""
            return f"{self.size}{counts}"
        if self.planned_size is not None:
            return f"{self.planned_size} planned"
        return "not given"

    @property
    def therapy_arm(self) -> Arm | None:
        experimental = [a for a in self.arms if a.role and a.role.term == "ExperimentalArm"]
        return (experimental or [a for a in self.arms if a.dose] or [None])[0]

    @property
    def primary_results(self) -> tuple[Result, ...]:
        return tuple(r for r in self.results if r.primary)

    @property
    def headline_result(self) -> Result | None:
        """The first primary result that compares the groups, else the first primary result."""
        primary = self.primary_results
        comparative = [r for r in primary if r.direction and r.direction.term != "DirectionNotApplicable"]
        return (comparative or list(primary) or [None])[0]


def _kind(graph: Triples, node: str) -> Link | None:
    types = graph.types.get(node, set())
    for kind in (CLINICAL_TRIAL, OBSERVATIONAL_STUDY, REVIEW, STUDY):
        if kind in types:
            return graph.link(kind)
    return None


def study(graph: Triples, node: str) -> Study:
    arms = sorted(
        (arm(graph, a) for a in graph.iris(node, ONTOLOGY + "hasArm")),
        key=lambda a: (not (a.role and a.role.term == "ExperimentalArm"), a.link.label.lower()),
    )
    result_nodes = set(graph.iris(node, _BIOLINK + "has_study_results"))
    result_nodes |= set(graph.into.get(node, {}).get(ONTOLOGY + "reportedBy", []))
    results = sorted(
        (result(graph, r) for r in result_nodes if graph.is_a(r, STUDY_RESULT)),
        key=lambda r: (not r.primary, r.outcome.lower()),
    )
    publications = sorted(
        (source(graph, p) for p in graph.iris(node, _SCHEMA + "subjectOf")),
        key=lambda s: (graph.is_a(s.link.iri, REGISTRY_RECORD), s.published or "", s.link.label),
    )
    size = _number(graph, node, _BIOLINK + "study_size")
    planned = _number(graph, node, ONTOLOGY + "plannedSize")
    status = graph.first(node, _SCHEMA + "status")
    status_words = graph.label(status) if status else _text(graph, node, ONTOLOGY + "registryStatus")
    dates = [d for d in (graph.first(node, _SCHEMA + "startDate"),) if d]
    dates += [p.published for p in publications if p.published]
    condition = graph.first(node, HEALTH_CONDITION)
    therapy = graph.first(node, _SCHEMA + "studySubject")
    return Study(
        link=graph.link(node),
        kind=_kind(graph, node),
        design=_concept_of(graph, node, ONTOLOGY + "studyDesign"),
        trial_design=tuple(graph.link(t) for t in sorted(graph.iris(node, _SCHEMA + "trialDesign"))),
        condition=graph.link(condition) if condition else None,
        therapy=graph.link(therapy) if therapy else None,
        population=_text(graph, node, ONTOLOGY + "population"),
        comparator=_concept_of(graph, node, ONTOLOGY + "comparator"),
        size=int(size) if size is not None else None,
        size_counts=_text(graph, node, ONTOLOGY + "studySizeCounts"),
        planned_size=int(planned) if planned is not None else None,
        registry_numbers=tuple(
            i for i in _identifiers(graph, node) if i.curie.upper().startswith(_REGISTRY_SCHEMES)
        ),
        status=status_words,
        started=graph.first(node, _SCHEMA + "startDate"),
        ended=graph.first(node, _SCHEMA + "endDate"),
        publications=tuple(publications),
        conclusion=_text(graph, node, ONTOLOGY + "authorsConclusion"),
        arms=tuple(arms),
        results=tuple(results),
        includes=tuple(
            sorted((graph.link(s) for s in graph.iris(node, ONTOLOGY + "includesStudy")), key=_by_label)
        ),
        quotes=_quotes(graph, node),
        sources=sources_of(graph, node),
        year=min(dates)[:4] if dates else None,
    )


def _by_label(link: Link) -> str:
    return link.label.lower()


# --- summaries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """What the studies of a condition show, as of a date: the evidence layer's answer."""

    link: Link
    condition: Link | None
    status: Concept | None
    date: str | None
    certainty: Concept | None
    rated_by: Link | None
    sentence: str | None
    studies: tuple[Link, ...]

    @property
    def certainty_words(self) -> str:
        if self.certainty is None:
            return "certainty not given"
        if self.rated_by is None:
            return self.certainty.label
        return f"{self.certainty.label}, as rated by {self.rated_by.label}"


def summary(graph: Triples, node: str) -> Summary:
    condition = graph.first(node, HEALTH_CONDITION)
    rated_by = graph.first(node, ONTOLOGY + "certaintyRatedBy")
    return Summary(
        link=graph.link(node),
        condition=graph.link(condition) if condition else None,
        status=_concept_of(graph, node, EVIDENCE_STATUS),
        date=graph.first(node, DATE),
        certainty=_concept_of(graph, node, ONTOLOGY + "certainty"),
        rated_by=graph.link(rated_by) if rated_by else None,
        sentence=_definition(graph, node),
        studies=tuple(
            sorted(
                (graph.link(s) for s in graph.iris(node, PREFIXES["prov"] + "wasDerivedFrom")), key=_by_label
            )
        ),
    )


# --- what each page shows -------------------------------------------------------------------------


@dataclass(frozen=True)
class ConditionEvidence:
    """The evidence about one condition: dated summaries first, then every study with its results."""

    summaries: tuple[Summary, ...]
    studies: tuple[Study, ...]

    def certainty_of(self, study_: Study) -> Summary | None:
        """The summary whose certainty covers ``study_`` (the body of evidence it belongs to)."""
        for s in self.summaries:
            if study_.link in s.studies:
                return s
        return None

    @property
    def results(self) -> tuple[Result, ...]:
        return tuple(r for s in self.studies for r in s.results)


_KIND_ORDER = {CLINICAL_TRIAL: 0, OBSERVATIONAL_STUDY: 1, STUDY: 1, REVIEW: 2}


def condition_evidence(graph: Triples, iri: str) -> ConditionEvidence | None:
    """The summaries and studies of condition ``iri``; None when ``iri`` is not a condition."""
    if not graph.is_a(iri, CONDITION):
        return None
    subjects = graph.into.get(iri, {}).get(HEALTH_CONDITION, [])
    summaries = [summary(graph, s) for s in subjects if graph.is_a(s, SUMMARY)]
    studies = [study(graph, s) for s in subjects if graph.is_a(s, STUDY)]
    studies.sort(
        key=lambda s: (_KIND_ORDER.get(s.kind.iri if s.kind else STUDY, 1), s.year or "9999", s.link.label)
    )
    summaries.sort(key=lambda s: s.date or "", reverse=True)  # the latest first
    return ConditionEvidence(tuple(summaries), tuple(studies))


@dataclass(frozen=True)
class StudyPage:
    study: Study
    summaries: tuple[Link, ...]  # the evidence summaries that rest on it
    reviewed_in: tuple[Link, ...]  # reviews that include it


def study_page(graph: Triples, iri: str) -> StudyPage | None:
    if not graph.is_a(iri, STUDY):
        return None
    into = graph.into.get(iri, {})
    return StudyPage(
        study=study(graph, iri),
        summaries=tuple(
            sorted((graph.link(s) for s in into.get(PREFIXES["prov"] + "wasDerivedFrom", [])), key=_by_label)
        ),
        reviewed_in=tuple(
            sorted((graph.link(s) for s in into.get(ONTOLOGY + "includesStudy", [])), key=_by_label)
        ),
    )


@dataclass(frozen=True)
class PublicationSupport:
    """What a publication supports in the evidence layer: the studies it reports, the facts quoted."""

    studies: tuple[Link, ...]  # studies it reports (schema:subjectOf) or is about (schema:about)
    results: tuple[Result, ...]
    arms: tuple[Arm, ...]
    published: str | None


def publication_support(graph: Triples, iri: str) -> PublicationSupport | None:
    if not graph.is_a(iri, PUBLICATION):
        return None
    into = graph.into.get(iri, {})
    reported = set(into.get(_SCHEMA + "subjectOf", [])) | set(graph.iris(iri, _SCHEMA + "about"))
    citing = into.get(CITES, [])
    return PublicationSupport(
        studies=tuple(sorted((graph.link(s) for s in reported), key=_by_label)),
        results=tuple(
            sorted(
                (result(graph, n) for n in citing if graph.is_a(n, STUDY_RESULT)),
                key=lambda r: ((r.study.label if r.study else ""), not r.primary, r.outcome.lower()),
            )
        ),
        arms=tuple(arm(graph, n) for n in sorted(citing) if graph.is_a(n, STUDY_ARM)),
        published=graph.first(iri, PUBLISHED),
    )


__all__ = [
    "Arm",
    "ConditionEvidence",
    "PublicationSupport",
    "Result",
    "Study",
    "StudyPage",
    "Summary",
    "condition_evidence",
    "plain_number",
    "publication_support",
    "study_page",
]

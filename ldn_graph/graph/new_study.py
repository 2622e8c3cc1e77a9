"""``ldn-graph new study``: a skeleton Turtle file for one study of the evidence layer.

The skeleton holds what the curator already knows (the registry number, the condition, the design, how
many arms and results) and marks everything else to be read from the publication or registry record:
literals say ``FILL IN: …`` and the properties a node still needs are written as commented lines
(``#  ldngraph:statistic …``). Nothing numeric is guessed: a placeholder number would pass as data.
``ldn-graph validate`` then explains, node by node, what is missing (the shapes' messages, the
quoted-number and quote-recorded checks, and the placeholder check in ``evidence_checks``) until the file
is complete.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph
from rdflib.namespace import RDF, SKOS

from ldn_graph import resources
from ldn_graph.atomic_files import write_atomic
from ldn_graph.errors import LdnGraphError
from ldn_graph.graph.evidence_checks import PLACEHOLDER
from ldn_graph.graph.namespaces import LDNGRAPH, SCHEMA
from ldn_graph.vocab.prefixes import ID, turtle_header
from ldn_graph.vocab.schemes import SCHEMES, Scheme

#: Trial registries a study may be created from, in the order their patterns are tried.
REGISTRIES = ("clinicaltrials", "euclinicaltrials", "anzctr", "ctri")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass(frozen=True)
class StudySkeleton:
    slug: str
    registry: Scheme
    number: str
    condition: str
    design: str
    study_class: str
    arms: int
    results: int

    @property
    def record(self) -> str:
        return f"{self.registry.key}-{self.number.lower().replace('/', '-')}"

    def turtle(self) -> str:
        study, record = f"ldn:{self.slug}", f"ldn:{self.record}"
        arms = [f"{study}-arm-{n}" for n in range(1, self.arms + 1)]
        results = [f"{study}-result-{n}" for n in range(1, self.results + 1)]
        curie = self.registry.curie(self.number)
        page = self.registry.page(self.number)
        lines = [
            f"# Evidence layer: the study registered as {curie}. Written by `ldn-graph new study`.",
            f'# Replace every "{PLACEHOLDER} …" with what the registry record or publication says, give each',
            "# commented property its value (or delete the line where the source does not say), record each",
            "# quote in reference/curation-notes.md with the page it was read on, and run `ldn-graph validate`",
            "# until it conforms. Every number must stand in a quote of its node.",
            turtle_header().rstrip("\n"),
            "",
            f"{study} a ldngraph:{self.study_class} ;",
            f'    rdfs:label "{PLACEHOLDER}: a one-line name: who, what, against what, in whom"@en ;',
            f"    schema:healthCondition ldn:{self.condition} ;",
            "    schema:studySubject ldn:low-dose-naltrexone ;",
            f"    ldngraph:studyDesign ldngraph:{self.design} ;",
            f'    ldngraph:population "{PLACEHOLDER}: who took part, as the source words it"@en ;',
            "    #  ldngraph:comparator ldngraph:Placebo ;",
            '    #  biolink:study_size N ; ldngraph:studySizeCounts "randomised"@en ;  # or "enrolled"',
            "    #  schema:status schema:Completed ;  # the registry's recruitment status",
            '    #  schema:startDate "YYYY-MM"^^xsd:gYearMonth ; schema:endDate "YYYY-MM"^^xsd:gYearMonth ;',
            f'    dcterms:identifier "{curie}" ;',
            f"    schema:subjectOf {record} ;",
            f'    biolink:supporting_text "{PLACEHOLDER}: the sentence of the record that gives the design and size" ;',
            f"    cito:citesAsEvidence {record} ;",
        ]
        if arms:
            lines.append(f"    ldngraph:hasArm {', '.join(arms)} ;")
        if results:
            lines.append(f"    biolink:has_study_results {', '.join(results)} ;")
        lines += [
            '    biolink:knowledge_level "knowledge_assertion" ; biolink:agent_type "manual_agent" .',
            "",
            f"{record} a ldngraph:RegistryRecord ;",
            f'    rdfs:label "{PLACEHOLDER}: the registry record\'s title"@en ;',
            f'    dcterms:title "{PLACEHOLDER}: the registry record\'s title"@en ;',
            f'    dcterms:identifier "{curie}" ;',
        ]
        if page:
            lines.append(f"    schema:url <{page}> ;")
        lines += [f"    schema:about {study} .", ""]
        for number, arm in enumerate(arms, start=1):
            # The first arm gives the therapy, at a dose; the others are comparators (placebo, usual care),
            # which get a dose only if the source gives them one.
            experimental = number == 1
            lines += [
                f"{arm} a ldngraph:StudyArm{', ldngraph:DoseSchedule' if experimental else ''} ;",
                f'    rdfs:label "{PLACEHOLDER}: the arm as the source names it"@en ;',
                f"    ldngraph:armRole ldngraph:{'ExperimentalArm' if experimental else 'ComparatorArm'} ;",
                "    #  schema:doseValue 4.5 ; schema:doseUnit unit:MilliGM ; ldngraph:doseLevel ldngraph:LowDose ;",
                '    #  schema:frequency "once daily" ; ldngraph:groupSize N ;',
                f"    #  ldngraph:duration {arm}-duration ;  # a ldngraph:Duration: schema:value, schema:unitCode",
                f'    biolink:supporting_text "{PLACEHOLDER}: the sentence that gives this arm\'s treatment" ;',
                f"    cito:citesAsEvidence {record} ;",
                '    biolink:knowledge_level "knowledge_assertion" ; biolink:agent_type "manual_agent" .',
                "",
            ]
        for result in results:
            lines += [
                f"{result} a ldngraph:StudyResult ;",
                f'    rdfs:label "{PLACEHOLDER}: outcome, scale, time point, comparison"@en ;',
                f'    ldngraph:outcome "{PLACEHOLDER}: the outcome as the source names it"@en ;',
                "    ldngraph:primaryOutcome true ;",
                "    #  ldngraph:statistic ldngraph:MeanDifference ;  # a concept of ldngraph:StatisticScheme",
                "    #  schema:value -0.34 ; ldngraph:ciLower -0.95 ; ldngraph:ciUpper 0.27 ; ldngraph:ciLevel 95.0 ;",
                '    #  biolink:p_value 0.27 ; ldngraph:pValueRelation "=" ;',
                "    #  ldngraph:direction ldngraph:NoSignificantDifference ;",
                f"    ldngraph:reportedBy {study} ;",
                f'    biolink:supporting_text "{PLACEHOLDER}: the sentence that gives this result\'s numbers" ;',
                f"    cito:citesAsEvidence {record} ;",
                '    biolink:knowledge_level "knowledge_assertion" ; biolink:agent_type "manual_agent" .',
                "",
            ]
        return "\n".join(lines)


def registry_of(number: str) -> Scheme:
    """The trial registry a registry number belongs to (``NCT…``, EudraCT ``2019-000702-30``, ``ACTRN…``,
    ``CTRI/…``), with or without its CURIE prefix."""
    prefix, _, local = number.partition(":")
    for key in REGISTRIES:
        scheme = SCHEMES[key]
        if local and prefix.upper() == scheme.curie_prefix and scheme.matches(local):
            return scheme
        if not local and scheme.matches(number):
            return scheme
    known = ", ".join(f"{SCHEMES[k].label} ({SCHEMES[k].pattern})" for k in REGISTRIES)
    raise LdnGraphError(f"{number!r} is not a registry number of {known}")


def _concepts(graph: Graph, scheme: str) -> list[str]:
    return sorted(str(c).removeprefix(str(LDNGRAPH)) for c in graph.subjects(SKOS.inScheme, LDNGRAPH[scheme]))


def study_class_for(design: str) -> str:
    """Reviews and observational designs get their own class; every other design is a trial."""
    if "Review" in design or "MetaAnalysis" in design:
        return "Review"
    if any(word in design for word in ("Cohort", "CaseSeries", "CrossSectional", "DrugUtilisation")):
        return "ObservationalStudy"
    return "ClinicalTrial"


def plan_study(
    number: str, condition: str, design: str, arms: int, results: int, slug: str | None, graph: Graph
) -> StudySkeleton:
    """Check the curator's choices against the graph (condition and design must exist; the slug must be
    new) and say what the skeleton will hold."""
    registry = registry_of(number)
    local = number.partition(":")[2] or number
    designs = _concepts(graph, "StudyDesignScheme")
    if design not in designs:
        raise LdnGraphError(f"unknown study design {design!r}; one of: {', '.join(designs)}")
    conditions = sorted(
        str(c).removeprefix(ID)
        for c in set(graph.subjects(RDF.type, SCHEMA.MedicalCondition))
        if str(c).startswith(ID)
    )
    if condition not in conditions:
        raise LdnGraphError(f"unknown condition {condition!r}; one of: {', '.join(conditions)}")
    slug = slug or f"{local.lower().replace('/', '-')}-trial"
    if not _SLUG.fullmatch(slug):
        raise LdnGraphError(f"slug {slug!r}: use lower-case letters, digits and single hyphens")
    if any(str(s) == ID + slug for s in graph.subjects()):
        raise LdnGraphError(f"ldn:{slug} is already in the graph; choose another --slug")
    if not (0 <= arms <= 9 and 0 <= results <= 30):
        raise LdnGraphError("--arms takes 0 to 9 and --results 0 to 30")
    return StudySkeleton(slug, registry, local, condition, design, study_class_for(design), arms, results)


def write_skeleton(skeleton: StudySkeleton, root: Path | None = None, out: Path | None = None) -> Path:
    """Write the skeleton to ``graph_data/evidence/{slug}.ttl`` (or ``out``), never over an existing file."""
    target = out or resources.data_dir(root) / "evidence" / f"{skeleton.slug}.ttl"
    if target.exists():
        raise LdnGraphError(f"{target} exists; the skeleton is never written over a file")
    write_atomic(target, skeleton.turtle().encode("utf-8"))
    return target

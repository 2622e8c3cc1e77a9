"""Link health: the graph's identifiers and mappings held to the scheme table and the reference table.

Offline and fast, so it runs in CI beside ``validate``. Four checks:

- ``pattern`` (error): an identifier literal that is not a CURIE of a known scheme, or breaks the pattern;
- ``reference`` (error): an identifier (literal or mapping IRI) of an entity that is not a row of
  ``identifiers.tsv`` with ``emit`` = yes;
- ``predicate`` (error): a SKOS mapping whose relation is not the table's ``mapping`` column, or an
  identifier with a canonical IRI whose mapping triple is missing;
- ``unmapped`` (gap): an entity of a mapped kind (the kinds competency query 8 lists) with no identifier
  at all. Gaps are to-dos, not breakage: they are reported, and fail the check only with ``strict``.

The library returns a ``LinkReport``; the CLI maps it to exit codes 0 (healthy), 1 (findings), 2 (error).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDF

from ldn_graph.graph.build import build_graph
from ldn_graph.graph.load import LoadedSources
from ldn_graph.graph.namespaces import LDNGRAPH, MAPPING_PREDICATES
from ldn_graph.graph.reference_table import ReferenceTable, load_reference_table, table_key
from ldn_graph.vocab.prefixes import is_entity, shorten
from ldn_graph.vocab.schemes import Scheme, scheme_of_iri, split_curie

# Our classes whose instances other graphs name with identifiers; an instance with none is a gap.
MAPPED_KINDS = tuple(
    LDNGRAPH[name]
    for name in (
        "Drug",
        "Metabolite",
        "EndogenousLigand",
        "ChemicalRole",
        "DrugClass",
        "Receptor",
        "ReceptorComplex",
        "CellType",
        "Mechanism",
        "Condition",
    )
)
RELATION_OF = {predicate: name for name, predicate in MAPPING_PREDICATES.items()}
ERROR, GAP = "error", "gap"


@dataclass(frozen=True)
class LinkFinding:
    check: str  # pattern | reference | predicate | unmapped
    severity: str  # error | gap
    entity: str  # CURIE of our entity
    value: str  # the identifier or IRI concerned ("" for unmapped)
    message: str
    files: tuple[str, ...] = ()

    def describe(self) -> str:
        where = ", ".join(self.files) or "(built graph)"
        value = f" (value: {self.value})" if self.value else ""
        return f"{where}: {self.entity}: {self.check}: {self.message}{value}"


@dataclass
class LinkReport:
    identifiers: int = 0
    mappings: int = 0
    findings: list[LinkFinding] = field(default_factory=list)

    @property
    def errors(self) -> list[LinkFinding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def gaps(self) -> list[LinkFinding]:
        return [f for f in self.findings if f.severity == GAP]

    def healthy(self, strict: bool = False) -> bool:
        return not (self.findings if strict else self.errors)

    def to_json(self) -> str:
        return json.dumps(
            {
                "identifiers": self.identifiers,
                "mappings": self.mappings,
                "errors": len(self.errors),
                "gaps": len(self.gaps),
                "findings": [asdict(f) for f in self.findings],
            },
            ensure_ascii=False,
            indent=1,
        )


def _is_entity(node) -> bool:
    return isinstance(node, URIRef) and is_entity(str(node))


def local_part(scheme: Scheme, iri: str) -> str | None:
    """The identifier inside one of ``scheme``'s canonical IRIs, or None if ``iri`` is not one."""
    if not scheme.iri_template:
        return None
    head, _, tail = scheme.iri_template.partition("{id}")
    if iri.startswith(head) and iri.endswith(tail) and len(iri) > len(head) + len(tail):
        return iri[len(head) : len(iri) - len(tail)]
    return None


def check_links(graph: Graph, table: ReferenceTable, sources: LoadedSources | None = None) -> LinkReport:
    rows = table.by_key()
    report = LinkReport()

    def finding(check: str, severity: str, entity, value: str, message: str) -> None:
        files = tuple(str(p) for p in sources.files_of(entity)) if sources else ()
        report.findings.append(LinkFinding(check, severity, shorten(str(entity)), value, message, files))

    identified: set[URIRef] = set()
    for entity, literal in sorted(graph.subject_objects(DCTERMS.identifier)):
        if not _is_entity(entity):
            continue  # ontology concepts carry vocabulary codes from vocabularies.md, not table rows
        identified.add(entity)
        report.identifiers += 1
        try:
            scheme, local = split_curie(str(literal))
        except ValueError as error:
            finding("pattern", ERROR, entity, str(literal), str(error))
            continue
        row = rows.get(table_key(scheme.key, local))
        if row is None or not row.emit:
            state = "not in" if row is None else f"marked emit = no (line {row.line}) in"
            finding("reference", ERROR, entity, str(literal), f"the identifier is {state} {table.path.name}")
            continue
        iri = scheme.iri(local)
        expected = MAPPING_PREDICATES.get(row.mapping)
        if (
            iri
            and expected
            and not any((entity, p, URIRef(iri)) in graph for p in MAPPING_PREDICATES.values())
        ):
            finding(
                "predicate",
                ERROR,
                entity,
                str(literal),
                f"the table maps it '{row.mapping}' (line {row.line}) but the graph has no {shorten(str(expected))} <{iri}>",
            )

    for predicate, relation in sorted(RELATION_OF.items()):
        for entity, target in sorted(graph.subject_objects(predicate)):
            if not _is_entity(entity):
                continue
            report.mappings += 1
            scheme = scheme_of_iri(str(target))
            local = local_part(scheme, str(target)) if scheme else None
            if scheme is None or local is None:
                finding(
                    "reference",
                    ERROR,
                    entity,
                    str(target),
                    f"{shorten(str(predicate))} points to an IRI of no known identifier scheme",
                )
                continue
            row = rows.get(table_key(scheme.key, local))
            if row is None or not row.emit:
                state = "not in" if row is None else f"marked emit = no (line {row.line}) in"
                finding(
                    "reference",
                    ERROR,
                    entity,
                    str(target),
                    f"{scheme.curie(local)} is {state} {table.path.name}",
                )
            elif row.mapping != relation:
                finding(
                    "predicate",
                    ERROR,
                    entity,
                    str(target),
                    f"the graph says {shorten(str(predicate))} but the table says '{row.mapping}' (line {row.line})",
                )

    for kind in MAPPED_KINDS:
        for entity in sorted(graph.subjects(RDF.type, kind)):
            if _is_entity(entity) and entity not in identified:
                identified.add(entity)  # an entity of two mapped kinds is reported once
                finding(
                    "unmapped",
                    GAP,
                    entity,
                    "",
                    f"an entity of kind {shorten(str(kind))} with no external identifier",
                )
    return report


def check_project(root: Path | None = None, table_path: Path | None = None) -> LinkReport:
    """Build the graph from the sources under ``root`` and check its links against the table."""
    result = build_graph(root)
    table = load_reference_table(root, table_path)
    return check_links(result.graph, table, result.sources)

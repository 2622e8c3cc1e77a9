"""The graph as KGX TSV (``nodes.tsv`` and ``edges.tsv``): Biolink categories, predicates and CURIEs.

Monarch, KG-Hub and Translator tools read KGX and join on CURIEs in Biolink prefix casing, and ``kgx
validate`` refuses a node id or an edge end whose prefix is not in Biolink's JSON-LD context. So a node's
``id`` is its best external identifier: the first prefix, in the order of the Biolink class's
``id_prefixes``, among the identifiers the reference table maps *exactly* (naltrexone is ``CHEBI:7465``,
Crohn's disease ``MONDO:0005011``). Every node carries its persistent IRI in ``iri``.

An entity with no such identifier is not a node: Biolink has no prefix for a graph's own entities
(biolink/biolink-model#1627), and a node no other graph can name would be an island in the graphs KGX is
merged into. A therapy (low-dose naltrexone) is said the way Biolink says treatments: its edges start at
its drug (``CHEBI:7465``), with the therapy's IRI as the edge's ``original_subject``. Studies, their
results and sources without a PMID, DOI or PMCID stay in the RDF, where the evidence layer links them;
a source without one is cited on an edge by its IRI.

Edges are the asserted triples only — a triple is in the graph exactly when it is true as stated (data
contract, rule 6) — each with the sources, quotation, knowledge level and agent type of the statement
that reifies it, and the statement's IRI as its ``id``, so that KGX's own RDF writer gives the edge back
its IRI in our graph. Statements whose triple is not asserted (hypothesised, preliminary, efficacy not
shown, no supporting evidence) are **not exported**: Biolink's knowledge levels have no value for "the
source hypothesises this", and a consumer that ignores ``knowledge_level`` would read such an edge as fact.
They stay in the RDF, where they are statements with an evidence status.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS

from ldn_graph.atomic_files import write_atomic
from ldn_graph.graph.mappings import collect_mappings
from ldn_graph.graph.namespaces import BIOLINK, CITO, LDNGRAPH, OBO, SCHEMA
from ldn_graph.graph.reference_table import ReferenceTable
from ldn_graph.vocab.prefixes import ID, is_entity, shorten
from ldn_graph.vocab.schemes import MAPPING_RELATIONS

log = logging.getLogger(__name__)

KNOWLEDGE_SOURCE = "infores:ldn-graph"
NODE_COLUMNS = (
    "id",
    "category",
    "name",
    "description",
    "xref",
    "synonym",
    "iri",
    "provided_by",
)
EDGE_COLUMNS = (
    "id",
    "subject",
    "predicate",
    "object",
    "original_subject",
    "qualified_predicate",
    "object_aspect_qualifier",
    "object_direction_qualifier",
    "original_predicate",
    "primary_knowledge_source",
    "knowledge_level",
    "agent_type",
    "publications",
    "supporting_text",
)

#: Biolink ``id_prefixes`` of the classes our entities have, in Biolink's order (only the prefixes our
#: schemes use; tests check the order against the Biolink model).
_CHEMICAL = (
    "CHEBI",
    "UNII",
    "PUBCHEM.COMPOUND",
    "CHEMBL.COMPOUND",
    "DRUGBANK",
    "MESH",
    "CAS",
    "INCHIKEY",
    "UMLS",
)
ID_PREFIXES: dict[str, tuple[str, ...]] = {
    "SmallMolecule": _CHEMICAL,
    "ChemicalEntity": _CHEMICAL,
    "ChemicalRole": ("CHEBI",),
    "Protein": ("UniProtKB", "ENSEMBL", "UMLS", "NCIT", "MESH"),
    "Disease": ("MONDO", "DOID", "EFO", "UMLS", "MESH", "NCIT", "HP"),
    "PhenotypicFeature": ("HP", "EFO", "NCIT", "UMLS", "MESH"),
    "BiologicalProcess": ("GO", "UMLS"),
    "MolecularActivity": ("GO", "UMLS"),
    "MacromolecularComplex": ("GO",),
    "Cell": ("CL", "UMLS", "NCIT", "MESH"),
}


@dataclass(frozen=True)
class EdgeKind:
    """How one of our asserted predicates is said in Biolink (4.x qualifier style where needed)."""

    predicate: str
    qualified_predicate: str = ""
    object_aspect_qualifier: str = ""
    object_direction_qualifier: str = ""


EDGE_KINDS: dict[URIRef, EdgeKind] = {
    # "is antagonist of": the chemical causes decreased activity of the receptor.
    OBO.RO_0018029: EdgeKind("biolink:affects", "biolink:causes", "activity", "decreased"),
    LDNGRAPH.decreases: EdgeKind("biolink:affects", "biolink:causes", "", "decreased"),
    LDNGRAPH.increases: EdgeKind("biolink:affects", "biolink:causes", "", "increased"),
    OBO.RO_0000087: EdgeKind("biolink:has_chemical_role"),
    BIOLINK.has_metabolite: EdgeKind("biolink:has_metabolite"),
    BIOLINK.treats: EdgeKind("biolink:treats"),
    BIOLINK.applied_to_treat: EdgeKind("biolink:applied_to_treat"),
    BIOLINK.studied_to_treat: EdgeKind("biolink:studied_to_treat"),
    BIOLINK.in_clinical_trials_for: EdgeKind("biolink:in_clinical_trials_for"),
}


def unasserted_statuses(graph: Graph) -> set[URIRef]:
    """The evidence statuses whose claims are never asserted as triples (PRODUCT.md, rule 6), as the
    ontology states them (``ldngraph:assertsTriple false``), so a status added there is honoured here."""
    return {s for s, value in graph.subject_objects(LDNGRAPH.assertsTriple) if not value.toPython()}


@dataclass(frozen=True)
class KgxExport:
    nodes: tuple[dict[str, str], ...]
    edges: tuple[dict[str, str], ...]

    def nodes_tsv(self) -> str:
        return _tsv(NODE_COLUMNS, self.nodes)

    def edges_tsv(self) -> str:
        return _tsv(EDGE_COLUMNS, self.edges)


def _clean(value: str) -> str:
    # KGX TSV separates values of a list with "|"; no single value may hold one, a tab or a line break.
    return " ".join(value.replace("|", "/").split())


def _tsv(columns: tuple[str, ...], rows: tuple[dict[str, str], ...]) -> str:
    lines = ["\t".join(columns)] + ["\t".join(row.get(c, "") for c in columns) for row in rows]
    return "\n".join(lines) + "\n"


def _join(values) -> str:
    return "|".join(_clean(str(v)) for v in values)


def obo_curie(iri: str) -> str:
    """``obo:RO_0018029`` as the CURIE Biolink writes (``RO:0018029``); other IRIs by the prefix map."""
    if iri.startswith(str(OBO)):
        return iri.removeprefix(str(OBO)).replace("_", ":", 1)
    return shorten(iri)


def _is_entity(node) -> bool:
    return isinstance(node, URIRef) and is_entity(str(node))


def _categories(graph: Graph, entity: URIRef) -> list[str]:
    return sorted(
        str(t).removeprefix(str(BIOLINK))
        for t in graph.objects(entity, RDF.type)
        if str(t).startswith(str(BIOLINK))
    )


def _text(graph: Graph, entity: URIRef, predicate: URIRef) -> str:
    values = sorted(
        graph.objects(entity, predicate), key=lambda v: (getattr(v, "language", None) != "en", str(v))
    )
    return str(values[0]) if values else ""


def node_ids(graph: Graph, exact: dict[URIRef, list[str]]) -> dict[URIRef, str]:
    """Each typed entity's KGX id: its best exact identifier for its categories. Entities with none are
    left out (see the module's docstring)."""
    ids: dict[URIRef, str] = {}
    taken: set[str] = set()
    for entity in sorted({s for s in graph.subjects(RDF.type, None) if _is_entity(s)}):
        by_prefix = {curie.partition(":")[0]: curie for curie in sorted(exact.get(entity, ()))}
        order = [
            p for c in sorted(_categories(graph, entity), key=_specificity) for p in ID_PREFIXES.get(c, ())
        ]
        best = next((by_prefix[p] for p in order if p in by_prefix and by_prefix[p] not in taken), None)
        if best is not None:
            ids[entity] = best
            taken.add(best)
    return ids


def _specificity(category: str) -> int:
    # SmallMolecule before ChemicalEntity: the subclass's prefixes come first.
    return {"ChemicalEntity": 1}.get(category, 0)


def export_kgx(graph: Graph, table: ReferenceTable) -> KgxExport:
    exact: dict[URIRef, list[str]] = {}
    for mapping in collect_mappings(graph, table):
        if mapping.predicate_id == MAPPING_RELATIONS["exact"].curie:
            exact.setdefault(URIRef(ID + mapping.subject_id.removeprefix("ldn:")), []).append(
                mapping.object_id
            )
    ids = node_ids(graph, exact)

    statements: dict[tuple, list[URIRef]] = {}
    for statement in graph.subjects(RDF.type, LDNGRAPH.Statement):
        triple = tuple(graph.value(statement, p) for p in (RDF.subject, RDF.predicate, RDF.object))
        statements.setdefault(triple, []).append(statement)

    unasserted = unasserted_statuses(graph)
    edges = []
    used: set[URIRef] = set()
    for predicate, kind in EDGE_KINDS.items():
        for subject, obj in sorted(graph.subject_objects(predicate)):
            # A therapy has no identifier of its own: its edge starts at its drug.
            start = subject if subject in ids else graph.value(subject, SCHEMA.drug)
            if start not in ids or obj not in ids:
                continue
            reifying = sorted(statements.get((subject, predicate, obj), ()))
            asserting = [s for s in reifying if graph.value(s, LDNGRAPH.evidenceStatus) not in unasserted]
            if not asserting:
                log.warning(
                    "%s %s %s is asserted but no statement asserts it; left out", subject, predicate, obj
                )
                continue
            edges.append(_edge(graph, ids, (start, subject), predicate, obj, kind, asserting))
            used |= {start, obj}
    nodes = [_node(graph, entity, ids[entity], exact.get(entity, ())) for entity in sorted(used)]
    return KgxExport(tuple(sorted(nodes, key=lambda n: n["id"])), tuple(sorted(edges, key=lambda e: e["id"])))


def _node(graph: Graph, entity: URIRef, node_id: str, exact) -> dict[str, str]:
    return {
        "id": node_id,
        "category": _join(f"biolink:{c}" for c in _categories(graph, entity)),
        "name": _clean(_text(graph, entity, RDFS.label)),
        "description": _clean(_text(graph, entity, SKOS.definition)),
        "xref": _join(sorted(c for c in exact if c != node_id)),
        "synonym": _join(sorted(str(label) for label in graph.objects(entity, SKOS.altLabel))),
        "iri": str(entity),
        "provided_by": KNOWLEDGE_SOURCE,
    }


def _edge(graph, ids, ends, predicate, obj, kind: EdgeKind, statements: list[URIRef]) -> dict[str, str]:
    start, subject = ends  # the node the edge starts at, and the entity the graph says it of
    publications = sorted(
        {
            _publication_id(graph, source)
            for s in statements
            for source in graph.objects(s, CITO.citesAsEvidence)
        }
    )
    texts = sorted({str(t) for s in statements for t in graph.objects(s, BIOLINK.supporting_text)})
    levels = {str(v) for s in statements for v in graph.objects(s, BIOLINK.knowledge_level)}
    agents = {str(v) for s in statements for v in graph.objects(s, BIOLINK.agent_type)}
    return {
        "id": str(statements[0]),
        "subject": ids[start],
        "predicate": kind.predicate,
        "object": ids[obj],
        "original_subject": str(subject) if subject != start else "",
        "qualified_predicate": kind.qualified_predicate,
        "object_aspect_qualifier": kind.object_aspect_qualifier,
        "object_direction_qualifier": kind.object_direction_qualifier,
        "original_predicate": obo_curie(str(predicate)),
        "primary_knowledge_source": KNOWLEDGE_SOURCE,
        # One value each: several statements of one triple agree, or the edge says it cannot tell.
        "knowledge_level": levels.pop() if len(levels) == 1 else "not_provided",
        "agent_type": agents.pop() if len(agents) == 1 else "not_provided",
        "publications": _join(publications),
        "supporting_text": _join(texts),
    }


_PUBLICATION_PREFIXES = ("PMID", "doi", "PMC")


def _publication_id(graph: Graph, publication: URIRef) -> str:
    """A cited source's CURIE: PMID, else DOI, else PMCID; else its IRI in our graph, which Biolink's
    ``publications`` (a list of URIs or CURIEs) takes as it is."""
    identifiers = {str(i).partition(":")[0]: str(i) for i in graph.objects(publication, DCTERMS.identifier)}
    for prefix in _PUBLICATION_PREFIXES:
        if prefix in identifiers:
            return identifiers[prefix]
    return str(publication)


def write_kgx(directory: Path, export: KgxExport, name: str = "ldn-graph") -> tuple[Path, Path]:
    """Write ``{name}_nodes.tsv`` and ``{name}_edges.tsv`` (KGX's file naming) atomically."""
    nodes, edges = Path(directory) / f"{name}_nodes.tsv", Path(directory) / f"{name}_edges.tsv"
    write_atomic(nodes, export.nodes_tsv().encode("utf-8"))
    write_atomic(edges, export.edges_tsv().encode("utf-8"))
    return nodes, edges

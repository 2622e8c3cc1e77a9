"""The graph's identifiers as an SSSOM mapping set (TSV with its YAML metadata block).

One row per identifier an entity carries in the graph (``dcterms:identifier``), joined to the curated
table for the SKOS relation (its ``mapping`` column), the confidence and where it was verified. Rows are
written only for identifiers the table marks ``emit`` = yes with a relation other than ``none``; anything
else in the graph is a link-health error (``ldn-graph links check``), not a mapping.

Confidence: ``verified`` 0.95, ``likely`` 0.8, and ``unverified`` 0.5 — such identifiers (ISO country
codes, S2CIDs, an ISSN, one article's DOI and PMID) are in the graph because the source article states
them, but nobody confirmed them elsewhere, so they are published with a confidence that says "as likely
wrong as right" rather than left out of a set that claims to list every emitted identifier.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDFS

from ldn_graph.atomic_files import write_atomic
from ldn_graph.graph.reference_table import ReferenceTable, table_key
from ldn_graph.vocab import dataset
from ldn_graph.vocab.dataset import CONTRIBUTORS_NAME
from ldn_graph.vocab.prefixes import ID, PREFIXES, is_entity
from ldn_graph.vocab.schemes import MAPPING_RELATIONS, SCHEMES, Scheme, split_curie

log = logging.getLogger(__name__)

MAPPING_SET_BASE = "https://w3id.org/ldngraph/mappings/"
JUSTIFICATION = "semapv:ManualMappingCuration"
CONFIDENCE = {"verified": 0.95, "likely": 0.8, "unverified": 0.5}
#: The reference table's mapping column -> the SSSOM predicate_id.
PREDICATE_IDS = {key: relation.curie for key, relation in MAPPING_RELATIONS.items()}
COLUMNS = (
    "subject_id",
    "subject_label",
    "predicate_id",
    "object_id",
    "mapping_justification",
    "confidence",
    "comment",
)
# Schemes whose identifiers have no IRI of their own expand through Bioregistry's resolver, so that every
# CURIE of the set can still be expanded; that IRI is a resolver's, never a mapping target in the graph.
RESOLVER = "https://bioregistry.io/{key}:"
FIXED_PREFIXES = {
    "ldn": ID,
    "skos": PREFIXES["skos"],
    "semapv": "https://w3id.org/semapv/vocab/",
}


@dataclass(frozen=True)
class Mapping:
    subject_id: str
    subject_label: str
    predicate_id: str
    object_id: str
    confidence: float
    comment: str
    mapping_justification: str = JUSTIFICATION

    def cells(self) -> list[str]:
        return [str(getattr(self, column)) for column in COLUMNS]


@dataclass(frozen=True)
class MappingSet:
    metadata: dict[str, object]
    mappings: tuple[Mapping, ...]

    def to_tsv(self) -> str:
        """SSSOM TSV with the metadata embedded as a commented YAML block (the SSSOM default form)."""
        lines = ["#" + line for line in yaml_block(self.metadata).splitlines()]
        lines.append("\t".join(COLUMNS))
        lines += ["\t".join(_cell(value) for value in mapping.cells()) for mapping in self.mappings]
        return "\n".join(lines) + "\n"


def curie_expansion(scheme: Scheme) -> str:
    """The namespace a scheme's CURIEs expand to: its canonical IRI's, else the resolver's."""
    if scheme.iri_template and scheme.iri_template.endswith("{id}"):
        return scheme.iri_template.removesuffix("{id}")
    return RESOLVER.format(key=scheme.key)


def _cell(value: str) -> str:
    # Tabs and line breaks would split a row; the evidence text never needs them.
    return " ".join(value.split())


def _subject_curie(entity: URIRef) -> str:
    return "ldn:" + str(entity).removeprefix(ID)


def _label(graph: Graph, entity: URIRef) -> str:
    labels = sorted(graph.objects(entity, RDFS.label), key=lambda label: (label.language != "en", str(label)))
    return str(labels[0]) if labels else ""


def collect_mappings(graph: Graph, table: ReferenceTable) -> list[Mapping]:
    """A mapping per emitted identifier of an entity (not of a statement or an ontology term)."""
    rows = table.by_key()
    mappings = []
    for entity, literal in sorted(graph.subject_objects(DCTERMS.identifier)):
        if not is_entity(str(entity)):
            continue
        try:
            scheme, local = split_curie(str(literal))
        except ValueError as error:
            log.warning("%s: %s; left out of the mapping set", entity, error)
            continue
        row = rows.get(table_key(scheme.key, local))
        if row is None or not row.emit or row.mapping not in PREDICATE_IDS:
            log.warning("%s: %s is not an emitted row of %s; left out", entity, literal, table.path.name)
            continue
        evidence = row.evidence.replace(" | ", "; ")
        mappings.append(
            Mapping(
                subject_id=_subject_curie(entity),
                subject_label=_label(graph, entity),
                predicate_id=PREDICATE_IDS[row.mapping],
                object_id=scheme.curie(local),
                confidence=CONFIDENCE[row.confidence],
                comment=f"{row.confidence}: {evidence}",
            )
        )
    return sorted(mappings, key=lambda m: (m.subject_id, m.object_id))


def mapping_set_metadata(mappings: list[Mapping], version: str, issued: dt.date) -> dict[str, object]:
    used = {m.object_id.partition(":")[0] for m in mappings}
    curie_map = dict(FIXED_PREFIXES)
    for scheme in sorted(SCHEMES.values(), key=lambda s: s.curie_prefix):
        if scheme.curie_prefix in used:
            curie_map[scheme.curie_prefix] = curie_expansion(scheme)
    return {
        "curie_map": curie_map,
        "mapping_set_id": f"{MAPPING_SET_BASE}{version}",
        "mapping_set_version": version,
        "mapping_set_title": "ldn-graph identifier mappings",
        "mapping_set_description": (
            "Every external identifier of the ldn-graph entities (low-dose naltrexone knowledge graph), "
            "with the SKOS relation, confidence and verification source of the curated identifier table."
        ),
        "license": dataset.LICENSE,
        "creator_label": [CONTRIBUTORS_NAME],
        "publication_date": issued.isoformat(),
        "see_also": [f"{MAPPING_SET_BASE}{version}", "https://w3id.org/ldngraph/id/dataset"],
    }


def yaml_block(metadata: dict[str, object]) -> str:
    """YAML for the metadata: every string JSON-quoted (valid YAML), so no value needs escaping rules."""
    lines = []
    for key, value in metadata.items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines += [f"  {k}: {json.dumps(v, ensure_ascii=False)}" for k, v in value.items()]
        elif isinstance(value, list):
            lines.append(f"{key}:")
            lines += [f"  - {json.dumps(v, ensure_ascii=False)}" for v in value]
        else:
            lines.append(f"{key}: {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def build_mapping_set(graph: Graph, table: ReferenceTable, version: str, issued: dt.date) -> MappingSet:
    mappings = collect_mappings(graph, table)
    return MappingSet(mapping_set_metadata(mappings, version, issued), tuple(mappings))


def write_mapping_set(path: Path, mapping_set: MappingSet) -> None:
    write_atomic(Path(path), mapping_set.to_tsv().encode("utf-8"))

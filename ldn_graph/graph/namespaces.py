"""The prefix map as rdflib namespaces, for the pipeline that builds the graph with rdflib."""

from __future__ import annotations

from rdflib import Graph, Namespace, URIRef

from ldn_graph.vocab import dataset
from ldn_graph.vocab.prefixes import ID, ONTOLOGY, PREFIXES
from ldn_graph.vocab.schemes import MAPPING_RELATIONS

SCHEMA = Namespace(PREFIXES["schema"])
BIOLINK = Namespace(PREFIXES["biolink"])
OBO = Namespace(PREFIXES["obo"])
CITO = Namespace(PREFIXES["cito"])
PROV = Namespace(PREFIXES["prov"])
SH = Namespace(PREFIXES["sh"])
VOID = Namespace(PREFIXES["void"])
DCAT = Namespace(PREFIXES["dcat"])
SPDX = Namespace(PREFIXES["spdx"])
FOAF = Namespace(PREFIXES["foaf"])
VCARD = Namespace(PREFIXES["vcard"])
LDNGRAPH = Namespace(ONTOLOGY)
LDN = Namespace(ID)
SOURCE_ARTICLE = URIRef(dataset.SOURCE_ARTICLE)
#: The SKOS relation named in the reference table's ``mapping`` column.
MAPPING_PREDICATES = {key: URIRef(relation.iri) for key, relation in MAPPING_RELATIONS.items()}


def bind_prefixes(graph: Graph) -> Graph:
    """Bind the project's prefixes on ``graph`` (replacing rdflib's defaults) and return it."""
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph

"""The built graph as JSON-LD, written by the one JSON-LD writer (:mod:`ldn_graph.serving.jsonld`)."""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import Graph

from ldn_graph.graph.store_graph import StoreGraph, to_oxigraph
from ldn_graph.serving.jsonld import store_to_jsonld, triples_to_jsonld


def to_jsonld(graph: Graph | StoreGraph) -> bytes:
    """``graph`` as a compacted, deterministic JSON-LD document under our inline context."""
    if isinstance(graph, StoreGraph):
        return store_to_jsonld(graph.store)
    return triples_to_jsonld(ox.Triple(*(to_oxigraph(term) for term in triple)) for triple in graph)

"""The built graph as JSON-LD, written by the one JSON-LD writer (:mod:`ldn_graph.serving.jsonld`)."""

from __future__ import annotations

from collections.abc import Iterator

import pyoxigraph as ox
from rdflib import Graph

from ldn_graph.graph.store_graph import StoreGraph, to_oxigraph
from ldn_graph.serving.jsonld import store_jsonld, triples_to_jsonld


def to_jsonld(graph: Graph | StoreGraph) -> bytes:
    """``graph`` as a compacted, deterministic JSON-LD document under our inline context."""
    return b"".join(jsonld_chunks(graph))


def jsonld_chunks(graph: Graph | StoreGraph) -> Iterator[bytes]:
    """The same, in pieces: a large graph's dump is written out as it is made."""
    if isinstance(graph, StoreGraph):
        yield from store_jsonld(graph.store)
        return
    yield triples_to_jsonld(ox.Triple(*(to_oxigraph(term) for term in triple)) for triple in graph)

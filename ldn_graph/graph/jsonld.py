"""JSON-LD with our own context, so that the JSON-LD dump carries exactly the IRIs of the Turtle and
N-Triples dumps.

schema.org's published context maps ``schema:`` to ``http://schema.org/``; loading our JSON-LD with it
would silently turn every ``https://schema.org/`` term into another IRI. Our context is built from the
one prefix map (``prefixes.PREFIXES``) and is written inline, so a reader needs no network to expand it.

The writer is deliberately plain and deterministic: one node object per subject, sorted by IRI; one key
per predicate, sorted; values sorted; every literal as ``{"@value": lexical form}`` with its datatype or
language, never a native JSON number, so that lexical forms (``71.0``) survive a round trip unchanged.
"""

from __future__ import annotations

import json
from collections import defaultdict

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from ldn_graph.errors import LdnGraphError
from ldn_graph.graph.store_graph import StoreGraph
from ldn_graph.vocab.prefixes import PREFIXES

MEDIA_TYPE = "application/ld+json"


def context() -> dict[str, str]:
    """Our JSON-LD context: every prefix of the prefix map, nothing else (no ``@vocab``, no aliases)."""
    return dict(PREFIXES)


def _namespaces_longest_first() -> list[tuple[str, str]]:
    return sorted(((ns, prefix) for prefix, ns in PREFIXES.items()), key=lambda item: -len(item[0]))


_BY_LENGTH = _namespaces_longest_first()


def compact(iri: str) -> str:
    """``prefix:local`` under our context where that expands back to ``iri``, else the IRI itself.

    A compact IRI whose local part starts with ``//`` would read as an absolute IRI, so those stay whole;
    so does an IRI whose own scheme is one of our prefixes (it would be taken as a compact IRI).
    """
    for namespace, prefix in _BY_LENGTH:
        if iri.startswith(namespace):
            local = iri[len(namespace) :]
            if local and not local.startswith("//"):
                return f"{prefix}:{local}"
    if iri.split(":", 1)[0] in PREFIXES:
        raise LdnGraphError(f"the IRI {iri} cannot be written in JSON-LD under our context")
    return iri


def _value(term) -> dict[str, str]:
    if isinstance(term, URIRef):
        return {"@id": compact(str(term))}
    if isinstance(term, BNode):
        raise LdnGraphError("blank nodes are not published (the data contract names every node by IRI)")
    assert isinstance(term, Literal)
    if term.language:
        return {"@value": str(term), "@language": term.language}
    datatype = term.datatype
    if datatype is None or datatype == XSD.string:
        return {"@value": str(term)}
    return {"@value": str(term), "@type": compact(str(datatype))}


def _sort_key(value: dict[str, str]) -> tuple[str, str, str, str]:
    return (value.get("@id", ""), value.get("@value", ""), value.get("@type", ""), value.get("@language", ""))


def to_jsonld(graph: Graph | StoreGraph) -> bytes:
    """``graph`` as a compacted, deterministic JSON-LD document under our inline context.

    Written node by node, each the text ``json.dumps`` gives it inside the whole document (indented two
    levels): the same bytes as dumping the document at once, without holding every node of a large
    graph as Python objects first."""
    by_id: dict[str, list] = defaultdict(list)  # compact IRI -> the subjects written so (one, always)
    for subject in _subjects(graph):
        if not isinstance(subject, URIRef):
            raise LdnGraphError("blank nodes are not published (the data contract names every node by IRI)")
        by_id[compact(str(subject))].append(subject)
    head = json.dumps({"@context": context()}, ensure_ascii=False, indent=1)[: -len("\n}")]
    if not by_id:
        return (head + ',\n "@graph": []\n}\n').encode("utf-8")
    parts = [head, ',\n "@graph": [']
    for number, node_id in enumerate(sorted(by_id)):
        properties: dict[str, list] = defaultdict(list)
        for subject in by_id[node_id]:
            for _, predicate, obj in graph.triples((subject, None, None)):
                if predicate == RDF.type and isinstance(obj, URIRef):
                    properties["@type"].append(compact(str(obj)))
                else:
                    properties[compact(str(predicate))].append(_value(obj))
        node = {"@id": node_id} | {
            key: sorted(values) if key == "@type" else sorted(values, key=_sort_key)
            for key, values in sorted(properties.items())
        }
        text = json.dumps(node, ensure_ascii=False, indent=1).replace("\n", "\n  ")
        parts.append(("\n  " if number == 0 else ",\n  ") + text)
    parts.append("\n ]\n}\n")
    return "".join(parts).encode("utf-8")


def _subjects(graph: Graph | StoreGraph) -> set:
    if isinstance(graph, StoreGraph):
        return {graph.term(row["s"]) for row in graph.store.query("SELECT DISTINCT ?s WHERE { ?s ?p ?o }")}
    return set(graph.subjects())

"""The Turtle dump of a graph held in a store, byte for byte as rdflib's Turtle writer makes it.

The release's Turtle has always been written by rdflib (``build.CanonicalTurtleSerializer``), and a
release must keep its bytes. rdflib's writer needs an rdflib graph of the whole dump (1.6 KB a triple)
and a minute per 10^6 triples; this follows the same steps over the store, for a graph without blank
nodes (the data contract has none), and lets rdflib's writer itself name and write every term:
prefixed names, literals and the prefixes declared come from a CanonicalTurtleSerializer holding
the build graph's prefixes, so only the layout is done here. rdflib's layout for such a graph:

- the prefixes its terms use, sorted; then each subject: the members of ``rdfs:Class`` first, sorted,
  then the others by how often they are an object, then by IRI;
- per subject, ``rdf:type`` (written ``a``) and ``rdfs:label`` first, the other predicates sorted,
  each predicate's objects sorted (rdflib's term order), one statement per subject::

      <newline>subject predicate object ;
          predicate object1,
              object2 .<newline>

A graph on which rdflib's writer would invent more than one prefix of its own (``ns1``, ``ns2``, in an
order that follows its in-memory graph) is written by rdflib's writer itself.
"""

from __future__ import annotations

from collections import defaultdict

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS

from ldn_graph.graph.namespaces import bind_prefixes
from ldn_graph.graph.store_graph import StoreGraph

_SUBJECT, _VERB, _OBJECT = 0, 1, 2  # rdflib's positions
_INDENT = "    "


def store_turtle(graph: StoreGraph) -> bytes:
    from ldn_graph.graph.build import CanonicalTurtleSerializer, as_rdflib

    names = bind_prefixes(Graph())  # the prefixes of a build graph, and no triple
    writer = CanonicalTurtleSerializer(names)
    writer.reset()
    bound = len(list(names.namespaces()))
    references: dict = defaultdict(int)
    subjects: set = set()
    named: set = set()  # (term, whether a prefix may be invented for it), each named once
    classes = []
    # Compared as strings: rdflib's own comparison of terms is Python code, run millions of times here.
    rdf_type, rdfs_class, same = str(RDF.type), str(RDFS.Class), str.__eq__
    for subject, predicate, obj in graph:
        references[obj] += 1
        subjects.add(subject)
        typing = same(predicate, rdf_type)
        if typing and isinstance(obj, URIRef) and same(obj, rdfs_class):
            classes.append(subject)
        # As rdflib: a prefix may be invented for a predicate, not for other terms; `a` needs none.
        keys = (
            ((subject, False), (obj, False))
            if typing
            else ((subject, False), (predicate, True), (obj, False))
        )
        for key in keys:
            if key not in named:
                named.add(key)
                writer.get_pname(key[0], gen_prefix=key[1])
                if isinstance(key[0], Literal) and key[0].datatype is not None:
                    writer.get_pname(key[0].datatype, gen_prefix=False)
    del named
    if len(list(names.namespaces())) - bound > 1:
        return as_rdflib(graph).serialize(format="canonical-turtle", encoding="utf-8")
    classes.sort()
    first = set(classes)
    order = classes + [s for _, _, s in sorted((False, references[s], s) for s in subjects if s not in first)]
    del subjects
    references.clear()

    parts = [
        f"@prefix {prefix}: <{namespace}> .\n" for prefix, namespace in sorted(writer.namespaces.items())
    ]
    labels: dict = {}  # object -> its label, as most objects recur

    def label(node, position: int) -> str:
        if position != _OBJECT:
            return writer.label(node, position)
        found = labels.get(node)
        if found is None:
            found = labels[node] = writer.label(node, position)
        return found

    for subject in order:
        properties: dict = defaultdict(list)
        for _, predicate, obj in graph.triples((subject, None, None)):
            properties[predicate].append(obj)
        parts.append("\n" + label(subject, _SUBJECT))
        for number, predicate in enumerate(_predicate_order(properties)):
            objects = sorted(properties[predicate])
            parts.append(" " if number == 0 else " ;\n" + _INDENT)
            parts.append(label(predicate, _VERB))
            parts.append(" " + label(objects[0], _OBJECT))
            between = ",\n" + _INDENT * (1 if len(objects) == 1 else 2)
            parts.extend(between + label(obj, _OBJECT) for obj in objects[1:])
        parts.append(" .\n")
    parts.append("\n")
    graph.forget_terms()
    return "".join(parts).encode("utf-8", "replace")


def _predicate_order(properties: dict) -> list[URIRef]:
    """rdflib's: rdf:type, then rdfs:label, then the others sorted."""
    first = [p for p in (RDF.type, RDFS.label) if p in properties]
    return first + sorted(p for p in properties if p not in first)

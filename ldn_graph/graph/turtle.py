"""The Turtle dump of a graph held in a store, byte for byte as rdflib's Turtle writer makes it.

The release's Turtle has always been written by rdflib (``build.CanonicalTurtleSerializer``), and a
release must keep its bytes. rdflib's writer needs an rdflib graph of the whole dump (1.6 KB a triple)
and a minute per 10^6 triples; this follows the same steps over the store, for a graph without blank
nodes (the data contract has none). rdflib's layout for such a graph:

- the prefixes its terms use, sorted; then each subject: the members of ``rdfs:Class`` first, sorted,
  then the others by how often they are an object, then by IRI;
- per subject, ``rdf:type`` (written ``a``) and ``rdfs:label`` first, the other predicates sorted,
  each predicate's objects sorted (rdflib's term order), one statement per subject::

      <newline>subject predicate object ;
          predicate object1,
              object2 .<newline>

One pass over the store writes each subject's statement as its triples come (the store gives a
subject's triples together), and the statements are put in order at the end. Terms are named once
each: an IRI by rdflib's own writer (prefixed names follow rules of its own), a string literal by
rdflib's quoting (``Literal._quote_encode``), a literal of any other datatype by rdflib's writer
again (numbers, booleans and dates have shorthands of their own). Objects are sorted as strings where
rdflib's order is the order of their text (IRIs, then strings by language tag and text), and as
rdflib terms otherwise. A graph on which rdflib's writer would invent a prefix of its own (``ns1``)
is written by rdflib's writer itself.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XMLNS

from ldn_graph.graph.namespaces import bind_prefixes
from ldn_graph.graph.store_graph import StoreGraph, to_rdflib

_SUBJECT, _VERB, _OBJECT = 0, 1, 2  # rdflib's positions
_INDENT = "    "
_RDF_TYPE, _RDFS_LABEL, _RDFS_CLASS, _RDF_NIL = str(RDF.type), str(RDFS.label), str(RDFS.Class), str(RDF.nil)
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_LANG_STRING = str(RDF.langString)
_DEFAULT = ox.DefaultGraph()
# An IRI of the plainest kind: a scheme, no character Turtle or rdflib would escape or refuse, and a
# local part of letters, digits, _ and - after the last /, # or :.
_PLAIN_IRI = re.compile(
    r"([A-Za-z][A-Za-z0-9+.-]*:[^\x00-\x20<>\"{}|\\^`]*[/#:])([A-Za-z0-9_][A-Za-z0-9_-]*)"
)


class _Names:
    """Every term's Turtle text, made once: by rdflib's writer, or as it would make it."""

    def __init__(self) -> None:
        from ldn_graph.graph.build import CanonicalTurtleSerializer

        self.prefixes = bind_prefixes(Graph())  # the prefixes of a build graph, and no triple
        self.writer = CanonicalTurtleSerializer(self.prefixes)
        self.writer.reset()
        self.bound = len(list(self.prefixes.namespaces()))
        self.iris: dict[str, str] = {}
        self.verbs: dict[str, str] = {}
        self.namespaces = {str(namespace) for _, namespace in self.prefixes.namespaces()}
        self.longer: dict[str, list[str]] = {}
        self.prefix_of: dict[str, str | None] = {}
        self.typed: dict = {}  # numbers, dates…: fewer, and recurring

    def iri(self, iri: str) -> str:
        found = self.iris.get(iri)
        if found is None:
            found = self.iris[iri] = self._plain_name(iri) or self.writer.label(URIRef(iri), _OBJECT)
        return found

    def _plain_name(self, iri: str) -> str | None:
        """The name rdflib's writer gives an IRI of the plainest kind, without its per-character split
        (a second for 10^5 IRIs), or None to ask the writer. For a local part of letters, digits, ``_``
        and ``-`` after its last ``/``, ``#`` or ``:``, rdflib splits just before it, and only a bound
        namespace longer than that split and beginning the IRI could name it otherwise: then, or when
        the IRI is itself a bound namespace, the writer is asked."""
        found = _PLAIN_IRI.fullmatch(iri)
        if found is None or iri in self.namespaces or iri == _RDF_NIL or iri.startswith(XMLNS):
            return None  # a namespace names itself; rdf:nil is (); rdflib splits the XML namespace apart
        namespace, local = found.group(1), found.group(2)
        if any(iri.startswith(longer) for longer in self._longer(namespace)):
            return None
        prefix = self._prefix_of(namespace)
        return f"<{iri}>" if prefix is None else f"{prefix}:{local}"

    def _longer(self, namespace: str) -> list[str]:
        found = self.longer.get(namespace)
        if found is None:
            found = self.longer[namespace] = [
                bound
                for bound in self.namespaces
                if len(bound) > len(namespace) and bound.startswith(namespace)
            ]
        return found

    def _prefix_of(self, namespace: str) -> str | None:
        if namespace not in self.prefix_of:
            prefix = self.prefixes.namespace_manager.store.prefix(URIRef(namespace))
            # Registered as the writer registers every prefix it uses (so it is declared), once.
            registered = None if prefix is None else self.writer.addNamespace(prefix, URIRef(namespace))
            self.prefix_of[namespace] = registered
        return self.prefix_of[namespace]

    def verb(self, iri: str) -> str:
        found = self.verbs.get(iri)
        if found is None:  # as rdflib: a prefix may be invented for a predicate, not for other terms
            found = self.verbs[iri] = self.writer.label(URIRef(iri), _VERB)
        return found

    def term(self, term) -> str:
        if isinstance(term, ox.NamedNode):
            return self.iri(term.value)
        if not isinstance(term, ox.Literal):
            raise _NotOurs  # a blank node: the data contract has none, rdflib's writer knows them
        if term.language:
            return f"{Literal._quote_encode(term.value)}@{term.language}"
        datatype = term.datatype.value
        if datatype == _XSD_STRING:  # most strings come once: quoted each time rather than kept
            return Literal._quote_encode(term.value)
        found = self.typed.get(term)
        if found is None:
            # rdflib names the datatype of every literal, shorthand or not, so its prefix is declared.
            self.writer.get_pname(URIRef(datatype), gen_prefix=False)
            found = self.typed[term] = self.writer.label(to_rdflib(term), _OBJECT)
        return found

    def invented(self) -> bool:
        return len(list(self.prefixes.namespaces())) > self.bound


class _NotOurs(Exception):
    """A graph this writer does not lay out as rdflib would: rdflib's writer writes it."""


def store_turtle(graph: StoreGraph) -> Iterator[bytes]:
    """The Turtle in pieces: the prefixes, then each subject's statement."""
    chunks = _chunks(graph)
    try:
        first = next(chunks)  # every statement is made before the first piece is given
    except _NotOurs:
        from ldn_graph.graph.build import as_rdflib

        yield as_rdflib(graph).serialize(format="canonical-turtle", encoding="utf-8")
        return
    yield first
    yield from chunks


def _chunks(graph: StoreGraph) -> Iterator[bytes]:
    names = _Names()
    statements: dict = {}  # subject -> its statement's text
    references: dict = defaultdict(int)  # term -> how often it is an object
    classes = []
    again = set()  # subjects whose triples did not all come together: asked of the store again
    subject, properties = None, None
    for quad in graph.store.quads_for_pattern(None, None, None, _DEFAULT):
        if quad.subject != subject:
            if subject is not None:
                statements[subject] = _statement(names, subject, properties)
            subject, properties = quad.subject, defaultdict(list)
            if subject in statements:
                again.add(subject)
        predicate, obj = quad.predicate.value, quad.object
        references[obj] += 1
        properties[predicate].append(obj)
        if predicate == _RDF_TYPE and isinstance(obj, ox.NamedNode) and obj.value == _RDFS_CLASS:
            classes.append(subject)
    if subject is not None:
        statements[subject] = _statement(names, subject, properties)
    for subject in again:
        properties = defaultdict(list)
        for quad in graph.store.quads_for_pattern(subject, None, None, _DEFAULT):
            properties[quad.predicate.value].append(quad.object)
        statements[subject] = _statement(names, subject, properties)
    if names.invented():
        raise _NotOurs
    first = sorted(set(classes), key=_iri)
    ranked = set(first)
    rest = sorted((s for s in statements if s not in ranked), key=lambda s: (references[s], _iri(s)))
    prefixes = sorted(names.writer.namespaces.items())
    yield "".join(f"@prefix {prefix}: <{namespace}> .\n" for prefix, namespace in prefixes).encode()
    for subject in (*first, *rest):
        yield statements[subject].encode("utf-8", "replace")
    yield b"\n"


def _iri(term) -> str:
    if not isinstance(term, ox.NamedNode):
        raise _NotOurs
    return term.value


def _statement(names: _Names, subject, properties: dict) -> str:
    parts = ["\n", names.iri(_iri(subject))]
    for number, predicate in enumerate(_predicate_order(properties)):
        objects = [names.term(o) for o in _sorted_objects(properties[predicate])]
        parts.append(" " if number == 0 else " ;\n" + _INDENT)
        parts.append(names.verb(predicate))
        parts.append(" " + objects[0])
        parts.extend(",\n" + _INDENT * 2 + text for text in objects[1:])
    parts.append(" .\n")
    return "".join(parts)


def _predicate_order(properties: dict) -> list[str]:
    """rdflib's: rdf:type, then rdfs:label, then the others sorted."""
    first = [p for p in (_RDF_TYPE, _RDFS_LABEL) if p in properties]
    return first + sorted(p for p in properties if p not in first)


def _sorted_objects(objects: list) -> Iterable:
    """rdflib's order of terms: IRIs by their text, before literals; a string literal before a tagged
    one, tagged ones by tag, then by their text. Literals of other datatypes are ordered by value in
    rdflib (numbers, dates), so a list holding one is sorted as rdflib terms."""
    if len(objects) == 1:
        return objects
    keys = []
    for term in objects:
        if isinstance(term, ox.NamedNode):
            keys.append((0, "", term.value))
        elif isinstance(term, ox.Literal) and (
            term.language or term.datatype.value in (_XSD_STRING, _LANG_STRING)
        ):
            keys.append((1, term.language or "", term.value))
        else:
            by_term = {to_rdflib(term): term for term in objects}
            return [by_term[term] for term in sorted(by_term)]
    return [term for _, term in sorted(zip(keys, objects, strict=True), key=lambda pair: pair[0])]

"""A graph held in an embedded Oxigraph store, read and written through rdflib's terms.

rdflib's in-memory graph keeps about 1.6 KB per triple (three indexes of Python objects): 2 GB for a
build of 10^6 triples, and most of the build's time went into filling it. An Oxigraph store keeps the
same triples in about a fifth of that, parses and writes N-Triples natively, and is what the SHACL
engine and the server read anyway. ``StoreGraph`` offers the part of rdflib's ``Graph`` interface
that building, validating and releasing use (patterns, ``value``, membership, iteration, ``add``,
``set``, ``len``), so that those steps are written once for either kind of graph; terms come out as
the rdflib terms a build from rdflib would hold, each converted once.

The terms going in must be what rdflib would keep: literals in rdflib's lexical form (its parser
normalises typed literals: see ``ldn_graph.graph.load``). Oxigraph keeps a literal of a datatype it knows
in its own canonical form, which is rdflib's for every datatype the graph uses (the test suite checks
a round trip of the built graph); no blank nodes (the data contract has none).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD

from ldn_graph.vocab.prefixes import PREFIXES

_XSD_STRING = str(XSD.string)
_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_DEFAULT = ox.DefaultGraph()


def to_rdflib(term):
    """An Oxigraph term as the rdflib term a build from rdflib holds (a plain literal for xsd:string)."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return Literal(term.value, datatype=None if datatype == _XSD_STRING else URIRef(datatype))
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    raise TypeError(f"not a term of a graph: {term!r}")


def to_oxigraph(term):
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is None or str(term.datatype) == _LANG_STRING:
            return ox.Literal(str(term))
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    raise TypeError(f"not a term of a graph: {term!r}")


class StoreGraph:
    """The default graph of an Oxigraph store, through rdflib terms (see the module's docstring)."""

    def __init__(self, store: ox.Store | None = None):
        self._store = store if store is not None else ox.Store()
        self._remake: Callable[[], ox.Store] | None = None
        self._terms: dict = {}  # Oxigraph term -> rdflib term, each converted once

    @classmethod
    def made_when_asked(cls, make: Callable[[], ox.Store]) -> StoreGraph:
        """A graph whose store ``make`` makes when it is first asked for."""
        graph = cls()
        graph.let_go(make)
        return graph

    @property
    def store(self) -> ox.Store:
        if self._store is None:
            self._store = self._remake()
        return self._store

    def let_go(self, remake: Callable[[], ox.Store]) -> None:
        """Free the store for another engine to reuse its memory (the store of 10^6 triples holds about
        370 MB); ``remake`` makes it again should it be asked for after all."""
        self._store, self._remake = None, remake
        self._terms.clear()

    def term(self, term):
        found = self._terms.get(term)
        if found is None:
            found = self._terms[term] = to_rdflib(term)
        return found

    def forget_terms(self) -> None:
        """Let go of the converted terms (a full pass over a large graph converts them all)."""
        self._terms.clear()

    def _quads(self, s=None, p=None, o=None):
        return self.store.quads_for_pattern(
            None if s is None else to_oxigraph(s),
            None if p is None else to_oxigraph(p),
            None if o is None else to_oxigraph(o),
            _DEFAULT,
        )

    def triples(self, pattern: tuple) -> Iterator[tuple]:
        term = self.term
        for quad in self._quads(*pattern):
            yield term(quad.subject), term(quad.predicate), term(quad.object)

    def __iter__(self) -> Iterator[tuple]:
        return self.triples((None, None, None))

    def __len__(self) -> int:
        return len(self.store)  # the default graph is all a built graph's store holds

    def __contains__(self, triple: tuple) -> bool:
        return next(iter(self._quads(*triple)), None) is not None

    def subjects(self, predicate=None, obj=None) -> Iterator:
        term = self.term
        return (term(quad.subject) for quad in self._quads(None, predicate, obj))

    def objects(self, subject=None, predicate=None) -> Iterator:
        term = self.term
        return (term(quad.object) for quad in self._quads(subject, predicate, None))

    def subject_objects(self, predicate=None) -> Iterator[tuple]:
        term = self.term
        return ((term(quad.subject), term(quad.object)) for quad in self._quads(None, predicate, None))

    def value(self, subject=None, predicate=None, obj=None):
        """The one missing term of a pattern with two given (the first found), or None."""
        for s, p, o in self.triples((subject, predicate, obj)):
            return o if obj is None else s if subject is None else p
        return None

    def add(self, triple: tuple) -> None:
        self.store.add(ox.Quad(*map(to_oxigraph, triple), _DEFAULT))

    def addN(self, quads: Iterable[tuple]) -> None:  # rdflib's name and form: (s, p, o, graph)
        self.store.extend(ox.Quad(*map(to_oxigraph, quad[:3]), _DEFAULT) for quad in quads)

    def set(self, triple: tuple) -> None:
        """Replace every object of (subject, predicate) by this one, as rdflib's ``Graph.set``."""
        subject, predicate, _ = triple
        for quad in list(self._quads(subject, predicate, None)):
            self.store.remove(quad)
        self.add(triple)

    def ntriples(self) -> bytes:
        """The graph as N-Triples, in Oxigraph's order."""
        return self.store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=_DEFAULT)

    def turtle(self) -> bytes:
        """The graph as Oxigraph writes Turtle, with the prefix map's prefixes (not rdflib's layout)."""
        return self.store.dump(format=ox.RdfFormat.TURTLE, from_graph=_DEFAULT, prefixes=PREFIXES)

"""Parse the curated Turtle sources into one graph, remembering which file said what.

Every file must bind its prefixes exactly as the project's prefix map does (a Turtle file that binds
``schema:`` to ``http://schema.org/`` would silently mint IRIs nobody else uses), and none may hold a
blank node (the data contract forbids them: every node is citable by IRI).
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.plugins.parsers.notation3 import BadSyntax

from ldn_graph import resources
from ldn_graph.errors import SourceError
from ldn_graph.graph.namespaces import bind_prefixes
from ldn_graph.graph.store_graph import StoreGraph
from ldn_graph.vocab.prefixes import PREFIXES

SHAPES_FILE = "shapes.ttl"
_PREFIX_DECLARATION = re.compile(r"^\s*(?:@prefix|PREFIX)\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.M | re.I)
_LINE_IN_MESSAGE = re.compile(r"line (\d+)")


@dataclass
class LoadedSources:
    """The merged source graph and, for each subject, the files that describe it.

    Which file says what is needed only to name files in a report of violations: sources loaded into a
    store work it out when it is first asked for, by parsing each file again on its own."""

    graph: Graph | StoreGraph
    files: list[Path]
    _subject_files: dict[URIRef, set[Path]] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def subject_files(self) -> dict[URIRef, set[Path]]:
        with self._lock:  # validation asks from two threads at once
            if self._subject_files is None:
                self._subject_files = _subject_files(self.files)
            return self._subject_files

    def files_of(self, node) -> list[Path]:
        return sorted(self.subject_files.get(node, ()))


def source_files(root: Path | None = None) -> list[Path]:
    """The ontology and data files of a checkout, in a stable order (shapes excluded)."""
    ontology = resources.ontology_dir(root)
    data = resources.data_dir(root)
    for directory in (ontology, data):
        if not directory.is_dir():
            raise SourceError(directory, "directory not found (expected ontology/ and graph_data/ here)")
    files = sorted(p for p in ontology.glob("*.ttl") if p.name != SHAPES_FILE)
    files += sorted(data.rglob("*.ttl"))  # the article layer at the top, the evidence layer in evidence/
    if not files:
        raise SourceError(data, "no Turtle files found")
    return files


def check_prefixes(path: Path, text: str) -> None:
    """Refuse a file whose prefix bindings disagree with the project's prefix map."""
    for match in _PREFIX_DECLARATION.finditer(text):
        prefix, namespace = match.group(1) or "", match.group(2)
        line = text.count("\n", 0, match.start()) + 1
        expected = PREFIXES.get(prefix)
        if expected is None:
            raise SourceError(
                path,
                f"prefix '{prefix}:' is not in the project's prefix map (ldn_graph/vocab/prefixes.py)",
                line,
            )
        if namespace != expected:
            raise SourceError(
                path,
                f"prefix '{prefix}:' is bound to <{namespace}> but the prefix map says <{expected}>",
                line,
            )


def _near(error: BadSyntax) -> str:
    """The text around the place the parser stopped, for a curator to find it."""
    text = error._str.decode("utf-8", "replace")
    before = text[max(0, error._i - 30) : error._i].split("\n")[-1]
    after = text[error._i : error._i + 30].split("\n")[0]
    return repr(f"{before}⏵{after}")


def read_source(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise SourceError(path, "file not found") from error
    except UnicodeDecodeError as error:
        raise SourceError(path, f"not UTF-8 text ({error.reason} at byte {error.start})") from error
    check_prefixes(path, text)
    return text


def parse_file(path: Path, allow_blank_nodes: bool = False) -> Graph:
    """Parse one Turtle file, turning any failure into a ``SourceError`` naming file and line.

    Blank nodes are refused in data and ontology (the contract); SHACL shapes may use them, as SHACL
    property shapes idiomatically do."""
    return _parse_text(path, read_source(path), allow_blank_nodes)


def _parse_text(path: Path, text: str, allow_blank_nodes: bool = False) -> Graph:
    graph = Graph()
    try:
        graph.parse(data=text, format="turtle", publicID=str(path.resolve().as_uri()))
    except BadSyntax as error:
        raise SourceError(
            path, f"Turtle syntax error: {error._why}, near {_near(error)}", error.lines + 1
        ) from error
    except Exception as error:  # rdflib raises several unrelated types for bad Turtle
        found = _LINE_IN_MESSAGE.search(str(error))
        message = " ".join(str(error).split())[:300]
        raise SourceError(path, f"Turtle error: {message}", int(found.group(1)) if found else None) from error
    for triple in () if allow_blank_nodes else graph:
        if any(isinstance(term, BNode) for term in triple):
            subject = triple[0] if not isinstance(triple[0], BNode) else triple[2]
            raise SourceError(path, f"blank node near {subject.n3()}: every node needs an IRI (no [ ] or _:)")
    return graph


class _Terms:
    """pyoxigraph terms as the rdflib terms rdflib's own Turtle parser makes of them, each made once."""

    def __init__(self) -> None:
        self.cache: dict = {}

    def __call__(self, term):
        found = self.cache.get(term)
        if found is None:
            found = self.cache[term] = self._convert(term)
        return found

    @staticmethod
    def _convert(term):
        if isinstance(term, ox.NamedNode):
            return URIRef(term.value)
        if isinstance(term, ox.Literal):
            datatype = term.datatype.value
            if term.language:
                return Literal(term.value, lang=term.language)
            if datatype in _CANONICAL:
                return Literal(_CANONICAL[datatype](term.value), datatype=URIRef(datatype))
            return Literal(term.value, datatype=None if datatype == _XSD_STRING else URIRef(datatype))
        return BNode(term.value)


def canonical_decimal(lexical: str) -> str:
    """The canonical form of an xsd:decimal (XSD 1.1, as the SPARQL engine stores it): "20.0" is "20",
    "-0.340" is "-0.34", so the dumps hold exactly the literals the endpoint returns."""
    try:
        value = Decimal(lexical)
    except InvalidOperation:
        return lexical  # not a decimal: left for validation to report, not silently changed
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def canonical_integer(lexical: str) -> str:
    try:
        return str(int(lexical))
    except ValueError:
        return lexical


_XSD_STRING = str(XSD.string)
_CANONICAL = {str(XSD.decimal): canonical_decimal, str(XSD.integer): canonical_integer}


def _add_file(loaded: LoadedSources, path: Path, add_parsed, before) -> None:
    """Parse one source file straight into the merged graph (pyoxigraph's parser: an order of magnitude
    faster than rdflib's on large files). A file it refuses is parsed again by rdflib, so a curator gets
    the same message, with file and line, either way; ``before`` first reports what the files before it
    hold that is refused (a blank node), as it would have been had they been checked one by one."""
    text = read_source(path)
    try:
        add_parsed(path, text.encode("utf-8"), path.resolve().as_uri())
    except SyntaxError as error:
        before()
        _parse_text(path, text)  # raises rdflib's account of the error, as curators know it
        raise SourceError(path, f"Turtle syntax error: {' '.join(str(error).split())[:300]}") from error


def _refuse_blank_node(path: Path, s, o) -> None:
    subject = s if not isinstance(s, BNode) else o
    raise SourceError(path, f"blank node near {subject.n3()}: every node needs an IRI (no [ ] or _:)")


def _into_graph(loaded: LoadedSources):
    """Adds a file's triples to an rdflib graph, as rdflib terms."""
    terms = _Terms()
    loaded._subject_files = files = defaultdict(set)
    add = loaded.graph.add

    def add_parsed(path: Path, text: bytes, base: str) -> None:
        for triple in list(ox.parse(text, format=ox.RdfFormat.TURTLE, base_iri=base)):
            s, p, o = terms(triple.subject), terms(triple.predicate), terms(triple.object)
            if isinstance(s, BNode) or isinstance(o, BNode):
                _refuse_blank_node(path, s, o)
            add((s, p, o))
            files[s].add(path)

    return add_parsed, lambda: None


_HAS_BLANK_NODE = "ASK { { ?s ?p ?o FILTER(isBlank(?s)) } UNION { ?s ?p ?o FILTER(isBlank(?o)) } }"
_TYPED_LITERALS = (
    "SELECT DISTINCT ?o WHERE { ?s ?p ?o "
    f'FILTER(isLiteral(?o) && lang(?o) = "" && datatype(?o) != <{_XSD_STRING}>) }}'
)


def _parsed_alone(path: Path) -> ox.Store:
    parsed = ox.Store()
    text = read_source(path).encode("utf-8")
    parsed.load(
        text, format=ox.RdfFormat.TURTLE, base_iri=path.resolve().as_uri(), to_graph=ox.DefaultGraph()
    )
    return parsed


def _subject_files(files: list[Path]) -> dict[URIRef, set[Path]]:
    found: dict[URIRef, set[Path]] = defaultdict(set)
    for path in files:
        for row in _parsed_alone(path).query("SELECT DISTINCT ?s WHERE { ?s ?p ?o }"):
            found[URIRef(row["s"].value)].add(path)
    return found


def _into_store(loaded: LoadedSources):
    """Adds a file's triples to a store, without a Python object per triple: each file is parsed into
    the store itself. The store is asked once whether any file held a blank node, and only then is each
    file parsed again on its own to say which. At the end each typed literal takes the lexical form
    rdflib's terms give it, so that both kinds of graph hold the same triples."""
    store, default = loaded.graph.store, ox.DefaultGraph()
    added: list[Path] = []

    def add_parsed(path: Path, text: bytes, base: str) -> None:
        store.load(text, format=ox.RdfFormat.TURTLE, base_iri=base, to_graph=default)
        added.append(path)

    def refuse_blank_nodes() -> None:
        if not store.query(_HAS_BLANK_NODE):
            return
        for path in added:
            if _parsed_alone(path).query(_HAS_BLANK_NODE):
                text = read_source(path).encode("utf-8")
                _into_graph(LoadedSources(Graph(), [path]))[0](path, text, path.resolve().as_uri())

    def finish() -> None:
        refuse_blank_nodes()
        for row in list(store.query(_TYPED_LITERALS)):
            literal = row["o"]
            lexical = str(_Terms._convert(literal))
            if lexical != literal.value:
                quads = list(store.quads_for_pattern(None, None, literal, default))
                renamed = ox.Literal(lexical, datatype=literal.datatype)
                for quad in quads:
                    store.remove(quad)
                store.extend(ox.Quad(q.subject, q.predicate, renamed, default) for q in quads)

    return add_parsed, finish, refuse_blank_nodes


def load_sources(root: Path | None = None, store: bool = False) -> LoadedSources:
    """The merged sources in an rdflib graph, or with ``store`` in an Oxigraph store (large graphs: see
    ``ldn_graph.graph.store_graph``)."""
    files = source_files(root)
    loaded = LoadedSources(StoreGraph() if store else bind_prefixes(Graph()), files)
    if store:
        add_parsed, finish, before = _into_store(loaded)
    else:
        (add_parsed, finish), before = _into_graph(loaded), lambda: None
    for path in files:
        _add_file(loaded, path, add_parsed, before)
    finish()
    return loaded

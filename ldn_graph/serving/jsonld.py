"""JSON-LD with our own context: the one writer of the dumps, the VoID description, the pages' twins and
the endpoint's graph answers, so that each carries exactly the IRIs of the Turtle and N-Triples.

schema.org's published context maps ``schema:`` to ``http://schema.org/``; loading our JSON-LD with it
would silently turn every ``https://schema.org/`` term into another IRI. Our context is built from the
one prefix map (:data:`ldn_graph.vocab.prefixes.PREFIXES`) and is written inline, so a reader needs no
network to expand it. (pyoxigraph's own JSON-LD writer takes no context: it writes expanded JSON-LD.)

The writer is deliberately plain and deterministic: one node object per subject, sorted by IRI; one key
per predicate, sorted; values sorted; every literal as ``{"@value": lexical form}`` with its datatype or
language, never a native JSON number, so that lexical forms (``71.0``) survive a round trip unchanged.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from json.encoder import encode_basestring

from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Store, Triple

from ldn_graph.errors import LdnGraphError
from ldn_graph.vocab.prefixes import PREFIXES

_RDF_TYPE = PREFIXES["rdf"] + "type"
_XSD_STRING = PREFIXES["xsd"] + "string"
_NO_BLANK_NODES = "blank nodes are not published (the data contract names every node by IRI)"


def context() -> dict[str, str]:
    """Our JSON-LD context: every prefix of the prefix map, nothing else (no ``@vocab``, no aliases)."""
    return dict(PREFIXES)


_BY_LENGTH = sorted(((ns, prefix) for prefix, ns in PREFIXES.items()), key=lambda item: -len(item[0]))


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


def write_jsonld(
    groups: Iterable[tuple[object, dict[str, list]]],
    properties_of: Callable[[object], dict[str, list]],
    *,
    blank_nodes: bool = False,
) -> Iterator[bytes]:
    """A compacted, deterministic JSON-LD document under our inline context, in pieces: its head, each
    node, its end. ``groups`` gives each subject with its properties (predicate IRI -> objects);
    ``properties_of`` all of a subject's, for one ``groups`` gave in parts or two subjects written alike
    (one, always). Blank nodes are refused unless ``blank_nodes``.

    The bytes are those of ``json.dumps`` writing the whole document (indented one space per level), but
    each node's text is made from its terms' text as its triples come: ``json.dumps``'s indenting
    encoder is Python code, and it was most of the 21 s a dump of 10^6 triples took, with every node
    held as Python objects first."""
    names = _Names(blank_nodes)
    texts: dict[str, str] = {}  # node id -> its text
    first: dict[str, object] = {}  # node id -> the subject it was made from
    again: dict[str, set] = {}  # node ids made from more than one subject, or from one in parts
    for subject, properties in groups:
        node_id = names.node_id(subject)
        if node_id in texts:
            again.setdefault(node_id, {first[node_id]}).add(subject)
        first[node_id] = subject
        texts[node_id] = _node_text(names, node_id, [properties])
    for node_id, subjects in again.items():
        texts[node_id] = _node_text(names, node_id, [properties_of(s) for s in subjects])
    del first
    head = json.dumps({"@context": context()}, ensure_ascii=False, indent=1)[: -len("\n}")]
    if not texts:
        yield (head + ',\n "@graph": []\n}\n').encode("utf-8")
        return
    yield (head + ',\n "@graph": [').encode("utf-8")
    for number, node_id in enumerate(sorted(texts)):
        yield (("\n  " if number == 0 else ",\n  ") + texts.pop(node_id)).encode("utf-8")
    yield b"\n ]\n}\n"


def triples_to_jsonld(triples: Iterable[Triple], *, blank_nodes: bool = False) -> bytes:
    """A graph held in memory (a page's description, the VoID triples, a query's answer) as JSON-LD."""
    by_subject: dict[object, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for triple in triples:
        by_subject[triple.subject][triple.predicate.value].append(triple.object)
    return b"".join(write_jsonld(by_subject.items(), by_subject.__getitem__, blank_nodes=blank_nodes))


def store_jsonld(store: Store) -> Iterator[bytes]:
    """The default graph of ``store`` as JSON-LD, in pieces, from one pass over the store (which gives
    a subject's triples together; one it gives in parts is asked for again)."""
    default = DefaultGraph()

    def groups():
        subject, properties = None, None
        for quad in store.quads_for_pattern(None, None, None, default):
            if quad.subject != subject:
                if subject is not None:
                    yield subject, properties
                subject, properties = quad.subject, defaultdict(list)
            properties[quad.predicate.value].append(quad.object)
        if subject is not None:
            yield subject, properties

    def properties_of(subject) -> dict[str, list]:
        properties = defaultdict(list)
        for quad in store.quads_for_pattern(subject, None, None, default):
            properties[quad.predicate.value].append(quad.object)
        return properties

    return write_jsonld(groups(), properties_of)


def store_to_jsonld(store: Store) -> bytes:
    return b"".join(store_jsonld(store))


class _Names:
    """Node ids, compact IRIs and JSON strings, the recurring ones made once."""

    def __init__(self, blank_nodes: bool) -> None:
        self.blank_nodes = blank_nodes
        self.compacted: dict[str, str] = {}
        self.encoded: dict[str, str] = {}

    def compact(self, iri: str) -> str:
        found = self.compacted.get(iri)
        if found is None:
            found = self.compacted[iri] = compact(iri)
        return found

    def node_id(self, term) -> str:
        if isinstance(term, NamedNode):
            return self.compact(term.value)
        if isinstance(term, BlankNode) and self.blank_nodes:
            return f"_:{term.value}"
        raise LdnGraphError(_NO_BLANK_NODES)

    def text(self, value: str) -> str:
        found = self.encoded.get(value)
        if found is None:
            found = self.encoded[value] = encode_basestring(value)
        return found


# json.dumps(node, indent=1) inside the document's "@graph" list, two levels in: each line of the node
# starts two spaces further in than json.dumps alone puts it.
_KEY, _ITEM, _ITEM_KEY = "\n   ", "\n    ", "\n     "


def _node_text(names: _Names, node_id: str, subjects: list[dict]) -> str:
    """One node object: "@id", then its keys sorted, "@type"'s compact IRIs sorted, every other key's
    values sorted by (@id, @value, @type, @language); a literal as {"@value": its lexical form} with its
    language or datatype, never a native JSON number."""
    text = names.text
    keyed = defaultdict(list)
    for predicate, objects in ((p, o) for properties in subjects for p, o in properties.items()):
        for obj in objects:
            if predicate == _RDF_TYPE and isinstance(obj, NamedNode):
                keyed["@type"].append(names.compact(obj.value))
            else:
                keyed[names.compact(predicate)].append(obj)
    parts = ["{", _KEY, '"@id": ', text(node_id)]
    for key in sorted(keyed):
        parts += [",", _KEY, text(key), ": ["]
        if key == "@type":
            items = [_ITEM + text(value) for value in sorted(keyed[key])]
        else:
            values = [_value_fields(names, obj) for obj in keyed[key]]
            values.sort(key=lambda fields: (fields[0], fields[1], fields[2], fields[3]))
            items = [_ITEM + "{" + ",".join(fields[4]) + _ITEM + "}" for fields in values]
        parts += [",".join(items), _KEY, "]"]
    parts.append("\n  }")
    return "".join(parts)


def _value_fields(names: _Names, term) -> tuple:
    """The value's sort key (@id, @value, @type, @language), then the text of its members."""
    text = names.text
    if not isinstance(term, Literal):
        node_id = names.node_id(term)
        return (node_id, "", "", "", [_ITEM_KEY + '"@id": ' + text(node_id)])
    lexical, language = term.value, term.language or ""
    members = [_ITEM_KEY + '"@value": ' + encode_basestring(lexical)]  # most come once: not kept
    datatype = "" if language or term.datatype.value == _XSD_STRING else names.compact(term.datatype.value)
    if language:
        members.append(_ITEM_KEY + '"@language": ' + text(language))
    elif datatype:
        members.append(_ITEM_KEY + '"@type": ' + text(datatype))
    return ("", lexical, datatype, language, members)

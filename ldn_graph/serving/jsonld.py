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
from collections.abc import Callable, Iterable

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


class _Writer:
    def __init__(self, blank_nodes: bool):
        self.blank_nodes = blank_nodes

    def node_id(self, term) -> str:
        if isinstance(term, NamedNode):
            return compact(term.value)
        if isinstance(term, BlankNode) and self.blank_nodes:
            return f"_:{term.value}"
        raise LdnGraphError(_NO_BLANK_NODES)

    def value(self, term) -> dict[str, str]:
        if not isinstance(term, Literal):
            return {"@id": self.node_id(term)}
        if term.language:
            return {"@value": term.value, "@language": term.language}
        if term.datatype.value == _XSD_STRING:
            return {"@value": term.value}
        return {"@value": term.value, "@type": compact(term.datatype.value)}


def _sort_key(value: dict[str, str]) -> tuple[str, str, str, str]:
    return (value.get("@id", ""), value.get("@value", ""), value.get("@type", ""), value.get("@language", ""))


def write_jsonld(
    subjects: Iterable, triples_of: Callable[[object], Iterable[Triple]], *, blank_nodes: bool = False
) -> bytes:
    """The triples of ``subjects`` (each subject's from ``triples_of``) as a compacted, deterministic
    JSON-LD document under our inline context; blank nodes refused unless ``blank_nodes``.

    Written node by node, each the text ``json.dumps`` gives it inside the whole document (indented two
    levels): the same bytes as dumping the document at once, without holding every node of a large
    graph as Python objects first."""
    writer = _Writer(blank_nodes)
    by_id: dict[str, list] = defaultdict(list)  # node id -> the subjects written so (one, always)
    for subject in subjects:
        by_id[writer.node_id(subject)].append(subject)
    head = json.dumps({"@context": context()}, ensure_ascii=False, indent=1)[: -len("\n}")]
    if not by_id:
        return (head + ',\n "@graph": []\n}\n').encode("utf-8")
    parts = [head, ',\n "@graph": [']
    for number, node_id in enumerate(sorted(by_id)):
        properties: dict[str, list] = defaultdict(list)
        for subject in by_id[node_id]:
            for triple in triples_of(subject):
                predicate, obj = triple.predicate.value, triple.object
                if predicate == _RDF_TYPE and isinstance(obj, NamedNode):
                    properties["@type"].append(compact(obj.value))
                else:
                    properties[compact(predicate)].append(writer.value(obj))
        node = {"@id": node_id} | {
            key: sorted(values) if key == "@type" else sorted(values, key=_sort_key)
            for key, values in sorted(properties.items())
        }
        text = json.dumps(node, ensure_ascii=False, indent=1).replace("\n", "\n  ")
        parts.append(("\n  " if number == 0 else ",\n  ") + text)
    parts.append("\n ]\n}\n")
    return "".join(parts).encode("utf-8")


def triples_to_jsonld(triples: Iterable[Triple], *, blank_nodes: bool = False) -> bytes:
    """A graph held in memory (a page's description, the VoID triples, a query's answer) as JSON-LD."""
    by_subject: dict[object, list[Triple]] = defaultdict(list)
    for triple in triples:
        by_subject[triple.subject].append(triple)
    return write_jsonld(by_subject, by_subject.__getitem__, blank_nodes=blank_nodes)


def store_to_jsonld(store: Store) -> bytes:
    """The default graph of ``store`` as JSON-LD, read one subject at a time (a dump of 10^6 triples)."""
    subjects = {row["s"] for row in store.query("SELECT DISTINCT ?s WHERE { ?s ?p ?o }")}
    default = DefaultGraph()
    return write_jsonld(subjects, lambda subject: store.quads_for_pattern(subject, None, None, default))

"""Writing query answers in the SPARQL result formats and the RDF formats.

pyoxigraph can only serialise a whole result, while the endpoint cuts a result at its row limit. So
:func:`write_solutions_within` lets pyoxigraph write JSON and CSV results (several times faster than
Python) but gives up as soon as the output may hold more rows than the limit; those results, and XML and
TSV (whose native output differs from ours in form), are written here row by row. Graphs are written by
pyoxigraph.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape, quoteattr

from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Triple,
    serialize,
)

from ldn_graph.serving.jsonld import triples_to_jsonld
from ldn_graph.vocab.prefixes import PREFIXES

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_PLAIN = (_XSD_STRING, _RDF_LANG_STRING)

Row = Sequence[object | None]  # one term (or None when unbound) per variable


def _json_term(term) -> dict:
    if isinstance(term, NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, Literal):
        value: dict = {"type": "literal", "value": term.value}
        if term.language:
            value["xml:lang"] = term.language
        elif term.datatype.value not in _PLAIN:
            value["datatype"] = term.datatype.value
        return value
    if isinstance(term, Triple):
        return {
            "type": "triple",
            "value": {
                "subject": _json_term(term.subject),
                "predicate": _json_term(term.predicate),
                "object": _json_term(term.object),
            },
        }
    raise TypeError(f"not an RDF term: {term!r}")


def _json(variables: Sequence[str], rows: Iterable[Row]) -> bytes:
    bindings = [
        {name: _json_term(term) for name, term in zip(variables, row, strict=True) if term is not None}
        for row in rows
    ]
    document = {"head": {"vars": list(variables)}, "results": {"bindings": bindings}}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _xml_term(term) -> str:
    if isinstance(term, NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, Literal):
        if term.language:
            attribute = f" xml:lang={quoteattr(term.language)}"
        elif term.datatype.value not in _PLAIN:
            attribute = f" datatype={quoteattr(term.datatype.value)}"
        else:
            attribute = ""
        return f"<literal{attribute}>{escape(term.value)}</literal>"
    if isinstance(term, Triple):
        return (
            f"<triple><subject>{_xml_term(term.subject)}</subject>"
            f"<predicate>{_xml_term(term.predicate)}</predicate>"
            f"<object>{_xml_term(term.object)}</object></triple>"
        )
    raise TypeError(f"not an RDF term: {term!r}")


_XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'


def _xml(variables: Sequence[str], rows: Iterable[Row]) -> bytes:
    parts = [_XML_HEAD, "<head>"]
    parts += [f"<variable name={quoteattr(name)}/>" for name in variables]
    parts.append("</head><results>")
    for row in rows:
        parts.append("<result>")
        parts += [
            f"<binding name={quoteattr(name)}>{_xml_term(term)}</binding>"
            for name, term in zip(variables, row, strict=True)
            if term is not None
        ]
        parts.append("</result>")
    parts.append("</results></sparql>\n")
    return "".join(parts).encode()


def _csv_value(term) -> str:
    if term is None:
        return ""
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    if isinstance(term, NamedNode | Literal):
        return term.value
    return str(term)


def _csv(variables: Sequence[str], rows: Iterable[Row]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(variables)
    writer.writerows([_csv_value(term) for term in row] for row in rows)
    return out.getvalue().encode()


def _tsv(variables: Sequence[str], rows: Iterable[Row]) -> bytes:
    # pyoxigraph prints terms in N-Triples syntax, which escapes tabs and newlines as TSV requires.
    lines = ["\t".join(f"?{name}" for name in variables)]
    lines += ["\t".join("" if term is None else str(term) for term in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


_SOLUTION_WRITERS = {"json": _json, "xml": _xml, "csv": _csv, "tsv": _tsv}


def write_solutions(variables: Sequence[str], rows: Iterable[Row], key: str) -> bytes:
    """SELECT results in the result format ``key`` (json, xml, csv or tsv)."""
    return _SOLUTION_WRITERS[key](variables, rows)


# Formats pyoxigraph writes exactly as we do, each with a byte string that appears at least once per row
# beyond ``offset`` (JSON: "},{" between two solutions; CSV: the line end of the header and of each row,
# more where a quoted value holds a line break), so counting it bounds the rows from above.
_NATIVE = {"json": (QueryResultsFormat.JSON, b"},{", 1), "csv": (QueryResultsFormat.CSV, b"\n", -1)}
NATIVE_SOLUTION_FORMATS = frozenset(_NATIVE)


class _TooManyRows(Exception):
    pass


class _RowBoundedOutput:
    """A binary sink for pyoxigraph that stops the writing once the output may hold too many rows."""

    def __init__(self, separator: bytes, offset: int, max_rows: int):
        self.chunks: list[bytes] = []
        self.separator, self.left = separator, max_rows - offset
        self.tail = b""  # the end of the last chunk, where a separator may begin

    def write(self, chunk) -> int:
        chunk = bytes(chunk)
        self.left -= (self.tail + chunk).count(self.separator)
        if self.left < 0:
            raise _TooManyRows
        self.tail = chunk[1 - len(self.separator) :] if len(self.separator) > 1 else b""
        self.chunks.append(chunk)
        return len(chunk)

    def flush(self) -> None:
        pass


def write_solutions_within(solutions: QuerySolutions, key: str, max_rows: int) -> tuple[bytes, int] | None:
    """``solutions`` written by pyoxigraph in ``key`` (one of NATIVE_SOLUTION_FORMATS), and a bound on its
    rows never above ``max_rows``; None when the result may hold more rows than that. Either way the
    solutions are spent: to cut a longer result, evaluate the query again and use :func:`write_solutions`.
    """
    results_format, separator, offset = _NATIVE[key]
    output = _RowBoundedOutput(separator, offset, max_rows)
    try:
        solutions.serialize(output, results_format)
    except _TooManyRows:
        return None
    body = b"".join(output.chunks)
    empty = key == "json" and body.endswith(b"[]}}")  # no solution: no separator, yet one row counted
    return body, 0 if empty else max_rows - output.left


def write_boolean(value: bool, key: str) -> bytes:
    """An ASK result in the result format ``key``."""
    word = "true" if value else "false"
    if key == "json":
        return json.dumps({"head": {}, "boolean": value}, separators=(",", ":")).encode()
    if key == "xml":
        return f"{_XML_HEAD}<head/><boolean>{word}</boolean></sparql>\n".encode()
    return f"{word}\n".encode()


_RDF_WRITERS = {
    "turtle": RdfFormat.TURTLE,
    "ntriples": RdfFormat.N_TRIPLES,
    "rdfxml": RdfFormat.RDF_XML,
}


def _used_prefixes(triples: Sequence[Triple]) -> dict[str, str]:
    iris = {term.value for triple in triples for term in triple if isinstance(term, NamedNode)}
    return {
        prefix: namespace
        for prefix, namespace in PREFIXES.items()
        if any(iri.startswith(namespace) for iri in iris)
    }


def write_triples(triples: Sequence[Triple], key: str) -> bytes:
    """A graph in the RDF format ``key`` (turtle, ntriples, jsonld or rdfxml), with the prefixes it uses.

    A graph has no order, but its serialisation has one: the triples are written sorted, so that the same
    graph reads the same whichever store answered (each engine builds a graph in its own order), and so
    do the pages read from it."""
    triples = sorted(triples, key=str)
    if key == "jsonld":  # compacted under our context, as the dumps are (pyoxigraph's is expanded)
        return triples_to_jsonld(triples, blank_nodes=True)
    rdf_format = _RDF_WRITERS[key]
    if rdf_format == RdfFormat.N_TRIPLES:
        return serialize(triples, format=rdf_format) or b""
    return serialize(triples, format=rdf_format, prefixes=_used_prefixes(triples)) or b""

"""Checks of the evidence layer that SHACL cannot say: every number of a study, arm or result stands in
one of its quotes (contract rule 14), and every quote was recorded in the curation notes with the page it
was read on.

A number is "in" a quote when the quote writes it in digits or in words, after the typography of
publishers is undone: "−0·34" quotes -0.34 (the sign may sit outside, as in "a reduction of 0.34"),
"p=.04" quotes 0.04, "15 297" and "1,779" quote 15297 and 1779, "Eighty-eight" quotes 88.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF

from ldn_graph.graph.namespaces import BIOLINK, LDNGRAPH, SCHEMA, SOURCE_ARTICLE
from ldn_graph.graph.store_graph import StoreGraph
from ldn_graph.vocab.prefixes import ID

_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_NUMBER = re.compile(r"(?<![\w.])-?\d*\.?\d+")
_TENS_WORD = re.compile(r"\b(" + "|".join(_TENS) + r")(?:[- ](" + "|".join(_UNITS[1:10]) + r"))?\b")

#: The numeric properties of evidence-layer nodes, each of which must be quoted.
QUOTED_NUMBERS = (
    BIOLINK.study_size,
    LDNGRAPH.numberAnalysed,
    LDNGRAPH.plannedSize,
    LDNGRAPH.groupSize,
    SCHEMA.doseValue,
    SCHEMA.value,
    LDNGRAPH.comparatorValue,
    LDNGRAPH.ciLower,
    LDNGRAPH.ciUpper,
    LDNGRAPH.ciLevel,
    BIOLINK.p_value,
    LDNGRAPH.groupSizeTherapy,
    LDNGRAPH.groupSizeComparator,
)
EVIDENCE_NODES = (
    LDNGRAPH.Study,
    LDNGRAPH.ClinicalTrial,
    LDNGRAPH.ObservationalStudy,
    LDNGRAPH.Review,
    LDNGRAPH.StudyArm,
    LDNGRAPH.StudyResult,
)


def undo_typography(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    for mark, plain in (("·", "."), ("−", "-"), ("–", "-"), ("\u2009", " "), ("\u202f", " ")):
        text = text.replace(mark, plain)
    return re.sub(r"(?<=\d)[ ,](?=\d{3}\b)", "", text)  # thousands separators


@functools.lru_cache(maxsize=4096)
def numbers_in(text: str) -> frozenset[Decimal]:
    """Every number a quote states, as absolute values (digits and number words). Kept for each quote:
    every number of a node is looked for in each of its quotes."""
    plain = undo_typography(text)
    found: set[Decimal] = set()
    for match in _NUMBER.finditer(plain):
        try:
            found.add(abs(Decimal(match.group(0))).normalize())
        except InvalidOperation:
            continue
    lower = plain.lower()
    for match in _TENS_WORD.finditer(lower):
        found.add(Decimal(_TENS[match.group(1)] + (_UNITS.index(match.group(2)) if match.group(2) else 0)))
    found |= {Decimal(i) for i, word in enumerate(_UNITS) if re.search(rf"\b{word}\b", lower)}
    return frozenset(found)


def quotes(value, texts) -> bool:
    """Does one of the quotes state this number?"""
    try:
        number = abs(Decimal(str(value))).normalize()
    except InvalidOperation:
        return False
    return any(number in numbers_in(text) for text in texts)


@dataclass(frozen=True)
class Finding:
    node: URIRef
    rule: str
    path: URIRef
    value: str
    message: str


def _numbers_of(graph: Graph, node: URIRef):
    for predicate in QUOTED_NUMBERS:
        for value in graph.objects(node, predicate):
            yield predicate, value
    duration = graph.value(node, LDNGRAPH.duration)
    if duration is not None:  # an arm's duration is quoted by the arm
        for value in graph.objects(duration, SCHEMA.value):
            yield LDNGRAPH.duration, value


def from_article(graph: Graph, node) -> bool:
    """Is the node a claim of the article layer (derived from the source article)?"""
    return (node, PROV.wasDerivedFrom, SOURCE_ARTICLE) in graph


def _is_evidence(graph: Graph, node) -> bool:
    return isinstance(node, URIRef) and str(node).startswith(ID) and not from_article(graph, node)


def evidence_nodes(graph: Graph):
    seen = set()
    for cls in EVIDENCE_NODES:
        for node in graph.subjects(RDF.type, cls):
            if node not in seen and _is_evidence(graph, node):
                seen.add(node)
                yield node


def unquoted_numbers(graph: Graph) -> list[Finding]:
    """Numbers of studies, arms and results that none of the node's own quotes states."""
    findings = []
    for node in evidence_nodes(graph):
        texts = [str(t) for t in graph.objects(node, BIOLINK.supporting_text)]
        for predicate, value in _numbers_of(graph, node):
            if not quotes(value, texts):
                findings.append(
                    Finding(
                        node,
                        "QuotedNumbers",
                        predicate,
                        str(value),
                        "Every number of the evidence layer stands in a quote of its node: add the sentence of "
                        "the publication or registry record that gives this number to biolink:supporting_text "
                        "(and to reference/curation-notes.md), or remove the number.",
                    )
                )
    return findings


#: What ``ldn-graph new study`` writes where the curator has still to read the source.
PLACEHOLDER = "FILL IN"


def placeholders(graph: Graph | StoreGraph) -> list[Finding]:
    """Literals still holding a skeleton's placeholder: the file is not finished."""
    if isinstance(graph, StoreGraph):  # the store picks them: a pass in Python over 10^6 triples took 4 s
        rows = graph.store.query(
            f'SELECT ?s ?p ?o WHERE {{ ?s ?p ?o FILTER(isLiteral(?o) && CONTAINS(STR(?o), "{PLACEHOLDER}")) }}'
        )
        triples = [(graph.term(row["s"]), graph.term(row["p"]), graph.term(row["o"])) for row in rows]
    else:
        triples = [t for t in graph if isinstance(t[2], Literal) and PLACEHOLDER in str(t[2])]
    return [
        Finding(
            node,
            "Placeholder",
            predicate,
            str(value)[:80],
            "Replace the placeholder with what the publication or registry record says (quote it where it "
            "is a quote), or delete the line if the source does not say.",
        )
        for node, predicate, value in triples
    ]


def unrecorded_quotes(graph: Graph, notes: str) -> list[Finding]:
    """Quotes of the evidence layer missing from the curation notes, where each is kept with the page
    it was read on."""
    recorded = " ".join(notes.split())
    findings = []
    for node, quote in graph.subject_objects(BIOLINK.supporting_text):
        if not isinstance(quote, Literal) or not _is_evidence(graph, node):
            continue
        if " ".join(str(quote).split()) not in recorded:
            findings.append(
                Finding(
                    node,
                    "QuoteRecorded",
                    BIOLINK.supporting_text,
                    str(quote)[:80],
                    "Record this quote in graph_data/reference/curation-notes.md with the publication and "
                    "the page it was read on (a quote nobody can trace to a page is not evidence).",
                )
            )
    return findings

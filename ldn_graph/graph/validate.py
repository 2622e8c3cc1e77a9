"""Check the graph against the SHACL shapes (pySHACL) and the contract rules shapes cannot say.

The library returns data (a ``ValidationReport`` of ``Violation``s); the CLI maps it to exit codes.
Each violation names the file(s) describing the node, the node, the rule (the shape's name) and a
message a curator can act on.
"""

from __future__ import annotations

import json
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, astuple, dataclass, field
from pathlib import Path

import pyoxigraph as ox
from pyshacl import validate as pyshacl_validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS

from ldn_graph import resources
from ldn_graph.graph import evidence_checks
from ldn_graph.graph.build import BuildResult, as_rdflib, build_graph
from ldn_graph.graph.load import SHAPES_FILE, LoadedSources, parse_file
from ldn_graph.graph.namespaces import BIOLINK, SH, bind_prefixes
from ldn_graph.graph.shacl_sparql import Finding, split_shapes
from ldn_graph.graph.store_graph import StoreGraph, to_rdflib
from ldn_graph.vocab.prefixes import ONTOLOGY, shorten
from ldn_graph.vocab.schemes import SCHEMES

log = logging.getLogger(__name__)
IDENTIFIER_SHAPE = URIRef(ONTOLOGY + "shape/IdentifierPattern")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Violation:
    files: tuple[str, ...]
    focus: str
    rule: str
    message: str
    path: str = ""
    value: str = ""
    severity: str = "Violation"

    def describe(self) -> str:
        where = ", ".join(self.files) or "(built graph)"
        detail = f" [{self.path}]" if self.path else ""
        value = f" (value: {self.value})" if self.value else ""
        return f"{where}: {self.focus}{detail}: {self.rule}: {self.message}{value}"


@dataclass
class ValidationReport:
    conforms: bool
    triples: int
    violations: list[Violation] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(
            {
                "conforms": self.conforms,
                "triples": self.triples,
                "violations": [asdict(v) for v in self.violations],
            },
            ensure_ascii=False,
            indent=1,
        )

    def rules(self) -> set[str]:
        return {v.rule for v in self.violations}

    @classmethod
    def from_json(cls, text: str) -> ValidationReport:
        document = json.loads(text)
        violations = [Violation(**{**v, "files": tuple(v["files"])}) for v in document["violations"]]
        return cls(document["conforms"], document["triples"], violations)


def identifier_pattern() -> str:
    """One regular expression accepting exactly the identifier CURIEs of the scheme table."""
    alternatives = sorted(f"{re.escape(s.curie_prefix)}:(?:{s.pattern})" for s in SCHEMES.values())
    return "^(?:" + "|".join(alternatives) + ")$"


def load_shapes(root: Path | None = None) -> Graph:
    """The shapes file plus the identifier-pattern shape generated from the scheme table."""
    shapes = parse_file(resources.ontology_dir(root) / SHAPES_FILE, allow_blank_nodes=True)
    shape = IDENTIFIER_SHAPE
    prop = URIRef(ONTOLOGY + "shape/IdentifierPattern/identifier")
    shapes.add((shape, RDF.type, SH.NodeShape))
    shapes.add((shape, RDFS.label, Literal("identifiers follow their scheme's pattern", lang="en")))
    shapes.add((shape, SH.targetSubjectsOf, DCTERMS.identifier))
    shapes.add((shape, SH.property, prop))
    shapes.add((prop, SH.path, DCTERMS.identifier))
    shapes.add((prop, SH.datatype, URIRef("http://www.w3.org/2001/XMLSchema#string")))
    shapes.add((prop, SH.pattern, Literal(identifier_pattern())))
    shapes.add(
        (
            prop,
            SH.message,
            Literal(
                "dcterms:identifier must be a CURIE of a known scheme in Biolink casing that matches the scheme's "
                "pattern (e.g. CHEBI:7465, MONDO:0005011, doi:10.… in lower case); see ldn_graph/vocab/prefixes.py.",
                lang="en",
            ),
        )
    )
    return bind_prefixes(shapes)


def _rule_index(shapes: Graph) -> dict[tuple[str, str], str]:
    """(path, message) of every property shape -> the name of the node shape holding it.

    Validators report a property shape's blank node, whose identifier need not survive into the report;
    its path and message do, and each is unique among our shapes."""
    index: dict[tuple[str, str], str] = {}
    for owner, prop in shapes.subject_objects(SH.property):
        if isinstance(owner, URIRef):
            for message in shapes.objects(prop, SH.message):
                index[(str(shapes.value(prop, SH.path)), str(message))] = _tail(owner)
    return index


def _tail(shape: URIRef) -> str:
    return str(shape).rsplit("/shape/", 1)[-1].split("/", 1)[0]


def _files_for(node, data: Graph, sources: LoadedSources | None) -> tuple[str, ...]:
    """The files describing ``node``, or, for a node described nowhere, the files that refer to it."""
    if sources is None:
        return ()
    files = sources.files_of(node) or [f for s in set(data.subjects(None, node)) for f in sources.files_of(s)]
    return tuple(sorted({str(f) for f in files}))


ENGINES = ("turbo", "pyshacl")


def _validator(engine: str):
    if engine == "pyshacl":
        return pyshacl_validate
    if engine == "turbo":
        try:
            from pyshacl_turbo import validate as turbo_validate
        except ImportError:  # the reference engine always works; the fast one is an optimisation
            log.warning("pyshacl-turbo is not installed; validating with pySHACL")
            return pyshacl_validate
        return turbo_validate
    raise ValueError(f"unknown validation engine {engine!r} (choose from {', '.join(ENGINES)})")


def _shacl_input(data: Graph | StoreGraph, validator) -> tuple[object, str | None]:
    """What the SHACL engine reads, and the Turtle it reads if it does: an rdflib graph as it is; a
    store's graph as Oxigraph's Turtle, which pyshacl-turbo parses natively, or as an rdflib graph for
    pySHACL. Handed the store itself, pyshacl-turbo 0.6 reports violations in the LDN graph that no
    other input shows; handed N-Triples, it held three times the memory it holds for the same graph as
    Turtle (+940 against +350 MB at 10^6 triples), for a second less."""
    if not isinstance(data, StoreGraph):
        return data, None
    if validator is not pyshacl_validate:
        try:
            from pyshacl_turbo.rdf import Input
        except ImportError:  # a later pyshacl-turbo without it: read through rdflib, slower but the same
            return as_rdflib(data), None
        # The prefixes an rdflib graph of the build has: the engine writes its messages with them.
        namespaces = {prefix: str(namespace) for prefix, namespace in bind_prefixes(Graph()).namespaces()}
        turtle = data.turtle().decode("utf-8")
        return Input(turtle, "turtle", None, {}, namespaces), turtle
    return as_rdflib(data), None


@dataclass
class ShaclRun:
    """SHACL over one graph, made ready: the shapes the engine is handed and its input, and the
    SPARQL-based constraints the store answers. pySHACL is the reference; pyshacl-turbo gives identical
    reports on our shapes (the test suite checks every shape fixture with both) about fifty times
    faster, so it is the default. With pyshacl-turbo the SPARQL-based constraints and targets are asked
    of the store, once for the whole graph (``ldn_graph.graph.shacl_sparql``); pySHACL runs the shapes as
    they are."""

    data: Graph | StoreGraph
    shapes: Graph
    engine: str = "turbo"

    def __post_init__(self) -> None:
        self.validator = _validator(self.engine)
        self.sparql = None
        # An rdflib graph is put in a store of its own; a graph held in one is asked each time, so that
        # nothing here keeps its store alive should it be let go (``check_graph``).
        self._own_store = None if isinstance(self.data, StoreGraph) else _store_of(self.data)
        engine_shapes = self.shapes
        if self.validator is not pyshacl_validate:
            self.sparql = split_shapes(self.shapes, self.store)
            engine_shapes = self.sparql.engine_shapes
        self.engine_shapes = engine_shapes
        self.input, self.turtle = _shacl_input(self.data, self.validator)

    @property
    def store(self) -> ox.Store:
        return self._own_store if self._own_store is not None else self.data.store

    def engine_violations(self, sources: LoadedSources | None) -> list[Violation]:
        conforms, results, _ = self.validator(
            self.input, shacl_graph=self.engine_shapes, inference="none", advanced=True, allow_warnings=True
        )
        return [] if conforms else _engine_violations(results, self.shapes, self.data, sources)

    def sparql_violations(self, sources: LoadedSources | None) -> list[Violation]:
        if self.sparql is None:
            return []
        return [_sparql_violation(f, self.data, sources) for f in self.sparql.findings(self.store)]


def _store_of(data: Graph) -> ox.Store:
    """An rdflib graph in a store of its own (small graphs: fixtures, tests)."""
    copy = StoreGraph()
    copy.addN((s, p, o, copy) for s, p, o in data)
    return copy.store


def _engine_violations(results: Graph, shapes: Graph, data, sources) -> list[Violation]:
    rules = _rule_index(shapes)
    found = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        focus = results.value(result, SH.focusNode)
        shape = results.value(result, SH.sourceShape)
        messages = sorted(str(m) for m in results.objects(result, SH.resultMessage))
        path = results.value(result, SH.resultPath)
        value = results.value(result, SH.value)
        severity = results.value(result, SH.resultSeverity)
        if isinstance(shape, URIRef):
            rule = _tail(shape)
        else:
            rule = rules.get((str(path), messages[0] if messages else ""), "shape")
        found.append(
            Violation(
                files=_files_for(focus, data, sources),
                focus=_shown(focus),
                rule=rule,
                message=messages[0] if messages else "violates the shape",
                path=shorten(str(path)) if isinstance(path, URIRef) else "",
                value=_shown(value) if value is not None else "",
                severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
            )
        )
    return found


def _sparql_violation(finding: Finding, data, sources) -> Violation:
    focus, value = to_rdflib(finding.focus), to_rdflib(finding.value)
    return Violation(
        files=_files_for(focus, data, sources),
        focus=_shown(focus),
        rule=_tail(finding.shape),
        message=sorted(finding.messages)[0],
        path=shorten(finding.path.value) if finding.path is not None else "",
        value=_shown(value),
        severity=str(finding.severity).rsplit("#", 1)[-1],
    )


def _shown(term) -> str:
    return shorten(str(term)) if isinstance(term, URIRef) else str(term)


def normalise_text(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


class ArticleText:
    """The source article, spacing normalised, answering "is this passage in it?".

    A quotation usually starts where a sentence starts, so the places sentences start are indexed by
    their first characters and a quotation is compared there first; only one found at none of them is
    looked for in the whole text. Same answers as ``passage in text``, without scanning a long article
    once per statement (quadratic in graph size)."""

    KEY = 24
    _SENTENCE_END = re.compile(r"[.!?\]\"')] ")

    def __init__(self, article: str) -> None:
        self.text = normalise_text(article)
        self.starts: dict[str, list[int]] = {}
        for start in [0, *(m.end() for m in self._SENTENCE_END.finditer(self.text))]:
            self.starts.setdefault(self.text[start : start + self.KEY], []).append(start)
        self.known: dict[str, bool] = {}

    def __contains__(self, passage: str) -> bool:
        passage = normalise_text(passage)
        found = self.known.get(passage)
        if found is None:
            found = any(self.text.startswith(passage, at) for at in self.starts.get(passage[: self.KEY], ()))
            found = self.known[passage] = found or passage in self.text
        return found


def supporting_text_violations(data: Graph, sources: LoadedSources | None, article: str) -> list[Violation]:
    """Each statement's quotation must stand verbatim in the source article (spacing aside), so a
    reader can always find the sentence a claim comes from."""
    haystack = ArticleText(article)
    found = []
    for statement, quote in data.subject_objects(BIOLINK.supporting_text):
        if not evidence_checks.from_article(data, statement):
            continue  # the evidence layer quotes publications, checked against the curation notes
        if str(quote) not in haystack:
            found.append(
                Violation(
                    files=tuple(str(p) for p in (sources.files_of(statement) if sources else [])),
                    focus=shorten(str(statement)),
                    rule="SupportingTextVerbatim",
                    message="biolink:supporting_text is not a verbatim passage of the source article "
                    "(graph_data/source/): copy the sentence exactly, including reference markers such as [4].",
                    path="biolink:supporting_text",
                    value=str(quote)[:80],
                )
            )
    return found


def evidence_violations(data: Graph, sources: LoadedSources | None, notes: str | None) -> list[Violation]:
    findings = evidence_checks.unquoted_numbers(data) + evidence_checks.placeholders(data)
    if notes is not None:
        findings += evidence_checks.unrecorded_quotes(data, notes)
    return [
        Violation(
            files=tuple(str(p) for p in (sources.files_of(f.node) if sources else [])),
            focus=shorten(str(f.node)),
            rule=f.rule,
            message=f.message,
            path=shorten(str(f.path)),
            value=f.value,
        )
        for f in findings
    ]


def check_graph(
    data: Graph,
    shapes: Graph,
    sources: LoadedSources | None = None,
    article: str | None = None,
    engine: str = "turbo",
    notes: str | None = None,
    let_go: bool = False,
) -> ValidationReport:
    """Check ``data`` against the shapes, the source article and the curation notes.

    The SHACL engine runs natively without holding the interpreter, so the store's queries and the
    checks written in Python run beside it rather than after it (a third of the time at 10^6 triples,
    on two cores); what the engine needs is made first, so that nothing holds up its start. With
    ``let_go`` (the caller needs the graph no more), a graph held in a store has every other check
    first (the engine's input made meanwhile) and then lets its store go, whose memory the engine
    reuses: at 10^6 triples the process peaked at 1.11 GB instead of 1.56, about as fast."""
    triples = len(data)
    if let_go and isinstance(data, StoreGraph):
        with ThreadPoolExecutor(max_workers=1) as beside:  # the engine's input is made beside the checks
            prepared = beside.submit(ShaclRun, data, shapes, engine)
            violations = _python_violations(data, sources, article, notes)
            shacl = prepared.result()
        violations += shacl.sparql_violations(sources)
        if shacl.turtle is not None:  # the engine reads a copy: the store is made again from it if need be
            data.let_go(lambda: _store_from_turtle(shacl.turtle))
        violations += shacl.engine_violations(sources)
    else:
        shacl = ShaclRun(data, shapes, engine)
        with ThreadPoolExecutor(max_workers=1) as beside:
            engine_violations = beside.submit(shacl.engine_violations, sources)
            violations = shacl.sparql_violations(sources) + _python_violations(data, sources, article, notes)
            violations += engine_violations.result()
    # Every field in the key: the order must not depend on the order the engine or the store found them.
    violations.sort(key=astuple)
    return ValidationReport(conforms=not violations, triples=triples, violations=violations)


def _python_violations(data, sources, article: str | None, notes: str | None) -> list[Violation]:
    """The checks written in Python: the quotes and the evidence layer."""
    violations = supporting_text_violations(data, sources, article) if article is not None else []
    return violations + evidence_violations(data, sources, notes)


def _store_from_turtle(text: str) -> ox.Store:
    store = ox.Store()
    store.load(text.encode("utf-8"), format=ox.RdfFormat.TURTLE, to_graph=ox.DefaultGraph())
    return store


def read_curation_notes(root: Path | None = None) -> str | None:
    path = resources.data_dir(root) / "reference" / "curation-notes.md"
    return path.read_text(encoding="utf-8") if path.exists() else None


def read_article(root: Path | None = None) -> str | None:
    path = resources.source_article(root)
    return path.read_text(encoding="utf-8") if path.exists() else None


def check_project(
    build: BuildResult, root: Path | None = None, engine: str = "turbo", let_go: bool = False
) -> ValidationReport:
    """Check a built graph of a checkout against its shapes, its source article and its curation notes
    (``let_go``: see ``check_graph``)."""
    shapes, article, notes = load_shapes(root), read_article(root), read_curation_notes(root)
    return check_graph(build.graph, shapes, build.sources, article, engine, notes, let_go)


def validate_project(
    root: Path | None = None, engine: str = "turbo", cache: Path | None = None
) -> ValidationReport:
    """Build the graph of a checkout (or the installed one) in a store and check it. With ``cache``, the
    graph kept there by an earlier build of the same sources is checked (``ldn_graph.graph.build_cache``),
    and the report is kept beside it for a release to find."""
    if cache is None:
        return check_project(build_graph(root, store=True), root, engine, let_go=True)
    from ldn_graph.graph.build_cache import cached_build

    build, kept = cached_build(root, cache)
    report = check_project(build, root, engine, let_go=True)
    kept.keep_report(engine, root, report)
    return report

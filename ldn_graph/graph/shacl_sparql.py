"""The SPARQL-based parts of the shapes, asked of an Oxigraph store once for the whole graph.

A SHACL engine runs a SPARQL-based constraint once per focus node, with ``$this`` bound to it: for
``AssertedWhenTrue`` that is one query per statement, and pyshacl-turbo's evaluator takes longer per
query the larger the graph (42 s of its 70 s at 10^6 triples went to the SPARQL-based shapes). Here
each such constraint becomes one query over the whole graph: the shape's targets, as a pattern on
``?this``, joined into the constraint's own query (``$this`` and ``?this`` are the same variable in
SPARQL), so that every violating focus node comes out of one join in the store. A SPARQL-based target
is asked of the store too, and handed to the engine as the nodes it selects. What the engine is left
with are the core constraints.

The results are those of SHACL's pre-binding, as pySHACL makes them: one per distinct solution of a
focus node, ``sh:value`` from ``?value`` or else the focus node, ``{?var}`` and ``{$var}`` in each
message replaced by the solution's values. The test suite runs every shape fixture through this and
through pySHACL's per-node evaluation of the untouched shapes, and compares the reports. A constraint
this cannot rewrite as it stands (one on a property shape, one using ``$PATH``, ``$currentShape`` or
``$shapesGraph``, a deactivated one, one without a message) is left to the engine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from ldn_graph.graph.namespaces import SH
from ldn_graph.graph.store_graph import to_oxigraph, to_rdflib

_OTHER_PRE_BOUND = re.compile(r"[?$](?:currentShape|shapesGraph)\b|\$PATH\b")


@dataclass(frozen=True)
class Finding:
    """One result of a SPARQL-based constraint, as pySHACL reports it."""

    shape: URIRef
    focus: ox.NamedNode | ox.Literal | ox.BlankNode
    value: ox.NamedNode | ox.Literal | ox.BlankNode
    path: ox.NamedNode | None
    messages: tuple[str, ...]
    severity: URIRef


@dataclass(frozen=True)
class _Constraint:
    shape: URIRef
    query: str  # the whole-graph query: the shape's targets joined into the constraint's SELECT
    messages: tuple[str, ...]  # the message templates (the constraint's, then the shape's)
    severity: URIRef


@dataclass
class SparqlShapes:
    """The shapes split in two: what the SHACL engine runs, and the constraints run here."""

    engine_shapes: Graph
    constraints: list[_Constraint]

    def findings(self, store: ox.Store) -> list[Finding]:
        return [finding for constraint in self.constraints for finding in _run(constraint, store)]


def split_shapes(shapes: Graph, store: ox.Store) -> SparqlShapes:
    """The SPARQL-based targets of ``shapes`` asked of ``store`` and turned into target nodes, and the
    SPARQL-based constraints taken out for whole-graph queries, with the engine's copy of the shapes."""
    engine = Graph()
    for prefix, namespace in shapes.namespaces():
        engine.bind(prefix, namespace)
    engine += shapes
    constraints = []
    for shape in sorted(set(shapes.subjects(RDF.type, SH.NodeShape)), key=str):
        if not isinstance(shape, URIRef) or (shape, SH.path, None) in shapes:
            continue
        targets = _target_pattern(shapes, shape)
        if targets is None:
            continue
        for sparql in list(shapes.objects(shape, SH.sparql)):
            constraint = _rewrite(shapes, shape, sparql, targets)
            if constraint is not None:
                constraints.append(constraint)
                engine.remove((shape, SH.sparql, sparql))
        for target in list(shapes.objects(shape, SH.target)):
            select = _sparql_target(shapes, target)
            if select is not None:
                engine.remove((shape, SH.target, target))
                for row in store.query(select):
                    engine.add((shape, SH.targetNode, to_rdflib(row["this"])))
    return SparqlShapes(engine, constraints)


def _run(constraint: _Constraint, store: ox.Store) -> Iterable[Finding]:
    seen = set()
    solutions = store.query(constraint.query)
    names = [variable.value for variable in solutions.variables]
    for solution in solutions:
        bound = {name: solution[name] for name in names if solution[name] is not None}
        focus = bound.pop("this")
        path = bound.pop("path", None)
        value = bound.pop("value", None)
        if value is None:
            value = focus  # a node shape's result is about its focus node
        key = (focus, path, value, tuple(sorted(bound.items())))
        if key in seen:  # pySHACL reports each distinct solution of a focus node once
            continue
        seen.add(key)
        replacements = {**bound, "this": focus, "value": value} | ({"path": path} if path else {})
        messages = tuple(_fill(template, replacements) for template in constraint.messages)
        yield Finding(constraint.shape, focus, value, path, messages, constraint.severity)


def _fill(template: str, values: dict) -> str:
    for name, term in values.items():
        template = template.replace("{?" + name + "}", term.value).replace("{$" + name + "}", term.value)
    return template


def _rewrite(shapes: Graph, shape: URIRef, sparql, targets: str) -> _Constraint | None:
    select = shapes.value(sparql, SH.select)
    deactivated = shapes.value(sparql, SH.deactivated)
    messages = [str(m) for m in shapes.objects(sparql, SH.message)]
    messages += [str(m) for m in shapes.objects(shape, SH.message) if str(m) not in messages]
    if select is None or not messages or _OTHER_PRE_BOUND.search(str(select)):
        return None
    if deactivated is not None and deactivated.toPython() is True:
        return None
    opening = str(select).find("{")
    if opening < 0:
        return None
    query = str(select)[: opening + 1] + "\n{ " + targets + " }\n" + str(select)[opening + 1 :]
    severity = shapes.value(shape, SH.severity) or SH.Violation
    return _Constraint(shape, _prefixes(shapes, sparql) + query, tuple(messages), severity)


def _target_pattern(shapes: Graph, shape: URIRef) -> str | None:
    """The shape's focus nodes as a group binding ``?this`` once each, or None for targets this does
    not know (a shape that is also a class: its instances are its targets)."""
    if (shape, RDF.type, RDFS.Class) in shapes:
        return None
    alternatives = []
    for kind, target in shapes.predicate_objects(shape):
        if kind == SH.targetClass:
            alternatives.append(f"?this a/<{RDFS.subClassOf}>* {_term(target)} .")
        elif kind == SH.targetNode:
            alternatives.append(f"VALUES ?this {{ {_term(target)} }}")
        elif kind == SH.targetSubjectsOf:
            alternatives.append(f"?this {_term(target)} ?object .")
        elif kind == SH.targetObjectsOf:
            alternatives.append(f"?subject {_term(target)} ?this .")
        elif kind == SH.target:
            select = _sparql_target(shapes, target)
            if select is None:
                return None
            alternatives.append(select)
    if not alternatives:
        return None
    union = " UNION ".join("{ " + a + " }" for a in sorted(alternatives))
    return f"SELECT DISTINCT ?this WHERE {{ {union} }}"


def _sparql_target(shapes: Graph, target) -> str | None:
    select = shapes.value(target, SH.select)
    if (target, RDF.type, SH.SPARQLTarget) not in shapes or select is None:
        return None
    return _prefixes(shapes, target) + str(select)


def _prefixes(shapes: Graph, node) -> str:
    """The PREFIX lines of a SPARQL-based constraint or target: the sh:declare of what its
    sh:prefixes names (or, for a node declaring none, of every ontology of the shapes graph)."""
    declared = {}
    for holder in shapes.objects(node, SH.prefixes):
        declarations = list(shapes.objects(holder, SH.declare))
        if not declarations:
            for ontology in shapes.subjects(RDF.type, OWL.Ontology):
                declarations += shapes.objects(ontology, SH.declare)
        for declaration in declarations:
            declared[str(shapes.value(declaration, SH.prefix))] = str(shapes.value(declaration, SH.namespace))
    return "".join(f"PREFIX {prefix}: <{namespace}>\n" for prefix, namespace in sorted(declared.items()))


def _term(node) -> str:
    return str(to_oxigraph(node))  # an IRI or a literal as SPARQL writes it

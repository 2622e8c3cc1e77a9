"""What the graph says about one IRI, as SPARQL to ask and as plain data for a page.

The description of an entity is its own triples, the triples that point at it, every statement about
it (as subject, object or cited source) with the statement's evidence status, date and sources, and the
labels of everything these link to. It is asked for with one CONSTRUCT query, so that whoever runs the
query (the endpoint's killable engine process) bounds its time like any other query, and the same
triples feed both the RDF answer and the page. Functions here only build query text and turn answered
triples into dataclasses; they never touch a web framework.

IRIs map between the persistent base and a server's own paths: ``https://w3id.org/ldngraph/id/x`` is
served at ``/id/x``; pages link through the server's public URL, RDF answers keep the persistent IRIs.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, Triple

from ldn_graph.prefixes import BASE, ID, ONTOLOGY, ONTOLOGY_IRI, PREFIXES, shorten, split_curie

_RDF = PREFIXES["rdf"]
_RDFS = PREFIXES["rdfs"]
_SKOS = PREFIXES["skos"]
_DCTERMS = PREFIXES["dcterms"]
_SCHEMA = PREFIXES["schema"]
_CITO = PREFIXES["cito"]
_BIOLINK = PREFIXES["biolink"]

TYPE = _RDF + "type"
STATEMENT_CLASS = _RDF + "Statement"
SUBJECT, PREDICATE, OBJECT = _RDF + "subject", _RDF + "predicate", _RDF + "object"
EVIDENCE_STATUS = ONTOLOGY + "evidenceStatus"
CITATION_NEEDED = ONTOLOGY + "citationNeeded"
CITES = _CITO + "citesAsEvidence"
DATE = _DCTERMS + "date"
SUPPORTING_TEXT = _BIOLINK + "supporting_text"
IDENTIFIER = _DCTERMS + "identifier"
URL = _SCHEMA + "url"
MAPPINGS = {
    _SKOS + "exactMatch": "exact match",
    _SKOS + "closeMatch": "close match",
    _SKOS + "broadMatch": "broad match",
}
#: Properties whose values name the thing, best first.
LABELS = (_RDFS + "label", _SKOS + "prefLabel", _SCHEMA + "name", _DCTERMS + "title")
DEFINITIONS = (_SKOS + "definition", _RDFS + "comment", _DCTERMS + "description")
EVIDENCE_SCHEME = ONTOLOGY + "EvidenceStatusScheme"
CONDITION_CLASS = ONTOLOGY + "Condition"

# Left to right on the evidence map, from the strongest standing to the weakest, so a row reads as a
# scale. Concepts added to the scheme later follow these, by label.
EVIDENCE_ORDER = tuple(
    ONTOLOGY + term
    for term in (
        "ApprovedUse",
        "Established",
        "ReportedFinding",
        "UnderInvestigation",
        "Promising",
        "Hypothesised",
        "InsufficientEvidence",
        "EfficacyNotShown",
        "NoSupportingEvidence",
    )
)

# Server paths under which persistent IRIs are served; a slug is letters, digits and . _ - / only.
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]*(/[A-Za-z0-9][A-Za-z0-9._\-]*)*")
_TERM = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*")


class UnknownPath(ValueError):
    """A server path that cannot name an IRI of the graph (wrong characters or shape)."""


def iri_for_path(path: str) -> str:
    """The persistent IRI served at ``path`` (``/id/…``, ``/ontology`` or ``/ontology/…``)."""
    path = path.lstrip("/")
    if path == "ontology":
        return ONTOLOGY_IRI
    kind, _, rest = path.partition("/")
    if kind == "id" and _SLUG.fullmatch(rest):
        return ID + rest
    if kind == "ontology" and _TERM.fullmatch(rest):
        return ONTOLOGY + rest
    raise UnknownPath(f"/{path} does not name an IRI of the graph")


def is_local(iri: str) -> bool:
    """True for IRIs under the persistent base, which this server dereferences."""
    return iri.startswith(BASE)


def server_path(iri: str) -> str | None:
    """The path at which a server serves ``iri``, or None for an IRI outside the persistent base."""
    return "/" + iri[len(BASE) :] if is_local(iri) else None


def _sparql_iri(iri: str) -> str:
    # NamedNode checks the IRI, so nothing but an IRI can reach the query text.
    return str(NamedNode(iri))


def _fill(template: str, **iris: str) -> str:
    text = template
    for name, iri in iris.items():
        text = text.replace(f"${name}", _sparql_iri(iri))
    return text


_PREFIXES = "".join(
    f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in ("rdf", "rdfs", "skos", "dcterms", "schema", "cito", "ldngraph")
)

# Branches are written out per IRI rather than through one BIND, so each is a lookup, not a scan; the
# things to label and the sources are gathered in DISTINCT subqueries first, which Oxigraph answers a
# hundred times faster than the same patterns joined in place (0.8 ms against 90 ms).
_DESCRIBE = (
    _PREFIXES
    + """CONSTRUCT {
  $this ?p ?o .
  ?in ?ip $this .
  ?st ?sp ?so .
  ?n rdfs:label ?label .
  ?n skos:prefLabel ?prefLabel .
  ?src ?srcp ?srco .
} WHERE {
  { $this ?p ?o }
  UNION { ?in ?ip $this }
  UNION { ?st rdf:subject|rdf:object|cito:citesAsEvidence $this . ?st a rdf:Statement ; ?sp ?so }
  UNION {
    { SELECT DISTINCT ?n WHERE {
      { $this ?x ?n } UNION { $this ?n ?x } UNION { ?n ?x $this } UNION { ?x ?n $this }
      UNION {
        ?y rdf:subject|rdf:object|cito:citesAsEvidence $this . ?y a rdf:Statement .
        { ?y ?x ?n } UNION { ?y ?n ?x }
      }
    } }
    { ?n rdfs:label ?label } UNION { ?n skos:prefLabel ?prefLabel }
  }
  UNION {
    { SELECT DISTINCT ?src WHERE {
      { $this cito:citesAsEvidence ?src }
      UNION { ?y rdf:subject|rdf:object|cito:citesAsEvidence $this . ?y a rdf:Statement ; cito:citesAsEvidence ?src }
    } }
    VALUES ?srcp { schema:url skos:exactMatch }
    ?src ?srcp ?srco .
  }
}"""
)


def description_query(iri: str) -> str:
    """A CONSTRUCT query for the description of ``iri`` (see the module's first paragraph)."""
    return _fill(_DESCRIBE, this=iri)


def exists_query(iri: str) -> str:
    """A SELECT query with one row when the graph holds ``iri`` (as subject or object), none otherwise."""
    return _fill(
        "SELECT ?found WHERE { { $this ?p ?o } UNION { ?s ?p $this } BIND (true AS ?found) } LIMIT 1",
        this=iri,
    )


_EVIDENCE_MAP = (
    _PREFIXES
    + """SELECT ?condition ?conditionLabel ?status ?statusLabel (COUNT(DISTINCT ?statement) AS ?claims)
       (COUNT(DISTINCT ?source) AS ?sources)
WHERE {
  { ?condition a ldngraph:Condition ; rdfs:label ?conditionLabel .
    ?statement a rdf:Statement ; rdf:subject|rdf:object ?condition ; ldngraph:evidenceStatus ?status .
    ?status skos:prefLabel ?statusLabel .
    OPTIONAL { ?statement cito:citesAsEvidence ?source } }
  UNION { ?condition a ldngraph:Condition ; rdfs:label ?conditionLabel . }
  UNION { ?status skos:inScheme ldngraph:EvidenceStatusScheme ; skos:prefLabel ?statusLabel . }
}
GROUP BY ?condition ?conditionLabel ?status ?statusLabel"""
)


def evidence_map_query() -> str:
    """A SELECT query: one row per condition and evidence status with its number of claims and sources.

    Conditions with no claims and statuses no condition has come as rows of their own (the other side
    unbound), so the map shows every condition and every status.
    """
    return _EVIDENCE_MAP


_EVIDENCE_CLAIMS = (
    _PREFIXES
    + """CONSTRUCT {
  ?st ?sp ?so .
  ?n rdfs:label ?label .
  ?n skos:prefLabel ?prefLabel .
  ?src ?srcp ?srco .
} WHERE {
  { SELECT DISTINCT ?st WHERE { ?st a rdf:Statement ; ldngraph:evidenceStatus ?status . $filters } }
  { ?st ?sp ?so }
  UNION {
    { SELECT DISTINCT ?st ?n WHERE {
      ?st a rdf:Statement ; ldngraph:evidenceStatus ?status . $filters
      { ?st ?x ?n } UNION { ?st ?n ?x }
    } }
    { ?n rdfs:label ?label } UNION { ?n skos:prefLabel ?prefLabel }
  }
  UNION { ?st cito:citesAsEvidence ?src . VALUES ?srcp { schema:url skos:exactMatch } ?src ?srcp ?srco . }
}"""
)


def evidence_claims_query(condition: str | None = None, status: str | None = None) -> str:
    """A CONSTRUCT query for the statements about ``condition`` with evidence ``status`` (either may be None)."""
    filters = []
    if condition is not None:
        filters.append(f"?st rdf:subject|rdf:object {_sparql_iri(condition)} .")
    if status is not None:
        filters.append(f"?st ldngraph:evidenceStatus {_sparql_iri(status)} .")
    return _EVIDENCE_CLAIMS.replace("$filters", " ".join(filters))


_DATASET = (
    _PREFIXES
    + """PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX void: <http://rdfs.org/ns/void#>
SELECT ?dataset ?title ?label ?description ?version ?issued ?license ?rights ?triples ?source ?sourceLabel
WHERE {
  ?dataset a void:Dataset ; void:uriSpace ?space .
  OPTIONAL { ?dataset dcterms:title ?title }
  OPTIONAL { ?dataset rdfs:label ?label }
  OPTIONAL { ?dataset dcterms:description ?description }
  OPTIONAL { ?dataset dcat:version ?version }
  OPTIONAL { ?dataset dcterms:issued ?issued }
  OPTIONAL { ?dataset dcterms:license ?license }
  OPTIONAL { ?dataset dcterms:rights ?rights }
  OPTIONAL { ?dataset void:triples ?triples }
  OPTIONAL { ?dataset dcterms:source ?source . OPTIONAL { ?source rdfs:label ?sourceLabel } }
}
LIMIT 1"""
)


def dataset_query() -> str:
    """A SELECT query for the facts the landing page states about the dataset (one row at most)."""
    return _DATASET


_SEARCH = (
    _PREFIXES
    + """SELECT ?entity (SAMPLE(?name) AS ?label) WHERE {
  VALUES ?lp { rdfs:label skos:prefLabel skos:altLabel dcterms:identifier }
  ?entity ?lp ?name .
  FILTER (isIRI(?entity) && CONTAINS(LCASE(STR(?name)), LCASE($text)))
}
GROUP BY ?entity
ORDER BY STRLEN(?label) ?label
LIMIT 50"""
)


def search_query(text: str) -> str:
    """A SELECT query for IRIs whose label, alternative label or identifier contains ``text``."""
    # pyoxigraph writes the literal with the escapes SPARQL reads, so the text cannot leave its string.
    return _SEARCH.replace("$text", str(Literal(text)))


# --- from triples to page data -------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """An IRI and the words to show for it; ``local`` tells whether this server has a page for it."""

    iri: str
    label: str

    @property
    def local(self) -> bool:
        return is_local(self.iri)

    @property
    def path(self) -> str | None:
        return server_path(self.iri)


@dataclass(frozen=True)
class Value:
    """One object of a triple: a link, or a literal's text with its language or datatype."""

    text: str
    link: Link | None = None
    language: str | None = None
    datatype: str | None = None  # shortened, e.g. xsd:date; None for plain and language strings


@dataclass(frozen=True)
class PropertyValues:
    predicate: Link
    values: tuple[Value, ...]


@dataclass(frozen=True)
class Identifier:
    """An external identifier (a ``dcterms:identifier`` CURIE) and the provider's page for it, if any."""

    curie: str
    scheme: str
    url: str | None


@dataclass(frozen=True)
class Source:
    link: Link
    external: tuple[Link, ...] = ()  # the DOI, PubMed record or web page of the source


@dataclass(frozen=True)
class Claim:
    """A statement: the triple it states, the state of its evidence, when, and on which sources."""

    statement: Link
    subject: Link | None
    predicate: Link | None
    object: Value | None
    status: Link | None
    date: str | None
    sources: tuple[Source, ...]
    citation_needed: Link | None
    supporting_text: str | None
    asserted: bool  # the triple itself is in the graph, not only stated
    qualifiers: tuple[PropertyValues, ...] = ()


@dataclass(frozen=True)
class Node:
    link: Link
    x: float
    y: float
    relation: str  # the predicate(s) linking it to the centre, as words
    outgoing: bool
    claimed_only: bool  # linked only through a statement whose triple is not asserted


@dataclass(frozen=True)
class Neighbourhood:
    """The entity and its nearest neighbours placed on a circle, for a small picture."""

    centre: Link
    nodes: tuple[Node, ...]
    more: int  # neighbours left out of the picture
    width: int
    height: int

    @property
    def cx(self) -> float:
        return self.width / 2

    @property
    def cy(self) -> float:
        return self.height / 2


@dataclass(frozen=True)
class EntityPage:
    iri: str
    label: str
    definition: str | None
    types: tuple[Link, ...]
    identifiers: tuple[Identifier, ...]
    mappings: tuple[tuple[str, Link], ...]  # (relation, external IRI)
    properties: tuple[PropertyValues, ...]
    referenced_by: tuple[PropertyValues, ...]  # triples pointing here, by predicate
    claims: tuple[Claim, ...]
    neighbourhood: Neighbourhood
    truncated: bool = False


class Triples:
    """A small index over answered triples: values by subject and predicate, subjects by object."""

    def __init__(self, triples: Iterable[Triple]):
        self.out: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        self.into: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for triple in triples:
            subject, predicate, obj = triple.subject.value, triple.predicate.value, triple.object
            if obj not in self.out[subject][predicate]:
                self.out[subject][predicate].append(obj)
                if isinstance(obj, NamedNode):
                    self.into[obj.value][predicate].append(subject)

    def __contains__(self, iri: str) -> bool:
        return iri in self.out or iri in self.into

    def objects(self, subject: str, predicate: str) -> list:
        return self.out.get(subject, {}).get(predicate, [])

    def iris(self, subject: str, predicate: str) -> list[str]:
        return [o.value for o in self.objects(subject, predicate) if isinstance(o, NamedNode)]

    def first(self, subject: str, predicate: str) -> str | None:
        values = self.objects(subject, predicate)
        return values[0].value if values else None

    def label(self, iri: str) -> str:
        """The English (or untagged, or any) label of ``iri``; its CURIE when it has none."""
        for predicate in LABELS:
            values = [v for v in self.objects(iri, predicate) if isinstance(v, Literal)]
            for wanted in ("en", None):
                for value in values:
                    if value.language == wanted or (wanted is None and not value.language):
                        return value.value
            if values:
                return values[0].value
        short = shorten(iri)
        return iri if short.startswith("<") else short

    def link(self, iri: str) -> Link:
        return Link(iri, self.label(iri))

    def value(self, term) -> Value:
        if isinstance(term, NamedNode):
            link = self.link(term.value)
            return Value(link.label, link)
        datatype = term.datatype.value
        plain = datatype in (PREFIXES["xsd"] + "string", _RDF + "langString")
        return Value(term.value, None, term.language or None, None if plain else shorten(datatype))


_CLAIM_FIELDS = {
    TYPE,
    SUBJECT,
    PREDICATE,
    OBJECT,
    EVIDENCE_STATUS,
    DATE,
    SUPPORTING_TEXT,
    CITES,
    CITATION_NEEDED,
}
# The same for every statement; a statement's own page lists them, a claim in a list leaves them out.
_PROVENANCE = {PREFIXES["prov"] + "wasDerivedFrom", _BIOLINK + "knowledge_level", _BIOLINK + "agent_type"}


def parse_claim(graph: Triples, statement: str) -> Claim:
    """The claim ``statement`` makes, read from ``graph``."""
    subject = graph.first(statement, SUBJECT)
    predicate = graph.first(statement, PREDICATE)
    objects = graph.objects(statement, OBJECT)
    status = graph.first(statement, EVIDENCE_STATUS)
    dates = graph.objects(statement, DATE)
    texts = graph.objects(statement, SUPPORTING_TEXT)
    flag = graph.first(statement, CITATION_NEEDED)
    sources = []
    for source in sorted(graph.iris(statement, CITES), key=graph.label):
        external = [graph.link(iri) for iri in graph.iris(source, _SKOS + "exactMatch")]
        external += [Link(iri, "web page") for iri in graph.iris(source, URL)]
        sources.append(Source(graph.link(source), tuple(_external_label(link) for link in external)))
    asserted = bool(subject and predicate and objects and objects[0] in graph.objects(subject, predicate))
    return Claim(
        statement=graph.link(statement),
        subject=graph.link(subject) if subject else None,
        predicate=graph.link(predicate) if predicate else None,
        object=graph.value(objects[0]) if objects else None,
        status=graph.link(status) if status else None,
        date=dates[0].value if dates else None,
        sources=tuple(sources),
        citation_needed=graph.link(flag) if flag else None,
        supporting_text=texts[0].value if texts else None,
        asserted=asserted,
        qualifiers=_properties(graph, statement, skip=_CLAIM_FIELDS | set(LABELS) | _PROVENANCE),
    )


def _external_label(link: Link) -> Link:
    if link.iri.startswith("https://doi.org/"):
        return Link(link.iri, "doi:" + link.iri.removeprefix("https://doi.org/"))
    if link.iri.startswith("https://pubmed.ncbi.nlm.nih.gov/"):
        return Link(link.iri, "PubMed " + link.iri.rstrip("/").rsplit("/", 1)[-1])
    return link


def _properties(graph: Triples, iri: str, skip: set[str]) -> tuple[PropertyValues, ...]:
    rows = []
    for predicate, values in graph.out.get(iri, {}).items():
        if predicate in skip:
            continue
        shown = sorted((graph.value(v) for v in values), key=lambda v: (v.link is None, v.text.lower()))
        rows.append(PropertyValues(graph.link(predicate), tuple(shown)))
    return tuple(sorted(rows, key=lambda row: row.predicate.label.lower()))


def statements_in(graph: Triples) -> list[str]:
    """Every statement in ``graph``, ordered by the label of what it is about and then by date."""
    found = [s for s in graph.out if STATEMENT_CLASS in graph.iris(s, TYPE)]
    return sorted(found, key=lambda s: (graph.label(s).lower(), graph.first(s, DATE) or ""))


def claims(triples: Iterable[Triple]) -> list[Claim]:
    """The claims of every statement among ``triples`` (an answer to :func:`evidence_claims_query`)."""
    graph = Triples(triples)
    return [parse_claim(graph, statement) for statement in statements_in(graph)]


def _identifiers(graph: Triples, iri: str) -> tuple[Identifier, ...]:
    found = []
    for literal in graph.objects(iri, IDENTIFIER):
        try:
            scheme, local = split_curie(literal.value)
        except ValueError:
            found.append(Identifier(literal.value, "", None))
            continue
        found.append(Identifier(literal.value, scheme.label, scheme.page(local) or scheme.iri(local)))
    return tuple(sorted(found, key=lambda i: i.curie.lower()))


def _definition(graph: Triples, iri: str) -> str | None:
    for predicate in DEFINITIONS:
        values = graph.objects(iri, predicate)
        english = [v for v in values if getattr(v, "language", None) == "en"]
        if english or values:
            return (english or values)[0].value
    return None


def entity_page(iri: str, triples: Iterable[Triple], truncated: bool = False) -> EntityPage | None:
    """The page data for ``iri`` from its description (:func:`description_query`); None if it has none."""
    graph = Triples(triples)
    if not graph.out.get(iri) and not graph.into.get(iri):
        return None
    statements = [s for s in statements_in(graph) if s != iri and _about(graph, s, iri)]
    skip = {TYPE, IDENTIFIER, *MAPPINGS, *LABELS[:1], *DEFINITIONS[:1]}
    if STATEMENT_CLASS in graph.iris(iri, TYPE):
        statements.insert(0, iri)
        # Its claim card shows everything but the provenance every statement shares.
        skip |= set(graph.out[iri]) - _PROVENANCE
    referenced = []
    for predicate, subjects in graph.into.get(iri, {}).items():
        if predicate in (SUBJECT, OBJECT, CITES):
            continue  # shown as claims
        values = sorted((graph.value(NamedNode(s)) for s in subjects), key=lambda v: v.text.lower())
        referenced.append(PropertyValues(graph.link(predicate), tuple(values)))
    return EntityPage(
        iri=iri,
        label=graph.label(iri),
        definition=_definition(graph, iri),
        types=tuple(sorted((graph.link(t) for t in graph.iris(iri, TYPE)), key=_type_order)),
        identifiers=_identifiers(graph, iri),
        mappings=tuple(
            (words, _external_label(Link(target, shorten(target))))
            for predicate, words in MAPPINGS.items()
            for target in sorted(graph.iris(iri, predicate))
        ),
        properties=_properties(graph, iri, skip),
        referenced_by=tuple(sorted(referenced, key=lambda row: row.predicate.label.lower())),
        claims=tuple(parse_claim(graph, s) for s in statements),
        neighbourhood=neighbourhood(graph, iri),
        truncated=truncated,
    )


def _about(graph: Triples, statement: str, iri: str) -> bool:
    return iri in {graph.first(statement, p) for p in (SUBJECT, OBJECT)} or iri in graph.iris(
        statement, CITES
    )


def _type_order(link: Link) -> tuple[int, str]:
    # Our own classes first: they carry labels and definitions; the standard types follow.
    return (0 if link.local else 1, link.label.lower())


# --- the neighbourhood picture --------------------------------------------------------------------

MAX_NEIGHBOURS = 12
_HIDDEN_LINKS = {TYPE, _RDFS + "isDefinedBy", PREFIXES["prov"] + "wasDerivedFrom", _SKOS + "inScheme"}


def neighbourhood(graph: Triples, iri: str, width: int = 640) -> Neighbourhood:
    """The entity's neighbours that have pages of their own, claims first, placed around it."""
    relations: dict[str, list[str]] = defaultdict(list)
    direction: dict[str, bool] = {}
    claimed_only: dict[str, bool] = {}

    def add(other: str, predicate: str, outgoing: bool, claimed: bool) -> None:
        if other == iri or not is_local(other) or STATEMENT_CLASS in graph.iris(other, TYPE):
            return
        words = graph.label(predicate)
        if words not in relations[other]:
            relations[other].append(words)
        direction.setdefault(other, outgoing)
        claimed_only[other] = claimed_only.get(other, True) and claimed

    for statement in statements_in(graph):
        subject, predicate = graph.first(statement, SUBJECT), graph.first(statement, PREDICATE)
        obj = graph.first(statement, OBJECT)
        if not (subject and predicate and obj):
            continue
        asserted = NamedNode(obj) in graph.objects(subject, predicate)
        if subject == iri:
            add(obj, predicate, True, not asserted)
        elif obj == iri:
            add(subject, predicate, False, not asserted)
    for predicate, values in graph.out.get(iri, {}).items():
        if predicate not in _HIDDEN_LINKS:
            for value in values:
                if isinstance(value, NamedNode):
                    add(value.value, predicate, True, False)
    for predicate, subjects in graph.into.get(iri, {}).items():
        if predicate not in _HIDDEN_LINKS:
            for subject in subjects:
                add(subject, predicate, False, False)
    chosen = list(relations)[:MAX_NEIGHBOURS]
    # Few neighbours sit beside the entity in a short picture; more go round it, starting at the top.
    height = 130 if len(chosen) <= 2 else 300 if len(chosen) <= 6 else 400
    start = 0.0 if len(chosen) <= 2 else -math.pi / 2
    nodes = []
    radius_x, radius_y = width / 2 - 110, height / 2 - 45
    for index, other in enumerate(chosen):
        angle = start + 2 * math.pi * index / max(len(chosen), 1)
        nodes.append(
            Node(
                link=graph.link(other),
                x=round(width / 2 + radius_x * math.cos(angle), 1),
                y=round(height / 2 + radius_y * math.sin(angle), 1),
                relation="; ".join(relations[other]),
                outgoing=direction[other],
                claimed_only=claimed_only[other],
            )
        )
    return Neighbourhood(graph.link(iri), tuple(nodes), len(relations) - len(chosen), width, height)


# --- the landing page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceCell:
    condition: Link
    status: Link
    claims: int
    sources: int


@dataclass(frozen=True)
class EvidenceMap:
    conditions: tuple[Link, ...]
    statuses: tuple[Link, ...]
    cells: dict[tuple[str, str], EvidenceCell] = field(default_factory=dict)

    def cell(self, condition: Link, status: Link) -> EvidenceCell | None:
        return self.cells.get((condition.iri, status.iri))


def evidence_map(rows: Sequence[dict[str, object]]) -> EvidenceMap:
    """The evidence map from the rows of :func:`evidence_map_query` (terms keyed by variable name)."""
    conditions: dict[str, Link] = {}
    statuses: dict[str, Link] = {}
    cells = {}
    for row in rows:
        condition, status = row.get("condition"), row.get("status")
        if condition is not None:
            conditions[condition.value] = Link(condition.value, row["conditionLabel"].value)
        if status is not None:
            statuses[status.value] = Link(status.value, row["statusLabel"].value)
        if condition is not None and status is not None:
            cells[(condition.value, status.value)] = EvidenceCell(
                conditions[condition.value],
                statuses[status.value],
                int(row["claims"].value),
                int(row["sources"].value),
            )

    def status_order(link: Link) -> tuple[int, str]:
        known = link.iri in EVIDENCE_ORDER
        return (EVIDENCE_ORDER.index(link.iri) if known else len(EVIDENCE_ORDER), link.label)

    return EvidenceMap(
        conditions=tuple(sorted(conditions.values(), key=lambda link: link.label.lower())),
        statuses=tuple(sorted(statuses.values(), key=status_order)),
        cells=cells,
    )


@dataclass(frozen=True)
class DatasetFacts:
    iri: str | None = None
    title: str = "ldn-graph"
    label: str | None = None
    description: str | None = None
    version: str | None = None
    issued: str | None = None
    license: str | None = None
    rights: str | None = None
    triples: int | None = None
    source: Link | None = None


def dataset_facts(rows: Sequence[dict[str, object]]) -> DatasetFacts:
    """The dataset's facts from the rows of :func:`dataset_query`; defaults when the graph has none."""
    if not rows:
        return DatasetFacts()
    row = rows[0]

    def text(name: str) -> str | None:
        term = row.get(name)
        return term.value if term is not None else None

    source = text("source")
    return DatasetFacts(
        iri=text("dataset"),
        title=text("title") or "ldn-graph",
        label=text("label"),
        description=text("description"),
        version=text("version"),
        issued=text("issued"),
        license=text("license"),
        rights=text("rights"),
        triples=int(text("triples")) if text("triples") else None,
        source=Link(source, text("sourceLabel") or source) if source else None,
    )

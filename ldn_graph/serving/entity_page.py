"""What the graph says about one IRI, as plain data for a page.

The description of an entity is its own triples, the triples that point at it, every statement about
it (as subject, object or cited source) with the statement's evidence status, date and sources, and the
labels of everything these link to. It is asked for with one CONSTRUCT query, so that whoever runs the
query (the endpoint's killable engine process) bounds its time like any other query, and the same
triples feed both the RDF answer and the page. The queries are in :mod:`ldn_graph.serving.page_queries`;
functions here turn answered triples into dataclasses, and never touch a web framework.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode, Triple

from ldn_graph.vocab.dataset import SOURCE_ARTICLE
from ldn_graph.vocab.iri_paths import is_local, server_path
from ldn_graph.vocab.prefixes import ONTOLOGY, PREFIXES, shorten
from ldn_graph.vocab.schemes import MAPPING_RELATIONS, split_curie
from ldn_graph.vocab.term_labels import label_of

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
MAPPINGS = {relation.iri: relation.label for relation in MAPPING_RELATIONS.values()}
#: Properties whose values name the thing, best first.
LABELS = (_RDFS + "label", _SKOS + "prefLabel", _SCHEMA + "name", _DCTERMS + "title")
DEFINITIONS = (_SKOS + "definition", _RDFS + "comment", _DCTERMS + "description")
ASSERTS_TRIPLE = ONTOLOGY + "assertsTriple"
UPDATED_BY = ONTOLOGY + "updatedBy"
EDITORIAL_NOTE = _SKOS + "editorialNote"
HEALTH_CONDITION = _SCHEMA + "healthCondition"
PUBLISHED = _SCHEMA + "datePublished"
DERIVED_FROM = PREFIXES["prov"] + "wasDerivedFrom"


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
    published: str | None = None  # schema:datePublished, as the graph gives it


@dataclass(frozen=True)
class Concept:
    """A concept of one of the ontology's schemes, with the one-line explanation it defines."""

    link: Link
    definition: str | None = None
    asserts_triple: bool | None = None  # for evidence statuses: ldngraph:assertsTriple

    @property
    def label(self) -> str:
        return self.link.label

    @property
    def iri(self) -> str:
        return self.link.iri

    @property
    def local(self) -> bool:
        return self.link.local

    @property
    def term(self) -> str:
        """The local name of an ontology concept (e.g. EfficacyNotShown), for styling and anchors."""
        return self.link.iri.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Update:
    """What later evidence says about a claim: the dated summary its statement is updated by."""

    summary: Link
    status: Concept | None
    date: str | None
    sentence: str | None
    condition: Link | None


@dataclass(frozen=True)
class Claim:
    """A statement: the triple it states, the state of its evidence, when, and on which sources."""

    statement: Link
    subject: Link | None
    predicate: Link | None
    object: Value | None
    status: Concept | None
    date: str | None
    sources: tuple[Source, ...]
    citation_needed: Link | None
    supporting_text: str | None
    asserted: bool  # the claim is true as stated: its status asserts the triple (the ontology says which)
    qualifiers: tuple[PropertyValues, ...] = ()
    from_article: bool = False  # prov:wasDerivedFrom the source article
    updates: tuple[Update, ...] = ()
    notes: tuple[str, ...] = ()  # the curators' notes (skos:editorialNote)

    @property
    def sentence(self) -> str:
        """The claim in plain words: the statement's English label, with a capital letter."""
        text = self.statement.label
        return text[:1].upper() + text[1:]

    @property
    def source_date(self) -> str | None:
        """Where the claim has no date of its own, the latest publication date of its sources."""
        dates = [source.published for source in self.sources if source.published]
        return max(dates) if dates else None


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
    truncated: bool = False


class Triples:
    """A small index over answered triples: values by subject and predicate, subjects by object."""

    def __init__(self, triples: Iterable[Triple], unique: bool = False):
        """Index ``triples``; ``unique`` says they hold no repeats, which spares comparing terms."""
        self.out: dict[str, dict[str, list]] = {}
        self.into: dict[str, dict[str, list[str]]] = {}
        self._labels: dict[str, str] = {}  # a page asks for the same labels many times over
        self.types: dict[str, set[str]] = {}
        for triple in triples:
            subject, predicate, obj = triple.subject.value, triple.predicate.value, triple.object
            values = self.out.setdefault(subject, {}).setdefault(predicate, [])
            if not unique and obj in values:
                continue  # the branches of a CONSTRUCT may each yield the same triple
            values.append(obj)
            if isinstance(obj, NamedNode):
                self.into.setdefault(obj.value, {}).setdefault(predicate, []).append(subject)
                if predicate == TYPE:
                    self.types.setdefault(subject, set()).add(obj.value)

    def __contains__(self, iri: str) -> bool:
        return iri in self.out or iri in self.into

    def is_a(self, node: str, kind: str) -> bool:
        return kind in self.types.get(node, ())

    def objects(self, subject: str, predicate: str) -> list:
        return self.out.get(subject, {}).get(predicate, [])

    def iris(self, subject: str, predicate: str) -> list[str]:
        return [o.value for o in self.objects(subject, predicate) if isinstance(o, NamedNode)]

    def first(self, subject: str, predicate: str) -> str | None:
        values = self.objects(subject, predicate)
        return values[0].value if values else None

    def label(self, iri: str) -> str:
        """The English (or untagged, or any) label of ``iri``; its CURIE when it has none."""
        found = self._labels.get(iri)
        if found is None:
            found = self._labels[iri] = self._find_label(iri)
        return found

    def _find_label(self, iri: str) -> str:
        for predicate in LABELS:
            values = [v for v in self.objects(iri, predicate) if isinstance(v, Literal)]
            for wanted in ("en", None):
                for value in values:
                    if value.language == wanted or (wanted is None and not value.language):
                        return value.value
            if values:
                return values[0].value
        words = label_of(iri)
        if words is not None:
            return words
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
    UPDATED_BY,
    _DCTERMS + "identifier",
    EDITORIAL_NOTE,
}
# The same for every statement; a statement's own page lists them, a claim in a list leaves them out.
_PROVENANCE = {PREFIXES["prov"] + "wasDerivedFrom", _BIOLINK + "knowledge_level", _BIOLINK + "agent_type"}


def concept(graph: Triples, iri: str) -> Concept:
    """A concept with its definition and, for an evidence status, whether it asserts the triple."""
    asserts = graph.objects(iri, ASSERTS_TRIPLE)
    return Concept(
        graph.link(iri),
        _definition(graph, iri),
        asserts[0].value == "true" if asserts else None,
    )


def source(graph: Triples, iri: str) -> Source:
    """A publication or registry record with its DOI, PubMed or web page and its date."""
    external = [graph.link(target) for target in graph.iris(iri, MAPPING_RELATIONS["exact"].iri)]
    external += [Link(target, "web page") for target in graph.iris(iri, URL)]
    return Source(
        graph.link(iri), tuple(_external_label(link) for link in external), graph.first(iri, PUBLISHED)
    )


def sources_of(graph: Triples, node: str) -> tuple[Source, ...]:
    """The sources ``node`` cites as evidence."""
    return tuple(source(graph, iri) for iri in sorted(graph.iris(node, CITES), key=graph.label))


def update(graph: Triples, summary: str) -> Update:
    status = graph.first(summary, EVIDENCE_STATUS)
    condition = graph.first(summary, HEALTH_CONDITION)
    return Update(
        summary=graph.link(summary),
        status=concept(graph, status) if status else None,
        date=graph.first(summary, DATE),
        sentence=_definition(graph, summary),
        condition=graph.link(condition) if condition else None,
    )


def parse_claim(graph: Triples, statement: str) -> Claim:
    """The claim ``statement`` makes, read from ``graph``."""
    subject = graph.first(statement, SUBJECT)
    predicate = graph.first(statement, PREDICATE)
    objects = graph.objects(statement, OBJECT)
    status = graph.first(statement, EVIDENCE_STATUS)
    dates = graph.objects(statement, DATE)
    texts = graph.objects(statement, SUPPORTING_TEXT)
    flag = graph.first(statement, CITATION_NEEDED)
    status_concept = concept(graph, status) if status else None
    asserted = (
        status_concept.asserts_triple
        if status_concept is not None and status_concept.asserts_triple is not None
        # A status the ontology says nothing about: the graph itself tells whether the triple holds.
        else bool(subject and predicate and objects and objects[0] in graph.objects(subject, predicate))
    )
    return Claim(
        statement=graph.link(statement),
        subject=graph.link(subject) if subject else None,
        predicate=graph.link(predicate) if predicate else None,
        object=graph.value(objects[0]) if objects else None,
        status=status_concept,
        date=dates[0].value if dates else None,
        sources=sources_of(graph, statement),
        citation_needed=graph.link(flag) if flag else None,
        supporting_text=texts[0].value if texts else None,
        asserted=asserted,
        qualifiers=_properties(graph, statement, skip=_CLAIM_FIELDS | set(LABELS) | _PROVENANCE),
        from_article=SOURCE_ARTICLE in graph.iris(statement, DERIVED_FROM),
        updates=tuple(
            update(graph, summary) for summary in sorted(graph.iris(statement, UPDATED_BY), key=graph.label)
        ),
        notes=tuple(note.value for note in graph.objects(statement, EDITORIAL_NOTE)),
    )


def _external_label(link: Link) -> Link:
    """The words for an external IRI: an identifier as its scheme writes it (MONDO:0005546, doi:…)."""
    short = shorten(link.iri)
    if short.startswith("obo:") and "_" in short:
        return Link(link.iri, short.removeprefix("obo:").replace("_", ":", 1))
    if short.startswith(("mesh:", "chembl:", "uniprot:", "pubchem:", "wd:")):
        prefix, _, local = short.partition(":")
        words = {
            "mesh": "MESH",
            "chembl": "ChEMBL",
            "uniprot": "UniProtKB",
            "pubchem": "PubChem",
            "wd": "Wikidata",
        }
        return Link(link.iri, f"{words[prefix]}:{local}")
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
    found = [s for s in graph.out if graph.is_a(s, STATEMENT_CLASS)]
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


def entity_page(iri: str, triples: Iterable[Triple] | Triples, truncated: bool = False) -> EntityPage | None:
    """The page data for ``iri`` from its description (:func:`description_query`); None if it has none.

    The description holds exactly the statements a page about ``iri`` shows (those about it, citing it,
    or, for a condition, about its studies), so every statement in it is one of the page's claims.
    """
    graph = triples if isinstance(triples, Triples) else Triples(triples)
    if not graph.out.get(iri) and not graph.into.get(iri):
        return None
    statements = [s for s in statements_in(graph) if s != iri]
    skip = {TYPE, IDENTIFIER, *MAPPINGS, *LABELS[:1], *DEFINITIONS[:1]}
    if graph.is_a(iri, STATEMENT_CLASS):
        statements.insert(0, iri)
        # Its claim card shows everything but the provenance every statement shares.
        skip |= set(graph.out[iri]) - _PROVENANCE
    referenced = []
    for predicate, subjects in graph.into.get(iri, {}).items():
        if predicate in _SHOWN_AS_CLAIMS:
            continue
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
        truncated=truncated,
    )


# In-links a page shows in its own sections: as claims, or as the studies and summaries of a condition.
_SHOWN_AS_CLAIMS = {SUBJECT, OBJECT, CITES, ONTOLOGY + "inCondition", ONTOLOGY + "conclusionOf"}


def _type_order(link: Link) -> tuple[int, str]:
    # Our own classes first: they carry labels and definitions; the standard types follow.
    return (0 if link.local else 1, link.label.lower())


# --- the landing page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceCell:
    """The article's claims about one condition that have one evidence status."""

    condition: Link
    status: Concept
    claims: int
    sources: int


@dataclass(frozen=True)
class Standing:
    """What the studies show now about a condition: its latest evidence summary, in brief."""

    summary: Link
    status: Concept
    date: str | None
    certainty: Concept | None
    rated_by: Link | None


@dataclass(frozen=True)
class EvidenceRow:
    condition: Link
    standing: Standing | None
    cells: tuple[EvidenceCell, ...]


@dataclass(frozen=True)
class EvidenceMap:
    rows: tuple[EvidenceRow, ...]
    statuses: tuple[Concept, ...]  # every status in use, for the key

    @property
    def conditions(self) -> tuple[Link, ...]:
        return tuple(row.condition for row in self.rows)

    def cell(self, condition: Link, status: Concept | Link) -> EvidenceCell | None:
        for row in self.rows:
            if row.condition.iri == condition.iri:
                return next((c for c in row.cells if c.status.iri == status.iri), None)
        return None


def _status_order(status: Concept) -> tuple[int, str]:
    # Claims the graph states as fact first (the ontology's assertsTriple), the others after.
    return (0 if status.asserts_triple else 1, status.label.lower())


def evidence_map(rows: Sequence[dict[str, object]]) -> EvidenceMap:
    """The evidence map from the rows of :func:`evidence_map_query` (terms keyed by variable name)."""

    def text(row: dict[str, object], name: str) -> str | None:
        term = row.get(name)
        return term.value if term is not None else None

    concepts: dict[str, Concept] = {}
    for row in rows:
        if row.get("concept") is not None:
            asserts = text(row, "asserts")
            concepts[text(row, "concept")] = Concept(
                Link(text(row, "concept"), text(row, "conceptLabel")),
                text(row, "definition"),
                None if asserts is None else asserts == "true",
            )

    def concept_of(iri: str) -> Concept:
        return concepts.get(iri) or Concept(Link(iri, shorten(iri)))

    conditions: dict[str, Link] = {}
    cells: dict[str, list[EvidenceCell]] = defaultdict(list)
    standing: dict[str, Standing] = {}
    for row in rows:
        condition = text(row, "condition")
        if condition is not None and row.get("conditionLabel") is not None:
            conditions[condition] = Link(condition, text(row, "conditionLabel"))
    for row in rows:
        condition = text(row, "condition")
        if condition not in conditions:
            continue
        if row.get("status") is not None:
            cells[condition].append(
                EvidenceCell(
                    conditions[condition],
                    concept_of(text(row, "status")),
                    int(text(row, "claims")),
                    int(text(row, "sources")),
                )
            )
        if row.get("summary") is not None:
            date = text(row, "summaryDate")
            if condition in standing and (standing[condition].date or "") >= (date or ""):
                continue  # an older summary: the map shows the latest
            certainty = text(row, "certainty")
            rated_by = text(row, "ratedBy")
            standing[condition] = Standing(
                Link(text(row, "summary"), "evidence summary"),
                concept_of(text(row, "summaryStatus")),
                date,
                concept_of(certainty) if certainty else None,
                Link(rated_by, text(row, "ratedByLabel") or rated_by) if rated_by else None,
            )
    used = {cell.status.iri: cell.status for found in cells.values() for cell in found}
    used |= {s.status.iri: s.status for s in standing.values()}
    return EvidenceMap(
        rows=tuple(
            EvidenceRow(
                link,
                standing.get(iri),
                tuple(sorted(cells.get(iri, []), key=lambda c: _status_order(c.status))),
            )
            for iri, link in sorted(conditions.items(), key=lambda item: item[1].label.lower())
        ),
        statuses=tuple(sorted(used.values(), key=_status_order)),
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

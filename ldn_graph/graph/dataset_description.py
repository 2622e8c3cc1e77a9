"""The dataset's description of itself (VoID + DCAT), generated from the graph, never written by hand.

The counts describe the release graph exactly as published and served, the description included, so
that ``void:triples`` equals the endpoint's own ``COUNT(*)`` over its default graph. The description
counts itself by iterating to a fixed point: counting it adds nodes (class partitions of
``void:Dataset``…), after which only the numbers change, never the number of triples.

The release's files are described apart (``describe_distributions``), in ``void.ttl`` and at
``/.well-known/void``: a dump cannot hold its own size and checksum.

The description follows DCAT-AP 3.0 (checked against its SHACL shapes in ``tests/dcat-ap/``): agents,
licence, theme, media types and checksum algorithm are typed nodes, not strings. What DCAT-AP needs to
know about other vocabularies' terms (that the licence is a ``dct:LicenseDocument``, the theme a
``skos:Concept``…) is added where the description is published on its own (``with_term_facts``), not
to the graph, which types only its own nodes.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, XSD

from ldn_graph.errors import LdnGraphError
from ldn_graph.graph.namespaces import (
    DCAT,
    FOAF,
    LDN,
    MAPPING_PREDICATES,
    PROV,
    SOURCE_ARTICLE,
    SPDX,
    VCARD,
    VOID,
    bind_prefixes,
)
from ldn_graph.graph.store_graph import StoreGraph
from ldn_graph.vocab import dataset
from ldn_graph.vocab.dataset import CONTRIBUTORS_NAME, KEYWORDS
from ldn_graph.vocab.prefixes import BASE, ID, PREFIXES, shorten
from ldn_graph.vocab.schemes import SCHEMES, Scheme, scheme_of_iri

DATASET = URIRef(dataset.DATASET)
LICENSE = URIRef(dataset.LICENSE)
SPARQL_ENDPOINT = URIRef("https://w3id.org/ldngraph/sparql")
EXAMPLE_RESOURCES = ("naltrexone", "low-dose-naltrexone", "statement/ldn-efficacy-long-covid")
DESCRIPTION_SPACE = dataset.DATASET  # the dataset node and every node of its description lie under this
DOWNLOADS = "https://w3id.org/ldngraph/downloads/"
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
HOME = URIRef(BASE)  # the dataset's home: the server's landing page (docs/w3id.md)
CONTRIBUTORS = URIRef(f"{DESCRIPTION_SPACE}/contributors")  # creator and publisher
CONTACT_POINT = URIRef(f"{DESCRIPTION_SPACE}/contact-point")
EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
HEALTH_THEME = URIRef(dataset.HEALTH_THEME)
#: Media type -> the code of the same format in the EU file-type table, which gives each code's media
#: type (checked in its version 20171213-0; see docs/releases.md). A format that version lacks
#: (Markdown) is named by its media type.
FILE_TYPES = {
    "text/turtle": "RDF_TURTLE",
    "application/n-triples": "RDF_N_TRIPLES",
    "application/ld+json": "JSON_LD",
    "text/tab-separated-values": "TSV",
}
_MOST_ROUNDS = 8
_MAPPING_PREDICATES = tuple(MAPPING_PREDICATES.values())
_IS_MAPPING = frozenset(_MAPPING_PREDICATES)  # asked of every triple counted


def linkset_iri(scheme: Scheme) -> URIRef:
    return LDN[f"dataset/linkset/{scheme.key}"]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


@dataclass
class _Census:
    """What VoID counts, gathered one triple at a time so that the description's own triples can be
    added to a copy without counting the whole graph again. Subjects are kept as their text, and a copy
    shares the graph's (hundreds of thousands) with the original, keeping only the ones added to it;
    how many of those shared are entities is counted once, not by every copy."""

    triples: int = 0
    counted: frozenset = frozenset()  # subjects of the graph counted first, shared by every copy
    subjects: set = field(default_factory=set)  # the others
    predicates: set = field(default_factory=set)
    typings: Counter = field(default_factory=Counter)  # class -> instances
    links: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    counted_entities: int = 0  # how many of ``counted`` are entities

    def add(self, triples: Iterable[tuple]) -> _Census:
        for subject, predicate, obj in triples:
            self.triples += 1
            if str(subject) not in self.counted:
                self.subjects.add(str(subject))
            self.predicates.add(predicate)
            if predicate == _TYPE:
                self.typings[obj] += 1
            elif predicate in _IS_MAPPING:
                scheme = scheme_of_iri(str(obj))
                if scheme is not None:
                    self.links[scheme.key][predicate] += 1
        return self

    def copy(self) -> _Census:
        links = defaultdict(Counter, {key: Counter(counts) for key, counts in self.links.items()})
        counted, entities = self.counted, self.counted_entities
        if self.subjects:
            counted, entities = counted | self.subjects, entities + _entities_among(self.subjects)
        copied = _Census(self.triples, counted, set(), set(self.predicates), Counter(self.typings), links)
        copied.counted_entities = entities
        return copied

    @property
    def distinct_subjects(self) -> int:
        return len(self.counted) + len(self.subjects)

    @property
    def entities(self) -> int:
        return self.counted_entities + _entities_among(self.subjects)

    @property
    def vocabularies(self) -> list[str]:
        used = set().union(*map(_namespaces_of, self.predicates | set(self.typings)))
        return sorted(used - {PREFIXES["ldn"], PREFIXES["ldns"]})


@functools.lru_cache(maxsize=4096)
def _namespaces_of(term: URIRef) -> frozenset[str]:
    """The namespaces of the prefix map that ``term`` lies in (asked of the same terms every round)."""
    return frozenset(ns for ns in PREFIXES.values() if str(term).startswith(ns))


def _entities_among(subjects: Iterable[str]) -> int:
    return sum(1 for s in subjects if s.startswith(ID))


def _census_of(graph: Graph | StoreGraph) -> _Census:
    """What VoID counts in ``graph``; asked of the store itself for a graph held in one (a pass in Python
    over 10^6 triples took a minute)."""
    if not isinstance(graph, StoreGraph):
        return _Census().add(graph).copy()  # every subject counted, for copies to share
    store, term = graph.store, graph.term
    census = _Census(triples=len(graph))
    census.counted = frozenset(row["s"].value for row in store.query("SELECT DISTINCT ?s WHERE { ?s ?p ?o }"))
    census.counted_entities = _entities_among(census.counted)
    census.predicates = {term(row["p"]) for row in store.query("SELECT DISTINCT ?p WHERE { ?s ?p ?o }")}
    typings = f"SELECT ?c (COUNT(*) AS ?n) WHERE {{ ?s <{RDF.type}> ?c }} GROUP BY ?c"
    for row in store.query(typings):
        census.typings[term(row["c"])] = int(row["n"].value)
    mappings = " ".join(f"<{predicate}>" for predicate in _MAPPING_PREDICATES)
    links = f"SELECT ?p ?o (COUNT(*) AS ?n) WHERE {{ VALUES ?p {{ {mappings} }} ?s ?p ?o }} GROUP BY ?p ?o"
    for row in store.query(links):
        scheme = scheme_of_iri(row["o"].value)
        if scheme is not None:
            census.links[scheme.key][term(row["p"])] += int(row["n"].value)
    return census


def describe_dataset(graph: Graph | StoreGraph, version: str, issued: dt.date) -> None:
    """Add the VoID/DCAT description of ``graph`` to ``graph`` itself, counting the description too.

    The rounds compare plain sets of triples: the part no count changes is made once, and whether a
    triple of the description is in the graph already is asked once (of a store, each question converts
    its terms)."""
    base = _census_of(graph)
    fixed = _fixed_description(version, issued)
    held: dict[tuple, bool] = {}

    def new(triple: tuple) -> bool:
        found = held.get(triple)
        if found is None:
            found = held[triple] = triple in graph
        return not found

    description: list[tuple] = []
    for _ in range(_MOST_ROUNDS):
        census = base.copy().add(filter(new, description))
        revised = [*fixed, *_counted_description(census)]
        if set(revised) == set(description):
            break
        description = revised
    else:  # each round after the second changes numbers only; not settling means a bug here
        raise LdnGraphError(f"the dataset description did not settle in {_MOST_ROUNDS} rounds")
    graph.addN((*triple, graph) for triple in dict.fromkeys(description))


# The terms the description is made of, made once: each access to a namespace's attribute makes and
# checks a new IRI, which took most of the time of describing the graph.
_TYPE, _LABEL = RDF.type, RDFS.label
_INTEGER = XSD.integer
_VOID_DATASET, _VOID_LINKSET = VOID.Dataset, VOID.Linkset
_VOID_TRIPLES, _VOID_ENTITIES = VOID.triples, VOID.entities
_VOID_DISTINCT_SUBJECTS, _VOID_PROPERTIES, _VOID_CLASSES = (
    VOID.distinctSubjects,
    VOID.properties,
    VOID.classes,
)
_VOID_VOCABULARY, _VOID_CLASS_PARTITION, _VOID_CLASS = VOID.vocabulary, VOID.classPartition, VOID["class"]
_VOID_SUBSET, _VOID_LINK_PREDICATE, _VOID_URI_SPACE = VOID.subset, VOID.linkPredicate, VOID.uriSpace
_VOID_SUBJECTS_TARGET, _VOID_OBJECTS_TARGET = VOID.subjectsTarget, VOID.objectsTarget


def _fixed_description(version: str, issued: dt.date) -> list[tuple]:
    """The triples of the description that no count changes."""
    d = DATASET
    triples = [
        (d, _TYPE, _VOID_DATASET),
        (d, _TYPE, DCAT.Dataset),
        (d, _LABEL, Literal("ldn-graph: a knowledge graph of low-dose naltrexone", lang="en")),
        (d, DCTERMS.title, Literal("ldn-graph", lang="en")),
        (
            d,
            DCTERMS.description,
            Literal(
                "Claims about low-dose naltrexone — its drug, metabolite, receptors, mechanisms, conditions, studies, "
                "doses and regulatory status — each as a statement with its evidence status and sources, derived "
                "from the WikiProjectMed article 'Low-dose naltrexone' and the references it cites.",
                lang="en",
            ),
        ),
        (d, DCTERMS.license, LICENSE),
        (
            d,
            DCTERMS.rights,
            Literal(
                "CC BY-SA 4.0. Attribution: ldn-graph, derived from the WikiProjectMed article "
                "'Low-dose naltrexone' (CC BY-SA).",
                lang="en",
            ),
        ),
        (d, DCTERMS.creator, CONTRIBUTORS),
        (d, DCTERMS.publisher, CONTRIBUTORS),
        (CONTRIBUTORS, _TYPE, FOAF.Agent),
        (CONTRIBUTORS, _LABEL, Literal(CONTRIBUTORS_NAME, lang="en")),
        (CONTRIBUTORS, FOAF.name, Literal(CONTRIBUTORS_NAME)),
        # No e-mail address is published; the home page is where the project is reached.
        (d, DCAT.contactPoint, CONTACT_POINT),
        (CONTACT_POINT, _TYPE, VCARD.Kind),
        (CONTACT_POINT, _LABEL, Literal("ldn-graph contact point", lang="en")),
        (CONTACT_POINT, VCARD.fn, Literal(CONTRIBUTORS_NAME)),
        (CONTACT_POINT, VCARD.hasURL, HOME),
        # The article is not a dataset, so not a dct:source in DCAT-AP's sense: the graph is derived from
        # it, as each of its statements is.
        (d, PROV.wasDerivedFrom, SOURCE_ARTICLE),
    ]
    keyword = DCAT.keyword
    triples += [(d, keyword, Literal(word, lang="en")) for word in KEYWORDS]
    triples += [
        (d, DCAT.theme, HEALTH_THEME),
        (d, DCTERMS.issued, Literal(issued.isoformat(), datatype=XSD.date)),
        (d, OWL.versionInfo, Literal(version)),
        (d, DCAT.version, Literal(version)),
        (d, _VOID_URI_SPACE, Literal(ID)),
        (d, VOID.sparqlEndpoint, SPARQL_ENDPOINT),
    ]
    example = VOID.exampleResource
    triples += [(d, example, LDN[name]) for name in EXAMPLE_RESOURCES]
    return triples


def _integer(count: int) -> Literal:
    return Literal(count, datatype=_INTEGER)


def _counted_description(census: _Census) -> list[tuple]:
    """The triples of the description that follow from ``census``."""
    d = DATASET
    triples = [
        (d, _VOID_TRIPLES, _integer(census.triples)),
        (d, _VOID_ENTITIES, _integer(census.entities)),
        (d, _VOID_DISTINCT_SUBJECTS, _integer(census.distinct_subjects)),
        (d, _VOID_PROPERTIES, _integer(len(census.predicates))),
        (d, _VOID_CLASSES, _integer(len(census.typings))),
    ]
    triples += [(d, _VOID_VOCABULARY, URIRef(namespace)) for namespace in census.vocabularies]
    for cls, count in sorted(census.typings.items()):
        partition, label = _class_partition(cls)
        triples += [
            (d, _VOID_CLASS_PARTITION, partition),
            (partition, _TYPE, _VOID_DATASET),
            (partition, _LABEL, label),
            (partition, _VOID_CLASS, cls),
            (partition, _VOID_ENTITIES, _integer(count)),
        ]
    for key, by_predicate in sorted(census.links.items()):
        linkset, facts = _linkset(key)
        triples += [
            (d, _VOID_SUBSET, linkset),
            *facts,
            (linkset, _VOID_TRIPLES, _integer(sum(by_predicate.values()))),
        ]
        triples += [(linkset, _VOID_LINK_PREDICATE, predicate) for predicate in sorted(by_predicate)]
    return triples


@functools.lru_cache(maxsize=1024)
def _class_partition(cls: URIRef) -> tuple[URIRef, Literal]:
    """The partition of a class's instances, and its label."""
    short = shorten(str(cls))
    return LDN[f"dataset/class/{_slug(short)}"], Literal(f"instances of {short}", lang="en")


@functools.cache
def _linkset(key: str) -> tuple[URIRef, tuple[tuple, ...]]:
    """The linkset of the mappings to a scheme, and the triples about it and the scheme's dataset that
    no count changes."""
    scheme = SCHEMES[key]
    linkset = linkset_iri(scheme)
    target = LDN[f"dataset/external/{key}"]
    facts = (
        (linkset, _TYPE, _VOID_LINKSET),
        (linkset, _LABEL, Literal(f"mappings to {scheme.label}", lang="en")),
        (linkset, _VOID_SUBJECTS_TARGET, DATASET),
        (linkset, _VOID_OBJECTS_TARGET, target),
        (target, _TYPE, _VOID_DATASET),
        (target, _LABEL, Literal(scheme.label, lang="en")),
        (target, _VOID_URI_SPACE, Literal(scheme.iri_template.split("{id}")[0])),
    )
    return linkset, facts


def in_description(node) -> bool:
    """True for the dataset node and every node of its description (partitions, linksets, files)."""
    return isinstance(node, URIRef) and (node == DATASET or str(node).startswith(f"{DATASET}/"))


def description_of(graph: Graph | StoreGraph) -> Graph:
    """The dataset's description held in ``graph`` (every triple about a node of the description), with
    the facts about other vocabularies' terms that it uses (``with_term_facts``)."""
    description = bind_prefixes(Graph())
    if isinstance(graph, StoreGraph):  # the store picks them out, instead of a pass in Python
        about = f'FILTER(?s = <{DATASET}> || STRSTARTS(STR(?s), "{DATASET}/"))'
        rows = graph.store.query(f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o {about} }}")
        triples = ((graph.term(row["s"]), graph.term(row["p"]), graph.term(row["o"])) for row in rows)
    else:
        triples = (triple for triple in graph if in_description(triple[0]))
    for triple in triples:
        description.add(triple)
    return with_term_facts(description)


def term_facts(description: Graph) -> Graph:
    """The facts about each other vocabulary's term that ``description`` refers to, and about the terms
    those facts refer to (a concept's scheme): :data:`ldn_graph.vocab.dataset.TERM_FACTS`."""
    facts = Graph()
    objects = {str(obj) for obj in description.objects() if isinstance(obj, URIRef)}
    for subject, predicate, obj in dataset.term_facts_about(objects):
        value = Literal(obj, lang="en") if isinstance(obj, dataset.EnglishText) else URIRef(obj)
        facts.add((URIRef(subject), URIRef(predicate), value))
    return facts


def with_term_facts(description: Graph) -> Graph:
    """``description`` with :func:`term_facts` added to it; returns ``description``."""
    description += term_facts(description)
    return description


class DescribedFile(Protocol):
    """What the description says about one file of a release (``release.ReleaseFile`` is one)."""

    name: str
    role: str  # "graph" for a dump of the whole dataset; else ontology, shapes, mappings, ...
    title: str
    media_type: str  # of the content, e.g. text/turtle also for the gzipped Turtle
    compressed: bool
    sha256: str
    size: int


def download_url(version: str, name: str) -> URIRef:
    """The persistent download IRI of a release's file; servers map ``/downloads/`` onto it."""
    return URIRef(f"{DOWNLOADS}{version}/{name}")


def distribution_iri(version: str, name: str) -> URIRef:
    return URIRef(f"{DATASET}/distribution/{version}/{name}")


def file_format(media_type: str) -> URIRef:
    """The ``dct:format`` of a file: its EU file-type code, else its media type."""
    code = FILE_TYPES.get(media_type)
    return URIRef(f"{EU_AUTHORITY}file-type/{code}") if code else URIRef(IANA_MEDIA_TYPES + media_type)


def describe_distributions(version: str, issued: dt.date, files: Sequence[DescribedFile]) -> Graph:
    """DCAT distributions of a release's files: format, media type, issue date, byte size, SHA-256 and
    download URL; VoID data dumps for the files that hold the whole graph."""
    graph = bind_prefixes(Graph())
    add = graph.add
    access = URIRef(f"{DOWNLOADS}{version}/")

    def typed(term: URIRef, *classes: URIRef) -> URIRef:
        for cls in classes:
            add((term, RDF.type, cls))
        return term

    for described in sorted(files, key=lambda f: f.name):
        distribution = distribution_iri(version, described.name)
        url = download_url(version, described.name)
        checksum = URIRef(f"{distribution}/sha256")
        media_type = URIRef(IANA_MEDIA_TYPES + described.media_type)
        add((DATASET, DCAT.distribution, distribution))
        add((distribution, RDF.type, DCAT.Distribution))
        add((distribution, DCTERMS.title, Literal(described.title, lang="en")))
        add((distribution, DCTERMS.license, LICENSE))
        add((distribution, DCTERMS.issued, Literal(issued.isoformat(), datatype=XSD.date)))
        # DCAT-AP's shapes check each URL's class (rdfs:Resource), which no reasoner is there to infer.
        add((distribution, DCAT.downloadURL, typed(url, RDFS.Resource)))
        add((distribution, DCAT.accessURL, typed(access, RDFS.Resource)))
        add((distribution, DCAT.mediaType, typed(media_type, DCTERMS.MediaType)))
        add(
            (
                distribution,
                DCTERMS["format"],
                typed(file_format(described.media_type), DCTERMS.MediaTypeOrExtent),
            )
        )
        if described.compressed:
            gzip = typed(URIRef(IANA_MEDIA_TYPES + "application/gzip"), DCTERMS.MediaType)
            add((distribution, DCAT.compressFormat, gzip))
        add((distribution, DCAT.byteSize, Literal(described.size, datatype=XSD.nonNegativeInteger)))
        add((distribution, SPDX.checksum, checksum))
        add((checksum, RDF.type, SPDX.Checksum))
        add((checksum, SPDX.algorithm, URIRef(dataset.SHA256)))
        add((checksum, SPDX.checksumValue, Literal(described.sha256, datatype=XSD.hexBinary)))
        if described.role == "graph":
            add((DATASET, VOID.dataDump, url))
    return with_term_facts(graph)

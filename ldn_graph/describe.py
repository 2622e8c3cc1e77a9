"""The dataset's description of itself (VoID + DCAT), generated from the graph, never written by hand.

Counts describe the graph as built before the description is added (the description cannot count
itself without changing the count); ``void:triples`` of the whole release graph is therefore the
stated number plus the description's own triples, which the docs say.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD

from ldn_graph.prefixes import DCAT, ID, LDN, PREFIXES, SCHEMES, VOID, Scheme, shorten

DATASET = URIRef(ID + "dataset")
SOURCE_ARTICLE = URIRef(ID + "source-article")
LICENSE = URIRef("https://creativecommons.org/licenses/by-sa/4.0/")
SPARQL_ENDPOINT = URIRef("https://w3id.org/ldngraph/sparql")
EXAMPLE_RESOURCES = ("naltrexone", "low-dose-naltrexone", "statement/ldn-efficacy-long-covid")
MAPPING_PREDICATES = (SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch)


def scheme_of_iri(iri: str) -> Scheme | None:
    """The identifier scheme whose canonical IRI template produced ``iri``, if any."""
    for scheme in SCHEMES.values():
        if scheme.iri_template and iri.startswith(scheme.iri_template.split("{id}")[0]):
            return scheme
    return None


def linkset_iri(scheme: Scheme) -> URIRef:
    return LDN[f"dataset/linkset/{scheme.key}"]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


def describe_dataset(graph: Graph, version: str, issued: dt.date) -> None:
    """Add the VoID/DCAT description of ``graph`` to ``graph`` itself."""
    triples = len(graph)
    subjects = set(graph.subjects())
    entities = {s for s in subjects if isinstance(s, URIRef) and str(s).startswith(ID)}
    classes = Counter(o for o in graph.objects(None, RDF.type))
    predicates = {p for p in graph.predicates()}
    vocabularies = sorted(
        {ns for term in predicates | set(classes) for ns in PREFIXES.values() if str(term).startswith(ns)}
        - {PREFIXES["ldn"], PREFIXES["ldns"]}
    )
    links: dict[str, Counter] = defaultdict(Counter)
    for predicate in MAPPING_PREDICATES:
        for _, target in graph.subject_objects(predicate):
            scheme = scheme_of_iri(str(target))
            if scheme is not None:
                links[scheme.key][predicate] += 1

    d = DATASET
    add = graph.add
    add((d, RDF.type, VOID.Dataset))
    add((d, RDF.type, DCAT.Dataset))
    add((d, RDFS.label, Literal("ldn-graph: a knowledge graph of low-dose naltrexone", lang="en")))
    add((d, DCTERMS.title, Literal("ldn-graph", lang="en")))
    add(
        (
            d,
            DCTERMS.description,
            Literal(
                "Claims about low-dose naltrexone — its drug, metabolite, receptors, mechanisms, conditions, studies, "
                "doses and regulatory status — each as a statement with its evidence status and sources, derived "
                "from the WikiProjectMed article 'Low-dose naltrexone' and the references it cites.",
                lang="en",
            ),
        )
    )
    add((d, DCTERMS.license, LICENSE))
    add(
        (
            d,
            DCTERMS.rights,
            Literal(
                "CC BY-SA 4.0. Attribution: ldn-graph, derived from the WikiProjectMed article "
                "'Low-dose naltrexone' (CC BY-SA).",
                lang="en",
            ),
        )
    )
    add((d, DCTERMS.creator, Literal("ldn-graph contributors", lang="en")))
    add((d, DCTERMS.source, SOURCE_ARTICLE))
    add((d, DCTERMS.issued, Literal(issued.isoformat(), datatype=XSD.date)))
    add((d, OWL.versionInfo, Literal(version)))
    add((d, DCAT.version, Literal(version)))
    add((d, VOID.uriSpace, Literal(ID)))
    add((d, VOID.sparqlEndpoint, SPARQL_ENDPOINT))
    add((d, VOID.triples, Literal(triples, datatype=XSD.integer)))
    add((d, VOID.entities, Literal(len(entities), datatype=XSD.integer)))
    add((d, VOID.distinctSubjects, Literal(len(subjects), datatype=XSD.integer)))
    add((d, VOID.properties, Literal(len(predicates), datatype=XSD.integer)))
    add((d, VOID.classes, Literal(len(classes), datatype=XSD.integer)))
    for namespace in vocabularies:
        add((d, VOID.vocabulary, URIRef(namespace)))
    for name in EXAMPLE_RESOURCES:
        add((d, VOID.exampleResource, LDN[name]))

    for cls, count in sorted(classes.items()):
        partition = LDN[f"dataset/class/{_slug(shorten(str(cls)))}"]
        add((d, VOID.classPartition, partition))
        add((partition, RDF.type, VOID.Dataset))
        add((partition, RDFS.label, Literal(f"instances of {shorten(str(cls))}", lang="en")))
        add((partition, VOID["class"], cls))
        add((partition, VOID.entities, Literal(count, datatype=XSD.integer)))

    for key, by_predicate in sorted(links.items()):
        scheme = SCHEMES[key]
        linkset = linkset_iri(scheme)
        target = LDN[f"dataset/external/{key}"]
        add((d, VOID.subset, linkset))
        add((linkset, RDF.type, VOID.Linkset))
        add((linkset, RDFS.label, Literal(f"mappings to {scheme.label}", lang="en")))
        add((linkset, VOID.subjectsTarget, d))
        add((linkset, VOID.objectsTarget, target))
        add((linkset, VOID.triples, Literal(sum(by_predicate.values()), datatype=XSD.integer)))
        for predicate in sorted(by_predicate):
            add((linkset, VOID.linkPredicate, predicate))
        add((target, RDF.type, VOID.Dataset))
        add((target, RDFS.label, Literal(scheme.label, lang="en")))
        add((target, VOID.uriSpace, Literal(scheme.iri_template.split("{id}")[0])))

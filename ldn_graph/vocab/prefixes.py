"""The one prefix map of the project, and the IRIs of our own namespaces.

Every Turtle file, SPARQL query, page and export takes its prefixes from here, so that the IRIs other
graphs link to never drift. Plain strings only, so that every layer can import it: the pipeline's rdflib
namespaces are made from these in :mod:`ldn_graph.graph.namespaces`.
"""

from __future__ import annotations

import re

BASE = "https://w3id.org/ldngraph/"
ID = BASE + "id/"
STATEMENT = ID + "statement/"
ONTOLOGY = BASE + "ontology/"
ONTOLOGY_IRI = BASE + "ontology"

#: prefix -> namespace IRI. Order is the order in which headers are written.
PREFIXES: dict[str, str] = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "schema": "https://schema.org/",
    "biolink": "https://w3id.org/biolink/vocab/",
    "obo": "http://purl.obolibrary.org/obo/",
    "cito": "http://purl.org/spar/cito/",
    "prov": "http://www.w3.org/ns/prov#",
    "unit": "http://qudt.org/vocab/unit/",
    "sh": "http://www.w3.org/ns/shacl#",
    "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "spdx": "http://spdx.org/rdf/terms#",
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "wd": "http://www.wikidata.org/entity/",
    "wdt": "http://www.wikidata.org/prop/direct/",
    "mesh": "http://id.nlm.nih.gov/mesh/",
    "uniprot": "http://purl.uniprot.org/uniprot/",
    "pubchem": "http://rdf.ncbi.nlm.nih.gov/pubchem/compound/",
    "chembl": "http://rdf.ebi.ac.uk/resource/chembl/molecule/",
    "ldngraph": ONTOLOGY,
    "ldn": ID,
    "ldns": STATEMENT,
}


def turtle_header() -> str:
    return "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in PREFIXES.items())


def sparql_header() -> str:
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())


def shorten(iri: str) -> str:
    """The shortest ``prefix:local`` form of an IRI under the prefix map, or the IRI in angle brackets."""
    best = ""
    best_prefix = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(best):
            best, best_prefix = ns, prefix
    local = iri[len(best) :]
    if best and re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_\-.]*", local or "_") and not local.endswith("."):
        return f"{best_prefix}:{local}"
    return f"<{iri}>"


def is_entity(iri: str) -> bool:
    """Whether ``iri`` names one of our entities: under ``ldn:``, and not a statement (``ldns:``)."""
    return iri.startswith(ID) and not iri.startswith(STATEMENT)

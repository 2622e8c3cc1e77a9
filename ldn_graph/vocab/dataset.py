"""Facts about the dataset itself that the description, the exports and the pages all state."""

from __future__ import annotations

from ldn_graph.vocab.prefixes import ID, PREFIXES

#: The dataset's own IRI; every node of its VoID/DCAT description lies under it.
DATASET = ID + "dataset"
#: The data derive from a CC BY-SA article, so they are released under CC BY-SA 4.0 (LICENSE-DATA.md).
LICENSE = "https://creativecommons.org/licenses/by-sa/4.0/"
LICENSE_TITLE = "Creative Commons Attribution-ShareAlike 4.0 International"
#: The creator and publisher, as the package metadata names its authors.
CONTRIBUTORS_NAME = "ldn-graph contributors"
KEYWORDS = ("low-dose naltrexone", "naltrexone", "knowledge graph", "evidence", "linked data")
#: The article every statement of the article layer is prov:wasDerivedFrom.
SOURCE_ARTICLE = ID + "source-article"

_RDF_TYPE = PREFIXES["rdf"] + "type"
_SKOS = PREFIXES["skos"]
_EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
DATA_THEMES = _EU_AUTHORITY + "data-theme"
HEALTH_THEME = _EU_AUTHORITY + "data-theme/HEAL"
SHA256 = PREFIXES["spdx"] + "checksumAlgorithm_sha256"

#: What DCAT-AP's range shapes need to know about the terms of other vocabularies that the description
#: uses as values: their classes, and the labels their own vocabularies give them. (subject, predicate,
#: object), the object an IRI or an English text.
TermFact = tuple[str, str, "str | EnglishText"]


class EnglishText(str):
    """A literal with the language tag ``en``."""


TERM_FACTS: tuple[TermFact, ...] = (
    (LICENSE, _RDF_TYPE, PREFIXES["dcterms"] + "LicenseDocument"),
    (LICENSE, PREFIXES["rdfs"] + "label", EnglishText(LICENSE_TITLE)),
    (HEALTH_THEME, _RDF_TYPE, _SKOS + "Concept"),
    (HEALTH_THEME, _SKOS + "prefLabel", EnglishText("Health")),
    (HEALTH_THEME, _SKOS + "inScheme", DATA_THEMES),
    (DATA_THEMES, _RDF_TYPE, _SKOS + "ConceptScheme"),
    (DATA_THEMES, PREFIXES["dcterms"] + "title", EnglishText("Data theme Named Authority List")),
    (SHA256, _RDF_TYPE, PREFIXES["spdx"] + "ChecksumAlgorithm"),
)


def term_facts_about(objects: set[str]) -> list[TermFact]:
    """The facts about each term of ``objects`` (the IRIs a description refers to), and about the terms
    those facts refer to (a concept's scheme)."""
    facts, pending, seen = [], set(objects), set()
    while pending:
        term = pending.pop()
        seen.add(term)
        for fact in TERM_FACTS:
            if fact[0] == term:
                facts.append(fact)
                if not isinstance(fact[2], EnglishText) and fact[2] not in seen:
                    pending.add(fact[2])
    return facts

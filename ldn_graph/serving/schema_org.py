"""schema.org JSON-LD for pages, as dataset search engines and crawlers read it.

Built from the same page data the HTML shows, so the embedded JSON-LD states the same facts: a
``Dataset`` with its licence, version and downloads on the landing page, a ``MedicalStudy`` (or
``MedicalTrial``, ``MedicalObservationalStudy``) on a study's page. The context is schema.org's own
(``https://schema.org``), as those readers expect; the RDF twins keep the graph's IRIs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ldn_graph.serving.entity_page import DatasetFacts, Link
from ldn_graph.serving.evidence_page import Study
from ldn_graph.vocab.dataset import CONTRIBUTORS_NAME, KEYWORDS, LICENSE
from ldn_graph.vocab.prefixes import ONTOLOGY

CONTEXT = "https://schema.org"
_STUDY_TYPES = {
    ONTOLOGY + "ClinicalTrial": "MedicalTrial",
    ONTOLOGY + "ObservationalStudy": "MedicalObservationalStudy",
}


def _thing(link: Link, kind: str, href: Callable[[Link], str]) -> dict[str, Any]:
    return {"@type": kind, "@id": link.iri, "name": link.label, "url": href(link)}


def dataset(facts: DatasetFacts, site, files: Iterable = (), release=None) -> dict[str, Any]:
    """A schema.org Dataset for the landing page: what the graph is, its licence and its downloads."""
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "Dataset",
        "name": facts.label or facts.title,
        "description": facts.description
        or "Claims about low-dose naltrexone, each with its evidence status and sources, as linked data.",
        "url": site.url("/"),
        "license": facts.license or LICENSE,
        "isAccessibleForFree": True,
        "creator": {"@type": "Organization", "name": CONTRIBUTORS_NAME},
        "keywords": list(KEYWORDS),
    }
    if facts.iri:
        document["@id"] = facts.iri
        document["sameAs"] = site.href(facts.iri)
    if facts.version:
        document["version"] = facts.version
    if facts.issued:
        document["datePublished"] = facts.issued
    if facts.source:
        document["isBasedOn"] = {"@type": "Article", "name": facts.source.label, "url": facts.source.iri}
    distributions = [
        {
            "@type": "DataDownload",
            "name": f.title,
            "contentUrl": site.url(f"/downloads/{release.version}/{f.name}"),
            "encodingFormat": f.http_media_type,
            "contentSize": f"{f.size} B",
        }
        for f in files
    ]
    if distributions:
        document["distribution"] = distributions
    return document


def medical_study(study: Study, href: Callable[[Link], str]) -> dict[str, Any]:
    """A schema.org MedicalStudy for a study's page."""
    kind = _STUDY_TYPES.get(study.kind.iri, "MedicalStudy") if study.kind else "MedicalStudy"
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": kind,
        "@id": study.link.iri,
        "name": study.link.label,
        "url": href(study.link),
    }
    if study.condition:
        document["healthCondition"] = _thing(study.condition, "MedicalCondition", href)
    if study.therapy:
        document["studySubject"] = _thing(study.therapy, "MedicalTherapy", href)
    if study.design:
        document["studyDesign"] = study.design.label
    if study.status:
        document["status"] = study.status
    if study.population:
        document["population"] = study.population
    if study.started:
        document["startDate"] = study.started
    if study.ended:
        document["endDate"] = study.ended
    if study.registry_numbers:
        document["identifier"] = [i.curie for i in study.registry_numbers]
    if study.publications:
        document["subjectOf"] = [
            {
                "@type": "CreativeWork",
                "@id": p.link.iri,
                "name": p.link.label,
                "url": p.external[0].iri if p.external else href(p.link),
                **({"datePublished": p.published} if p.published else {}),
            }
            for p in study.publications
        ]
    return document

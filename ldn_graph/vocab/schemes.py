"""The table of external identifier schemes, and the SKOS relations that map our entities to them.

The scheme table says, for each external identifier scheme, how an identifier is written as a CURIE
(Biolink prefix casing), which IRI denotes the thing itself (if any), which web page shows it, which
Wikidata property stores it and how Wikidata writes its value. Plain data: every layer may read it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ldn_graph.vocab.prefixes import PREFIXES, shorten


def _identity(value: str) -> str:
    return value


@dataclass(frozen=True)
class Scheme:
    """One external identifier scheme.

    ``key`` is the scheme name used in ``identifiers.tsv``; ``curie_prefix`` is the Biolink casing used in
    ``dcterms:identifier`` literals; ``iri_template`` (``{id}`` for the local part) is set only where an
    IRI denotes the thing itself and may be the object of a SKOS mapping; ``page_template`` is the
    provider's web page (``schema:url``); ``wikidata_property`` is the external-identifier property and
    ``to_wikidata`` turns our local part into the value Wikidata stores.
    """

    key: str
    curie_prefix: str
    pattern: str
    label: str
    iri_template: str | None = None
    page_template: str | None = None
    wikidata_property: str | None = None
    to_wikidata: Callable[[str], str] = _identity

    def matches(self, local_id: str) -> bool:
        return re.fullmatch(self.pattern, local_id) is not None

    def curie(self, local_id: str) -> str:
        return f"{self.curie_prefix}:{local_id}"

    def iri(self, local_id: str) -> str | None:
        return self.iri_template.format(id=local_id) if self.iri_template else None

    def page(self, local_id: str) -> str | None:
        return self.page_template.format(id=local_id) if self.page_template else None


def _strip_pmc(value: str) -> str:
    # Wikidata's P932 stores the PMCID without its "PMC" letters.
    return value.removeprefix("PMC")


SCHEMES: dict[str, Scheme] = {
    s.key: s
    for s in [
        Scheme(
            "chebi",
            "CHEBI",
            r"\d+",
            "ChEBI",
            "http://purl.obolibrary.org/obo/CHEBI_{id}",
            "http://purl.obolibrary.org/obo/CHEBI_{id}",
            "P683",
        ),
        Scheme(
            "drugbank", "DRUGBANK", r"DB\d{5}", "DrugBank", None, "https://go.drugbank.com/drugs/{id}", "P715"
        ),
        Scheme(
            "pubchem.compound",
            "PUBCHEM.COMPOUND",
            r"\d+",
            "PubChem Compound",
            "http://rdf.ncbi.nlm.nih.gov/pubchem/compound/CID{id}",
            "https://pubchem.ncbi.nlm.nih.gov/compound/{id}",
            "P662",
        ),
        Scheme(
            "chembl.compound",
            "CHEMBL.COMPOUND",
            r"CHEMBL\d+",
            "ChEMBL",
            "http://rdf.ebi.ac.uk/resource/chembl/molecule/{id}",
            "https://www.ebi.ac.uk/chembl/compound/inspect/{id}",
            "P592",
        ),
        Scheme(
            "mesh",
            "MESH",
            r"[CDQ]\d+",
            "MeSH",
            "http://id.nlm.nih.gov/mesh/{id}",
            "https://meshb.nlm.nih.gov/record/ui?ui={id}",
            "P486",
        ),
        Scheme(
            "unii",
            "UNII",
            r"[A-Z0-9]+",
            "UNII",
            None,
            "https://precision.fda.gov/uniisearch/srs/unii/{id}",
            "P652",
        ),
        Scheme("inchikey", "INCHIKEY", r"[A-Z]{14}-[A-Z]{10}(-[A-Z])?", "InChIKey", None, None, "P235"),
        Scheme("cas", "CAS", r"\d{1,7}-\d{2}-\d", "CAS Registry Number", None, None, "P231"),
        Scheme(
            "atc",
            "ATC",
            r"[A-Z](\d+([A-Z]{1,2}(\d+)?)?)?",
            "ATC",
            None,
            "http://www.whocc.no/atc_ddd_index/?code={id}",
            "P267",
        ),
        Scheme(
            "iuphar.ligand",
            "IUPHAR.LIGAND",
            r"\d+",
            "IUPHAR/BPS Guide to Pharmacology ligand",
            None,
            None,
            "P595",
        ),
        Scheme("chemspider", "CHEMSPIDER", r"\d+", "ChemSpider", None, None, "P661"),
        Scheme(
            "uniprot",
            "UniProtKB",
            r"[OPQ][0-9][A-Z0-9]{3}[0-9]|[A-NR-Z][0-9]([A-Z][A-Z0-9]{2}[0-9]){1,2}",
            "UniProtKB",
            "http://purl.uniprot.org/uniprot/{id}",
            "https://www.uniprot.org/uniprotkb/{id}/entry",
            "P352",
        ),
        Scheme("hgnc", "HGNC", r"\d{1,5}", "HGNC", None, None, "P354"),
        Scheme(
            "ncbigene",
            "NCBIGene",
            r"\d+",
            "NCBI Gene",
            None,
            "https://www.ncbi.nlm.nih.gov/gene/{id}",
            "P351",
        ),
        Scheme("ensembl", "ENSEMBL", r"ENSG\d{11}", "Ensembl gene", None, None, "P594"),
        Scheme(
            "mondo",
            "MONDO",
            r"\d{7}",
            "MONDO",
            "http://purl.obolibrary.org/obo/MONDO_{id}",
            None,
            "P5270",
            lambda v: f"MONDO:{v}",
        ),
        Scheme(
            "doid",
            "DOID",
            r"\d+",
            "Disease Ontology",
            "http://purl.obolibrary.org/obo/DOID_{id}",
            None,
            "P699",
            lambda v: f"DOID:{v}",
        ),
        Scheme(
            "hp",
            "HP",
            r"\d{7}",
            "Human Phenotype Ontology",
            "http://purl.obolibrary.org/obo/HP_{id}",
            None,
            "P3841",
            lambda v: f"HP:{v}",
        ),
        Scheme(
            "go",
            "GO",
            r"\d{7}",
            "Gene Ontology",
            "http://purl.obolibrary.org/obo/GO_{id}",
            None,
            "P686",
            lambda v: f"GO:{v}",
        ),
        Scheme(
            "cl",
            "CL",
            r"\d{7}",
            "Cell Ontology",
            "http://purl.obolibrary.org/obo/CL_{id}",
            None,
            "P7963",
            lambda v: f"CL:{v}",
        ),
        Scheme(
            "ncit",
            "NCIT",
            r"(C|R|P|A|NHC)\d+",
            "NCI Thesaurus",
            "http://purl.obolibrary.org/obo/NCIT_{id}",
            None,
            "P1748",
        ),
        Scheme(
            "efo",
            "EFO",
            r"\d{7}",
            "Experimental Factor Ontology",
            "http://www.ebi.ac.uk/efo/EFO_{id}",
            None,
            "P11956",
        ),
        Scheme("umls", "UMLS", r"C\d+", "UMLS", None, None, "P2892"),
        Scheme("icd10cm", "ICD10CM", r"[A-Z]\d{2}(\.[A-Z0-9]{1,4})?", "ICD-10-CM", None, None, None),
        # No trailing slash: a CURIE prefix expands by concatenation only, so with one the SSSOM set's
        # PMID CURIEs could not expand to the graph's IRIs (PubMed answers both forms).
        Scheme("pmid", "PMID", r"\d+", "PubMed", "https://pubmed.ncbi.nlm.nih.gov/{id}", None, "P698"),
        Scheme(
            "pmc",
            "PMC",
            r"PMC\d+",
            "PubMed Central",
            None,
            "https://www.ncbi.nlm.nih.gov/pmc/articles/{id}/",
            "P932",
            _strip_pmc,
        ),
        Scheme(
            "doi",
            "doi",
            r"10\.\d{4,9}/[^\sA-Z]+",
            "DOI",
            "https://doi.org/{id}",
            None,
            "P356",
            lambda v: v.upper(),
        ),
        Scheme(
            "clinicaltrials",
            "CLINICALTRIALS",
            r"NCT\d{8}",
            "ClinicalTrials.gov",
            None,
            "https://clinicaltrials.gov/study/{id}",
            "P3098",
        ),
        Scheme(
            "euclinicaltrials",
            "EUCLINICALTRIALS",
            r"\d{4}-\d{6}-\d{2}",
            "EU Clinical Trials Register",
            None,
            "https://www.clinicaltrialsregister.eu/ctr-search/search?query={id}",
            "P9306",
        ),
        Scheme(
            "anzctr",
            "ANZCTR",
            r"ACTRN\d{14}",
            "Australian New Zealand Clinical Trials Registry",
            None,
            None,
            None,
        ),
        Scheme(
            "ctri", "CTRI", r"CTRI/\d{4}/\d{2,3}/\d{6}", "Clinical Trials Registry - India", None, None, None
        ),
        Scheme(
            "stato",
            "STATO",
            r"\d{7}",
            "Statistics Ontology",
            "http://purl.obolibrary.org/obo/STATO_{id}",
            "http://purl.obolibrary.org/obo/STATO_{id}",
            None,
        ),
        Scheme(
            "obi",
            "OBI",
            r"\d{7}",
            "Ontology for Biomedical Investigations",
            "http://purl.obolibrary.org/obo/OBI_{id}",
            "http://purl.obolibrary.org/obo/OBI_{id}",
            None,
        ),
        Scheme("s2cid", "S2CID", r"\d+", "Semantic Scholar corpus", None, None, None),
        Scheme("issn", "ISSN", r"\d{4}-\d{3}[\dX]", "ISSN", None, None, None),
        Scheme(
            "wikidata",
            "WIKIDATA",
            r"Q\d+",
            "Wikidata",
            "http://www.wikidata.org/entity/{id}",
            "https://www.wikidata.org/wiki/{id}",
            None,
        ),
        Scheme("iso3166", "ISO3166", r"[A-Z]{2}", "ISO 3166-1 alpha-2", None, None, None),
    ]
}

#: CURIE prefix (as written in ``dcterms:identifier``) -> scheme
SCHEMES_BY_CURIE_PREFIX: dict[str, Scheme] = {s.curie_prefix: s for s in SCHEMES.values()}


@dataclass(frozen=True)
class MappingRelation:
    """A SKOS mapping relation an entity may have to an external IRI: the reference table's ``mapping``
    column names it by ``key``."""

    key: str  # exact, close, broad
    iri: str
    label: str  # as a page shows it beside the external IRI

    @property
    def curie(self) -> str:
        return shorten(self.iri)


_SKOS = PREFIXES["skos"]
#: The one table of mapping relations: key of the reference table -> relation, strongest first.
MAPPING_RELATIONS: dict[str, MappingRelation] = {
    relation.key: relation
    for relation in (
        MappingRelation("exact", _SKOS + "exactMatch", "exact match"),
        MappingRelation("close", _SKOS + "closeMatch", "close match"),
        MappingRelation("broad", _SKOS + "broadMatch", "broad match"),
    )
}


def split_curie(curie: str) -> tuple[Scheme, str]:
    """Return the scheme and local part of an identifier CURIE; ``ValueError`` if either is wrong."""
    prefix, sep, local = curie.partition(":")
    if not sep or prefix not in SCHEMES_BY_CURIE_PREFIX:
        raise ValueError(f"{curie!r} does not start with a known identifier prefix")
    scheme = SCHEMES_BY_CURIE_PREFIX[prefix]
    if not scheme.matches(local):
        raise ValueError(f"{curie!r}: {local!r} does not match the {scheme.label} pattern {scheme.pattern}")
    return scheme, local


def scheme_of_iri(iri: str) -> Scheme | None:
    """The identifier scheme whose canonical IRI template produced ``iri``, if any."""
    for scheme in SCHEMES.values():
        if scheme.iri_template and iri.startswith(scheme.iri_template.split("{id}")[0]):
            return scheme
    return None

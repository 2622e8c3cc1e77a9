"""The SPARQL a page asks: an entity's description, the evidence map, the claims, the dataset, search.

The description of an entity is asked for with one CONSTRUCT query, so that whoever runs the query (the
endpoint's killable engine process) bounds its time like any other query, and the same triples feed both
the RDF answer and the page (:mod:`ldn_graph.serving.entity_page`). Only query text is built here.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyoxigraph import Literal, NamedNode

from ldn_graph.vocab.prefixes import PREFIXES


def _sparql_iri(iri: str) -> str:
    # NamedNode checks the IRI, so nothing but an IRI can reach the query text.
    return str(NamedNode(iri))


def _fill(template: str, **iris: str) -> str:
    text = template
    for name, iri in iris.items():
        text = text.replace(f"${name}", _sparql_iri(iri))
    return text


_PREFIXES = "".join(
    f"PREFIX {p}: <{PREFIXES[p]}>\n"
    for p in ("rdf", "rdfs", "skos", "dcterms", "schema", "cito", "biolink", "ldngraph")
)


# What a page about ``$this`` rests on: the nodes whose triples it shows. Each branch is guarded by the
# type of ``$this`` (a condition gathers its studies, their arms, results and publications, and its
# evidence summaries; a study its own; a publication the facts quoted from it), so one query serves
# every IRI and its RDF twins carry the same facts as its page. Nodes are gathered in a DISTINCT
# subquery first, which Oxigraph answers far faster than the same patterns joined in place.
def about_condition(condition: str) -> str:
    """SPARQL that binds ``?st`` to the statements about ``condition`` (a variable or an IRI): those
    naming it as subject, object or the condition of the patients, and those about its studies. The
    condition page, the evidence map and the claim lists all count claims by this one pattern."""
    return f"""{{ ?st rdf:subject|rdf:object|ldngraph:inCondition {condition} }}
    UNION {{ ?study schema:healthCondition {condition} ; a ldngraph:Study .
             ?st rdf:subject|ldngraph:conclusionOf|ldngraph:aboutStudy ?study }}"""


_NODES = f"""
  {{ BIND ($this AS ?x) }}
  UNION {{ $this cito:citesAsEvidence|ldngraph:updatedBy|ldngraph:certaintyRatedBy ?x }}
  UNION {{ $this a ldngraph:Condition . ?x schema:healthCondition $this }}
  UNION {{
    {{ $this a ldngraph:Study BIND ($this AS ?study) }}
    UNION {{ $this a ldngraph:Condition . ?study schema:healthCondition $this ; a ldngraph:Study }}
    {{ ?study ldngraph:hasArm|biolink:has_study_results|schema:subjectOf|cito:citesAsEvidence ?x }}
    UNION {{ ?x ldngraph:reportedBy ?study }}
    UNION {{ ?study ldngraph:hasArm/ldngraph:duration ?x }}
    UNION {{ ?study (ldngraph:hasArm|biolink:has_study_results)/cito:citesAsEvidence ?x }}
  }}
  UNION {{ $this a ldngraph:Publication . ?x cito:citesAsEvidence|schema:subjectOf $this }}
  UNION {{
    {{ ?st rdf:subject|rdf:object|cito:citesAsEvidence|ldngraph:conclusionOf|ldngraph:aboutStudy $this }}
    UNION {{ $this a ldngraph:Condition . {about_condition("$this")} }}
    ?st a rdf:Statement .
    {{ ?st a rdf:Statement BIND (?st AS ?x) }} UNION {{ ?st cito:citesAsEvidence|ldngraph:updatedBy ?x }}
  }}"""


def _construct(nodes: str, inbound: bool) -> str:
    """The triples of every node ``nodes`` binds to ``?x`` (and of ``$this``'s in-links, if asked),
    with the labels, definitions and dates of everything they name."""
    into = "UNION { ?in ?ip $this }" if inbound else ""
    named_into = "UNION { ?n ?ip $this } UNION { ?i ?n $this }" if inbound else ""
    return (
        _PREFIXES
        + f"""CONSTRUCT {{
  ?x ?p ?o .
  {"?in ?ip $this ." if inbound else ""}
  ?n rdfs:label ?label .
  ?n skos:prefLabel ?prefLabel .
  ?n skos:definition ?definition .
  ?n ldngraph:assertsTriple ?asserts .
  ?n schema:datePublished ?published .
}} WHERE {{
  {{ {{ SELECT DISTINCT ?x WHERE {{ {nodes} }} }} ?x ?p ?o }}
  {into}
  UNION {{
    {{ SELECT DISTINCT ?n WHERE {{
      {{ {{ SELECT DISTINCT ?x WHERE {{ {nodes} }} }} {{ ?x ?n ?o }} UNION {{ ?x ?p ?n FILTER (isIRI(?n)) }} }}
      {named_into}
    }} }}
    {{ ?n rdfs:label ?label }}
    UNION {{ ?n skos:prefLabel ?prefLabel }}
    UNION {{ ?n a skos:Concept ; skos:definition ?definition }}
    UNION {{ ?n ldngraph:assertsTriple ?asserts }}
    UNION {{ ?n schema:datePublished ?published }}
  }}
}}"""
    )


_NODES_QUERY = _PREFIXES + "SELECT DISTINCT ?x WHERE {" + _NODES + "\n}"


def nodes_query(iri: str) -> str:
    """A SELECT query for the nodes whose triples the page of ``iri`` shows (variable ``x``)."""
    return _fill(_NODES_QUERY, this=iri)


def description_query(iri: str, nodes: Iterable[str] = ()) -> str:
    """A CONSTRUCT query for the description of ``iri``: the triples of ``nodes`` (the answer to
    :func:`nodes_query`), the triples pointing at ``iri``, and the labels of all they name.

    Asked in two steps because Oxigraph answers the node set and then its triples by VALUES some
    fifteen times faster than the same patterns in one query (3 ms against 80 ms for a condition).
    """
    values = " ".join(_sparql_iri(node) for node in dict.fromkeys([iri, *_in_order(nodes)]))
    return _fill(_construct(f"VALUES ?x {{ {values} }}", inbound=True), this=iri)


def _in_order(nodes: Iterable[str]) -> list[str]:
    """``nodes`` sorted: each store answers the node query in its own order, and the query built from
    them is shown on pages and keys the result cache, so it must read the same whichever answered."""
    return sorted(set(nodes))


def exists_query(iri: str) -> str:
    """A SELECT query with one row when the graph holds ``iri`` (as subject or object), none otherwise."""
    return _fill(
        "SELECT ?found WHERE { { $this ?p ?o } UNION { ?s ?p $this } BIND (true AS ?found) } LIMIT 1",
        this=iri,
    )


_EVIDENCE_MAP = (
    _PREFIXES
    + f"""SELECT ?condition ?conditionLabel ?status ?claims ?sources ?summary ?summaryStatus ?summaryDate
       ?certainty ?ratedBy ?ratedByLabel ?concept ?conceptLabel ?definition ?asserts
WHERE {{
  {{ ?condition a ldngraph:Condition ; rdfs:label ?conditionLabel }}
  UNION {{
    SELECT ?condition ?status (COUNT(DISTINCT ?st) AS ?claims) (COUNT(DISTINCT ?source) AS ?sources) WHERE {{
      ?condition a ldngraph:Condition .
      {about_condition("?condition")}
      ?st a rdf:Statement ; ldngraph:evidenceStatus ?status .
      OPTIONAL {{ ?st cito:citesAsEvidence ?source }}
    }} GROUP BY ?condition ?status
  }}
  UNION {{
    ?summary a ldngraph:EvidenceSummary ; schema:healthCondition ?condition ;
             ldngraph:evidenceStatus ?summaryStatus .
    OPTIONAL {{ ?summary dcterms:date ?summaryDate }}
    OPTIONAL {{ ?summary ldngraph:certainty ?certainty }}
    OPTIONAL {{ ?summary ldngraph:certaintyRatedBy ?ratedBy . ?ratedBy rdfs:label ?ratedByLabel }}
  }}
  UNION {{
    VALUES ?scheme {{ ldngraph:EvidenceStatusScheme ldngraph:CertaintyScheme }}
    ?concept skos:inScheme ?scheme ; skos:prefLabel ?conceptLabel .
    OPTIONAL {{ ?concept skos:definition ?definition }}
    OPTIONAL {{ ?concept ldngraph:assertsTriple ?asserts }}
  }}
}}"""
)


def evidence_map_query() -> str:
    """A SELECT query for the evidence map, in rows of four kinds (the others' variables unbound):
    each condition; each condition and evidence status of the article's claims about it, with the
    numbers of claims and sources; each evidence summary of a condition; each concept of the status
    and certainty schemes, with its label, definition and whether it asserts the triple."""
    return _EVIDENCE_MAP


# The statements matching the filters, their sources and the summaries that update them.
_EVIDENCE_CLAIMS_NODES = (
    _PREFIXES
    + """SELECT DISTINCT ?x WHERE {
  ?st a rdf:Statement ; ldngraph:evidenceStatus ?status . $filters
  { ?st a rdf:Statement BIND (?st AS ?x) } UNION { ?st cito:citesAsEvidence|ldngraph:updatedBy ?x }
}"""
)


def evidence_claims_nodes_query(condition: str | None = None, status: str | None = None) -> str:
    """A SELECT query for the statements about ``condition`` with evidence ``status`` (either may be
    None), their sources and the summaries that update them (variable ``x``)."""
    filters = []
    if condition is not None:
        filters.append(about_condition(_sparql_iri(condition)))
    if status is not None:
        filters.append(f"?st ldngraph:evidenceStatus {_sparql_iri(status)} .")
    return _EVIDENCE_CLAIMS_NODES.replace("$filters", " ".join(filters))


def evidence_claims_query(nodes: Iterable[str]) -> str:
    """A CONSTRUCT query for the claims among ``nodes`` (the answer to
    :func:`evidence_claims_nodes_query`) with their sources and labels."""
    values = " ".join(_sparql_iri(node) for node in _in_order(nodes))
    return _construct(f"VALUES ?x {{ {values} }}", inbound=False)


_DATASET = (
    _PREFIXES
    + """PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX void: <http://rdfs.org/ns/void#>
PREFIX prov: <http://www.w3.org/ns/prov#>
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
  OPTIONAL { ?dataset prov:wasDerivedFrom ?source . OPTIONAL { ?source rdfs:label ?sourceLabel } }
}
LIMIT 1"""
)


def dataset_query() -> str:
    """A SELECT query for the facts the landing page states about the dataset (one row at most)."""
    return _DATASET


# Each entity once, named by the first of its matching names in order (the same on every store, where
# SAMPLE would leave it to each); sorted outside the grouping, since Virtuoso sorts by no aggregate's name.
_SEARCH = (
    _PREFIXES
    + """SELECT ?entity ?label WHERE {
  {
    SELECT ?entity (MIN(STR(?name)) AS ?label) WHERE {
      VALUES ?lp { rdfs:label skos:prefLabel skos:altLabel dcterms:identifier }
      ?entity ?lp ?name .
      FILTER (isIRI(?entity) && CONTAINS(LCASE(STR(?name)), LCASE($text)))
    }
    GROUP BY ?entity
  }
}
ORDER BY STRLEN(?label) ?label ?entity
LIMIT 50"""
)


def search_query(text: str) -> str:
    """A SELECT query for IRIs whose label, alternative label or identifier contains ``text``."""
    # pyoxigraph writes the literal with the escapes SPARQL reads, so the text cannot leave its string.
    return _SEARCH.replace("$text", str(Literal(text)))


# --- from triples to page data -------------------------------------------------------------------

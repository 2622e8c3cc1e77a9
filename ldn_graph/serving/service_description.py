"""The SPARQL 1.1 Service Description of the endpoint, as RDF triples.

It names the public endpoint URL, the query language, the result and RDF formats the endpoint writes,
and the default dataset: the default graph (the release) with its VoID statistics, each named graph
the server holds, and a link to the full VoID/DCAT description at ``/.well-known/void``. Nodes are IRIs
under the endpoint URL, never blank nodes, like everything else we publish.
"""

from __future__ import annotations

from pyoxigraph import Literal, NamedNode, Store, Triple

from ldn_graph.serving.protocol import RDF_FORMATS, RESULT_FORMATS
from ldn_graph.vocab.prefixes import PREFIXES

_SD = PREFIXES["sd"]
_VOID = PREFIXES["void"]
_RDF_TYPE = NamedNode(PREFIXES["rdf"] + "type")
_SEE_ALSO = NamedNode(PREFIXES["rdfs"] + "seeAlso")
_XSD_INTEGER = NamedNode(PREFIXES["xsd"] + "integer")
_SIMPLE_ENTAILMENT = NamedNode("http://www.w3.org/ns/entailment/Simple")

# VoID statistics of the default graph, each one aggregate over it.
_DEFAULT_GRAPH_STATISTICS = {
    "triples": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "distinctSubjects": "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o }",
    "properties": "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?s ?p ?o }",
    "distinctObjects": "SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s ?p ?o }",
    "classes": "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?s a ?c }",
}


def _count(store: Store, query: str, **dataset) -> int:
    (solution,) = list(store.query(query, **dataset))
    return int(solution["n"].value)


def _sd(name: str) -> NamedNode:
    return NamedNode(_SD + name)


def _number(value: int) -> Literal:
    return Literal(str(value), datatype=_XSD_INTEGER)


def describe_service(
    store: Store, endpoint_url: str, void_url: str, limits: str | None = None
) -> list[Triple]:
    """The service description of an endpoint at ``endpoint_url`` answering from ``store``; ``limits``
    (the endpoint's time, row and fair-use limits in English) becomes the service's ``rdfs:comment``."""
    service = NamedNode(endpoint_url)
    dataset = NamedNode(endpoint_url + "#dataset")
    default_graph = NamedNode(endpoint_url + "#default-graph")
    triples = [
        Triple(service, _RDF_TYPE, _sd("Service")),
        Triple(service, _sd("endpoint"), service),
        Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        Triple(service, _sd("defaultEntailmentRegime"), _SIMPLE_ENTAILMENT),
        Triple(service, _sd("defaultDataset"), dataset),
    ]
    if limits:
        triples.append(
            Triple(service, NamedNode(PREFIXES["rdfs"] + "comment"), Literal(limits, language="en"))
        )
    triples += [
        Triple(service, _sd("resultFormat"), NamedNode(media_format.format_iri))
        for media_format in (*RESULT_FORMATS, *RDF_FORMATS)
        if media_format.format_iri
    ]
    triples += [
        Triple(dataset, _RDF_TYPE, _sd("Dataset")),
        Triple(dataset, _sd("defaultGraph"), default_graph),
        Triple(dataset, _SEE_ALSO, NamedNode(void_url)),
        Triple(default_graph, _RDF_TYPE, _sd("Graph")),
    ]
    triples += [
        Triple(default_graph, NamedNode(_VOID + name), _number(_count(store, query)))
        for name, query in _DEFAULT_GRAPH_STATISTICS.items()
    ]
    graph_names = sorted(store.named_graphs(), key=lambda graph: graph.value)
    for number, name in enumerate(graph_names, start=1):
        named_graph = NamedNode(f"{endpoint_url}#named-graph-{number}")
        graph = NamedNode(f"{endpoint_url}#graph-{number}")
        triples += [
            Triple(dataset, _sd("namedGraph"), named_graph),
            Triple(named_graph, _RDF_TYPE, _sd("NamedGraph")),
            Triple(named_graph, _sd("name"), name),
            Triple(named_graph, _sd("graph"), graph),
            Triple(graph, _RDF_TYPE, _sd("Graph")),
            Triple(
                graph,
                NamedNode(_VOID + "triples"),
                _number(_count(store, _DEFAULT_GRAPH_STATISTICS["triples"], default_graph=[name])),
            ),
        ]
    return triples

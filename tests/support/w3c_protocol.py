"""The W3C SPARQL 1.1 Protocol and Service Description tests, read from their manifests, run against
whichever server the importing test folder's ``endpoint_url`` fixture names (with the W3C graphs added
by ``--data``): the embedded store (tests/endpoint) and a remote one (tests/remote).

Read-only tests must pass as written. Our endpoint is read-only, so each update test passes when every
update request in it is refused with a 4xx and the queries that follow find nothing it would have written.
"""

from __future__ import annotations

import http.client
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from pyoxigraph import QueryResultsFormat, RdfFormat, parse, parse_query_results, serialize
from rdflib import Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF

from support.paths import W3C

# What a test module collects when it imports the suite with ``from support.w3c_protocol import *``.
__all__ = [
    "test_protocol",
    "test_sd_conforms_to_schema",
    "test_sd_has_endpoint_triple",
    "test_sd_returns_rdf",
    "test_the_manifest_is_read_whole",
]

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
STATUS_CLASS = "http://www.w3.org/2011/http-statusCodes#StatusCode"
FORMATS = "http://www.w3.org/ns/formats/"
ENTAILMENT = "http://www.w3.org/ns/entailment/"

RESULT_TYPES = {
    "application/sparql-results+json": QueryResultsFormat.JSON,
    "application/sparql-results+xml": QueryResultsFormat.XML,
    "text/csv": QueryResultsFormat.CSV,
    "text/tab-separated-values": QueryResultsFormat.TSV,
}
BOOLEAN_TYPES = ("application/sparql-results+json", "application/sparql-results+xml")
RDF_TYPES = ("text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json")


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    statuses: frozenset[int]  # the acceptable status classes: 2, 3, 4
    expected_format: str | None
    expected_boolean: bool | None

    @property
    def is_update(self) -> bool:
        content_type = dict((name.lower(), value) for name, value in self.headers).get("content-type", "")
        body = (self.body or b"").decode("utf-8", "replace")
        return (
            "sparql-update" in content_type
            or body.startswith("update=")
            or any(word in self.path for word in ("?update=", "using-graph-uri", "using-named-graph-uri"))
        )


def _protocol_tests() -> list:
    graph = Graph().parse(W3C / "protocol" / "manifest.ttl", format="turtle")
    manifest = next(graph.subjects(RDF.type, MF.Manifest))
    cases = []
    for test in Collection(graph, graph.value(manifest, MF.entries)):
        action = graph.value(test, MF.action)
        exchanges = []
        for request in Collection(graph, graph.value(action, HT.requests)):
            headers = []
            header_list = graph.value(request, HT.headers)
            if header_list is not None:
                headers = [
                    (str(graph.value(h, HT.fieldName)), str(graph.value(h, HT.fieldValue)))
                    for h in Collection(graph, header_list)
                ]
            body = None
            body_node = graph.value(request, HT.body)
            if body_node is not None:
                encoding = str(graph.value(body_node, CNT.characterEncoding) or "UTF-8")
                body = str(graph.value(body_node, CNT.chars)).encode(encoding)
            response = graph.value(request, HT.resp)
            boolean = graph.value(response, MF.expectedBoolean)
            fmt = graph.value(response, MF.expectedFormat)
            exchanges.append(
                Exchange(
                    method=str(graph.value(request, HT.methodName)),
                    # Manifest paths are written for an endpoint at /sparql/; ours is /sparql.
                    path="/sparql" + str(graph.value(request, HT.absolutePath)).removeprefix("/sparql/"),
                    headers=tuple(headers),
                    body=body,
                    statuses=frozenset(
                        int(str(status).removeprefix(STATUS_CLASS)[0])
                        for status in graph.objects(response, MF.expectedStatus)
                    ),
                    expected_format=None if fmt is None else str(fmt),
                    expected_boolean=None if boolean is None else boolean.toPython(),
                )
            )
        name = str(test).rpartition("#")[2]
        cases.append(pytest.param(exchanges, id=name))
    return cases


PROTOCOL_TESTS = _protocol_tests()


def _send(endpoint_url: str, exchange: Exchange) -> tuple[int, str, bytes]:
    url = urlsplit(endpoint_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        # http.client adds no Content-Type of its own, so "missing media type" tests stay missing.
        connection.request(exchange.method, exchange.path, body=exchange.body, headers=dict(exchange.headers))
        response = connection.getresponse()
        content_type = (response.getheader("Content-Type") or "").partition(";")[0].strip()
        return response.status, content_type, response.read()
    finally:
        connection.close()


def _check_format(exchange: Exchange, content_type: str, body: bytes) -> bool | None:
    """Check the body is in a format of the expected kind; returns the boolean of an ASK answer."""
    if exchange.expected_format == "boolean":
        assert content_type in BOOLEAN_TYPES, content_type
        return bool(parse_query_results(body, format=RESULT_TYPES[content_type]))
    if exchange.expected_format == "tabular":
        assert content_type in RESULT_TYPES, content_type
        if content_type in BOOLEAN_TYPES:
            assert parse_query_results(body, format=RESULT_TYPES[content_type]).variables is not None
    elif exchange.expected_format == "RDF":
        assert content_type in RDF_TYPES, content_type
        list(parse(body, format=RdfFormat.from_media_type(content_type)))
    return None


def _graphs_unchanged(endpoint_url: str) -> None:
    query = " ".join(
        f"GRAPH <http://kasei.us/2009/09/sparql/data/data{n}.rdf> "
        f"{{ <http://kasei.us/2009/09/sparql/data/data{n}.rdf> a <http://xmlns.com/foaf/0.1/Document> }}"
        for n in (1, 2, 3)
    )
    count = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    for check, expected in ((f"ASK {{ {query} }}", True),):
        probe = Exchange(
            "POST",
            "/sparql",
            (("Content-Type", "application/sparql-query"),),
            check.encode(),
            frozenset({2}),
            "boolean",
            expected,
        )
        status, content_type, body = _send(endpoint_url, probe)
        assert status == 200 and _check_format(probe, content_type, body) is expected
    probe = Exchange(
        "POST",
        "/sparql",
        (("Content-Type", "application/sparql-query"), ("Accept", "text/csv")),
        count.encode(),
        frozenset({2}),
        None,
        None,
    )
    assert _send(endpoint_url, probe)[2].split() == [b"n", b"3"]


@pytest.mark.parametrize("exchanges", PROTOCOL_TESTS)
def test_protocol(endpoint_url, exchanges: list[Exchange]):
    refused_update = any(exchange.is_update for exchange in exchanges)
    for exchange in exchanges:
        status, content_type, body = _send(endpoint_url, exchange)
        if exchange.is_update:
            assert 400 <= status < 500, f"update answered {status}: {body[:300]!r}"
            continue
        assert status // 100 in exchange.statuses, f"{status}: {body[:300]!r}"
        answer = _check_format(exchange, content_type, body)
        if exchange.expected_boolean is not None:
            # After a refused update, the check finds nothing the update would have written.
            expected = False if refused_update else exchange.expected_boolean
            assert answer is expected
    if refused_update:
        _graphs_unchanged(endpoint_url)


def test_the_manifest_is_read_whole():
    assert len(PROTOCOL_TESTS) == 34


# The SPARQL 1.1 Service Description vocabulary: domain and range of each property we may use.
SD_SCHEMA = {
    "endpoint": ("Service", None),
    "feature": ("Service", "Feature"),
    "defaultEntailmentRegime": ("Service", "EntailmentRegime"),
    "supportedLanguage": ("Service", "Language"),
    "resultFormat": ("Service", "Format"),
    "inputFormat": ("Service", "Format"),
    "defaultDataset": ("Service", "Dataset"),
    "availableGraphs": ("Service", "GraphCollection"),
    "defaultGraph": ("Dataset", "Graph"),
    "namedGraph": ("GraphCollection", "NamedGraph"),
    "name": ("NamedGraph", None),
    "graph": ("NamedGraph", "Graph"),
}
SD_INSTANCES = {
    "SPARQL10Query": "Language",
    "SPARQL11Query": "Language",
    "SPARQL11Update": "Language",
    "DereferencesURIs": "Feature",
    "UnionDefaultGraph": "Feature",
    "RequiresDataset": "Feature",
    "EmptyGraphs": "Feature",
    "BasicFederatedQuery": "Feature",
}
SD_SUBCLASSES = {"Dataset": {"GraphCollection"}}
SD_CLASSES = {
    "Service",
    "Feature",
    "Language",
    "Function",
    "Aggregate",
    "EntailmentRegime",
    "EntailmentProfile",
    "GraphCollection",
    "Dataset",
    "Graph",
    "NamedGraph",
}


def _service_description(endpoint_url: str, accept: str = "text/turtle") -> Graph:
    status, content_type, body = _send(
        endpoint_url, Exchange("GET", "/sparql", (("Accept", accept),), None, frozenset({2}), "RDF", None)
    )
    assert status == 200
    assert content_type in RDF_TYPES
    # Read by pyoxigraph (rdflib's JSON-LD reader warns about its own deprecated classes), then handed to
    # rdflib as N-Triples for the checks.
    triples = parse(body, format=RdfFormat.from_media_type(content_type))
    return Graph().parse(data=serialize(triples, format=RdfFormat.N_TRIPLES), format="nt")


def test_sd_returns_rdf(endpoint_url):
    for accept in RDF_TYPES:
        assert len(_service_description(endpoint_url, accept)) > 0


def test_sd_has_endpoint_triple(endpoint_url):
    graph = _service_description(endpoint_url)
    services = set(graph.subjects(RDF.type, SD.Service))
    assert services
    assert any((service, SD.endpoint, URIRef(endpoint_url)) in graph for service in services)


def _types(graph: Graph, node) -> set[str]:
    local = {
        str(t).removeprefix(str(SD)) for t in graph.objects(node, RDF.type) if str(t).startswith(str(SD))
    }
    value = str(node)
    if value.startswith(str(SD)) and value.removeprefix(str(SD)) in SD_INSTANCES:
        local.add(SD_INSTANCES[value.removeprefix(str(SD))])
    if value.startswith(FORMATS):  # W3C's format IRIs are formats:Format
        local.add("Format")
    if value.startswith(ENTAILMENT):  # the regimes the SPARQL 1.1 Entailment Regimes spec names
        local.add("EntailmentRegime")
    for cls in list(local):
        local |= SD_SUBCLASSES.get(cls, set())
    return local


def test_sd_conforms_to_schema(endpoint_url):
    graph = _service_description(endpoint_url)
    for subject, predicate, obj in graph:
        if predicate == RDF.type and str(obj).startswith(str(SD)):
            assert str(obj).removeprefix(str(SD)) in SD_CLASSES, obj
        if not str(predicate).startswith(str(SD)):
            continue
        term = str(predicate).removeprefix(str(SD))
        assert term in SD_SCHEMA, f"sd:{term} is not a property of the vocabulary"
        domain, range_ = SD_SCHEMA[term]
        assert domain in _types(graph, subject), f"{subject} sd:{term}: subject is not an sd:{domain}"
        if range_ is not None:
            assert range_ in _types(graph, obj), f"{subject} sd:{term} {obj}: object is not an sd:{range_}"

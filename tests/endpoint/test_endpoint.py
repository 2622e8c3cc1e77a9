"""``/sparql`` through Flask's test client: formats, negotiation, errors, CORS, limits, the dataset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from pyoxigraph import QueryResultsFormat, RdfFormat, parse, parse_query_results

from ldn_graph.serving.protocol import RDF_FORMATS, RESULT_FORMATS

RELEASE = Path(__file__).parent / "fixtures" / "release.nt"
LABELS = "SELECT ?s ?label WHERE { ?s rdfs:label ?label } ORDER BY ?s"
DATA1 = "http://kasei.us/2009/09/sparql/data/data1.rdf"


def _bindings(response) -> list[dict]:
    return json.loads(response.data)["results"]["bindings"]


def test_select_json_by_default(client):
    response = client.get("/sparql", query_string={"query": LABELS})
    assert response.status_code == 200
    assert response.mimetype == "application/sparql-results+json"
    assert "Accept" in response.vary
    assert {b["label"]["value"] for b in _bindings(response)} >= {"naltrexone", "fibromyalgia"}


@pytest.mark.parametrize("result_format", RESULT_FORMATS, ids=lambda f: f.key)
def test_select_and_ask_in_every_result_format(client, result_format):
    for query in (LABELS, "ASK { ?s a schema:Drug }"):
        response = client.get(
            "/sparql", query_string={"query": query}, headers={"Accept": result_format.media_type}
        )
        assert response.status_code == 200, response.data
        assert response.mimetype == result_format.media_type
        if result_format.key in ("json", "xml"):
            parsed = parse_query_results(
                response.data, format=QueryResultsFormat.from_media_type(response.mimetype)
            )
            assert parsed is not None


@pytest.mark.parametrize("rdf_format", RDF_FORMATS, ids=lambda f: f.key)
def test_construct_and_describe_in_every_rdf_format(client, rdf_format):
    for query in (
        "CONSTRUCT WHERE { ?s a schema:Drug }",
        "DESCRIBE <https://w3id.org/ldngraph/id/naltrexone>",
    ):
        response = client.post(
            "/sparql",
            data=query,
            content_type="application/sparql-query",
            headers={"Accept": rdf_format.media_type},
        )
        assert response.status_code == 200, response.data
        assert response.mimetype == rdf_format.media_type
        assert list(parse(response.data, format=RdfFormat.from_media_type(rdf_format.media_type)))


def test_construct_is_turtle_by_default(client):
    response = client.post("/sparql", data={"query": "CONSTRUCT WHERE { ?s a schema:Drug }"})
    assert response.mimetype == "text/turtle"
    assert b"@prefix schema: <https://schema.org/>" in response.data


def test_q_values_decide(client):
    accept = "application/sparql-results+xml;q=0.5, text/csv;q=0.9, application/sparql-results+json;q=0.1"
    response = client.get("/sparql", query_string={"query": "ASK {}"}, headers={"Accept": accept})
    assert response.mimetype == "text/csv"


@pytest.mark.parametrize(
    ("query", "accept"),
    [("ASK {}", "image/png"), ("CONSTRUCT WHERE { ?s ?p ?o }", "application/sparql-results+json")],
)
def test_406_when_nothing_fits(client, query, accept):
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": accept})
    assert response.status_code == 406
    assert b"available" in response.data


def test_bad_query_gives_the_parser_message_and_position(client):
    response = client.get("/sparql", query_string={"query": "SELECT * WHERE {\n  ?s ?p }"})
    assert response.status_code == 400
    assert b"2:" in response.data and b"syntax" in response.data


def test_two_query_parameters(client):
    response = client.get("/sparql?query=ASK%7B%7D&query=ASK%7B%7D")
    assert response.status_code == 400


def test_body_not_utf8(client):
    response = client.post("/sparql", data=b"ASK { \xff }", content_type="application/sparql-query")
    assert response.status_code == 400
    assert b"UTF-8" in response.data


def test_wrong_body_type(client):
    assert client.post("/sparql", data="ASK {}", content_type="text/plain").status_code == 415


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_405_with_allow(client, method):
    response = getattr(client, method)("/sparql?query=ASK%7B%7D")
    assert response.status_code == 405
    assert {"GET", "POST"} <= set(response.allow)


def test_head(client):
    get = client.get("/sparql", query_string={"query": "ASK {}"})
    head = client.head("/sparql", query_string={"query": "ASK {}"})
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Type"] == get.headers["Content-Type"]


def test_cors_and_preflight(client):
    response = client.get(
        "/sparql", query_string={"query": "ASK {}"}, headers={"Origin": "https://example.org"}
    )
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    preflight = client.options(
        "/sparql",
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    assert client.get("/sparql?query=ASK%20%7B").headers["Access-Control-Allow-Origin"] == "*"


COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


@pytest.mark.parametrize(
    ("kwargs"),
    [
        {"method": "GET", "query_string": {"update": "CLEAR ALL"}},
        {"method": "POST", "data": {"update": "CLEAR ALL"}},
        {"method": "POST", "data": "CLEAR ALL", "content_type": "application/sparql-update"},
        {"method": "POST", "data": "DROP DEFAULT", "content_type": "application/sparql-query"},
        {"method": "POST", "data": {"query": "INSERT DATA { <http://a> <http://b> <http://c> }"}},
    ],
)
def test_every_update_is_refused_and_nothing_changes(client, kwargs):
    before = client.get("/sparql", query_string={"query": COUNT_ALL}).data
    default_before = client.get(
        "/sparql", query_string={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"}
    ).data
    response = client.open("/sparql", **kwargs)
    assert 400 <= response.status_code < 500
    assert client.get("/sparql", query_string={"query": COUNT_ALL}).data == before
    assert (
        client.get("/sparql", query_string={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"}).data
        == default_before
    )


def test_default_graph_is_exactly_the_release(client):
    response = client.get("/sparql", query_string={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"})
    release_triples = len([line for line in RELEASE.read_text().splitlines() if line.strip()])
    assert int(_bindings(response)[0]["n"]["value"]) == release_triples


def test_protocol_dataset_replaces_the_default_graph(client):
    query = f"ASK {{ <{DATA1}> a ?type }}"
    assert json.loads(client.get("/sparql", query_string={"query": query}).data)["boolean"] is False
    with_dataset = client.get("/sparql", query_string={"query": query, "default-graph-uri": DATA1})
    assert json.loads(with_dataset.data)["boolean"] is True
    # Only the named graphs the request names are visible.
    graphs = client.get(
        "/sparql", query_string={"query": "SELECT ?g WHERE { GRAPH ?g {} }", "named-graph-uri": DATA1}
    )
    assert [b["g"]["value"] for b in _bindings(graphs)] == [DATA1]


def test_row_limit_cuts_and_says_so(client, app_config):
    many = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert len(_bindings(many)) == app_config.max_rows
    assert many.headers["X-SPARQL-MaxRows"] == str(app_config.max_rows)
    few = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 5"})
    assert len(_bindings(few)) == 5
    assert "X-SPARQL-MaxRows" not in few.headers
    graph = client.get(
        "/sparql",
        query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
        headers={"Accept": "application/n-triples"},
    )
    assert len(graph.data.splitlines()) == app_config.max_rows
    assert graph.headers["X-SPARQL-MaxRows"] == str(app_config.max_rows)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE " + "{" * 2000 + "}" * 2000,
    ],
)
def test_refused_before_the_engine(client, query):
    response = client.post("/sparql", data={"query": query})
    assert response.status_code == 400


def test_service_description_turtle_by_default(client, app_config):
    response = client.get("/sparql")
    assert response.status_code == 200
    assert response.mimetype == "text/turtle"
    assert "Accept" in response.vary
    triples = {
        (q.subject.value, q.predicate.value, q.object.value)
        for q in parse(response.data, format=RdfFormat.TURTLE)
    }
    sd = "http://www.w3.org/ns/sparql-service-description#"
    assert (app_config.endpoint_url, sd + "endpoint", app_config.endpoint_url) in triples
    assert (
        app_config.endpoint_url + "#dataset",
        "http://www.w3.org/2000/01/rdf-schema#seeAlso",
        app_config.void_url,
    ) in triples
    release_triples = str(len(RELEASE.read_text().splitlines()))
    assert (
        app_config.endpoint_url + "#default-graph",
        "http://rdfs.org/ns/void#triples",
        release_triples,
    ) in triples


@pytest.mark.parametrize("rdf_format", RDF_FORMATS, ids=lambda f: f.key)
def test_service_description_in_every_rdf_format(client, rdf_format):
    response = client.get("/sparql", headers={"Accept": rdf_format.media_type})
    assert response.mimetype == rdf_format.media_type
    assert list(parse(response.data, format=RdfFormat.from_media_type(rdf_format.media_type)))


def test_browsers_get_the_query_page(client, app_config):
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = client.get("/sparql", headers={"Accept": browser})
    assert response.mimetype == "text/html"
    assert b"<form" in response.data
    assert app_config.endpoint_url.encode() in response.data


def test_base_url_is_used_for_links():
    from ldn_graph.serving.stores import load_store
    from ldn_graph.web.app import create_app
    from ldn_graph.web.config import ServeConfig

    config = ServeConfig(base_url="https://ldn.example.org/", release_file=RELEASE)
    app = create_app(config, store=load_store(RELEASE), isolate_queries=False)
    body = app.test_client().get("/sparql").data
    assert b"<https://ldn.example.org/sparql> a sd:Service" in body
    assert b"<https://ldn.example.org/.well-known/void>" in body


def test_oversized_body_is_refused(client):
    response = client.post("/sparql", data=b"#" * (2 << 20), content_type="application/sparql-query")
    assert response.status_code == 413


def test_long_get_query_on_the_live_server(endpoint_url):
    query = "ASK {} # " + "x" * 6000
    assert requests.get(endpoint_url, params={"query": query}, timeout=10).json()["boolean"] is True


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (LABELS.encode(), "application/sparql-query"),
        (b"SELECT * WHERE { ?s ?p }", "application/sparql-query"),  # refused: same message either way
        (b"ASK {}", "text/plain"),
    ],
)
def test_chunked_post_through_flask_answers_like_the_front(endpoint_url, body, content_type):
    """A POST without Content-Length goes to the Flask view; with one, to the WSGI front (web/front.py):
    the two must give the same status, body and headers."""
    headers = {"Content-Type": content_type, "Accept": "application/sparql-results+json"}
    sized = requests.post(endpoint_url, data=body, headers=headers, timeout=10)
    chunked = requests.post(endpoint_url, data=iter([body]), headers=headers, timeout=10)
    assert "Content-Length" not in chunked.request.headers
    assert (chunked.status_code, chunked.content) == (sized.status_code, sized.content)
    for name in ("Content-Type", "Vary", "Access-Control-Allow-Origin", "Access-Control-Expose-Headers"):
        assert chunked.headers.get(name) == sized.headers.get(name), name


@pytest.mark.parametrize("query_string", ["xquery=ASK%20%7B%7D", "a=1&myquery=2", "%71uery=ASK%20%7B%7D"])
def test_get_without_a_query_parameter_of_that_exact_name(client, query_string):
    """Only a parameter named exactly "query" makes a GET a query; Flask answers the rest."""
    accept = "text/turtle, application/sparql-results+json;q=0.9"
    response = client.get(f"/sparql?{query_string}", headers={"Accept": accept})
    assert response.status_code == 200
    if query_string.startswith("%71"):  # percent-encoded, the name is "query" all the same
        assert response.headers["Content-Type"].startswith("application/sparql-results+json")
    else:
        assert "sd:Service" in response.text

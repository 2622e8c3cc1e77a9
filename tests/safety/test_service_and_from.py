"""No query reaches the network or the file system: SERVICE off the allow-list and FROM of unheld graphs.

Each request goes to the live server, and a listener on loopback counts every connection the server
makes: it must count none. The guard is also checked on its own, without the engine's network
namespace behind it, so that each layer is shown to hold by itself.
"""

from __future__ import annotations

import time

import pytest
import requests

from ldn_graph.serving.guard import QueryGuard
from ldn_graph.serving.protocol import BadRequest

HELD = "http://kasei.us/2009/09/sparql/data/data1.rdf"

# {url} is the listener's address. Every form a SERVICE call can take in a query.
SERVICE_QUERIES = {
    "plain": "SELECT * WHERE { SERVICE <{url}/sparql> { ?s ?p ?o } }",
    "silent": "SELECT * WHERE { SERVICE SILENT <{url}/sparql> { ?s ?p ?o } }",
    "optional": "SELECT * WHERE { ?a ?b ?c OPTIONAL { SERVICE <{url}/sparql> { ?a ?p ?o } } }",
    "sub-select": "SELECT * WHERE { { SELECT ?s WHERE { SERVICE <{url}/sparql> { ?s ?p ?o } } } }",
    "filter-exists": "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { SERVICE <{url}/sparql> { ?s ?q ?r } } }",
    "filter-not-exists": "ASK { ?s ?p ?o FILTER NOT EXISTS { SERVICE SILENT <{url}/x> { ?s ?q ?r } } }",
    "construct": "CONSTRUCT { ?s ?p ?o } WHERE { SERVICE <{url}/sparql> { ?s ?p ?o } }",
    "ask": "ASK { SERVICE <{url}/sparql> { ?s ?p ?o } }",
    "describe": "DESCRIBE ?s WHERE { SERVICE <{url}/sparql> { ?s ?p ?o } }",
    "variable": "SELECT * WHERE { BIND(<{url}/sparql> AS ?e) SERVICE ?e { ?s ?p ?o } }",
    "variable-values": "SELECT * WHERE { VALUES ?e { <{url}/sparql> } SERVICE SILENT $e { ?s ?p ?o } }",
    "prefixed-name": "PREFIX remote: <{url}/> SELECT * WHERE { SERVICE remote:sparql { ?s ?p ?o } }",
    "relative-iri": "BASE <{url}/> SELECT * WHERE { SERVICE <sparql> { ?s ?p ?o } }",
    "lower-case": "select * where { service <{url}/sparql> { ?s ?p ?o } }",
    "no-spaces": "SELECT*WHERE{SERVICE<{url}/sparql>{?s ?p ?o}}",
    "comment-between": "SELECT * WHERE { SERVICE # why not\n <{url}/sparql> { ?s ?p ?o } }",
    "escaped-keyword": "SELECT * WHERE { \\u0053ERVICE <{url}/sparql> { ?s ?p ?o } }",
    "escaped-iri": "SELECT * WHERE { SERVICE <http://127.0.0.1:{port}/\\u0073parql> { ?s ?p ?o } }",
    "after-escaped-hash": "PREFIX e: <http://e/> SELECT * WHERE { ?s e:a\\#b ?o . SERVICE <{url}/x> { ?s ?p ?o } }",
    "graph-and-union": "SELECT * WHERE { { GRAPH ?g { ?s ?p ?o } } UNION { SERVICE <{url}/s> { ?s ?p ?o } } }",
}
FROM_QUERIES = {
    "from-http": "SELECT * FROM <{url}/graph.ttl> WHERE { ?s ?p ?o }",
    "from-named-http": "SELECT * FROM NAMED <{url}/graph.ttl> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "from-file": "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }",
    "from-named-file": "ASK FROM NAMED <file:///etc/passwd> { GRAPH ?g { ?s ?p ?o } }",
    "from-prefixed": "PREFIX f: <file:///etc/> SELECT * FROM f:passwd WHERE { ?s ?p ?o }",
    "construct-from": "CONSTRUCT { ?s ?p ?o } FROM <{url}/g> WHERE { ?s ?p ?o }",
}


def _fill(template: str, listener) -> str:
    return template.replace("{url}", listener.url).replace("{port}", str(listener.port))


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("name", [*SERVICE_QUERIES, *FROM_QUERIES])
def test_no_query_reaches_out(guarded, listener, name, method):
    query = _fill({**SERVICE_QUERIES, **FROM_QUERIES}[name], listener)
    before = listener.hits
    if method == "GET":
        response = requests.get(guarded.endpoint, params={"query": query}, timeout=10)
    else:
        response = requests.post(guarded.endpoint, data={"query": query}, timeout=10)
    assert response.status_code == 400, response.text
    assert "SERVICE" in response.text or "FROM" in response.text or "backslash" in response.text
    time.sleep(0.05)  # a connection the engine might have opened would have arrived by now
    assert listener.hits == before == 0


def test_a_graph_the_server_holds_may_be_named(guarded, listener):
    query = f"SELECT ?s FROM <{HELD}> FROM NAMED <{HELD}> WHERE {{ ?s ?p ?o }}"
    response = requests.get(guarded.endpoint, params={"query": query}, timeout=10)
    assert response.status_code == 200, response.text
    assert {b["s"]["value"] for b in response.json()["results"]["bindings"]} == {HELD}
    assert listener.hits == 0


@pytest.mark.parametrize("name", [*SERVICE_QUERIES, *FROM_QUERIES])
def test_the_guard_alone_refuses(listener, name):
    guard = QueryGuard(held_graphs=frozenset({HELD}))
    with pytest.raises(BadRequest):
        guard.check(_fill({**SERVICE_QUERIES, **FROM_QUERIES}[name], listener))


@pytest.mark.parametrize(
    "query",
    [
        'SELECT * WHERE { ?s ?p "SERVICE <http://x> { FROM <file:///etc/passwd>" }',
        "SELECT * WHERE { ?s <http://example.org/SERVICE> ?service } # SERVICE <http://x>",
        "PREFIX ex: <http://example.org/> SELECT * WHERE { ?s ex:SERVICE ?o . ?s a ex:service . ?from ?p ?o }",
        "SELECT * WHERE { FILTER(?a < ?b && ?c > (((1)))) }",
        "SELECT * WHERE { ?s ?p ?o FILTER(?o = 'it''s \\u0041') }",
        "SELECT * WHERE { VALUES ?n { " + " ".join(f'"{i}"^^xsd:integer' for i in range(900)) + " } }",
    ],
)
def test_the_guard_lets_ordinary_queries_through(query):
    QueryGuard(held_graphs=frozenset()).check(query)


def test_an_allowed_service_is_called(launch, listener, tmp_path):
    """The listener does count a call the allow-list permits: the zero counts above are real."""
    allowed = f"{listener.url}/sparql"
    server = launch("--workers", "1", "--service-allow", allowed, log=tmp_path / "server.log")
    try:
        before = listener.hits
        query = f"SELECT ?x WHERE {{ SERVICE <{allowed}> {{ ?x ?p ?o }} }}"
        response = requests.get(server.endpoint, params={"query": query}, timeout=10)
        assert response.status_code == 200, response.text
        assert response.json()["results"]["bindings"] == [
            {"x": {"type": "literal", "value": "from the listener"}}
        ]
        assert listener.hits == before + 1
        # Only the endpoint on the list: its neighbour, or a variable naming it, stay refused.
        for other in (
            f"SELECT * WHERE {{ SERVICE <{listener.url}/other> {{ ?x ?p ?o }} }}",
            f"SELECT * WHERE {{ BIND(<{allowed}> AS ?e) SERVICE ?e {{ ?x ?p ?o }} }}",
        ):
            assert requests.get(server.endpoint, params={"query": other}, timeout=10).status_code == 400
        assert listener.hits == before + 1
    finally:
        server.stop()

"""Every IRI of the graph dereferences: HTML for people, RDF for machines. The application answers through
Flask's test client; one test checks the real server carries the same answers over loopback."""

from __future__ import annotations

import json
import re

import pytest
import requests
from page_links import Links
from pyoxigraph import Literal, NamedNode, RdfFormat, parse

from ldn_graph.graph.jsonld import to_jsonld
from ldn_graph.serving.stores import load_store
from ldn_graph.vocab.prefixes import ID, ONTOLOGY, ONTOLOGY_IRI, PREFIXES, STATEMENT
from ldn_graph.web.app import create_app
from ldn_graph.web.config import ServeConfig

RDF_TYPES = {
    ".ttl": "text/turtle",
    ".nt": "application/n-triples",
    ".jsonld": "application/ld+json",
    ".rdf": "application/rdf+xml",
}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")
IRIS = [
    ID + "long-covid",
    ID + "naltrexone",
    STATEMENT + "ldn-efficacy-long-covid",
    ONTOLOGY + "Statement",
    ONTOLOGY + "EfficacyNotShown",
    ONTOLOGY_IRI,
]


def path(iri: str) -> str:
    return "/" + iri.removeprefix("https://w3id.org/ldngraph/")


def triples(response) -> set:
    media_type = response.headers["Content-Type"].split(";")[0]
    return set(parse(response.get_data(), format=RdfFormat.from_media_type(media_type)))


@pytest.mark.parametrize("iri", IRIS, ids=lambda iri: iri.rsplit("/", 1)[-1])
@pytest.mark.parametrize("suffix", RDF_TYPES)
def test_every_iri_in_every_rdf_format_by_accept(client, site, iri, suffix):
    response = client.get(path(iri), headers={"Accept": RDF_TYPES[suffix]})
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == RDF_TYPES[suffix]
    assert "Accept" in response.headers["Vary"]
    assert response.headers["Content-Location"] == site + path(iri) + suffix
    graph = triples(response)
    # The answer speaks of the persistent IRI, never of the server's own URL.
    assert any(t.subject == NamedNode(iri) for t in graph)
    assert not any(site in str(term) for t in graph for term in t)


def test_the_real_server_answers_alike_over_loopback(server, release):
    """The wire adds nothing and takes nothing away: the application made with the server's own URL
    answers in-process with the same status, headers and bytes."""
    port = int(server.url.rsplit(":", 1)[1])
    client = create_app(ServeConfig(port=port, release_file=release), isolate_queries=False).test_client()
    for accept in (BROWSER, RDF_TYPES[".ttl"], RDF_TYPES[".jsonld"]):
        wired = requests.get(server.url + path(ID + "naltrexone"), headers={"Accept": accept}, timeout=10)
        local = client.get(path(ID + "naltrexone"), headers={"Accept": accept})
        assert wired.status_code == local.status_code == 200
        for name in (*("Content-Type", "Vary", "ETag", "Link", "Cache-Control"), *SECURITY_HEADERS):
            assert wired.headers.get(name) == local.headers.get(name), name
        assert wired.content == local.get_data()


@pytest.mark.parametrize("suffix", RDF_TYPES)
def test_a_suffix_names_the_format_whatever_the_accept_header(client, suffix):
    response = client.get(path(ID + "naltrexone") + suffix, headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == RDF_TYPES[suffix]
    assert "Content-Location" not in response.headers


def test_the_twins_carry_the_same_triples(client):
    base = path(STATEMENT + "ldn-efficacy-long-covid")
    graphs = [triples(client.get(base + suffix)) for suffix in RDF_TYPES]
    assert graphs[0] and all(graph == graphs[0] for graph in graphs[1:])


def test_the_json_ld_twin_is_compacted_under_our_context_like_the_dump(client, built):
    twin = client.get(path(ID + "naltrexone") + ".jsonld")
    document = json.loads(twin.get_data())
    assert document["@context"] == PREFIXES  # inline: a reader needs no network to expand it
    # The entity's node says what the JSON-LD dump says of it, in the same words.
    dump = json.loads(to_jsonld(built.graph))
    assert dump["@context"] == document["@context"]
    in_twin = next(node for node in document["@graph"] if node["@id"] == "ldn:naltrexone")
    assert in_twin == next(node for node in dump["@graph"] if node["@id"] == "ldn:naltrexone")
    assert triples(twin) == triples(client.get(path(ID + "naltrexone") + ".nt"))


def test_link_header_names_each_twin_and_each_twin_answers_in_its_type(client):
    response = client.get(path(ID + "fibromyalgia"), headers={"Accept": BROWSER})
    links = re.findall(r'<([^>]+)>; rel="alternate"; type="([^"]+)"', response.headers["Link"])
    assert {media_type for _, media_type in links} == {"text/html", *RDF_TYPES.values()}
    for target, media_type in links:
        twin = client.get(target)
        assert twin.status_code == 200, target
        assert twin.headers["Content-Type"].split(";")[0] == media_type


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (BROWSER, "text/html"),
        ("*/*", "text/html"),
        ("text/turtle;q=0.5, application/ld+json;q=0.9", "application/ld+json"),
        ("text/html;q=0.1, application/n-triples", "application/n-triples"),
        ("application/rdf+xml, text/html;q=0.2", "application/rdf+xml"),
        ("text/*;q=0.3, text/turtle", "text/turtle"),
    ],
)
def test_accept_with_q_values(client, accept, expected):
    response = client.get(path(ID + "low-dose-naltrexone"), headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == expected


def test_406_when_no_format_fits(client):
    response = client.get(path(ID + "naltrexone"), headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "text/turtle" in response.text and "text/html" in response.text
    assert "Accept" in response.headers["Vary"]


@pytest.mark.parametrize("where", ["/id/no-such-thing", "/ontology/NoSuchTerm", "/id/statement/nothing.ttl"])
def test_unknown_iri_is_404(client, where):
    page = client.get(where, headers={"Accept": BROWSER})
    assert page.status_code == 404
    assert page.headers["Content-Type"].startswith(
        "text/html" if not where.endswith(".ttl") else "text/plain"
    )
    data = client.get(where, headers={"Accept": "text/turtle"})
    assert data.status_code == 404 and data.headers["Content-Type"].startswith("text/plain")
    assert "not in this graph" in data.text


def test_404_page_helps_the_reader_on(client, site):
    response = client.get("/id/long-covd", headers={"Accept": BROWSER})
    assert response.status_code == 404
    assert "https://w3id.org/ldngraph/id/long-covd" in response.text
    assert 'role="search"' in response.text and 'value="long covd"' in response.text
    assert site + "/" in Links(response.text).hrefs()
    assert client.get("/search", query_string={"q": "long cov"}).text.count("long COVID")


def test_paths_that_cannot_be_iris_are_404_not_500(client):
    for where in ["/id/", "/id/a%20b", "/id/..%2Fetc", "/ontology/a/b", "/id/x%3Cy"]:
        response = client.get(where)
        assert response.status_code == 404, where


def test_head_answers_like_get(client):
    response = client.head(path(ID + "naltrexone") + ".ttl")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/turtle")
    assert response.get_data() == b""


def test_description_holds_statements_evidence_sources_and_labels(client):
    response = client.get(path(ID + "long-covid"), headers={"Accept": "text/turtle"})
    graph = triples(response)
    statement = NamedNode(STATEMENT + "ldn-efficacy-long-covid")
    status = NamedNode(ONTOLOGY + "EfficacyNotShown")
    source = NamedNode(ID + "okelly-2022")
    rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    facts = {(t.subject, t.predicate, t.object) for t in graph}
    assert (statement, NamedNode(rdf + "object"), NamedNode(ID + "long-covid")) in facts
    assert (statement, NamedNode(ONTOLOGY + "evidenceStatus"), status) in facts
    assert (statement, NamedNode("http://purl.org/spar/cito/citesAsEvidence"), source) in facts
    pref_label = NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
    assert (status, pref_label, Literal("efficacy not shown", language="en")) in facts
    labels = {t.subject for t in graph if t.predicate.value.endswith("#label")}
    assert {source, NamedNode(ID + "low-dose-naltrexone")} <= labels
    doi = NamedNode("https://doi.org/10.1016/j.bbih.2022.100485")
    assert (source, NamedNode("http://www.w3.org/2004/02/skos/core#exactMatch"), doi) in facts


def test_entity_page_shows_label_definition_types_identifiers_claims_and_forest_plot(client, site):
    html = client.get(path(ID + "long-covid"), headers={"Accept": BROWSER}).text
    links = Links(html)
    assert "<h1" in html and "long COVID" in html
    assert "https://meshb.nlm.nih.gov/record/ui?ui=D000094024" in links.hrefs()  # page_template
    assert "http://purl.obolibrary.org/obo/MONDO_0100233" in links.hrefs()  # iri_template
    assert site + "/ontology/Disease" in links.hrefs()  # a type, on this server
    assert site + "/id/statement/ldn-efficacy-long-covid" in links.hrefs()
    assert site + "/ontology/EfficacyNotShown" in links.hrefs()
    assert site + "/id/okelly-2022" in links.hrefs()
    assert "https://doi.org/10.1016/j.bbih.2022.100485" in links.hrefs()
    assert links.svgs >= 2 and 'class="forest"' in html  # its studies' results, drawn on the server
    assert 'name="viewport"' in html and "CC BY-SA 4.0" in html
    term = client.get(path(ONTOLOGY + "EfficacyNotShown")).text
    assert "Studied, but efficacy has not been shown." in term  # skos:definition


def test_statement_page_shows_its_claim_with_date_status_and_sources(client):
    html = client.get(path(STATEMENT + "ldn-efficacy-multiple-sclerosis-2014")).text
    assert "no supporting evidence" in html
    assert '<time datetime="2014' in html
    assert "biolink:supporting_text" not in html  # shown as the quoted sentence, not as a raw property
    assert "<blockquote" in html


def test_landing_page(client, site):
    response = client.get("/", headers={"Accept": BROWSER})
    assert response.status_code == 200 and "Accept" in response.headers["Vary"]
    html = response.text
    links = Links(html)
    from ldn_graph import __version__
    from ldn_graph.resources import queries_dir

    assert __version__ in html
    assert "https://creativecommons.org/licenses/by-sa/4.0/" in links.hrefs()
    assert "WikiProjectMed" in html and site + "/id/source-article" in links.hrefs()
    assert site + "/downloads/" in links.hrefs()
    for query in sorted(queries_dir().glob("*.rq")):
        assert f"{site}/sparql#example={query.stem}" in links.hrefs()
    assert 'id="evidence-map"' in html and "<table" in html


def test_every_evidence_map_cell_leads_to_as_many_claims_with_their_sources(client):
    html = client.get("/").text
    cells = re.findall(
        r'<a class="[^"]*" href="([^"]*/evidence\?[^"]+)" aria-label="(\d+) claims? about', html
    )
    assert len(cells) >= 15
    for href, count in cells:
        page = client.get(href.replace("&amp;", "&"))
        assert page.status_code == 200
        assert page.text.count('<article class="claim"') == int(count), href


def test_three_clicks_from_landing_to_a_source(client, site):
    """Land, open the long COVID × efficacy-not-shown cell, open a source, reach the publication's DOI."""
    landing = Links(client.get("/").text)
    cell = next(h for h in landing.hrefs() if "condition=long-covid" in h and "status=EfficacyNotShown" in h)
    claims = Links(client.get(cell).text)  # click 1
    source = claims.find("O'Kelly et al. 2022")
    assert source == site + "/id/okelly-2022"
    publication = client.get(source)  # click 2
    assert publication.status_code == 200
    assert "https://doi.org/10.1016/j.bbih.2022.100485" in Links(publication.text).hrefs()  # click 3


def test_landing_as_rdf_points_to_the_dataset_description(client, site):
    response = client.get("/", headers={"Accept": "text/turtle"})
    assert response.status_code == 303
    assert response.headers["Location"] == site + "/id/dataset"
    described = client.get(response.headers["Location"], headers={"Accept": "text/turtle"})
    assert NamedNode(ID + "dataset") in {t.subject for t in triples(described)}


def test_evidence_list_has_machine_twins_and_refuses_bad_parameters(client):
    query = "?condition=multiple-sclerosis&status=InsufficientEvidence"
    html = client.get("/evidence" + query)
    assert html.headers["Link"].count(query) == 5
    data = client.get("/evidence.nt" + query)
    statement_class = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#Statement")
    statements = {t.subject for t in triples(data) if t.object == statement_class}
    assert statements == {
        NamedNode(STATEMENT + "ldn-efficacy-multiple-sclerosis"),
        NamedNode(STATEMENT + "nhs-2020-trials-necessary"),
    }
    bad = client.get("/evidence", query_string={"condition": "x>y"})
    assert bad.status_code == 400 and "condition" in bad.text


def test_search_finds_by_label_and_identifier_and_keeps_quotes_inside_the_string(client, site):
    found = client.get("/search", query_string={"q": "MONDO:0005546"}).text
    assert site + "/id/fibromyalgia" in Links(found).hrefs()
    tricky = client.get("/search", query_string={"q": '" } ; DROP ALL #'})
    assert tricky.status_code == 200 and "Nothing in the graph" in tricky.text


def test_page_links_use_the_base_url_and_rdf_keeps_persistent_iris(release, site):
    config = ServeConfig(base_url="https://ldn.example.org/", release_file=release)
    client = create_app(config, isolate_queries=False).test_client()
    html = client.get("/id/long-covid", headers={"Accept": BROWSER})
    hrefs = Links(html.text).hrefs()
    assert "https://ldn.example.org/id/statement/ldn-efficacy-long-covid" in hrefs
    assert not any(href.startswith(site) for href in hrefs)
    assert "<https://ldn.example.org/id/long-covid.ttl>" in html.headers["Link"]
    data = client.get("/id/long-covid.nt").text
    assert "<https://w3id.org/ldngraph/id/long-covid>" in data and "ldn.example.org" not in data


def test_page_queries_are_bounded_by_the_engine_time_limit(release):
    """Pages ask the engine the endpoint uses, so its time limit holds for them too: 503, not a hang.

    A limit of zero seconds stops every query at the engine's first look at the clock; the server's
    readiness probe would be stopped too, so this runs the application in-process.
    """
    config = ServeConfig(timeout=0.0, release_file=release)
    app = create_app(config, store=load_store(release), isolate_queries=False)
    for path in ("/id/naltrexone", "/", "/evidence?condition=long-covid"):
        response = app.test_client().get(path, headers={"Accept": BROWSER})
        assert response.status_code == 503, path
        assert b"time limit" in response.data

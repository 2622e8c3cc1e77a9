"""HTTP caching: every GET answer shared caches may keep carries a strong ETag and public freshness,
If-None-Match gets 304 with no body, Vary names Accept wherever Accept chose the answer, and POSTs and
errors are never stored. The application answers through Flask's test client; one test reads the real
server's bytes off the wire, from both its workers."""

from __future__ import annotations

import socket
import time
from email.utils import parsedate_to_datetime
from urllib.parse import quote

import pytest
from support.http_wire import read_message

from ldn_graph.web.app import create_app
from ldn_graph.web.config import ServeConfig

SELECT = "SELECT ?s WHERE { ?s a <https://schema.org/MedicalCondition> } ORDER BY ?s LIMIT 3"
QUERY_PATH = "/sparql?query=" + quote(SELECT)
HTML = "text/html"
TURTLE = "text/turtle"
JSON_RESULTS = "application/sparql-results+json"
FRESH = "public, max-age=300"

# (path, Accept): every kind of GET answer a shared cache may keep. None: a client's default Accept.
CACHEABLE = [
    (QUERY_PATH, JSON_RESULTS),
    (QUERY_PATH, "text/csv"),
    ("/sparql", TURTLE),  # the service description
    ("/sparql", HTML),  # the query page
    ("/", HTML),
    ("/id/naltrexone", HTML),
    ("/id/naltrexone", TURTLE),
    ("/id/naltrexone.jsonld", None),
    ("/ontology", HTML),
    ("/ontology/evidenceStatus", TURTLE),
    ("/evidence?condition=multiple-sclerosis", HTML),
    ("/evidence.ttl?condition=multiple-sclerosis", None),
    ("/.well-known/void", TURTLE),
    ("/downloads/", None),
    ("/downloads/latest/", None),
    ("/search?q=pain", HTML),
]
# Those whose answer Accept chooses.
NEGOTIATED = [
    (QUERY_PATH, JSON_RESULTS),
    ("/sparql", TURTLE),
    ("/sparql", HTML),
    ("/", HTML),
    ("/id/naltrexone", HTML),
    ("/id/naltrexone", TURTLE),
    ("/ontology", HTML),
    ("/evidence?condition=multiple-sclerosis", HTML),
    ("/.well-known/void", TURTLE),
]


def _headers(accept: str | None, **more: str) -> dict[str, str]:
    return ({"Accept": accept} if accept else {}) | more


def raw(server, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """One request on a connection of its own; the status, headers and every byte that followed them."""
    port = int(server.url.rsplit(":", 1)[1])
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        message = read_message(connection)
        while chunk := connection.recv(65536):  # anything sent after the message: a body it should not have
            message += chunk
    head, _, body = message.partition(b"\r\n\r\n")
    status_line, *fields = head.decode("latin-1").split("\r\n")
    parsed = {}
    for field in fields:
        name, _, value = field.partition(":")
        parsed[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), parsed, body


def _vary(headers) -> set[str]:
    return {name.strip().lower() for name in headers.get("Vary", "").split(",") if name}


@pytest.mark.parametrize(("path", "accept"), CACHEABLE)
def test_get_answers_carry_a_strong_etag_and_public_freshness(client, path, accept):
    response = client.get(path, headers=_headers(accept))
    assert response.status_code == 200, response.text[:300]
    etag = response.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/"), etag
    assert response.headers["Cache-Control"] == FRESH
    # Asked again, and by HEAD (which takes Flask's path where GET /sparql takes the front's), the same.
    again = {client.get(path, headers=_headers(accept)).headers["ETag"] for _ in range(3)}
    head = client.head(path, headers=_headers(accept))
    assert again == {etag} and head.headers["ETag"] == etag


@pytest.mark.parametrize(("path", "accept"), CACHEABLE)
def test_if_none_match_gets_304_with_no_body(client, path, accept):
    etag = client.get(path, headers=_headers(accept)).headers["ETag"]
    response = client.get(path, headers=_headers(accept, **{"If-None-Match": etag}))
    assert (response.status_code, response.get_data()) == (304, b"")
    assert response.headers["ETag"] == etag and response.headers["Cache-Control"] == FRESH
    assert "Content-Type" not in response.headers and response.headers.get("Content-Length", "0") == "0"
    # A list naming it, or any ETag at all, is a match too; another ETag is not.
    either = _headers(accept, **{"If-None-Match": f'"other", {etag}'})
    assert client.get(path, headers=either).status_code == 304
    assert client.get(path, headers=_headers(accept, **{"If-None-Match": "*"})).status_code == 304
    other = client.get(path, headers=_headers(accept, **{"If-None-Match": '"other"'}))
    assert other.status_code == 200 and other.get_data()


# One answer from each path a request may take: the WSGI front for queries, Flask for pages, downloads.
ON_THE_WIRE = [(QUERY_PATH, JSON_RESULTS), ("/id/naltrexone", HTML), ("/downloads/latest/", None)]


@pytest.mark.parametrize(("path", "accept"), ON_THE_WIRE)
def test_the_real_server_sends_one_etag_from_both_workers_and_304s_without_a_body(served, path, accept):
    """What the wire may change: the ETag must not depend on the worker, nor may a 304 gain a body."""
    etags = {raw(served, "GET", path, _headers(accept))[1]["etag"] for _ in range(6)}
    assert len(etags) == 1
    (etag,) = etags
    status, headers, body = raw(served, "GET", path, _headers(accept, **{"If-None-Match": etag}))
    assert (status, body) == (304, b"")
    assert headers["etag"] == etag and headers["cache-control"] == FRESH
    assert "content-type" not in headers and headers.get("content-length", "0") == "0"
    if accept is not None:  # a shared cache keys its copy by Accept
        assert "accept" in _vary({"Vary": headers.get("vary", "")})


def test_each_format_of_a_page_has_its_own_etag(client):
    formats = [HTML, TURTLE, "application/ld+json", "application/n-triples", "application/rdf+xml"]
    etags = {
        accept: client.get("/id/naltrexone", headers={"Accept": accept}).headers["ETag"] for accept in formats
    }
    assert len(set(etags.values())) == len(formats)
    # The Turtle's ETag does not make the JSON-LD "not modified".
    other = client.get(
        "/id/naltrexone", headers={"Accept": "application/ld+json", "If-None-Match": etags[TURTLE]}
    )
    assert other.status_code == 200 and other.headers["Content-Type"].startswith("application/ld+json")
    # A query's answer in another format is another representation too.
    json_etag = client.get(QUERY_PATH, headers={"Accept": JSON_RESULTS}).headers["ETag"]
    csv_etag = client.get(QUERY_PATH, headers={"Accept": "text/csv"}).headers["ETag"]
    assert json_etag != csv_etag


@pytest.mark.parametrize(("path", "accept"), NEGOTIATED)
def test_vary_names_accept_on_every_negotiated_answer(client, path, accept):
    response = client.get(path, headers=_headers(accept))
    assert "accept" in _vary(response.headers)
    assert "accept" in _vary(client.head(path, headers=_headers(accept)).headers)
    not_modified = client.get(path, headers=_headers(accept, **{"If-None-Match": response.headers["ETag"]}))
    assert not_modified.status_code == 304 and "accept" in _vary(not_modified.headers)
    refused = client.get(path, headers={"Accept": "image/png"})
    assert refused.status_code == 406 and "accept" in _vary(refused.headers)


def test_posts_are_never_stored(client):
    etag = client.get(QUERY_PATH, headers={"Accept": JSON_RESULTS}).headers["ETag"]
    for body, content_type in (
        (f"query={quote(SELECT)}", "application/x-www-form-urlencoded"),
        (SELECT, "application/sparql-query"),
    ):
        response = client.post(
            "/sparql",
            data=body.encode(),
            headers={"Content-Type": content_type, "Accept": JSON_RESULTS, "If-None-Match": etag},
        )
        assert response.status_code == 200 and response.get_json()["results"]["bindings"]
        assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers


@pytest.mark.parametrize(
    ("method", "path", "accept", "status"),
    [
        ("GET", "/sparql?query=" + quote("SELECT * WHERE { ?s ?p }"), JSON_RESULTS, 400),
        ("GET", QUERY_PATH, "image/png", 406),
        ("GET", "/sparql?query=" + quote("ASK {} # " + "x" * 9000), JSON_RESULTS, 414),
        ("GET", "/id/no-such-thing", HTML, 404),
        ("GET", "/id/no-such-thing", TURTLE, 404),
        ("GET", "/id/naltrexone", "image/png", 406),
        ("GET", "/search?q=" + "x" * 300, HTML, 400),
        ("GET", "/downloads/9.9.9/", None, 404),
        ("GET", "/downloads/latest/no-such-file.ttl", None, 404),
        ("POST", "/sparql", JSON_RESULTS, 415),  # no body, no type
        ("DELETE", "/id/naltrexone", None, 405),
    ],
)
def test_errors_are_never_stored(client, method, path, accept, status):
    response = client.open(path, method=method, headers=_headers(accept))
    assert response.status_code == status, response.text[:300]
    assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers


def test_max_age_and_shared_max_age_are_settings(released, releases_dir):
    config = ServeConfig(releases=releases_dir, max_age=60, shared_max_age=86400)
    client = create_app(config, isolate_queries=False).test_client()
    for path in (QUERY_PATH, "/id/naltrexone", "/.well-known/void", "/downloads/"):
        assert client.get(path).headers["Cache-Control"] == "public, max-age=60, s-maxage=86400", path
    # Downloads keep their own freshness, whatever the setting, and Expires agrees with it.
    for version, cache_control, seconds in (
        (released.version, "public, max-age=31536000, immutable", 31536000),
        ("latest", "public, max-age=300, must-revalidate", 300),
    ):
        with client.get(f"/downloads/{version}/SHA256SUMS") as download:  # closes the file it sends
            assert download.headers["Cache-Control"] == cache_control
            expires = parsedate_to_datetime(download.headers["Expires"]).timestamp()
            assert abs(expires - (time.time() + seconds)) < 60, download.headers["Expires"]

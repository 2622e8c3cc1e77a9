"""HTTP caching over loopback: every GET answer shared caches may keep carries a strong ETag and public
freshness, If-None-Match gets 304 with no body, Vary names Accept wherever Accept chose the answer, and
POSTs and errors are never stored."""

from __future__ import annotations

import socket
import time
from email.utils import parsedate_to_datetime
from urllib.parse import quote

import pytest
import requests
from support.http_wire import read_message

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
    return {name.strip().lower() for name in headers.get("Vary", headers.get("vary", "")).split(",") if name}


@pytest.mark.parametrize(("path", "accept"), CACHEABLE)
def test_get_answers_carry_a_strong_etag_and_public_freshness(served, path, accept):
    response = requests.get(served.url + path, headers=_headers(accept), timeout=10)
    assert response.status_code == 200, response.text[:300]
    etag = response.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/"), etag
    assert response.headers["Cache-Control"] == FRESH
    # Both workers, and HEAD (which takes Flask's path where GET /sparql takes the front's), agree.
    again = {
        requests.get(served.url + path, headers=_headers(accept), timeout=10).headers["ETag"]
        for _ in range(6)
    }
    head = requests.head(served.url + path, headers=_headers(accept), timeout=10)
    assert again == {etag} and head.headers["ETag"] == etag


@pytest.mark.parametrize(("path", "accept"), CACHEABLE)
def test_if_none_match_gets_304_with_no_body(served, path, accept):
    status, headers, _ = raw(served, "GET", path, _headers(accept))
    etag = headers["etag"]
    status, headers, body = raw(served, "GET", path, _headers(accept, **{"If-None-Match": etag}))
    assert (status, body) == (304, b"")
    assert headers["etag"] == etag and headers["cache-control"] == FRESH
    assert "content-type" not in headers and headers.get("content-length", "0") == "0"
    # A list naming it, or any ETag at all, is a match too; another ETag is not.
    assert raw(served, "GET", path, _headers(accept, **{"If-None-Match": f'"other", {etag}'}))[0] == 304
    assert raw(served, "GET", path, _headers(accept, **{"If-None-Match": "*"}))[0] == 304
    status, _, body = raw(served, "GET", path, _headers(accept, **{"If-None-Match": '"other"'}))
    assert status == 200 and body


def test_each_format_of_a_page_has_its_own_etag(served):
    url = served.url + "/id/naltrexone"
    formats = [HTML, TURTLE, "application/ld+json", "application/n-triples", "application/rdf+xml"]
    etags = {
        accept: requests.get(url, headers={"Accept": accept}, timeout=10).headers["ETag"]
        for accept in formats
    }
    assert len(set(etags.values())) == len(formats)
    # The Turtle's ETag does not make the JSON-LD "not modified".
    other = requests.get(
        url, headers={"Accept": "application/ld+json", "If-None-Match": etags[TURTLE]}, timeout=10
    )
    assert other.status_code == 200 and other.headers["Content-Type"].startswith("application/ld+json")
    # A query's answer in another format is another representation too.
    json_etag = requests.get(served.url + QUERY_PATH, headers={"Accept": JSON_RESULTS}, timeout=10).headers[
        "ETag"
    ]
    csv_etag = requests.get(served.url + QUERY_PATH, headers={"Accept": "text/csv"}, timeout=10).headers[
        "ETag"
    ]
    assert json_etag != csv_etag


@pytest.mark.parametrize(("path", "accept"), NEGOTIATED)
def test_vary_names_accept_on_every_negotiated_answer(served, path, accept):
    response = requests.get(served.url + path, headers=_headers(accept), timeout=10)
    assert "accept" in _vary(response.headers)
    assert "accept" in _vary(requests.head(served.url + path, headers=_headers(accept), timeout=10).headers)
    status, headers, _ = raw(
        served, "GET", path, _headers(accept, **{"If-None-Match": response.headers["ETag"]})
    )
    assert status == 304 and "accept" in _vary(headers)
    refused = requests.get(served.url + path, headers={"Accept": "image/png"}, timeout=10)
    assert refused.status_code == 406 and "accept" in _vary(refused.headers)


def test_posts_are_never_stored(served):
    etag = requests.get(served.url + QUERY_PATH, headers={"Accept": JSON_RESULTS}, timeout=10).headers["ETag"]
    for body, content_type in (
        (f"query={quote(SELECT)}", "application/x-www-form-urlencoded"),
        (SELECT, "application/sparql-query"),
    ):
        response = requests.post(
            served.url + "/sparql",
            data=body.encode(),
            headers={"Content-Type": content_type, "Accept": JSON_RESULTS, "If-None-Match": etag},
            timeout=10,
        )
        assert response.status_code == 200 and response.json()["results"]["bindings"]
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
def test_errors_are_never_stored(served, method, path, accept, status):
    response = requests.request(method, served.url + path, headers=_headers(accept), timeout=10)
    assert response.status_code == status, response.text[:300]
    assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers


def test_max_age_and_shared_max_age_are_settings(launch, released, releases_dir, tmp_path):
    server = launch(
        "--releases", str(releases_dir), "--workers", "1", "--max-age", "60", "--shared-max-age", "86400",
        log=tmp_path / "server.log",
    )  # fmt: skip
    try:
        for path in (QUERY_PATH, "/id/naltrexone", "/.well-known/void", "/downloads/"):
            cache_control = requests.get(server.url + path, timeout=10).headers["Cache-Control"]
            assert cache_control == "public, max-age=60, s-maxage=86400", path
        # Downloads keep their own freshness, whatever the setting, and Expires agrees with it.
        for version, cache_control, seconds in (
            (released.version, "public, max-age=31536000, immutable", 31536000),
            ("latest", "public, max-age=300, must-revalidate", 300),
        ):
            download = requests.get(f"{server.url}/downloads/{version}/SHA256SUMS", timeout=10)
            assert download.headers["Cache-Control"] == cache_control
            expires = parsedate_to_datetime(download.headers["Expires"]).timestamp()
            assert abs(expires - (time.time() + seconds)) < 60, download.headers["Expires"]
    finally:
        server.stop()

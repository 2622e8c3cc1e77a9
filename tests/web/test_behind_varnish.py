"""Behind a real shared cache: Varnish (Debian's ``varnish``) with deploy/varnish.vcl in front of the
server, as a public deployment runs one. Repeated GETs come from the cache, each format kept apart by
``Vary``; POSTs and errors always reach the server; and an expired copy is revalidated with its ETag,
which the server answers with 304."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests
from support.stores import start_varnish

MAX_AGE = 2  # the server's --max-age here: short, so that a copy expires within the test
QUERY_PATH = "/sparql?query=" + quote(
    "SELECT ?s WHERE { ?s a <https://schema.org/MedicalCondition> } LIMIT 3"
)


@pytest.fixture(scope="module")
def backend(launch, releases_dir, tmp_path_factory) -> Iterator:
    log = tmp_path_factory.mktemp("varnish-backend") / "server.log"
    server = launch("--releases", str(releases_dir), "--workers", "1", "--max-age", str(MAX_AGE), log=log)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def varnish(backend, tmp_path_factory) -> Iterator[str]:
    """The URL of a Varnish with deploy/varnish.vcl in front of ``backend``, on a free loopback port."""
    cache = start_varnish(tmp_path_factory.mktemp("varnish"), backend.url.removeprefix("http://"))
    yield cache.url
    cache.stop()


def _from_cache(response: requests.Response) -> bool:
    # Varnish names the request and, on a hit, the request that fetched the copy.
    return len(response.headers["X-Varnish"].split()) == 2


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        (QUERY_PATH, "application/sparql-results+json"),
        ("/id/naltrexone", "text/html"),
        ("/.well-known/void", "text/turtle"),
        ("/downloads/", None),
    ],
)
def test_a_repeated_get_comes_from_the_cache(varnish, path, accept):
    headers = {"Accept": accept} if accept else {}
    first = requests.get(varnish + path, headers=headers, timeout=10)
    again = requests.get(varnish + path, headers=headers, timeout=10)
    assert first.status_code == again.status_code == 200
    assert _from_cache(again) and again.content == first.content
    assert again.headers["ETag"] == first.headers["ETag"]


def test_the_cache_keeps_each_format_apart(varnish):
    url = varnish + "/id/fibromyalgia"
    html = requests.get(url, headers={"Accept": "text/html"}, timeout=10)
    turtle = requests.get(url, headers={"Accept": "text/turtle"}, timeout=10)
    assert html.headers["Content-Type"].startswith("text/html")
    assert turtle.headers["Content-Type"].startswith("text/turtle") and not _from_cache(turtle)
    again = requests.get(url, headers={"Accept": "text/turtle"}, timeout=10)
    assert _from_cache(again) and again.content == turtle.content


def test_posts_and_errors_always_reach_the_server(varnish):
    post = dict(data=b"ASK {}", headers={"Content-Type": "application/sparql-query"}, timeout=10)
    answers = [requests.post(varnish + "/sparql", **post) for _ in range(2)]
    answers += [requests.get(varnish + "/id/no-such-thing", timeout=10) for _ in range(2)]
    answers += [requests.get(varnish + "/sparql?query=" + quote("ASK {"), timeout=10) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200, 404, 404, 400, 400]
    assert not any(_from_cache(answer) for answer in answers)


def _not_modified(backend) -> int:
    """How many 304s the server has answered on entity pages."""
    metrics = requests.get(backend.url + "/metrics", timeout=10).text
    found = re.search(r'ldngraph_http_requests_total\{route="/id/<path:rest>",status="304"\} (\d+)', metrics)
    return int(found.group(1)) if found else 0


def test_an_expired_copy_is_revalidated_with_its_etag(varnish, backend):
    url = varnish + "/id/low-dose-naltrexone.ttl"
    first = requests.get(url, timeout=10)
    before = _not_modified(backend)
    time.sleep(MAX_AGE + 1)  # the copy is stale now, and kept
    again = requests.get(url, timeout=10)
    assert again.status_code == 200 and again.content == first.content
    assert _not_modified(backend) == before + 1  # the server said 304; Varnish served its copy

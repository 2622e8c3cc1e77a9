"""Security headers, asked of the application through Flask's test client: nosniff on every response; on every HTML page a Content-Security-Policy
without inline script or eval, no framing, a Referrer-Policy; and pages that need nothing inline."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import quote

import pytest

HTML_PAGES = [
    ("/", 200),
    ("/sparql", 200),
    ("/id/naltrexone", 200),
    ("/id/fibromyalgia", 200),
    ("/ontology", 200),
    ("/evidence?condition=multiple-sclerosis", 200),
    ("/search?q=pain", 200),
    ("/downloads/", 200),
    ("/downloads/latest/", 200),
    ("/id/no-such-thing", 404),
    ("/search?q=" + "x" * 300, 400),
]
OTHER_ANSWERS = [
    ("/sparql?query=" + quote("ASK {}"), 200),
    ("/sparql?query=" + quote("ASK {"), 400),
    ("/id/naltrexone.ttl", 200),
    ("/.well-known/void", 200),
    ("/downloads/latest/SHA256SUMS", 200),
    ("/downloads/latest/no-such-file", 404),
    ("/static/query.js", 200),
    ("/static/pages.css", 200),
    ("/health", 200),
    ("/metrics", 200),
]


def _directives(policy: str) -> dict[str, list[str]]:
    found = {}
    for directive in policy.split(";"):
        name, *sources = directive.split()
        found[name] = sources
    return found


@pytest.mark.parametrize(("path", "status"), HTML_PAGES)
def test_every_html_page_has_a_strict_policy(client, site, path, status):
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == status and response.headers["Content-Type"].startswith("text/html")
    policy = _directives(response.headers["Content-Security-Policy"])
    own = ["'self'", site]
    assert policy["default-src"] == ["'none'"]
    for directive in ("script-src", "style-src", "connect-src", "form-action", "img-src"):
        assert policy[directive] == own, directive  # no 'unsafe-inline', no 'unsafe-eval', no other host
    assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(("path", "status"), OTHER_ANSWERS)
def test_every_answer_says_nosniff(client, path, status):
    with client.get(path) as response:  # closes a download's file
        assert response.status_code == status
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Content-Security-Policy" not in response.headers  # only pages run anything


DATA_BLOCKS = ("application/json", "application/ld+json")


class _Inline(HTMLParser):
    """Collects what a policy without 'unsafe-inline' would block: inline script, style and handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        # A data block (JSON, JSON-LD for search engines) is never run, so the policy lets it be.
        if tag == "script" and "src" not in named and named.get("type") not in DATA_BLOCKS:
            self.found.append("an inline <script>")
        if tag == "style":
            self.found.append("a <style> element")
        self.found += [f"{name}= on <{tag}>" for name, _ in attrs if name == "style" or name.startswith("on")]


@pytest.mark.parametrize(("path", "status"), HTML_PAGES)
def test_pages_need_nothing_inline(client, path, status):
    response = client.get(path, headers={"Accept": "text/html"})
    parser = _Inline()
    parser.feed(response.text)
    assert parser.found == []

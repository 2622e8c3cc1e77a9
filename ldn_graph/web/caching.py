"""HTTP caching: validators and freshness on the answers to GET, so that browsers and shared caches
(Varnish, nginx, a CDN) may keep them and revalidate them cheaply; nothing is kept of a POST or an error.

An answer to a GET is a function of its URL, the format negotiated for it and what the server serves:
the graph, the software and the settings that show in answers (the public URL, the limits). Its ETag
is a hash of exactly these, so it is strong (the same bytes whichever worker answers, and after a
restart on the same graph) and changes when any of them does, a reload to another release included.
``If-None-Match`` with that ETag gets 304 and no body. ``Cache-Control`` is ``public, max-age=…`` (with
``s-maxage`` when shared caches are given another age) on answers of 200 and redirects, and
``no-store`` on errors and on everything but GET and HEAD. Answers whose view chose their own
``Cache-Control`` keep it: downloads (immutable versioned files, ``latest/`` revalidated),
``/health`` and ``/metrics`` (never stored).

The same rules serve the Flask views (an ``after_request`` hook) and the WSGI front that answers
queries (:mod:`ldn_graph.web.front`), through :func:`cache_headers` and :func:`not_modified`.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, request
from werkzeug.http import parse_etags

from ldn_graph import __version__
from ldn_graph.web.config import ServeConfig
from ldn_graph.web.state import state, state_of

NO_STORE = "no-store"
_PACKAGE = Path(__file__).resolve().parents[1]
_SOFTWARE_SUFFIXES = (".py", ".html", ".css", ".js", ".svg")


@dataclass(frozen=True)
class CachePolicy:
    fingerprint: str  # what the server serves: graph, software, settings that show in answers
    max_age: int
    shared_max_age: int | None = None

    @property
    def fresh(self) -> str:
        """The ``Cache-Control`` of a cacheable answer."""
        if self.shared_max_age is None or self.shared_max_age == self.max_age:
            return f"public, max-age={self.max_age}"
        return f"public, max-age={self.max_age}, s-maxage={self.shared_max_age}"

    def etag(self, path: str, query_string: bytes, content_type: str) -> str:
        """The strong ETag of the answer to a GET of ``path?query_string`` in ``content_type``."""
        digest = hashlib.blake2b(digest_size=16)
        for part in (self.fingerprint.encode(), path.encode(), query_string, content_type.encode()):
            digest.update(len(part).to_bytes(4, "big") + part)
        return f'"{digest.hexdigest()}"'


def cache_policy(config: ServeConfig, loaded: Iterable[Path], limits: str) -> CachePolicy:
    """The policy of an application serving ``config`` from the files ``loaded`` (none: a store the server
    cannot see into, such as a remote one, which gets new validators at every start and reload)."""
    digest = hashlib.sha256()
    for part in (__version__, _software_digest(), config.public_url, limits, *config.service_allow):
        digest.update(part.encode() + b"\0")
    files = list(loaded)
    for path in files:
        with path.open("rb") as stream:
            digest.update(hashlib.file_digest(stream, "sha256").digest())
    if not files:
        digest.update(f"{os.getpid()} {time.time_ns()}".encode())
    return CachePolicy(digest.hexdigest(), config.max_age, config.shared_max_age)


def _software_digest() -> str:
    """A hash of the package's code, templates and static files: an upgrade may change any answer."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*")):
        if path.suffix in _SOFTWARE_SUFFIXES and "_resources" not in path.parts and path.is_file():
            digest.update(str(path.relative_to(_PACKAGE)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def cache_headers(
    policy: CachePolicy, method: str, status: int, path: str, query_string: bytes, content_type: str | None
) -> list[tuple[str, str]]:
    """``Cache-Control`` for an answer, and its ``ETag`` when it is a 200 to a GET or HEAD."""
    if method not in ("GET", "HEAD") or status >= 400:
        return [("Cache-Control", NO_STORE)]
    if status != 200:
        return [("Cache-Control", policy.fresh)]
    return [("ETag", policy.etag(path, query_string, content_type or "")), ("Cache-Control", policy.fresh)]


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weak comparison, as RFC 9110 asks of it) or is ``*``."""
    return bool(if_none_match) and parse_etags(if_none_match).contains_weak(etag.strip('"'))


def install_caching(app: Flask, policy: CachePolicy) -> None:
    state_of(app).cache_policy = policy
    # Flask's static files get its own validators; with this they get the same freshness too.
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = policy.max_age
    app.after_request(_cacheable)


def _cacheable(response: Response) -> Response:
    if "Cache-Control" in response.headers:  # the view chose (downloads, health, metrics, static files)
        return response
    policy: CachePolicy = state().cache_policy
    headers = cache_headers(
        policy,
        request.method,
        response.status_code,
        request.path,
        request.query_string,
        response.content_type,
    )
    for name, value in headers:
        response.headers[name] = value
    if "ETag" in response.headers and response.status_code == 200:
        response.make_conditional(request.environ)  # 304 when If-None-Match names it
    return response

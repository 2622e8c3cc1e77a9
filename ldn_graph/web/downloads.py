"""``/downloads/``: the files of each release, at immutable versioned URLs and under ``latest/``.

Only releases that verified against their manifest when the server started are offered, and only the
files their manifest and SHA256SUMS list. The ETag of a file is its SHA-256 (strong, and the same on
every mirror); Werkzeug's ``send_file(conditional=True)`` answers ``Range``, ``If-Range``,
``If-None-Match`` and ``If-Modified-Since`` as HTTP says (206, 304, 416).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, send_file

from ldn_graph.releases import CHECKSUMS, LATEST, MANIFEST, Release
from ldn_graph.web.state import endpoint

blueprint = Blueprint("downloads", __name__)

_YEAR, _FIVE_MINUTES = 31536000, 300
IMMUTABLE = f"public, max-age={_YEAR}, immutable"
# latest/ moves when a new release is served: caches must check back (cheaply, by ETag).
MOVABLE = f"public, max-age={_FIVE_MINUTES}, must-revalidate"
_SPECIAL = {MANIFEST: ("application/json", "the release manifest"), CHECKSUMS: ("text/plain", "SHA-256 sums")}


def _not_found(message: str) -> None:
    abort(Response(message + "\n", status=404, mimetype="text/plain"))


def _release(version: str) -> Release:
    served = endpoint()
    if not served.releases:
        _not_found("this server offers no downloads: it was not started on a releases directory (--releases)")
    if version == LATEST:
        return served.release
    for release in served.releases:
        if release.version == version:
            return release
    _not_found(f"no release {version} here; see /downloads/ for the releases offered")


@blueprint.route("/downloads/")
def index() -> str:
    served = endpoint()
    if not served.releases:
        _not_found("this server offers no downloads: it was not started on a releases directory (--releases)")
    return render_template(
        "downloads.html",
        releases=served.releases,
        latest=served.release,
        release=None,
        void_url=served.config.void_url,
    )


@blueprint.route("/downloads/<version>/")
def release_index(version: str) -> str:
    release = _release(version)
    return render_template(
        "downloads.html",
        releases=endpoint().releases,
        latest=endpoint().release,
        release=release,
        files=[*release.manifest.files, *_special_files(release)],
        base=f"{endpoint().config.public_url}/downloads/{version}/",
        void_url=endpoint().config.void_url,
    )


def _special_files(release: Release) -> list[dict]:
    return [
        {
            "name": name,
            "title": title,
            "http_media_type": media_type,
            "size": (release.path / name).stat().st_size,
        }
        | {"sha256": release.digests[name], "triples": None}
        for name, (media_type, title) in _SPECIAL.items()
    ]


@blueprint.route("/downloads/<version>/<name>")
def download(version: str, name: str) -> Response:
    release = _release(version)
    path = release.file_path(name)
    if path is None:
        _not_found(
            f"release {release.version} has no file {name}; its files are listed at /downloads/{version}/"
        )
    entry = release.manifest.file(name)
    media_type = entry.http_media_type if entry else _SPECIAL[name][0]
    # The age given here also dates the Expires header, which must agree with Cache-Control below.
    response = send_file(
        path,
        mimetype=media_type,
        conditional=True,
        etag=release.digests[name],
        max_age=_FIVE_MINUTES if version == LATEST else _YEAR,
    )
    response.headers["Cache-Control"] = MOVABLE if version == LATEST else IMMUTABLE
    if version == LATEST:
        response.headers["Content-Location"] = f"/downloads/{release.version}/{name}"
    return response

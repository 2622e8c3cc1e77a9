"""Releases on disk: their layout, their manifest, and opening one with proof that it is whole.

A release is one directory, ``<out>/<version>/`` (``graph/release.py`` writes it), whose
``manifest.json`` lists every file with its SHA-256, size and triple count, and whose ``SHA256SUMS``
lets ``sha256sum -c`` check it. The manifest lets a server refuse a release that was cut short: a Turtle
or N-Triples file cut at a statement boundary still parses, but its SHA-256, size and triple count no
longer match. Standard library only: the server reads releases without the pipeline that writes them.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ldn_graph.errors import LdnGraphError

GRAPH_STEM = "ldn-graph"
GRAPH_FILE = GRAPH_STEM + ".nt"  # the file a server loads
MANIFEST = "manifest.json"
CHECKSUMS = "SHA256SUMS"
LATEST = "latest"
MANIFEST_FORMAT = 1
_SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")


class ReleaseError(LdnGraphError):
    """A release that cannot be written, or one on disk that cannot be trusted; says which and why."""


@dataclass(frozen=True)
class ReleaseFile:
    """One file of a release, as the manifest records it."""

    name: str
    role: str  # graph, ontology, shapes, description, mappings, changelog
    title: str
    media_type: str  # of the content: text/turtle also for ldn-graph.ttl.gz
    compressed: bool
    sha256: str
    size: int
    triples: int | None = None  # for RDF files: the number of triples it holds

    @property
    def http_media_type(self) -> str:
        # A .gz is sent as what it is (a gzip file), not as Turtle with Content-Encoding: clients would
        # then unpack it on the fly and store a file whose checksum no longer matches SHA256SUMS.
        return "application/gzip" if self.compressed else self.media_type


@dataclass(frozen=True)
class Manifest:
    version: str
    issued: str  # ISO date
    triples: int  # triples of the graph (each dump holds exactly these)
    graph: str  # the N-Triples dump a server loads
    files: tuple[ReleaseFile, ...]

    def file(self, name: str) -> ReleaseFile | None:
        return next((f for f in self.files if f.name == name), None)

    def to_json(self) -> bytes:
        document = {
            "format": MANIFEST_FORMAT,
            "version": self.version,
            "issued": self.issued,
            "triples": self.triples,
            "graph": self.graph,
            "files": [asdict(f) for f in self.files],
        }
        return (json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, payload: bytes, where: Path | str) -> Manifest:
        try:
            document = json.loads(payload.decode("utf-8"))
            if document.get("format") != MANIFEST_FORMAT:
                raise ValueError(f"unknown manifest format {document.get('format')!r}")
            return cls(
                version=str(document["version"]),
                issued=str(document["issued"]),
                triples=int(document["triples"]),
                graph=str(document["graph"]),
                files=tuple(ReleaseFile(**entry) for entry in document["files"]),
            )
        except (UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
            raise ReleaseError(f"{where}: not a release manifest ({error})") from None


@dataclass(frozen=True)
class Release:
    """A release directory whose every file matched its manifest when it was opened."""

    path: Path
    manifest: Manifest
    digests: dict[str, str] = field(default_factory=dict, compare=False)  # SHA-256 of every file

    @property
    def version(self) -> str:
        return self.manifest.version

    def file_path(self, name: str) -> Path | None:
        """The path of a file of the release (a listed one, the manifest or SHA256SUMS), else None:
        nothing else in its directory is ever served."""
        return self.path / name if name in self.digests else None


def parse_version(text: str) -> tuple[int, int, int] | None:
    """``MAJOR.MINOR.PATCH`` as numbers, or None for anything else (pre-releases are not published)."""
    match = _SEMVER.fullmatch(text)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def sha256_of(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def read_checksums(text: str, where: Path) -> dict[str, str]:
    """``sha256sum`` output (``<hex>  <name>`` per line) as name -> digest."""
    sums = {}
    for number, line in enumerate(text.splitlines(), 1):
        match = re.fullmatch(r"([0-9a-f]{64}) [ *](\S.*)", line)
        if match is None:
            raise ReleaseError(f"{where}:{number}: not a sha256sum line: {line[:80]!r}")
        sums[match[2]] = match[1]
    return sums


def verify_release(path: Path) -> Release:
    """Open the release at ``path``, checking every file against the manifest and SHA256SUMS.

    Raises ReleaseError naming the first file that is missing, of the wrong size or of the wrong
    SHA-256, so that a truncated or corrupted release is never served."""
    path = Path(path)
    try:
        manifest = Manifest.from_json((path / MANIFEST).read_bytes(), path / MANIFEST)
        sums = read_checksums((path / CHECKSUMS).read_text(encoding="utf-8"), path / CHECKSUMS)
    except (OSError, UnicodeDecodeError) as error:
        raise ReleaseError(f"{path}: cannot read the manifest or {CHECKSUMS}: {error}") from None
    if manifest.version != path.name:
        raise ReleaseError(f"{path}: the manifest is of version {manifest.version}, not {path.name}")
    if sums.get(MANIFEST) != sha256_of(path / MANIFEST):
        raise ReleaseError(f"{path / MANIFEST}: SHA-256 differs from {CHECKSUMS}")
    if manifest.file(manifest.graph) is None:
        raise ReleaseError(f"{path / MANIFEST}: names {manifest.graph} as the graph but does not list it")
    for entry in manifest.files:
        file = path / entry.name
        if "/" in entry.name or entry.name.startswith(".") or not file.is_file() or file.is_symlink():
            raise ReleaseError(f"{file}: listed in the manifest but not a file of the release")
        if sums.get(entry.name) != entry.sha256:
            raise ReleaseError(f"{file}: the manifest and {CHECKSUMS} disagree about its SHA-256")
        size = file.stat().st_size
        if size != entry.size:
            raise ReleaseError(f"{file}: {size:,} bytes, but the manifest says {entry.size:,} (cut short?)")
        if sha256_of(file) != entry.sha256:
            raise ReleaseError(f"{file}: SHA-256 differs from the manifest (corrupted)")
    digests = {entry.name: entry.sha256 for entry in manifest.files}
    digests |= {MANIFEST: sums[MANIFEST], CHECKSUMS: sha256_of(path / CHECKSUMS)}
    return Release(path, manifest, digests)


def release_dirs(directory: Path) -> list[Path]:
    """The version-named directories of a releases directory, highest version first."""
    if not directory.is_dir():
        raise ReleaseError(f"{directory}: not a directory of releases")
    found = [p for p in directory.iterdir() if p.is_dir() and not p.is_symlink() and parse_version(p.name)]
    return sorted(found, key=lambda p: parse_version(p.name), reverse=True)


def find_releases(directory: Path) -> tuple[list[Release], list[ReleaseError]]:
    """Every release in ``directory`` that verifies (highest version first) and why the others do not."""
    valid, refused = [], []
    for path in release_dirs(Path(directory)):
        try:
            valid.append(verify_release(path))
        except ReleaseError as error:
            refused.append(error)
    return valid, refused

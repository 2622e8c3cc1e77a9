"""Where the curated sources live: the checkout when run from one, else the copy inside the wheel."""

from __future__ import annotations

import hashlib
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def project_root() -> Path:
    """The directory holding ``ontology/``, ``graph_data/`` and ``queries/``."""
    if (_CHECKOUT / "ontology").is_dir() and (_CHECKOUT / "graph_data").is_dir():
        return _CHECKOUT
    return _PACKAGE / "_resources"


def ontology_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "ontology"


def data_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "graph_data"


def queries_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "queries"


def source_article(root: Path | None = None) -> Path:
    return data_dir(root) / "source" / "low-dose-naltrexone.wikiprojectmed.txt"


# The libraries whose versions decide the bytes of a build: they parse the sources and write the terms.
_BUILD_LIBRARIES = ("pyoxigraph", "rdflib")


def sources_digest(root: Path | None = None, version: str | None = None) -> str:
    """The digest of everything a build of ``root`` (default: the installed graph) reads: every file
    under the source folders (not only the Turtle the build parses: it reads the identifier table too),
    the data changelog and ``SOURCE_DATE_EPOCH`` (the issued date), the version, the package's own code
    (how literals are written, how types are materialised) and the libraries' versions. A graph built
    and kept under it is the graph a build would make now."""
    from ldn_graph import __version__

    stamped = version or __version__
    digest = hashlib.sha256(f"{stamped} {os.environ.get('SOURCE_DATE_EPOCH', '')}".encode())
    for library in _BUILD_LIBRARIES:
        digest.update(f" {library} {library_version(library)}".encode())
    for module in sorted(_PACKAGE.rglob("*.py")):
        digest.update(str(module.relative_to(_PACKAGE)).encode())
        digest.update(module.read_bytes())
    changelog = (root or project_root()) / "CHANGELOG-DATA.md"
    if changelog.is_file():
        digest.update(changelog.read_bytes())
    for folder in (ontology_dir(root), data_dir(root)):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(folder.parent)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def library_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "?"

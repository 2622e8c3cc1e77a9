"""Where the curated sources live: the checkout when run from one, else the copy inside the wheel."""

from __future__ import annotations

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

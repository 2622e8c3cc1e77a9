"""Fixtures for tests about releases: one release written once per session, a copy of the sources that
a test may change, the version it releases and its changelog entry. A conftest imports those it uses."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ldn_graph.graph.release import make_release
from ldn_graph.releases import Release, verify_release
from support.paths import ROOT


@pytest.fixture(scope="session")
def releases_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("releases")
    make_release(out, ROOT)
    return out


@pytest.fixture(scope="session")
def released(releases_dir: Path) -> Release:
    (version,) = [p.name for p in releases_dir.iterdir() if p.name != "latest"]
    return verify_release(releases_dir / version)


@pytest.fixture
def sources(tmp_path: Path, version) -> Path:
    """A copy of the curated sources and the data changelog, to edit, released as 0.1.0 unless the test
    names another version: the tests say which versions they release, whatever the package's is."""
    version("0.1.0")
    root = tmp_path / "project"
    for folder in ("ontology", "graph_data"):
        shutil.copytree(ROOT / folder, root / folder)
    shutil.copy(ROOT / "CHANGELOG-DATA.md", root / "CHANGELOG-DATA.md")
    return root


@pytest.fixture
def version(monkeypatch):
    """``version("0.2.0")`` makes the build stamp and release that version."""

    def set_version(value: str) -> str:
        monkeypatch.setattr("ldn_graph.graph.build.__version__", value)
        return value

    return set_version


@pytest.fixture
def changelog(sources: Path):
    """``changelog("0.2.0", text)`` adds an entry for that version to the copy's data changelog."""

    def add_entry(version: str, text: str = "Corrections.") -> None:
        path = sources / "CHANGELOG-DATA.md"
        head, _, rest = path.read_text(encoding="utf-8").partition("\n## ")
        path.write_text(f"{head}\n## {version}\n\n{text}\n\n## {rest}", encoding="utf-8")

    return add_entry

"""The built graph kept between commands, so that building, validating and releasing parse it once.

``ldn-graph build``, ``validate`` and ``release`` each start from the built graph: parsing the sources,
materialising types and describing the dataset took 8-13 s of each at 10^6 triples. The first of them
to build keeps the graph in the cache directory as its sorted N-Triples, byte for byte the release's
``ldn-graph.nt``, under the digest of everything a build reads (``sources_digest``); the others load
that file into a store (3 s at 10^6). Beside it, a validation keeps its report under the engine's name
and version, so that a release after a validation of the same graph does not validate again.

A release keeps there too the files of a release that follow from the same inputs alone (the ontology
and shapes as released, the mapping set: ``keep_release_files``; the gzipped dumps:
``keep_release_file``), so that releasing the same sources again does not parse, write or gzip them
again.

Any change to what a build reads is another digest, and a graph or report kept for other inputs is
never used: every file under ``ontology/`` and ``graph_data/`` (the shapes, the source article and the
curation notes among them), the data changelog (the issued date), ``SOURCE_DATE_EPOCH``, the package's
own code and the versions of the libraries that parse and write its terms. Only the newest ``KEPT``
graphs are kept; an entry is written whole or not at all.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ldn_graph.atomic_files import write_atomic
from ldn_graph.graph import build as build_module
from ldn_graph.graph.build import BuildResult, build_graph, read_pieces, release_date, serialised
from ldn_graph.graph.load import LoadedSources, source_files
from ldn_graph.graph.store_graph import StoreGraph
from ldn_graph.resources import library_version, sources_digest

log = logging.getLogger(__name__)

KEPT = 3
GRAPH = "ldn-graph.nt"
FACTS = "graph.json"  # the number of triples
RELEASE_FILES = "release-files"  # a folder: files of a release that follow from the build's inputs alone
RELEASE_FILES_LISTED = "release-files.json"  # their names and triple counts, written after them


@dataclass(frozen=True)
class KeptBuild:
    """One built graph in the cache: its sorted N-Triples, and the reports of its validations."""

    directory: Path

    @property
    def ntriples(self) -> Path:
        return self.directory / GRAPH

    def pieces(self) -> Iterator[bytes]:
        """The sorted N-Triples, read a piece at a time."""
        return read_pieces(self.ntriples)

    @property
    def triples(self) -> int:
        return json.loads((self.directory / FACTS).read_text(encoding="utf-8"))["triples"]

    def load(self) -> ox.Store:
        store = ox.Store()
        store.load(path=str(self.ntriples), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.DefaultGraph())
        return store

    def release_files(self) -> dict[str, tuple[bytes, int | None]] | None:
        """The files of a release kept with this build by ``keep_release_files`` (name -> content and
        number of triples), or None: none kept (an entry kept before they were) or not all readable."""
        try:
            listed = json.loads((self.directory / RELEASE_FILES_LISTED).read_text(encoding="utf-8"))
            return {
                name: ((self.directory / RELEASE_FILES / name).read_bytes(), triples)
                for name, triples in listed.items()
            }
        except (OSError, ValueError):
            return None

    def keep_release_files(self, files: dict[str, tuple[bytes, int | None]]) -> None:
        """Keep files of a release that follow from this build's inputs alone. Each is written whole, and
        the list naming them last, so that a list found names only files written whole."""

        def write() -> None:
            for name, (content, _) in files.items():
                write_atomic(self.directory / RELEASE_FILES / name, content)
            listed = {name: triples for name, (_, triples) in files.items()}
            write_atomic(self.directory / RELEASE_FILES_LISTED, json.dumps(listed).encode("utf-8"))

        self._keeping(write)

    def release_file(self, name: str) -> Path | None:
        """A file of a release kept with this build by ``keep_release_file``, or None."""
        path = self.directory / RELEASE_FILES / name
        return path if path.is_file() else None

    def keep_release_file(self, name: str, content: Iterable[bytes]) -> None:
        """Keep a file of a release made from this build alone (written whole or not at all)."""
        self._keeping(lambda: write_atomic(self.directory / RELEASE_FILES / name, content))

    def _keeping(self, write: Callable[[], None]) -> None:
        """Run ``write`` into the entry's folder of release files. Keeping them only saves time: a cache
        that cannot take them (full, or the entry removed meanwhile, which must not come back without its
        graph) leaves the release being written as it is."""
        try:
            (self.directory / RELEASE_FILES).mkdir(exist_ok=True)  # not its parents: the entry must be there
            write()
        except OSError as error:
            log.warning("release files not kept in %s: %s", self.directory, error)

    def _report_file(self, engine: str) -> Path:
        engine_version = library_version("pyshacl-turbo" if engine == "turbo" else "pyshacl")
        return self.directory / f"report-{engine}-{engine_version}.json"

    def report(self, engine: str, root: Path | None):
        """The report a validation of this graph with ``engine`` kept, or None. The files it names are
        those of ``root`` as given then, so it is kept for that spelling of the root only."""
        from ldn_graph.graph.validate import ValidationReport

        try:
            kept = json.loads(self._report_file(engine).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if kept.get("root") != str(root or ""):
            return None
        return ValidationReport.from_json(json.dumps(kept["report"]))

    def keep_report(self, engine: str, root: Path | None, report) -> None:
        kept = {"root": str(root or ""), "report": json.loads(report.to_json())}
        write_atomic(self._report_file(engine), json.dumps(kept).encode("utf-8"))


def cached_build(root: Path | None, cache: Path) -> tuple[BuildResult, KeptBuild]:
    """The built graph of ``root`` in a store: loaded from the cache when it holds it (when first
    asked for: a release copies and gzips the kept N-Triples meanwhile), else built from the sources
    and kept there."""
    version = build_module.__version__  # the version the build stamps
    kept = KeptBuild(cache / "built" / sources_digest(root, version))
    if not (kept.directory / FACTS).is_file():
        build = build_graph(root, store=True)
        _keep(build, kept)
        return build, kept
    os.utime(kept.directory)  # newly used: the last to be removed
    graph = StoreGraph.made_when_asked(kept.load)
    sources = LoadedSources(graph, source_files(root))
    return BuildResult(graph, sources, version, release_date(root)), kept


def _keep(build: BuildResult, kept: KeptBuild) -> None:
    """Write the entry beside its place and rename it there, then remove all but the newest ``KEPT``."""
    kept.directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=kept.directory.parent))
    try:
        lines = 0
        with (staging / GRAPH).open("wb") as stream:
            for piece in serialised(build.graph, "nt", work=staging):
                lines += piece.count(b"\n")
                stream.write(piece)
        (staging / FACTS).write_text(json.dumps({"triples": lines}), encoding="utf-8")  # written last
        os.chmod(staging, 0o755)
        os.rename(staging, kept.directory)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not (kept.directory / FACTS).is_file():  # another process kept the same graph first: fine
            raise
    entries = [p for p in kept.directory.parent.iterdir() if p.is_dir() and not p.name.startswith(".")]
    entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[KEPT:]:
        if old != kept.directory:
            shutil.rmtree(old, ignore_errors=True)

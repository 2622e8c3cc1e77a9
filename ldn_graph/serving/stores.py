"""Loading the served dataset into an embedded Oxigraph store.

The release goes into the default graph, so the endpoint's default graph is exactly the release. Extra
files keep their named graphs when they are N-Quads or TriG; their triples otherwise join the default
graph. When no release file is given, the graph is built once and cached by the hash of its sources,
so that starting the server again stays fast.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from pyoxigraph import DefaultGraph, RdfFormat, Store

from ldn_graph import __version__
from ldn_graph.errors import LdnGraphError
from ldn_graph.graph.dataset_description import DATASET
from ldn_graph.graph.release import Release, find_releases
from ldn_graph.resources import data_dir, ontology_dir, project_root
from ldn_graph.vocab.prefixes import DCAT

log = logging.getLogger(__name__)


class StoreLoadError(LdnGraphError):
    """A file that cannot be loaded into the store; names the file."""


def rdf_format(path: Path) -> RdfFormat:
    """The RDF format of ``path`` from its extension, looking through a ``.gz`` suffix."""
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    extension = name.rpartition(".")[2].lower()
    rdf_format = RdfFormat.from_extension(extension)
    if rdf_format is None:
        raise StoreLoadError(f"{path}: unknown RDF format (extension .{extension})")
    return rdf_format


def _load(store: Store, path: Path) -> None:
    fmt = rdf_format(path)
    # Triples go to the default graph; a dataset format keeps its graphs.
    to_graph = None if fmt.supports_datasets else DefaultGraph()
    try:
        with gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb") as stream:
            store.load(stream, format=fmt, to_graph=to_graph)
    except (SyntaxError, ValueError) as error:
        raise StoreLoadError(f"{path}: {error}") from None
    except OSError as error:
        raise StoreLoadError(f"{path}: {error.strerror or error}") from None


def load_store(release_file: Path, data: Sequence[Path] = ()) -> Store:
    """An in-memory store holding ``release_file`` in its default graph, plus each of ``data``."""
    store = Store()
    for path in (release_file, *data):
        _load(store, path)
    log.info("loaded %s quads from %s and %d extra file(s)", f"{len(store):,}", release_file, len(data))
    return store


def _sources_digest() -> str:
    # Every file under the source folders counts, not only the Turtle the build parses, since the build
    # may read others (the identifier table); so do the version and the date the build stamps (from
    # SOURCE_DATE_EPOCH or the data changelog's heading), and the code of the build itself (the package's
    # modules), so that a change in how literals are written invalidates the cached graph too.
    digest = hashlib.sha256(f"{__version__} {os.environ.get('SOURCE_DATE_EPOCH', '')}".encode())
    for module in sorted(Path(__file__).resolve().parents[1].rglob("*.py")):
        digest.update(module.read_bytes())
    changelog = project_root() / "CHANGELOG-DATA.md"
    if changelog.is_file():
        digest.update(changelog.read_bytes())
    for folder in (ontology_dir(), data_dir()):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(folder.parent)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_dir() -> Path:
    base = os.environ.get("LDNGRAPH_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    return Path(base) / "ldn-graph" if base else Path.home() / ".cache" / "ldn-graph"


def built_release(cache: Path | None = None) -> Path:
    """The graph built from the curated sources as N-Triples, built only when the sources changed."""
    target = (cache or cache_dir()) / f"release-{_sources_digest()}.nt"
    if target.is_file():
        return target
    from ldn_graph.graph.build import build_graph, write_graph  # the build pulls in rdflib: only when needed

    log.info("building the graph into %s", target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp.nt")
    write_graph(build_graph(None, store=True).graph, partial)
    partial.replace(target)  # atomic, so a concurrent start never reads half a file
    return target


def built_releases(cache: Path | None = None) -> Path:
    """A releases directory holding the release of the curated sources, written only when the sources
    changed: sources that change get a directory of their own, so that one a running server reads is
    never rewritten. Writing it validates the graph first (InvalidGraph when it does not conform)."""
    target = (cache or cache_dir()) / f"releases-{_sources_digest()}"
    if target.is_dir() and find_releases(target)[0]:
        return target
    from ldn_graph.graph.release import make_release  # validating pulls in pySHACL: only when needed

    log.info("writing the release of the curated sources into %s", target)
    make_release(target)  # atomic, and the same bytes whoever writes it (a deterministic build)
    return target


def default_graph_triples(store: Store) -> int:
    (solution,) = store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    return int(solution["n"].value)


def graph_version(store: Store) -> str | None:
    """The version the served graph states of itself (its dataset description), if any."""
    found = list(store.query(f"SELECT ?v WHERE {{ <{DATASET}> <{DCAT.version}> ?v }}"))
    return found[0]["v"].value if found else None


def load_release(release: Release, data: Sequence[Path] = ()) -> Store:
    """A store holding a verified release (and ``data``), refused when the release's graph holds other
    than the manifest's number of triples."""
    store = load_store(release.path / release.manifest.graph)
    triples = default_graph_triples(store)
    if triples != release.manifest.triples:
        raise StoreLoadError(
            f"{release.path / release.manifest.graph}: {triples:,} triples, "
            f"but the manifest says {release.manifest.triples:,}"
        )
    for path in data:
        _load(store, path)
    return store


def load_newest_release(directory: Path, data: Sequence[Path] = ()) -> tuple[Store, Release, list[Release]]:
    """The highest version in a releases directory that verifies and loads, with every release that
    verifies (for downloads). A release cut short or corrupted is refused with a warning, and the one
    before it is served instead."""
    valid, refused = find_releases(directory)
    for error in refused:
        log.warning("release refused: %s", error)
    for release in list(valid):
        try:
            store = load_release(release, data)
        except StoreLoadError as error:
            log.warning("release refused: %s", error)
            valid.remove(release)
            continue
        log.info("serving release %s from %s", release.version, release.path)
        return store, release, valid
    raise StoreLoadError(
        f"{directory}: no release here verifies against its manifest; see the warnings above"
    )

"""Loading the served dataset into an embedded Oxigraph store.

The release goes into the default graph, so the endpoint's default graph is exactly the release. Extra
files keep their named graphs when they are N-Quads or TriG; their triples otherwise join the default
graph. A server given no release serves the sources' release, built once and cached
(:mod:`ldn_graph.graph.cached_release`).
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Sequence
from pathlib import Path

from pyoxigraph import DefaultGraph, RdfFormat, Store

from ldn_graph.errors import LdnGraphError
from ldn_graph.releases import Release, find_releases
from ldn_graph.vocab.dataset import DATASET
from ldn_graph.vocab.prefixes import PREFIXES

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


def default_graph_triples(store: Store) -> int:
    (solution,) = store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    return int(solution["n"].value)


def graph_version(store: Store) -> str | None:
    """The version the served graph states of itself (its dataset description), if any."""
    found = list(store.query(f"SELECT ?v WHERE {{ <{DATASET}> <{PREFIXES['dcat']}version> ?v }}"))
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

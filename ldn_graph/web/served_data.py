"""Which graph a server serves, as its settings say: a remote store, the newest release of a releases
directory that verifies, a release file, or else the curated sources' release, built once and cached."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import Store

from ldn_graph.graph.cached_release import built_release
from ldn_graph.releases import MANIFEST, Release, find_releases
from ldn_graph.serving.remote_store import RemoteStore
from ldn_graph.serving.stores import load_newest_release, load_store
from ldn_graph.web.config import ServeConfig


@dataclass(frozen=True)
class ServedData:
    store: Store | RemoteStore
    release: Release | None  # the release served, when serving a releases directory
    releases: tuple[Release, ...]  # every release that verified, offered for download
    loaded: tuple[Path, ...]  # the files the graph served comes from (a release: its manifest)


def open_served_data(config: ServeConfig, store: Store | None = None) -> ServedData:
    """The store ``config`` names (``store`` when given), with the releases offered for download."""
    release, releases = None, []
    loaded: tuple[Path, ...] = ()
    if config.store_url and store is None:
        # A remote SPARQL 1.1 store holds the graph: nothing is loaded here (docs/scale-out.md).
        store = RemoteStore(
            config.store_url,
            timeout=config.timeout,
            default_graph=config.store_graph,
            named_graphs=config.store_named_graphs,
        )
    if config.releases is not None and store is None:
        store, release, releases = load_newest_release(config.releases, config.data)
        loaded = (release.path / MANIFEST, *config.data)
    elif config.releases is not None:  # a store made by the caller, or a remote one: downloads only
        releases = find_releases(config.releases)[0]
        release = releases[0] if releases else None
    if store is None:
        graph_file = config.release_file or built_release()
        store = load_store(graph_file, config.data)
        loaded = (graph_file, *config.data)
    return ServedData(store, release, tuple(releases), loaded)

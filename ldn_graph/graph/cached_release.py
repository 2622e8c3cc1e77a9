"""The release of the curated sources, built once and kept in a cache folder until the sources change.

``ldn-graph serve`` and ``ldn-graph load`` given no release use it, so that starting the server again
stays fast. The cache key is a hash of every source file, the version and date the build stamps, and
the package's own code. The pipeline is imported only when something must be built, so a server that
finds its release cached never loads rdflib or pySHACL.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ldn_graph.releases import find_releases
from ldn_graph.resources import sources_digest

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    base = os.environ.get("LDNGRAPH_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    return Path(base) / "ldn-graph" if base else Path.home() / ".cache" / "ldn-graph"


def built_release(cache: Path | None = None) -> Path:
    """The graph built from the curated sources as N-Triples, built only when the sources changed."""
    target = (cache or cache_dir()) / f"release-{sources_digest()}.nt"
    if target.is_file():
        return target
    from ldn_graph.graph.build import build_graph, write_graph  # rdflib: only when building

    log.info("building the graph into %s", target)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_graph(build_graph(None, store=True).graph, target)  # atomic: a concurrent start never reads half
    return target


def built_releases(cache: Path | None = None) -> Path:
    """A releases directory holding the release of the curated sources, written only when the sources
    changed: sources that change get a directory of their own, so that one a running server reads is
    never rewritten. Writing it validates the graph first (InvalidGraph when it does not conform)."""
    target = (cache or cache_dir()) / f"releases-{sources_digest()}"
    if target.is_dir() and find_releases(target)[0]:
        return target
    from ldn_graph.graph.release import make_release  # pySHACL: only when writing one

    log.info("writing the release of the curated sources into %s", target)
    make_release(target)  # atomic, and the same bytes whoever writes it (a deterministic build)
    return target

"""The release of the curated sources, built once and kept in a cache folder until the sources change.

``ldn-graph serve`` and ``ldn-graph load`` given no release use it, so that starting the server again
stays fast. The cache key is a hash of every source file, the version and date the build stamps, and
the package's own code. The pipeline is imported only when something must be built, so a server that
finds its release cached never loads rdflib or pySHACL.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from ldn_graph import __version__
from ldn_graph.releases import find_releases
from ldn_graph.resources import data_dir, ontology_dir, project_root

log = logging.getLogger(__name__)


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
    from ldn_graph.graph.build import build_graph, write_graph  # rdflib: only when building

    log.info("building the graph into %s", target)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_graph(build_graph(None, store=True).graph, target)  # atomic: a concurrent start never reads half
    return target


def built_releases(cache: Path | None = None) -> Path:
    """A releases directory holding the release of the curated sources, written only when the sources
    changed: sources that change get a directory of their own, so that one a running server reads is
    never rewritten. Writing it validates the graph first (InvalidGraph when it does not conform)."""
    target = (cache or cache_dir()) / f"releases-{_sources_digest()}"
    if target.is_dir() and find_releases(target)[0]:
        return target
    from ldn_graph.graph.release import make_release  # pySHACL: only when writing one

    log.info("writing the release of the curated sources into %s", target)
    make_release(target)  # atomic, and the same bytes whoever writes it (a deterministic build)
    return target

"""Writing a versioned, verifiable release of the graph (reading one back: :mod:`ldn_graph.releases`).

A release is one directory, ``<out>/<version>/``, written whole or not at all::

    ldn-graph.ttl  ldn-graph.nt  ldn-graph.jsonld   the graph (N-Triples sorted), each also .gz
    ontology.ttl   shapes.ttl                       the ontology (version stamped), the SHACL shapes
    void.ttl                                        VoID/DCAT, with every file's size and SHA-256
    ldn-graph.sssom.tsv                             the SSSOM mapping set, once ``ldn_graph.graph.mappings`` exists
    CHANGELOG.md                                    this version's entry and what changed since the last
    manifest.json  SHA256SUMS                       each file's SHA-256, size and triple count

``<out>/latest`` is a relative symbolic link to the highest version. The same sources, version and
``SOURCE_DATE_EPOCH`` give the same bytes; nothing here reads the clock.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import shutil
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from pyoxigraph import NamedNode, RdfFormat, parse
from rdflib import BNode, Graph, URIRef

from ldn_graph import resources
from ldn_graph.graph import build as build_module
from ldn_graph.graph.build import BuildResult, build_graph, read_pieces, serialise, serialised, stamp_version
from ldn_graph.graph.dataset_description import describe_distributions, description_of, in_description
from ldn_graph.graph.jsonld import jsonld_chunks
from ldn_graph.graph.load import SHAPES_FILE, parse_file
from ldn_graph.graph.namespaces import bind_prefixes
from ldn_graph.graph.store_graph import StoreGraph, to_rdflib
from ldn_graph.releases import (
    CHECKSUMS,
    GRAPH_FILE,
    GRAPH_STEM,
    LATEST,
    MANIFEST,
    Manifest,
    Release,
    ReleaseError,
    ReleaseFile,
    find_releases,
    parse_version,
    release_dirs,
    verify_release,
)
from ldn_graph.serving.protocol import RDF_FORMATS
from ldn_graph.vocab.prefixes import PREFIXES, shorten

log = logging.getLogger(__name__)

CHANGELOG = "CHANGELOG.md"
MAPPING_SET = GRAPH_STEM + ".sssom.tsv"
CHANGELOG_SOURCE = "CHANGELOG-DATA.md"
_EXTENSION_TYPES = {
    **{f.suffix: f.media_type for f in RDF_FORMATS if f.suffix},
    ".json": "application/json",
    ".tsv": "text/tab-separated-values",
    ".yml": "application/yaml",
    ".yaml": "application/yaml",
    ".md": "text/markdown",
}
_BUMPS = ("patch", "minor", "major")
_LISTED = 40  # IRIs listed per change in the release changelog before "and N more"

Progress = Callable[[str], None]


class InvalidGraph(ReleaseError):
    """The graph does not pass validation, so it is not released; ``report`` holds the violations."""

    def __init__(self, report):
        self.report = report
        super().__init__(
            f"not released: the graph has {len(report.violations)} violation(s); fix them "
            "(`ldn-graph validate` lists them) and release again"
        )


# -- writing a release ---------------------------------------------------------------------------------


def _media_type(name: str) -> str:
    """The media type of a file's content (a .gz holds what its name says without the .gz)."""
    return _EXTENSION_TYPES.get(Path(name.removesuffix(".gz")).suffix, "text/plain")


_PIECE = 1 << 20  # bytes read at a time


def _gzip_pieces(path: Path) -> Iterator[bytes]:
    """``path`` gzipped as ``gzip.compress(data, 9, mtime=0)`` does it (zlib's own header: mtime 0, no
    file name, so the same content always gives the same bytes), read and compressed a piece at a time:
    deflate's output does not depend on how its input is cut."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    for piece in read_pieces(path, _PIECE):
        yield compressor.compress(piece)
    yield compressor.flush()


def _gunzip_pieces(path: Path) -> Iterator[bytes]:
    """The content of the gzipped file ``path``, decompressed a piece at a time."""
    decompressor = zlib.decompressobj(31)
    for piece in read_pieces(path, _PIECE):
        yield decompressor.decompress(piece)
    yield decompressor.flush()


class _ReleaseWriter:
    """A release being written into a hidden directory beside its target, a file at a time as each is
    made (a dump of 10^7 triples is never held whole), its SHA-256 and size taken on the way; each dump
    is gzipped in another thread while the next is written (zlib does not hold the interpreter)."""

    def __init__(self, out: Path, version: str) -> None:
        self.out, self.version = out, version
        self.staging = Path(tempfile.mkdtemp(prefix=f".{version}.partial-", dir=out))
        self.pending: list[ReleaseFile | Future] = []
        self.gzip = ThreadPoolExecutor(max_workers=2, thread_name_prefix="gzip")

    def add(
        self,
        name: str,
        role: str,
        title: str,
        content: bytes | Iterable[bytes],
        triples: int | None = None,
        gzipped: bool = False,
    ) -> None:
        digest, size = _write_file(self.staging / name, [content] if isinstance(content, bytes) else content)
        self.pending.append(ReleaseFile(name, role, title, _media_type(name), False, digest, size, triples))
        if gzipped:
            self.pending.append(self.gzip.submit(self._gzipped, name, role, title, triples))

    def add_from_gzip(self, name: str, role: str, title: str, gzipped: Path, triples: int | None) -> None:
        """``name`` and ``name.gz`` from ``gzipped``, the gzipped file of an earlier release of the same
        content: its bytes are what gzipping the content again makes (see ``_gzip_pieces``)."""
        self.add(name, role, title, _gunzip_pieces(gzipped), triples)
        self.pending.append(self._gzipped(name, role, title, triples, read_pieces(gzipped, _PIECE)))

    def _gzipped(
        self, name: str, role: str, title: str, triples: int | None, pieces: Iterable[bytes] | None = None
    ) -> ReleaseFile:
        pieces = _gzip_pieces(self.staging / name) if pieces is None else pieces
        digest, size = _write_file(self.staging / f"{name}.gz", pieces)
        return ReleaseFile(
            f"{name}.gz", role, f"{title} (gzip)", _media_type(name), True, digest, size, triples
        )

    def records(self) -> list[ReleaseFile]:
        """Every file written so far, gzipped ones once they are, in the order the manifest lists them."""
        records = [r.result() if isinstance(r, Future) else r for r in self.pending]
        return sorted(records, key=lambda r: _LISTED_ORDER.index(r.name))

    def finish(self, manifest: Manifest) -> Path:
        """Write the manifest and SHA256SUMS, then rename the directory into place: readers see the
        whole release or none of it. Returns the release directory."""
        self.gzip.shutdown()
        payload = manifest.to_json()
        manifest_digest, _ = _write_file(self.staging / MANIFEST, [payload])
        sums = [(r.name, r.sha256) for r in manifest.files] + [(MANIFEST, manifest_digest)]
        _write_file(self.staging / CHECKSUMS, [checksums_text(sums)])
        _fsync_dir(self.staging)
        os.chmod(self.staging, 0o755)  # mkdtemp makes it private; a release is public
        target = self.out / self.version
        try:
            os.rename(self.staging, target)
        except OSError as error:
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            _same_or_refuse(target, payload)
            shutil.rmtree(self.staging)
            return target
        _fsync_dir(self.out)
        return target

    def abandon(self) -> None:
        self.gzip.shutdown(cancel_futures=True)  # waits for a gzip under way: nothing writes afterwards
        shutil.rmtree(self.staging, ignore_errors=True)


def changelog_entry(text: str, version: str) -> str | None:
    """The body of the ``## <version>`` section of the data changelog, or None if it has none."""
    heading = re.compile(rf"^## +\[?{re.escape(version)}\]?(?:\s.*)?$", re.M)
    match = heading.search(text)
    if match is None:
        return None
    following = re.compile(r"^## ", re.M).search(text, match.end())
    return text[match.end() : following.start() if following else len(text)].strip()


def _subjects(triples: Iterable[tuple]) -> tuple[set[str], set[str]]:
    """(every IRI subject outside the dataset's description, the statement nodes among them)."""

    rdf_type, statement_type = PREFIXES["rdf"] + "type", PREFIXES["rdf"] + "Statement"
    subjects, statements = set(), set()
    for subject, predicate, obj in triples:
        if in_description(URIRef(str(subject))):
            continue
        subjects.add(str(subject))
        if str(predicate) == rdf_type and str(obj) == statement_type:
            statements.add(str(subject))
    return subjects, statements


def _previous_terms(release: Release) -> tuple[set[str], set[str]]:

    return _subjects(
        (t.subject.value, t.predicate.value, t.object.value if isinstance(t.object, NamedNode) else "")
        for t in parse(path=str(release.path / release.manifest.graph), format=RdfFormat.N_TRIPLES)
        if isinstance(t.subject, NamedNode)
    )


def _listed(iris: set[str]) -> str:

    names = sorted(shorten(i) for i in iris)
    more = f", and {len(names) - _LISTED} more" if len(names) > _LISTED else ""
    return ", ".join(names[:_LISTED]) + more


def bump_needed(removed: set[str], added_statements: set[str], version: tuple[int, int, int]) -> str:
    """The smallest version bump the changes call for (the policy of docs/releases.md)."""
    if removed:  # an IRI that disappears breaks queries written against it: a contract change
        # Before 1.0.0 semantic versioning lets a minor release change anything; we still ask for one.
        return "major" if version[0] >= 1 else "minor"
    return "minor" if added_statements else "patch"


def bump_made(previous: tuple[int, int, int], current: tuple[int, int, int]) -> str:
    if current[0] != previous[0]:
        return "major"
    return "minor" if current[1] != previous[1] else "patch"


def _graph_subjects(graph) -> tuple[set[str], set[str]]:
    """``_subjects`` of a built graph; the store's own answer for a graph held in one."""
    if not isinstance(graph, StoreGraph):
        return _subjects(graph)
    statement = f"<{PREFIXES['rdf']}Statement>"
    found = []
    for pattern in ("?s ?p ?o", f"?s a {statement}"):
        rows = graph.store.query(f"SELECT DISTINCT ?s WHERE {{ {pattern} FILTER(isIRI(?s)) }}")
        found.append({row["s"].value for row in rows})
    subjects = {iri for iri in found[0] if not in_description(URIRef(iri))}
    return subjects, found[1] & subjects


def release_changelog(graph, version: str, issued: str, entry: str, previous: Release | None) -> str:
    """The release's CHANGELOG.md: the curated entry, then what changed since ``previous``, counted.

    Refuses a version whose bump is smaller than the changes call for."""
    lines = [f"# ldn-graph {version} (issued {issued})", "", entry, ""]
    if previous is None:
        lines += ["## Compared with the previous release", "", "This is the first release.", ""]
        return "\n".join(lines)
    subjects, statements = _graph_subjects(graph)
    old_subjects, old_statements = _previous_terms(previous)
    removed = old_subjects - subjects
    added = subjects - old_subjects
    added_statements, removed_statements = statements - old_statements, old_statements - statements
    needed = bump_needed(removed, added_statements, parse_version(previous.version))
    made = bump_made(parse_version(previous.version), parse_version(version))
    if _BUMPS.index(made) < _BUMPS.index(needed):
        raise ReleaseError(
            f"{version} is a {made} release after {previous.version}, but the changes call for a {needed} "
            f"release ({len(removed)} IRI(s) removed, {len(added_statements)} statement(s) added); "
            "see docs/releases.md and set the version accordingly"
        )
    lines += [
        f"## Compared with {previous.version}",
        "",
        f"- triples: {len(graph):,} ({len(graph) - previous.manifest.triples:+,})",
        f"- statements: {len(statements):,} ({len(added_statements)} added, {len(removed_statements)} removed)",
    ]
    for label, iris in (
        ("statements added", added_statements),
        ("statements removed", removed_statements),
        ("other IRIs added", added - added_statements),
        ("other IRIs removed", removed - removed_statements),
    ):
        if iris:
            lines.append(f"- {label}: {_listed(iris)}")
    return "\n".join([*lines, ""])


# The files as the manifest lists them, whatever order they are written in.
_LISTED_ORDER = [
    *(f"{GRAPH_STEM}.{ext}{gz}" for ext in ("ttl", "nt", "jsonld") for gz in ("", ".gz")),
    "ontology.ttl",
    "shapes.ttl",
    MAPPING_SET,
    CHANGELOG,
    "void.ttl",
]


def _write_contents(
    writer: _ReleaseWriter, build: BuildResult, root: Path | None, changelog: str, triples: int, kept
) -> None:
    """Every file of the release but the description, the manifest and SHA256SUMS. The N-Triples go
    first, copied from the built graph ``kept`` in the cache (``ldn_graph.graph.build_cache``) if there is one,
    so that gzipping them overlaps loading the store; then the small files; then JSON-LD and Turtle,
    the largest last (its gzip is the quickest), each gzipped while the next is written. What an
    earlier release of the kept graph kept with it (the small files, the gzipped dumps) is copied
    instead of made."""

    graph = build.graph

    def dump(extension: str, title: str, content: Callable[[], Iterable[bytes]]) -> None:
        name = f"{GRAPH_STEM}.{extension}"
        gzipped = kept.release_file(f"{name}.gz") if kept else None
        if gzipped is None:
            writer.add(name, "graph", title, content(), triples, True)
        else:
            writer.add_from_gzip(name, "graph", title, gzipped, triples)

    nt = kept.pieces if kept else lambda: serialised(graph, "nt", work=writer.staging)
    dump("nt", "the graph as N-Triples, sorted", nt)
    files = kept.release_files() if kept else None
    if files is None:
        files = _files_of_the_sources(build, root)
        if kept:
            kept.keep_release_files(files)
    for name, (content, counted) in files.items():
        role, title = _SOURCE_FILE_ROLES[name]
        writer.add(name, role, title, content, counted)
    writer.add(CHANGELOG, "changelog", "what changed in this release", changelog.encode("utf-8"))
    dump("jsonld", "the graph as JSON-LD (our own context)", lambda: jsonld_chunks(graph))
    dump("ttl", "the graph as Turtle", lambda: serialised(graph, "ttl"))


def _keep_dumps(writer: _ReleaseWriter, kept) -> None:
    """Keep the gzipped dumps just written with the kept build they were made from (smaller than the
    dumps, and quickly decompressed), so that another release of it writes neither the Turtle nor the
    JSON-LD again, nor gzips any."""
    for extension in ("nt", "jsonld", "ttl"):
        name = f"{GRAPH_STEM}.{extension}.gz"
        if kept.release_file(name) is None:
            kept.keep_release_file(name, read_pieces(writer.staging / name, _PIECE))


# The role and title of each file of a release that follows from what the build reads alone.
_SOURCE_FILE_ROLES = {
    "ontology.ttl": ("ontology", "the ldn-graph ontology"),
    "shapes.ttl": ("shapes", "the SHACL shapes of the data contract"),
    MAPPING_SET: ("mappings", "the identifier mapping set (SSSOM)"),
}


def _files_of_the_sources(build: BuildResult, root: Path | None) -> dict[str, tuple[bytes, int | None]]:
    """The files of the release that follow from what the build reads alone, not from earlier releases
    (which a kept build keeps: ``ldn_graph.graph.build_cache``): name -> content and number of triples."""
    ontology = bind_prefixes(Graph())
    ontology_dir = resources.ontology_dir(root).resolve()
    for path in build.sources.files:
        if path.resolve().parent == ontology_dir:
            ontology += parse_file(path)
    stamp_version(ontology, build.version)
    files = {"ontology.ttl": (serialise(ontology, "ttl"), len(ontology)), "shapes.ttl": _shapes(root)}
    mapping_set = _mapping_set(build, root)
    if mapping_set is not None:
        files[MAPPING_SET] = (mapping_set.to_tsv().encode("utf-8"), None)
    return files


def _shapes(root: Path | None) -> tuple[bytes, int]:
    """The shapes as validation uses them: the curated file as written (its blank nodes would come out
    in a different order on every run if re-serialised), then the shapes generated from the scheme table,
    which have none. Returns the Turtle and its number of triples."""

    from ldn_graph.graph.validate import load_shapes

    source = resources.ontology_dir(root) / SHAPES_FILE
    curated = parse_file(source, allow_blank_nodes=True)
    merged = load_shapes(root)
    generated = bind_prefixes(Graph())
    for triple in merged:
        if not any(isinstance(term, BNode) for term in triple) and triple not in curated:
            generated.add(triple)
    text = (
        source.read_bytes().rstrip(b"\n")
        + b"\n\n# Generated from the scheme table (ldn_graph/graph/validate.py).\n"
    )
    return text + serialise(generated, "ttl"), len(merged)


def _mapping_set(build: BuildResult, root: Path | None):
    """The SSSOM mapping set, when this installation has the mappings module."""
    try:
        from ldn_graph.graph.mappings import build_mapping_set
        from ldn_graph.graph.reference_table import load_reference_table
    except ModuleNotFoundError as error:
        if error.name not in ("ldn_graph.graph.mappings", "ldn_graph.graph.reference_table"):
            raise
        return None
    return build_mapping_set(build.graph, load_reference_table(root), build.version, build.issued)


_DESCRIPTION = "description.nt"  # the description of a kept build's graph, kept with it


def _description(build: BuildResult, kept) -> Graph:
    """``description_of`` the built graph; kept with a kept build, which it follows from alone (asking
    for it loads the kept graph into a store and scans it: 3 s at 10^6 triples)."""
    found = kept.release_file(_DESCRIPTION) if kept else None
    description = bind_prefixes(Graph())
    if found is not None:
        description.addN(
            (to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object), description)
            for t in parse(path=str(found), format=RdfFormat.N_TRIPLES)
        )
        return description
    description = description_of(build.graph)
    if kept:
        kept.keep_release_file(
            _DESCRIPTION, serialised(description, "nt")
        )  # sorted: the same bytes every run
    return description


def _write_description(writer: _ReleaseWriter, build: BuildResult, kept) -> None:
    void = _description(build, kept)
    void += describe_distributions(build.version, build.issued, writer.records())
    title = "the dataset's VoID/DCAT description"
    writer.add("void.ttl", "description", title, serialise(void, "ttl"), len(void))


def checksums_text(records: Iterable[tuple[str, str]]) -> bytes:
    """``sha256sum``'s own format, so that ``sha256sum -c SHA256SUMS`` checks the release."""
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(records)).encode("utf-8")


def _write_file(path: Path, pieces: Iterable[bytes]) -> tuple[str, int]:
    """Write a new file from its pieces; returns its SHA-256 and size."""
    digest, size = hashlib.sha256(), 0
    with path.open("xb") as stream:
        for piece in pieces:
            digest.update(piece)
            size += len(piece)
            stream.write(piece)
        stream.flush()
        os.fsync(stream.fileno())
    return digest.hexdigest(), size


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _same_or_refuse(target: Path, manifest: bytes) -> None:
    """A release of this version exists: fine if it is byte for byte this one, else refused."""
    try:
        existing = (target / MANIFEST).read_bytes()
    except OSError:
        existing = None
    if existing != manifest:
        raise ReleaseError(
            f"{target} already holds a different release {target.name}: releases are immutable, so raise "
            "the version (see docs/releases.md) instead of overwriting it"
        )
    verify_release(target)  # the same manifest, but are its files whole?


def point_latest(out: Path) -> None:
    """Point ``out/latest`` at the highest version: a relative symbolic link, replaced atomically."""
    versions = release_dirs(out)
    if not versions:
        return
    link = out / LATEST
    if link.exists() and not link.is_symlink():
        raise ReleaseError(f"{link} exists and is not a symbolic link; move it away")
    temporary = out / f".{LATEST}.{os.getpid()}"
    temporary.unlink(missing_ok=True)
    os.symlink(versions[0].name, temporary)
    os.replace(temporary, link)


def _changelog_entry_of(root: Path | None, version: str) -> str:
    """This version's entry in the data changelog; ReleaseError when it has none."""
    changelog_path = (root or resources.project_root()) / CHANGELOG_SOURCE
    try:
        entry = changelog_entry(changelog_path.read_text(encoding="utf-8"), version)
    except FileNotFoundError:
        entry = None
    if entry is None:
        raise ReleaseError(
            f"{changelog_path}: no entry for {version}; add a '## {version}' section saying what changed"
        )
    return entry


def make_release(
    out: Path, root: Path | None = None, progress: Progress | None = None, cache: Path | None = None
) -> Path:
    """Build, validate and write the release of the current version into ``out/<version>/``. With
    ``cache``, the graph and validation report kept there for the same sources are used
    (``ldn_graph.graph.build_cache``): a release after ``validate`` does not validate again.

    Returns the release directory. Raises InvalidGraph when the graph does not validate, and
    ReleaseError when the version is not ``MAJOR.MINOR.PATCH``, has no changelog entry, is too small a
    bump for the changes, or names an existing release with other content."""

    # pySHACL takes a while to import; only writing a release needs it, not a server reading one.
    from ldn_graph.graph.validate import check_project

    say = progress or log.info
    out = Path(out)
    # The version is the one the build stamps, known before building: a version that cannot be released
    # is refused before the build and validation it would wait for.
    version = build_module.__version__
    if parse_version(version) is None:
        raise ReleaseError(f"version {version!r} is not MAJOR.MINOR.PATCH; only such versions are released")
    entry = _changelog_entry_of(root, version)
    if cache is None:
        build, kept = build_graph(root, store=True), None
    else:
        from ldn_graph.graph.build_cache import cached_build

        build, kept = cached_build(root, cache)
    triples = kept.triples if kept else len(build.graph)  # a kept graph is loaded when first asked
    report = kept.report("turbo", root) if kept else None
    if report is None:
        say(f"built {triples:,} triples of version {version}; validating")
        report = check_project(build, root)
        if kept:
            kept.keep_report("turbo", root, report)
    else:
        say(f"built {triples:,} triples of version {version}; a validation of this graph kept its report")
    if not report.conforms:
        raise InvalidGraph(report)
    out.mkdir(parents=True, exist_ok=True)
    earlier = [r for r in find_releases(out)[0] if parse_version(r.version) < parse_version(version)]
    changelog = release_changelog(
        build.graph, version, build.issued.isoformat(), entry, earlier[0] if earlier else None
    )
    say("writing the dumps, ontology, shapes and changelog")
    writer = _ReleaseWriter(out, version)
    try:
        _write_contents(writer, build, root, changelog, triples, kept)
        _write_description(writer, build, kept)
        records = tuple(writer.records())
        if kept:
            _keep_dumps(writer, kept)
        target = writer.finish(Manifest(version, build.issued.isoformat(), triples, GRAPH_FILE, records))
    except BaseException:
        writer.abandon()
        raise
    point_latest(out)
    say(f"wrote {len(records) + 2} files into {target}")
    return target

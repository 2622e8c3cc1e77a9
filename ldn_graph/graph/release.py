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
import gzip
import hashlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import NamedNode, RdfFormat, parse
from rdflib import BNode, Graph, URIRef

from ldn_graph import resources
from ldn_graph.graph.build import BuildResult, build_graph, serialise, stamp_version
from ldn_graph.graph.dataset_description import describe_distributions, description_of, in_description
from ldn_graph.graph.jsonld import to_jsonld
from ldn_graph.graph.load import SHAPES_FILE, parse_file
from ldn_graph.graph.namespaces import bind_prefixes
from ldn_graph.graph.store_graph import StoreGraph
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


@dataclass(frozen=True)
class _Payload:
    name: str
    role: str
    title: str
    data: bytes
    triples: int | None = None
    compressed: bool = False

    @property
    def media_type(self) -> str:
        stem = self.name.removesuffix(".gz")
        return _EXTENSION_TYPES.get(Path(stem).suffix, "text/plain")

    def record(self) -> ReleaseFile:
        return ReleaseFile(
            name=self.name,
            role=self.role,
            title=self.title,
            media_type=self.media_type,
            compressed=self.compressed,
            sha256=hashlib.sha256(self.data).hexdigest(),
            size=len(self.data),
            triples=self.triples,
        )


def gzipped(payload: _Payload) -> _Payload:
    # mtime 0 and no file name in the header: the same content always gives the same bytes.
    return _Payload(
        payload.name + ".gz",
        payload.role,
        payload.title + " (gzip)",
        gzip.compress(payload.data, compresslevel=9, mtime=0),
        payload.triples,
        compressed=True,
    )


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
    subjects, statements = _graph_subjects(graph)
    lines = [f"# ldn-graph {version} (issued {issued})", "", entry, ""]
    if previous is None:
        lines += ["## Compared with the previous release", "", "This is the first release.", ""]
        return "\n".join(lines)
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


def _contents(build: BuildResult, root: Path | None, previous: Release | None, entry: str) -> list[_Payload]:
    """Every file of the release but the manifest and SHA256SUMS, in memory."""

    graph, triples = build.graph, len(build.graph)
    ontology = bind_prefixes(Graph())
    ontology_dir = resources.ontology_dir(root).resolve()
    for path in build.sources.files:
        if path.resolve().parent == ontology_dir:
            ontology += parse_file(path)
    stamp_version(ontology, build.version)
    shapes_text, shapes_triples = _shapes(root)
    dumps = [
        _Payload(f"{GRAPH_STEM}.ttl", "graph", "the graph as Turtle", serialise(graph, "ttl"), triples),
        _Payload(
            f"{GRAPH_STEM}.nt", "graph", "the graph as N-Triples, sorted", serialise(graph, "nt"), triples
        ),
        _Payload(
            f"{GRAPH_STEM}.jsonld",
            "graph",
            "the graph as JSON-LD (our own context)",
            to_jsonld(graph),
            triples,
        ),
    ]
    payloads = [item for dump in dumps for item in (dump, gzipped(dump))]
    payloads += [
        _Payload(
            "ontology.ttl", "ontology", "the ldn-graph ontology", serialise(ontology, "ttl"), len(ontology)
        ),
        _Payload(
            "shapes.ttl",
            "shapes",
            "the SHACL shapes of the data contract",
            shapes_text,
            shapes_triples,
        ),
    ]
    payloads += _mapping_payloads(build, root)
    changelog = release_changelog(graph, build.version, build.issued.isoformat(), entry, previous)
    payloads.append(
        _Payload(CHANGELOG, "changelog", "what changed in this release", changelog.encode("utf-8"))
    )
    return payloads


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


def _mapping_payloads(build: BuildResult, root: Path | None) -> list[_Payload]:
    """The SSSOM mapping set, when this installation has the mappings module."""
    try:
        from ldn_graph.graph.mappings import build_mapping_set
        from ldn_graph.graph.reference_table import load_reference_table
    except ModuleNotFoundError as error:
        if error.name not in ("ldn_graph.graph.mappings", "ldn_graph.graph.reference_table"):
            raise
        return []
    mapping_set = build_mapping_set(build.graph, load_reference_table(root), build.version, build.issued)
    return [
        _Payload(
            MAPPING_SET,
            "mappings",
            "the identifier mapping set (SSSOM)",
            mapping_set.to_tsv().encode("utf-8"),
        )
    ]


def _description_payload(build: BuildResult, records: Sequence[ReleaseFile]) -> _Payload:
    void = description_of(build.graph)
    void += describe_distributions(build.version, build.issued, records)
    return _Payload(
        "void.ttl", "description", "the dataset's VoID/DCAT description", serialise(void, "ttl"), len(void)
    )


def checksums_text(records: Iterable[tuple[str, str]]) -> bytes:
    """``sha256sum``'s own format, so that ``sha256sum -c SHA256SUMS`` checks the release."""
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(records)).encode("utf-8")


def _write_file(path: Path, data: bytes) -> None:
    with path.open("xb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_directory(out: Path, version: str, payloads: Sequence[_Payload]) -> Path:
    """Write ``payloads`` into a hidden directory beside the target, then rename it into place: readers
    see the whole release or none of it. Returns the release directory."""
    target = out / version
    staging = Path(tempfile.mkdtemp(prefix=f".{version}.partial-", dir=out))
    try:
        for payload in payloads:
            _write_file(staging / payload.name, payload.data)
        _fsync_dir(staging)
        os.chmod(staging, 0o755)  # mkdtemp makes it private; a release is public
        try:
            os.rename(staging, target)
        except OSError as error:
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            _same_or_refuse(target, payloads)
            shutil.rmtree(staging)
            return target
        _fsync_dir(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _same_or_refuse(target: Path, payloads: Sequence[_Payload]) -> None:
    """A release of this version exists: fine if it is byte for byte this one, else refused."""
    manifest = next(p.data for p in payloads if p.name == MANIFEST)
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


def make_release(out: Path, root: Path | None = None, progress: Progress | None = None) -> Path:
    """Build, validate and write the release of the current version into ``out/<version>/``.

    Returns the release directory. Raises InvalidGraph when the graph does not validate, and
    ReleaseError when the version is not ``MAJOR.MINOR.PATCH``, has no changelog entry, is too small a
    bump for the changes, or names an existing release with other content."""

    # pySHACL takes a while to import; only writing a release needs it, not a server reading one.
    from ldn_graph.graph.validate import check_project

    say = progress or log.info
    out = Path(out)
    build = build_graph(root, store=True)
    version = build.version
    if parse_version(version) is None:
        raise ReleaseError(f"version {version!r} is not MAJOR.MINOR.PATCH; only such versions are released")
    say(f"built {len(build.graph):,} triples of version {version}; validating")
    report = check_project(build, root)
    if not report.conforms:
        raise InvalidGraph(report)
    changelog_path = (root or resources.project_root()) / CHANGELOG_SOURCE
    try:
        entry = changelog_entry(changelog_path.read_text(encoding="utf-8"), version)
    except FileNotFoundError:
        entry = None
    if entry is None:
        raise ReleaseError(
            f"{changelog_path}: no entry for {version}; add a '## {version}' section saying what changed"
        )
    out.mkdir(parents=True, exist_ok=True)
    earlier = [r for r in find_releases(out)[0] if parse_version(r.version) < parse_version(version)]
    say("writing the dumps, ontology, shapes and changelog")
    payloads = _contents(build, root, earlier[0] if earlier else None, entry)
    payloads.append(_description_payload(build, [p.record() for p in payloads]))
    records = [p.record() for p in payloads]
    manifest = Manifest(version, build.issued.isoformat(), len(build.graph), GRAPH_FILE, tuple(records))
    manifest_payload = _Payload(MANIFEST, "manifest", "the release manifest", manifest.to_json())
    sums = [(r.name, r.sha256) for r in records] + [(MANIFEST, manifest_payload.record().sha256)]
    payloads += [manifest_payload, _Payload(CHECKSUMS, "checksums", "SHA-256 sums", checksums_text(sums))]
    target = _write_directory(out, version, payloads)
    point_latest(out)
    say(f"wrote {len(payloads)} files into {target}")
    return target

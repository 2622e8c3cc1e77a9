"""``ldn-graph release``: every artefact parses back to the built graph, checksums hold for real, writes
are atomic, releases are immutable, and the version follows the policy."""

from __future__ import annotations

import errno
import gzip
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, XSD
from support.cli import ldn_graph

from ldn_graph.graph import release as release_module
from ldn_graph.graph.build import stamp_version
from ldn_graph.graph.dataset_description import DATASET, description_of, download_url
from ldn_graph.graph.load import parse_file
from ldn_graph.graph.namespaces import DCAT, LDN, SPDX, VOID
from ldn_graph.graph.release import InvalidGraph, make_release
from ldn_graph.graph.validate import load_shapes
from ldn_graph.releases import CHECKSUMS, MANIFEST, ReleaseError, sha256_of, verify_release
from ldn_graph.vocab.prefixes import ONTOLOGY_IRI, turtle_header

pytestmark = pytest.mark.slow  # each test builds, validates and writes whole releases

ROOT = Path(__file__).resolve().parents[2]
RDF_FORMATS = {".ttl": "turtle", ".nt": "nt", ".jsonld": "json-ld"}
OXIGRAPH_FORMATS = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".jsonld": ox.RdfFormat.JSON_LD,
}
DUMPS = [f"ldn-graph{ext}{gz}" for ext in RDF_FORMATS for gz in ("", ".gz")]


def read(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()


def parsed(path: Path) -> Graph:
    extension = Path(path.name.removesuffix(".gz")).suffix
    with warnings.catch_warnings():
        # rdflib's JSON-LD parser warns about its own internal ConjunctiveGraph
        # (https://github.com/RDFLib/rdflib/issues/3064, fixed after 7.6.0).
        warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
        return Graph().parse(data=read(path), format=RDF_FORMATS[extension])


@pytest.mark.parametrize("name", DUMPS[::2])
def test_every_dump_is_the_built_graph(released, built, name):
    assert set(parsed(released.path / name)) == set(built.graph)
    gzipped = released.path / f"{name}.gz"
    assert gzip.decompress(gzipped.read_bytes()) == (released.path / name).read_bytes(), gzipped.name


@pytest.mark.parametrize("name", DUMPS)
def test_a_second_engine_reads_every_dump_the_same(released, built, name):
    extension = Path(name.removesuffix(".gz")).suffix
    store = ox.Store()
    store.load(read(released.path / name), format=OXIGRAPH_FORMATS[extension], to_graph=ox.DefaultGraph())
    assert len(store) == len(built.graph) == released.manifest.triples


def test_n_triples_are_sorted_and_gzip_is_deterministic(released):
    lines = (released.path / "ldn-graph.nt").read_text(encoding="utf-8").splitlines()
    assert lines == sorted(lines)
    for name in DUMPS[1::2]:
        header = (released.path / name).read_bytes()[:10]
        assert header[4:8] == b"\0\0\0\0", f"{name}: gzip header carries a time"


def test_dumps_gzipped_piece_by_piece_are_gzip_compress(tmp_path, monkeypatch):
    """Dumps are gzipped as they are read, a piece at a time: the bytes of gzip.compress at level 9."""
    import gzip
    import random

    rng = random.Random(7)
    data = b"".join(rng.choice([b"<a> <b> <c> .\n", rng.randbytes(50), b"x" * 300]) for _ in range(40_000))
    path = tmp_path / "dump.nt"
    path.write_bytes(data)
    monkeypatch.setattr(release_module, "_PIECE", 4099)  # many pieces, cut anywhere
    assert b"".join(release_module._gzip_pieces(path)) == gzip.compress(data, compresslevel=9, mtime=0)


def test_jsonld_uses_our_context_with_https_schema_org(released):
    document = json.loads((released.path / "ldn-graph.jsonld").read_bytes())
    assert document["@context"]["schema"] == "https://schema.org/"
    types = {t for node in document["@graph"] for t in node.get("@type", [])}
    assert "schema:Drug" in types


def test_ontology_is_stamped_with_the_version(released):
    expected = Graph()
    for path in sorted((ROOT / "ontology").glob("*.ttl")):
        if path.name != "shapes.ttl":
            expected += parse_file(path)
    stamp_version(expected, released.version)
    shipped = parsed(released.path / "ontology.ttl")
    assert set(shipped) == set(expected)
    assert (URIRef(ONTOLOGY_IRI), OWL.versionInfo, None) in shipped


def canonical(quads) -> set:
    """The triples with their blank nodes named canonically (Oxigraph's canonicalization, a hundredth of
    the time rdflib's isomorphism test takes on the shapes)."""
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return set(dataset)


def test_shapes_are_the_merged_shapes_validation_uses(released):
    shipped = canonical(ox.parse(path=released.path / "shapes.ttl", format=ox.RdfFormat.TURTLE))
    merged = load_shapes(ROOT).serialize(format="nt", encoding="utf-8")
    assert shipped == canonical(ox.parse(merged, format=ox.RdfFormat.N_TRIPLES))
    shape = ox.NamedNode("https://w3id.org/ldngraph/ontology/shape/IdentifierPattern")
    assert any(quad.subject == shape for quad in shipped)


def test_mapping_set_is_shipped(released):
    pytest.importorskip("ldn_graph.graph.mappings")
    rows = (released.path / "ldn-graph.sssom.tsv").read_text(encoding="utf-8").splitlines()
    assert any(line.startswith("#mapping_set_id:") for line in rows)
    assert sum(1 for line in rows if line.startswith("ldn:")) > 10


def test_manifest_records_every_file(released):
    files = {p.name for p in released.path.iterdir()}
    listed = {entry.name for entry in released.manifest.files}
    assert files == listed | {MANIFEST, CHECKSUMS}
    for entry in released.manifest.files:
        path = released.path / entry.name
        assert entry.size == path.stat().st_size
        assert entry.sha256 == sha256_of(path)
        extension = Path(entry.name.removesuffix(".gz")).suffix
        if extension in OXIGRAPH_FORMATS:  # counted by pyoxigraph: rdflib reads every dump in the tests above
            assert entry.triples == sum(1 for _ in ox.parse(read(path), OXIGRAPH_FORMATS[extension])), (
                entry.name
            )


def test_sha256sum_checks_the_release(released, tmp_path):
    checked = subprocess.run(
        ["sha256sum", "-c", "--strict", CHECKSUMS], cwd=released.path, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count(": OK") == len(released.manifest.files) + 1  # and the manifest
    broken = tmp_path / "broken"
    shutil.copytree(released.path, broken)
    with (broken / "ldn-graph.ttl").open("ab") as stream:
        stream.write(b"\n")
    checked = subprocess.run(["sha256sum", "-c", CHECKSUMS], cwd=broken, capture_output=True, text=True)
    assert checked.returncode == 1
    assert "ldn-graph.ttl: FAILED" in checked.stdout


def test_void_describes_the_graph_and_every_file(released, built):
    void = parsed(released.path / "void.ttl")
    assert set(description_of(built.graph)) <= set(void)
    assert int(void.value(DATASET, VOID.triples)) == len(built.graph)
    distributions = set(void.objects(DATASET, DCAT.distribution))
    assert len(distributions) == len(released.manifest.files) - 1  # all but void.ttl itself
    for entry in released.manifest.files:
        if entry.name == "void.ttl":
            continue
        (distribution,) = void.subjects(DCAT.downloadURL, download_url(released.version, entry.name))
        assert int(void.value(distribution, DCAT.byteSize)) == entry.size
        assert void.value(distribution, DCTERMS.issued) == Literal(
            released.manifest.issued, datatype=XSD.date
        )
        assert void.value(distribution, DCTERMS["format"]) is not None
        checksum = void.value(distribution, SPDX.checksum)
        assert str(void.value(checksum, SPDX.checksumValue)) == entry.sha256
        assert void.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
    dumps = {str(url).rsplit("/", 1)[1] for url in void.objects(DATASET, VOID.dataDump)}
    assert dumps == set(DUMPS)


def test_the_latest_link_points_at_the_release(releases_dir, released):
    latest = releases_dir / "latest"
    assert latest.is_symlink() and os.readlink(latest) == released.version
    assert (latest / MANIFEST).read_bytes() == (released.path / MANIFEST).read_bytes()


def test_changelog_carries_the_entry(released):
    text = (released.path / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith(f"# ldn-graph {released.version} (issued ")
    entry = (ROOT / "CHANGELOG-DATA.md").read_text(encoding="utf-8").split(f"## {released.version} ")[1]
    first_paragraph = entry.split("\n\n")[1]
    assert first_paragraph in text


def test_the_command_is_deterministic_and_reports_progress(tmp_path, released):
    # Another process and another hash seed: the same bytes. Written from the sources (--no-cache): a
    # build kept by an earlier command keeps its release's files too, which would be copied.
    environment = dict(os.environ, PYTHONHASHSEED="12345")
    environment.pop("SOURCE_DATE_EPOCH", None)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "ldn_graph",
            "release",
            "--out",
            str(tmp_path),
            "--data-dir",
            str(ROOT),
            "--no-cache",
        ],
        capture_output=True,
        text=True,
        env=environment,
    )
    assert run.returncode == 0, run.stderr
    assert f"triples of version {released.version}" in run.stderr and "released" in run.stderr
    for path in released.path.iterdir():
        assert (tmp_path / released.version / path.name).read_bytes() == path.read_bytes(), path.name


def test_source_date_epoch_sets_the_date(sources, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    target = make_release(tmp_path / "out", sources)
    assert verify_release(target).manifest.issued == "2023-11-14"


def _snapshot(directory: Path) -> dict[str, bytes | str]:
    return {
        str(p.relative_to(directory)): os.readlink(p) if p.is_symlink() else p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_symlink() or p.is_file()
    }


@pytest.mark.parametrize("failing_write", [1, 7, 13])  # the first, a middle and the last file
def test_a_failed_release_leaves_the_previous_one_whole(
    sources, tmp_path, version, monkeypatch, failing_write, changelog, cache_directory
):
    out = tmp_path / "out"
    make_release(out, sources, cache=cache_directory)  # the release before: its graph built once a session
    before = _snapshot(out)
    changelog(version("0.1.1"))
    writes = []
    real_write = release_module._write_file

    def write_until_the_disk_is_full(path, pieces):
        writes.append(path)
        if len(writes) == failing_write:
            data = b"".join(pieces)
            real_write(path, [data[: len(data) // 2]])  # half a file, then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real_write(path, pieces)

    monkeypatch.setattr(release_module, "_write_file", write_until_the_disk_is_full)
    with pytest.raises(OSError) as raised:
        make_release(out, sources, cache=cache_directory)  # 0.1.1 built and validated once a session too
    assert raised.value.errno == errno.ENOSPC
    assert _snapshot(out) == before
    assert sorted(p.name for p in out.iterdir()) == ["0.1.0", "latest"]  # no partial file or directory
    verify_release(out / "0.1.0")


def test_releasing_the_same_version_again_changes_nothing(sources, tmp_path, cache_directory):
    out = tmp_path / "out"
    target = make_release(out, sources, cache=cache_directory)
    before = _snapshot(out)
    assert make_release(out, sources, cache=cache_directory) == target
    assert _snapshot(out) == before


def test_a_different_release_of_an_existing_version_is_refused(sources, tmp_path, cache_directory):
    out = tmp_path / "out"
    make_release(out, sources, cache=cache_directory)
    before = _snapshot(out)
    labels = sources / "graph_data" / "substances.ttl"
    labels.write_text(labels.read_text(encoding="utf-8").replace('"naltrexone"@en', '"Naltrexone"@en', 1))
    with pytest.raises(ReleaseError, match="immutable"):
        make_release(out, sources)
    assert _snapshot(out) == before


def test_an_invalid_graph_is_not_released(sources, tmp_path):
    broken = turtle_header() + 'ldn:naltrexone dcterms:identifier "DRUGBANK:DB704" .\n'
    (sources / "graph_data" / "zz-broken.ttl").write_text(broken, encoding="utf-8")
    out = tmp_path / "out"
    run = ldn_graph("release", "--out", str(out), "--data-dir", str(sources), "--no-cache")
    assert run.returncode == 1, run.stderr
    assert "zz-broken.ttl" in run.stdout and "IdentifierPattern" in run.stdout
    assert "not released" in run.stderr
    assert not out.exists() or not any(out.iterdir())
    with pytest.raises(InvalidGraph):
        make_release(out, sources)


def test_a_version_without_a_changelog_entry_is_refused_before_the_build(sources, tmp_path, version):
    version("0.1.1")
    run_out, cache = tmp_path / "out", tmp_path / "cache"
    with pytest.raises(ReleaseError, match=r"no entry for 0\.1\.1"):
        make_release(run_out, sources, cache=cache)
    assert not any(run_out.iterdir()) if run_out.exists() else True
    assert not cache.exists()  # refused before anything was built (a build keeps its graph there)


def test_added_claims_need_a_minor_release(sources, tmp_path, version, changelog, cache_directory):
    out = tmp_path / "out"
    make_release(out, sources, cache=cache_directory)
    statements = sources / "graph_data" / "statements-uses.ttl"
    text = statements.read_text(encoding="utf-8")
    first = text.index("\nldns:") + 1
    block_end = text.index(" .\n", first) + 3
    block = text[first:block_end]
    name = block.split()[0]
    statements.write_text(text + "\n" + block.replace(name, name + "-again", 1), encoding="utf-8")
    changelog(version("0.1.1"))
    with pytest.raises(ReleaseError, match=r"patch release after 0\.1\.0, but the changes call for a minor"):
        make_release(out, sources)
    changelog(version("0.2.0"), "One claim added.")
    target = make_release(out, sources)
    changes = (target / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## Compared with 0.1.0" in changes
    assert f"statements added: {name}-again" in changes
    assert os.readlink(out / "latest") == "0.2.0"


def test_latest_stays_on_the_highest_version(sources, tmp_path, version, changelog):
    out = tmp_path / "out"
    changelog(version("0.2.0"))
    make_release(out, sources)
    changelog(version("0.1.5"))
    make_release(out, sources)  # a late patch of an older line
    assert os.readlink(out / "latest") == "0.2.0"


def test_verify_refuses_a_dump_cut_at_a_statement_boundary(released, tmp_path):
    cut = tmp_path / released.version
    shutil.copytree(released.path, cut)
    lines = (cut / "ldn-graph.nt").read_bytes().splitlines(keepends=True)
    (cut / "ldn-graph.nt").write_bytes(b"".join(lines[: len(lines) // 2]))
    assert len(Graph().parse(cut / "ldn-graph.nt", format="nt")) > 100  # it still parses
    with pytest.raises(ReleaseError, match=r"ldn-graph.nt: .* bytes, but the manifest says"):
        verify_release(cut)


def test_verify_refuses_a_corrupted_file_of_the_right_size(released, tmp_path):
    bad = tmp_path / released.version
    shutil.copytree(released.path, bad)
    data = bytearray((bad / "ldn-graph.ttl").read_bytes())
    data[-3] ^= 0x01
    (bad / "ldn-graph.ttl").write_bytes(bytes(data))
    with pytest.raises(ReleaseError, match=r"ldn-graph\.ttl: SHA-256 differs"):
        verify_release(bad)


def test_verify_refuses_an_edited_manifest(released, tmp_path):
    bad = tmp_path / released.version
    shutil.copytree(released.path, bad)
    manifest = json.loads((bad / MANIFEST).read_bytes())
    manifest["triples"] += 1
    (bad / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ReleaseError, match=r"manifest\.json: SHA-256 differs from SHA256SUMS"):
        verify_release(bad)


def test_example_resources_exist(built):
    for example in built.graph.objects(DATASET, VOID.exampleResource):
        assert (example, RDF.type, None) in built.graph, example
    assert LDN.naltrexone in set(built.graph.objects(DATASET, VOID.exampleResource))


def test_the_release_docs_name_every_file_and_route(released):
    docs = (ROOT / "docs" / "releases.md").read_text(encoding="utf-8")
    for name in [entry.name.removesuffix(".gz") for entry in released.manifest.files] + [MANIFEST, CHECKSUMS]:
        assert f"`{name}" in docs, name
    for route in ("/downloads/<version>/<file>", "/downloads/latest/<file>", "/.well-known/void", "/health"):
        assert f"`{route}`" in docs, route

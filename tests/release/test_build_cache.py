"""The built graph and its validation report kept between commands: used only for the same inputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.cli import ldn_graph

from ldn_graph.graph import release as release_module
from ldn_graph.graph.build_cache import KEPT, RELEASE_FILES, RELEASE_FILES_LISTED, cached_build
from ldn_graph.graph.release import InvalidGraph, make_release
from ldn_graph.graph.validate import validate_project
from ldn_graph.vocab.prefixes import turtle_header

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # builds, validates and releases copies of the sources


def tree(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()
    }


def test_build_validate_release_parse_once_and_validate_once(sources, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("LDNGRAPH_CACHE_DIR", str(cache))  # each command finds on disk what the last kept
    built = ldn_graph("build", "--out", str(tmp_path / "graph.nt"), "--data-dir", str(sources))
    assert built.returncode == 0, built.stderr
    (entry,) = (cache / "ldn-graph" / "built").iterdir()
    assert (entry / "ldn-graph.nt").read_bytes() == (tmp_path / "graph.nt").read_bytes()
    checked = ldn_graph("validate", "--data-dir", str(sources))
    assert checked.returncode == 0, checked.stderr
    assert [p.name for p in (cache / "ldn-graph" / "built").iterdir()] == [entry.name]  # built once
    released = ldn_graph("release", "--out", str(tmp_path / "out"), "--data-dir", str(sources))
    assert released.returncode == 0, released.stderr
    assert "validating" not in released.stderr and "kept its report" in released.stderr
    fresh = ldn_graph("release", "--out", str(tmp_path / "fresh"), "--data-dir", str(sources), "--no-cache")
    assert fresh.returncode == 0 and "validating" in fresh.stderr, fresh.stderr
    (release,) = (tmp_path / "out").glob("[0-9]*")
    assert tree(release) == tree(tmp_path / "fresh" / release.name)
    assert (release / "ldn-graph.nt").read_bytes() == (tmp_path / "graph.nt").read_bytes()


def test_a_release_keeps_the_files_of_its_build_and_one_kept_without_them_releases_the_same(
    sources, tmp_path, monkeypatch
):
    cache = tmp_path / "cache"
    first = make_release(tmp_path / "first", sources, cache=cache)
    (entry,) = (cache / "built").iterdir()
    kept = tree(entry / RELEASE_FILES)
    dumps = [f"ldn-graph.{extension}.gz" for extension in ("jsonld", "nt", "ttl")]
    assert sorted(kept) == sorted(
        [*dumps, "ldn-graph.sssom.tsv", "ontology.ttl", "shapes.ttl", "description.nt"]
    )
    assert all(kept[name] == (first / name).read_bytes() for name in kept if name != "description.nt")
    shutil.rmtree(entry / RELEASE_FILES)  # as an entry kept before releases kept files in it
    (entry / RELEASE_FILES_LISTED).unlink()
    second = make_release(tmp_path / "second", sources, cache=cache)
    assert tree(second) == tree(first)
    assert tree(entry / RELEASE_FILES) == kept  # kept again

    def made_again(*args):
        raise AssertionError("a kept file was made again")

    monkeypatch.setattr(release_module, "_files_of_the_sources", made_again)
    monkeypatch.setattr(release_module, "jsonld_chunks", made_again)
    monkeypatch.setattr(release_module, "serialised", made_again)
    monkeypatch.setattr(release_module, "_gzip_pieces", made_again)
    monkeypatch.setattr(release_module, "description_of", made_again)
    third = make_release(tmp_path / "third", sources, cache=cache)
    assert tree(third) == tree(first)


def test_a_cache_that_cannot_keep_the_release_files_still_releases_the_same(sources, tmp_path):
    cache = tmp_path / "cache"
    first = make_release(tmp_path / "first", sources, cache=cache)
    (entry,) = (cache / "built").iterdir()
    shutil.rmtree(entry / RELEASE_FILES)
    (entry / RELEASE_FILES_LISTED).unlink()
    (entry / RELEASE_FILES).write_text("not a folder", encoding="utf-8")  # nothing can be written there
    second = make_release(tmp_path / "second", sources, cache=cache)
    assert tree(second) == tree(first)
    assert not (entry / RELEASE_FILES_LISTED).exists()


def test_a_change_to_the_shapes_is_another_graph_and_validated_again(sources, tmp_path):
    cache = tmp_path / "cache"
    assert validate_project(sources, cache=cache).conforms
    shapes = sources / "ontology" / "shapes.ttl"
    shapes.write_text(
        shapes.read_text(encoding="utf-8")
        + "\n<https://w3id.org/ldngraph/ontology/shape/NoDrugs> a sh:NodeShape ;\n"
        "    sh:targetClass ldngraph:Drug ; sh:property [ sh:path rdfs:label ; sh:maxCount 0 ;\n"
        '    sh:message "no drug may have a label"@en ] .\n',
        encoding="utf-8",
    )
    with pytest.raises(InvalidGraph) as refused:
        make_release(tmp_path / "out", sources, cache=cache)
    assert "NoDrugs" in refused.value.report.rules()
    assert len(list((cache / "built").iterdir())) == 2


def test_a_change_to_the_data_is_another_graph(sources, tmp_path):
    cache = tmp_path / "cache"
    first, kept = cached_build(sources, cache)
    broken = turtle_header() + 'ldn:naltrexone dcterms:identifier "DRUGBANK:DB704" .\n'
    (sources / "graph_data" / "zz-broken.ttl").write_text(broken, encoding="utf-8")
    second, other = cached_build(sources, cache)
    assert other != kept and len(second.graph) == len(first.graph) + 1
    report = validate_project(sources, cache=cache)
    assert not report.conforms and "IdentifierPattern" in report.rules()
    assert any("zz-broken.ttl" in f for v in report.violations for f in v.files)  # files worked out again


def test_a_kept_report_of_violations_refuses_the_release(sources, tmp_path):
    cache = tmp_path / "cache"
    broken = turtle_header() + 'ldn:naltrexone dcterms:identifier "DRUGBANK:DB704" .\n'
    (sources / "graph_data" / "zz-broken.ttl").write_text(broken, encoding="utf-8")
    assert not validate_project(sources, cache=cache).conforms
    with pytest.raises(InvalidGraph) as refused:
        make_release(tmp_path / "out", sources, cache=cache)
    assert "IdentifierPattern" in refused.value.report.rules()
    assert not (tmp_path / "out" / "0.1.0").exists()


def test_only_the_newest_graphs_are_kept(sources, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    for number in range(KEPT + 2):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(1_700_000_000 + 86_400 * number))
        cached_build(sources, cache)
    assert len(list((cache / "built").iterdir())) == KEPT

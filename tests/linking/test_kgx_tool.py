"""KGX itself (``kgx`` 2.6.0 from PyPI, in ``.venv-kgx``) reads our export: ``kgx validate`` finds no
error against Biolink 4.4.6 nor against the 2.2 prefixes KGX checks ids with by default, and ``kgx
transform`` to N-Triples gives every edge back the IRI of its statement in our graph, with no IRI KGX had
to make up. ``run_kgx.py`` says how KGX is run with no network."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SKOS

from ldn_graph.graph.kgx import export_kgx, write_kgx
from ldn_graph.graph.namespaces import LDNGRAPH

pytestmark = pytest.mark.slow  # runs KGX itself, in an environment of its own

ROOT = Path(__file__).resolve().parents[2]
KGX_ENV = ROOT / ".venv-kgx"
RUN_KGX = Path(__file__).with_name("run_kgx.py")


def kgx(*arguments: str) -> subprocess.CompletedProcess:
    python = KGX_ENV / "bin" / "python"
    if not (KGX_ENV / ".installed").is_file():
        pytest.fail(f"{KGX_ENV} is missing: run scripts/test, which installs KGX there", pytrace=False)
    return subprocess.run(
        [str(python), str(RUN_KGX), str(KGX_ENV / "biolink"), *arguments],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def exported(built, table, tmp_path_factory) -> tuple[Path, Path]:
    return write_kgx(tmp_path_factory.mktemp("kgx"), export_kgx(built.graph, table))


@pytest.fixture(scope="module")
def with_our_own_id(exported, tmp_path_factory) -> tuple[Path, Path]:
    """The export with one node more, whose id is under a prefix Biolink does not know."""
    nodes, edges = exported
    lines = nodes.read_text(encoding="utf-8").splitlines()
    columns = lines[0].split("\t")
    row = dict.fromkeys(columns, "")
    row |= {"id": "ldn:low-dose-naltrexone", "category": "biolink:Treatment", "name": "low-dose naltrexone"}
    changed = tmp_path_factory.mktemp("kgx-changed") / "nodes.tsv"
    changed.write_text("\n".join([*lines, "\t".join(row[c] for c in columns)]) + "\n", encoding="utf-8")
    return changed, edges


@pytest.fixture(scope="module")
def kgx_said(exported, with_our_own_id, tmp_path_factory) -> dict[str, dict]:
    """What KGX says of each, run once for the module (importing KGX takes seconds)."""
    transformed = tmp_path_factory.mktemp("kgx-nt") / "kgx.nt"
    run = kgx(
        *("validate", *map(str, exported)),
        *("--", "validate", *map(str, with_our_own_id)),
        *("--", "transform", *map(str, exported), str(transformed)),
    )
    assert run.returncode == 0, run.stderr[-3000:]
    export, our_own, written = (json.loads(line) for line in run.stdout.strip().splitlines()[-3:])
    return {"export": export, "with our own id": our_own, "transformed": written}


def test_kgx_validate_finds_no_error(kgx_said):
    reports = kgx_said["export"]
    assert set(reports) == {"Biolink 4.4.6 context", "Biolink 2.2.6 prefixes"}
    for context, report in reports.items():
        assert "ERROR" not in report, (context, report["ERROR"])


def test_kgx_validate_would_refuse_an_id_of_our_own(kgx_said):
    # The check above can fail: one node with an id under a prefix Biolink does not know.
    for context, report in kgx_said["with our own id"].items():
        messages = [m for kind in report.get("ERROR", {}).values() for m in kind]
        assert any("'ldn'" in m for m in messages), context


def test_kgx_transform_gives_the_edges_back_their_iris(built, kgx_said):
    triples = Graph().parse(kgx_said["transformed"]["written"], format="nt")
    iris = {term for triple in triples for term in triple if isinstance(term, URIRef)}
    assert not [iri for iri in iris if "example.org/UNKNOWN" in iri]
    statements = set(built.graph.subjects(RDF.type, LDNGRAPH.Statement))
    edges = set(triples.subjects(RDF.subject, None))
    assert edges and edges <= statements
    # The nodes KGX writes are the identifiers our graph maps its entities to exactly.
    exact = set(built.graph.objects(None, SKOS.exactMatch))
    ends = set(triples.objects(None, RDF.subject)) | set(triples.objects(None, RDF.object))
    assert ends <= exact, ends - exact

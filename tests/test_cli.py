"""The command line, as a user scripts against it: exit codes, formats, standard input."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
Q2 = ROOT / "queries" / "02-receptors-antagonised.rq"


def ldn_graph(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ldn_graph", *args], input=stdin, capture_output=True, text=True, check=False
    )


def test_validate_conforms_with_exit_zero():
    result = ldn_graph("validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "conforms" in result.stderr


def test_validate_json_report():
    result = ldn_graph("validate", "--format", "json")
    report = json.loads(result.stdout)
    assert report["conforms"] is True and report["violations"] == [] and report["triples"] > 3000


def test_query_formats(tmp_path):
    graph = tmp_path / "g.nt"
    assert ldn_graph("build", "--out", str(graph)).returncode == 0
    table = ldn_graph("query", str(Q2), "--graph", str(graph))
    assert table.returncode == 0 and "(6 rows)" in table.stdout and "μ-opioid receptor" in table.stdout
    as_json = json.loads(ldn_graph("query", str(Q2), "--graph", str(graph), "--format", "json").stdout)
    assert len(as_json["results"]["bindings"]) == 6
    as_csv = list(csv.DictReader(io.StringIO(ldn_graph("query", str(Q2), "--format", "csv").stdout)))
    assert {row["extent"] for row in as_csv} == {"full", "to a lesser extent"}


def test_query_from_standard_input():
    result = ldn_graph(
        "query", "-", "--format", "json",
        stdin="PREFIX ldngraph: <https://w3id.org/ldngraph/ontology/> ASK { ?s a ldngraph:Statement }",
    )  # fmt: skip
    assert result.returncode == 0 and json.loads(result.stdout)["boolean"] is True


def test_bad_query_is_a_clear_error():
    result = ldn_graph("query", "-", stdin="SELECT * WHERE { ?s ?p }")
    assert result.returncode == 2
    assert "bad SPARQL query" in result.stderr and "Traceback" not in result.stderr


def test_missing_query_file():
    result = ldn_graph("query", "no-such-file.rq")
    assert result.returncode == 2 and "no-such-file.rq" in result.stderr


def test_version_and_module_entry_point():
    from ldn_graph import __version__

    assert ldn_graph("--version").stdout.strip().endswith(__version__)
    console = subprocess.run(["ldn-graph", "--help"], capture_output=True, text=True, check=False)
    assert console.returncode == 0 and "validate" in console.stdout

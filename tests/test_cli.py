"""The command line, as a user scripts against it: exit codes, formats, standard input."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from support.cli import ldn_graph

ROOT = Path(__file__).resolve().parents[1]
Q2 = ROOT / "queries" / "02-receptors-antagonised.rq"


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

    module = subprocess.run([sys.executable, "-m", "ldn_graph", "--version"], capture_output=True, text=True)
    assert module.returncode == 0 and module.stdout.strip().endswith(__version__)
    console = subprocess.run(["ldn-graph", "--help"], capture_output=True, text=True, check=False)
    assert console.returncode == 0 and "validate" in console.stdout


def test_a_shipped_query_runs_by_its_name_or_number(tmp_path):
    graph = tmp_path / "g.nt"
    assert ldn_graph("build", "--out", str(graph)).returncode == 0
    by_file = ldn_graph("query", str(Q2), "--graph", str(graph), "--format", "csv")
    assert by_file.returncode == 0
    for name in (
        "02-receptors-antagonised",
        "02",
        "2",
        "receptors-antagonised",
        "02-receptors-antagonised.rq",
    ):
        by_name = ldn_graph("query", name, "--graph", str(graph), "--format", "csv")
        assert by_name.returncode == 0 and by_name.stdout == by_file.stdout, name


def test_query_list_names_every_shipped_query_with_its_summary():
    listed = ldn_graph("query", "--list")
    assert listed.returncode == 0
    names = [line.split("\t")[0] for line in listed.stdout.splitlines()]
    assert names == sorted(path.stem for path in (ROOT / "queries").glob("*.rq"))
    assert all(len(line.split("\t")) == 2 and line.split("\t")[1] for line in listed.stdout.splitlines())


def test_an_unknown_query_name_lists_the_names_there_are():
    result = ldn_graph("query", "no-such-question")
    assert result.returncode == 2 and "no-such-question" in result.stderr
    assert "01-conditions-evidence" in result.stderr and "Traceback" not in result.stderr
    assert ldn_graph("query").returncode == 2  # nothing to run

"""docs/linking.md is checked against the code it describes, so the two cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from ldn_graph.cli import main
from ldn_graph.graph.mappings import CONFIDENCE
from ldn_graph.vocab.schemes import SCHEMES, split_curie

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "linking.md").read_text(encoding="utf-8")


def test_wikidata_table_is_the_scheme_table():
    rows = re.findall(r'^\| [^|]+ \| `([^`]+)` \| (P\d+) \| `"([^"]+)"` \|$', DOC, flags=re.M)
    documented = {}
    for curie, prop, value in rows:
        scheme, local = split_curie(curie)
        assert scheme.wikidata_property == prop, curie
        assert scheme.to_wikidata(local) == value, curie
        documented[scheme.key] = prop
    assert documented == {s.key: s.wikidata_property for s in SCHEMES.values() if s.wikidata_property}


def test_every_federated_query_is_documented():
    for query in (ROOT / "queries" / "federated").glob("*.rq"):
        assert query.name in DOC, query.name
        assert query.read_text(encoding="utf-8").startswith("#+ summary:"), query.name


def test_confidences_are_the_codes():
    for level, value in CONFIDENCE.items():
        assert f"{value} for `{level}`" in DOC


def test_documented_commands_exist():
    runner = CliRunner()
    commands = set(re.findall(r"^ldn-graph ((?:links check|mappings|export kgx))", DOC, flags=re.M))
    assert commands == {"links check", "mappings", "export kgx"}
    for command in commands:
        result = runner.invoke(main, [*command.split(), "--help"])
        assert result.exit_code == 0, command
    assert "--strict" in runner.invoke(main, ["links", "check", "--help"]).output

"""docs/scale-out.md keeps up with the code: its commands use real options, and every store has its row."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.doc_commands import commands, unknown_options

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "scale-out.md").read_text(encoding="utf-8")
STORES = ("Oxigraph", "Fuseki", "QLever", "Virtuoso", "GraphDB", "Neptune")


def _commands() -> list[list[str]]:
    return commands(DOCS)


@pytest.mark.parametrize("command", _commands(), ids=lambda c: " ".join(c[:2]))
def test_commands_use_real_options(command):
    assert any(word.startswith("--") for word in command) and not unknown_options(command)


def test_the_docs_show_load_and_serve():
    assert {command[1] for command in _commands()} == {"load", "serve"}


@pytest.mark.parametrize("store", STORES)
def test_every_store_has_its_endpoints_and_its_timeout(store):
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in DOCS.splitlines()
        if line.strip().startswith("| ")  # the endpoints table is indented inside a list
    ]
    rows = [row for row in rows if store in row[0]]
    assert any("http" in " ".join(row[1:]) for row in rows), f"{store}: where its endpoints are"
    timeouts = [row for row in rows if row[-1].startswith(("yes", "no ("))]
    assert len(timeouts) == 1, f"{store}: one timeout row saying whether it was tested here"
    assert timeouts[0][1], f"{store}: which setting"

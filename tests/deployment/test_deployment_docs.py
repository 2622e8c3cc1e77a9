"""docs/deployment.md keeps up with deploy/ and the command line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.doc_commands import commands, unknown_options

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", commands(DOCS), ids=lambda c: " ".join(c[:2]))
def test_commands_use_real_options(command):
    assert not unknown_options(command)


def test_the_docs_start_every_tier():
    assert {command[1] for command in commands(DOCS)} >= {"load", "serve"}
    for tier in ("deploy/varnish.vcl", "deploy/haproxy.cfg"):
        assert tier in DOCS and (ROOT / tier).is_file()


def test_the_balancers_variables_are_the_ones_it_reads():
    read = set(re.findall(r"\$\{(\w+)\}", (ROOT / "deploy" / "haproxy.cfg").read_text(encoding="utf-8")))
    shown = set(re.findall(r"\b(LDNGRAPH_(?:BALANCER|NODE)\w*)=", DOCS))
    assert read == shown == {"LDNGRAPH_BALANCER_BIND", "LDNGRAPH_NODE1", "LDNGRAPH_NODE2"}

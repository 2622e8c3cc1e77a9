"""The ``ldn-graph`` command lines a guide shows, for tests that hold the guide to the real options."""

from __future__ import annotations

import re
import shlex

from ldn_graph.cli import main


def commands(docs: str) -> list[list[str]]:
    """The ``ldn-graph`` command lines of the guide's sh blocks, without the variables set before them."""
    blocks = re.findall(r"```sh\n(.*?)```", docs, re.S)
    lines = [line for block in blocks for line in block.replace("\\\n", " ").splitlines() if line.strip()]
    words = [shlex.split(line, comments=True) for line in lines]
    words = [[word for word in line if not re.match(r"^[A-Z_]+=", word)] for line in words]
    return [line for line in words if line and line[0] == "ldn-graph"]


def unknown_options(command: list[str]) -> set[str]:
    """The options ``command`` uses that its subcommand does not have."""
    subcommand = main.commands[command[1]]
    known = {opt for param in subcommand.params for opt in param.opts}
    return {word for word in command[2:] if word.startswith("--")} - known

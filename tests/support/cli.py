"""The command line as a user scripts against it: ``ldn_graph(*args)`` gives the exit code, standard
output and standard error of ``ldn-graph ARGS``.

Run in-process by click's runner: a fresh interpreter costs about half a second a command in imports
alone. ``tests/test_cli.py`` runs the installed entry points as processes of their own.
"""

from __future__ import annotations

import subprocess

from click.testing import CliRunner


def ldn_graph(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    from ldn_graph import cli

    # Exceptions the command does not turn into a message and an exit code propagate: a test sees the
    # traceback a user would.
    result = CliRunner().invoke(cli.main, list(args), input=stdin, catch_exceptions=False)
    return subprocess.CompletedProcess(["ldn-graph", *args], result.exit_code, result.stdout, result.stderr)

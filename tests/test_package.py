"""A wheel installed outside the checkout carries the ontology, the data and the queries."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    return next(out.glob("ldn_graph-*.whl"))


def test_wheel_carries_the_sources(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for needed in (
        "ldn_graph/_resources/ontology/ldngraph.ttl",
        "ldn_graph/_resources/ontology/shapes.ttl",
        "ldn_graph/_resources/graph_data/statements-research.ttl",
        "ldn_graph/_resources/graph_data/source/low-dose-naltrexone.wikiprojectmed.txt",
        "ldn_graph/_resources/queries/01-conditions-evidence.rq",
        "ldn_graph/py.typed",
    ):
        assert needed in names


def test_installed_package_builds_and_validates_outside_the_checkout(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(target))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = [sys.executable, "-c", "from ldn_graph.cli import main; main()"]
    where = subprocess.run(
        [sys.executable, "-c", "import ldn_graph.resources as r; print(r.project_root())"],
        cwd=elsewhere, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert where.stdout.strip().startswith(str(target))
    validated = subprocess.run([*run, "validate"], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert validated.returncode == 0, validated.stderr
    built = subprocess.run(
        [*run, "build", "--out", "g.nt"], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert built.returncode == 0 and (elsewhere / "g.nt").stat().st_size > 100_000

"""A wheel installed outside the checkout carries the ontology, the data and the queries, and a pip
user's first run works: ``ldn-graph query`` finds the shipped queries by name, ``ldn-graph serve``
serves the downloads too."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import requests
from support.live_server import start_server

pytestmark = [pytest.mark.live, pytest.mark.slow]  # builds, installs and serves the wheel

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


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> tuple[Path, dict[str, str], Path]:
    """The wheel installed into a folder of its own: (that folder, an environment that imports the
    package from there, an empty working directory outside the checkout)."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("LDNGRAPH_")} | {"PYTHONPATH": str(target)}
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    return target, env, elsewhere


def test_installed_package_builds_and_validates_outside_the_checkout(installed):
    target, env, elsewhere = installed
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


def test_installed_package_runs_the_shipped_queries_by_name(installed):
    _, env, elsewhere = installed
    run = [sys.executable, "-c", "from ldn_graph.cli import main; main()"]
    listed = subprocess.run([*run, "query", "--list"], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert listed.returncode == 0 and listed.stdout.startswith("01-conditions-evidence\t"), listed.stderr
    by_number = subprocess.run(
        [*run, "query", "01", "--format", "csv"], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    by_name = subprocess.run(
        [*run, "query", "conditions-evidence", "--format", "csv"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert by_number.returncode == 0, by_number.stderr
    assert by_number.stdout == by_name.stdout and by_number.stdout.startswith("condition,")
    assert len(by_number.stdout.splitlines()) > 10


def test_installed_package_serves_its_downloads(installed, tmp_path):
    _, env, elsewhere = installed
    cache = tmp_path / "cache"
    server = start_server(
        "--workers", "1", log=tmp_path / "server.log", cwd=elsewhere,
        env={"PYTHONPATH": env["PYTHONPATH"], "LDNGRAPH_CACHE_DIR": str(cache)},
    )  # fmt: skip
    try:
        index = requests.get(server.url + "/downloads/", timeout=10)
        assert index.status_code == 200 and "latest" in index.text
        sums = requests.get(server.url + "/downloads/latest/SHA256SUMS", timeout=10).text
        digest = dict(reversed(line.split("  ")) for line in sums.splitlines())["ldn-graph.nt"]
        dump = requests.get(server.url + "/downloads/latest/ldn-graph.nt", timeout=30)
        assert dump.status_code == 200 and hashlib.sha256(dump.content).hexdigest() == digest
    finally:
        server.stop()
    # The release it offers is the one it wrote into its cache directory on this first run.
    (released,) = (cache / "ldn-graph").glob("releases-*/[0-9]*/ldn-graph.nt")
    assert released.read_bytes() == dump.content

"""A real headless Chromium (Debian's ``chromium`` driven through ``chromedriver``) and the real server."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ldn_graph.graph.release import make_release

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)
_ENDPOINT_CONFTEST = ROOT / "tests" / "endpoint" / "conftest.py"


def _start_server():
    # The endpoint tests' server launcher, loaded by path: test folders are not packages.
    spec = importlib.util.spec_from_file_location("endpoint_conftest", _ENDPOINT_CONFTEST)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module.start_server


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator:
    # Served from a releases directory, as in production, so that the downloads pages exist too.
    releases = tmp_path_factory.mktemp("browser-releases")
    make_release(releases, ROOT)
    log = tmp_path_factory.mktemp("browser-server") / "server.log"
    live = _start_server()("--releases", str(releases), "--workers", "2", log=log)
    yield live
    live.stop()


@pytest.fixture(scope="session")
def driver_factory():
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    if missing:
        pytest.fail(
            f"the browser tests need Debian's Chromium and its driver ({', '.join(missing)} missing): "
            "run `apt-get install -y chromium chromium-driver` as root (scripts/test does this)",
            pytrace=False,
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    def make(width: int = 1280, height: int = 1000):
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in CHROMIUM_ARGS:
            options.add_argument(argument)
        options.add_argument(f"--window-size={width},{height}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        # An explicit driver path: Selenium then never looks for (or downloads) a driver of its own.
        return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)

    return make


@pytest.fixture
def browser(driver_factory):
    driver = driver_factory()
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS

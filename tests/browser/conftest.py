"""A real headless Chromium (Debian's ``chromium`` driven through ``chromedriver``) and the real server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.live_server import start_server

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


_HERE = Path(__file__).resolve().parent
_MISSING = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
_WHY = (
    f"the browser tests need Debian's Chromium and its driver ({', '.join(_MISSING)} missing): "
    "run `apt-get install -y chromium chromium-driver` as root (scripts/test does this)"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark this folder's tests ``browser``; without Chromium, skip them saying why, except in CI
    (``CI`` set), where scripts/test installs Chromium and a missing one must fail the run."""
    for item in items:
        if _HERE not in item.path.parents:
            continue
        item.add_marker(pytest.mark.browser)
        if _MISSING and not os.environ.get("CI"):
            item.add_marker(pytest.mark.skip(reason=_WHY))


@pytest.fixture(scope="session", autouse=True)
def _chromium_is_there() -> None:
    if _MISSING:  # only in CI: elsewhere the tests were skipped
        pytest.fail(_WHY, pytrace=False)


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator:
    # Served from a releases directory, as in production, so that the downloads pages exist too.
    releases = tmp_path_factory.mktemp("browser-releases")
    make_release(releases, ROOT)
    log = tmp_path_factory.mktemp("browser-server") / "server.log"
    live = start_server("--releases", str(releases), "--workers", "2", log=log)
    yield live
    live.stop()


@pytest.fixture(scope="session")
def driver_factory():
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

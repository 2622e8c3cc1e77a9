"""Every page type as a reader meets it, at a desktop width and a phone's: it fits, it logs no error,
and axe-core (pinned in tests/browser/package-lock.json, injected into the page) finds no serious or
critical accessibility violation. Screenshots are kept under ``test-artifacts/browser/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_checks import WAIT, no_console_errors, shoot
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
PAGES = {
    "landing": "/",
    "condition": "/id/fibromyalgia",
    "condition-long-covid": "/id/long-covid",
    "study": "/id/final-trial",
    "review": "/id/vatvani-2024-ma",
    "publication": "/id/bruun-2024",
    "statement": "/id/statement/ldn-efficacy-multiple-sclerosis-2014",
    "claims": "/evidence?condition=multiple-sclerosis",
    "term": "/ontology/NoSupportingEvidence",
    "drug": "/id/low-dose-naltrexone",
    "search": "/search?q=naltrexone",
    "downloads": "/downloads/",
    "release": "/downloads/latest/",
    "query": "/sparql",
}


@pytest.fixture(scope="module", params=list(WIDTHS))
def sized(request, driver_factory):
    width, height = WIDTHS[request.param]
    driver = driver_factory(width, height)
    yield request.param, driver
    driver.quit()


def axe_violations(browser) -> list[dict]:
    if not AXE.is_file():
        pytest.fail(
            f"{AXE} is missing: run `npm ci --prefix tests/browser` (scripts/test does this)", pytrace=False
        )
    browser.execute_script(AXE.read_text(encoding="utf-8"))
    browser.set_script_timeout(30)
    return browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations));"
    )


@pytest.mark.parametrize("name", list(PAGES))
def test_page_fits_logs_nothing_and_passes_axe(server, sized, artifacts, name):
    size, browser = sized
    width, height = WIDTHS[size]
    browser.set_window_size(width, height)
    browser.get(server.url + PAGES[name])
    WebDriverWait(browser, WAIT).until(ready.presence_of_element_located((By.TAG_NAME, "h1")))
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{PAGES[name]} is {overflow}px wider than a {width}px window"
    no_console_errors(browser)
    serious = [
        (v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
        for v in axe_violations(browser)
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, serious
    shoot(browser, artifacts, f"{size}-{name}")


def test_evidence_map_shows_every_column_at_1280(server, driver_factory):
    """The two most negative findings were only reachable by scrolling sideways."""
    browser = driver_factory(1280, 900)
    try:
        browser.get(server.url + "/")
        table = browser.find_element(By.CSS_SELECTOR, "table.evidence-map")
        right = browser.execute_script("return arguments[0].getBoundingClientRect().right", table)
        assert right <= browser.execute_script("return document.documentElement.clientWidth")
        row = table.find_element(By.XPATH, ".//tr[th//a[contains(@href, '/id/long-covid')]]")
        assert "efficacy not shown" in row.text  # the article's claim and the studies' standing, in words
        ms = table.find_element(By.XPATH, ".//tr[th//a[contains(@href, '/id/multiple-sclerosis')]]")
        assert "no supporting evidence" in ms.text
        for cell in (row, ms):
            assert cell.is_displayed()
    finally:
        browser.quit()


def test_two_clicks_from_landing_to_the_strength_of_evidence_and_its_trials(server, driver_factory):
    browser = driver_factory(1280, 900)
    try:
        browser.get(server.url + "/")
        browser.find_element(
            By.CSS_SELECTOR, 'table.evidence-map th a[href$="/id/fibromyalgia"]'
        ).click()  # 1
        WebDriverWait(browser, WAIT).until(ready.title_contains("fibromyalgia"))
        summary = browser.find_element(By.CSS_SELECTOR, ".summary").text
        assert "not confirmed by later trials" in summary and "As of 2025" in summary
        assert "not rated" in summary  # the certainty, and that no review rated it
        table = browser.find_element(By.CSS_SELECTOR, "table.studies").text
        for words in (
            "FINAL trial",
            "99 randomised",
            "6 mg once daily for 12 weeks",
            "−0.95 to 0.27",
            "NCT04270877",
        ):
            assert words in table, words
        figure = browser.find_element(By.CSS_SELECTOR, "figure.forest")
        assert "no effect" in figure.text
        browser.find_element(By.CSS_SELECTOR, 'table.studies a[href$="/id/bested-2023-trial"]').click()  # 2
        WebDriverWait(browser, WAIT).until(ready.presence_of_element_located((By.ID, "results")))
        results = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=results]")
        assert "P = 0.3" in results.text  # the quote behind the result
        no_console_errors(browser)
    finally:
        browser.quit()


def test_the_accessibility_check_does_find_violations(driver_factory):
    """axe-core must really run: an image without a text alternative is a critical violation."""
    browser = driver_factory(1280, 900)
    try:
        browser.get("data:text/html,<!doctype html><html lang=en><title>t</title><main><img src=x></main>")
        assert "image-alt" in {v["id"] for v in axe_violations(browser) if v["impact"] == "critical"}
    finally:
        browser.quit()

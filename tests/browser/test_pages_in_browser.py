"""The pages in a real headless Chromium: landing, evidence map, sources, query page, entity pages.

Screenshots are kept under ``test-artifacts/browser/`` for people to look at.
"""

from __future__ import annotations

import time

import pytest
from browser_checks import WAIT, no_console_errors, shoot
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait


def test_landing_to_evidence_to_source_in_three_clicks(server, browser, artifacts):
    browser.get(server.url + "/")
    assert "low-dose naltrexone" in browser.title
    table = browser.find_element(By.CSS_SELECTOR, "table.evidence-map")
    assert table.is_displayed()
    shoot(browser, artifacts, "landing")
    no_console_errors(browser)

    cell = browser.find_element(
        By.CSS_SELECTOR, 'a[href*="condition=long-covid"][href*="status=EfficacyNotShown"]'
    )
    cell.click()  # 1
    WebDriverWait(browser, WAIT).until(ready.presence_of_element_located((By.CSS_SELECTOR, "article.claim")))
    assert "long COVID" in browser.find_element(By.TAG_NAME, "h1").text
    claim = browser.find_element(By.CSS_SELECTOR, "article.claim")
    assert "efficacy not shown" in claim.text
    shoot(browser, artifacts, "evidence-long-covid")
    no_console_errors(browser)

    claim.find_element(By.PARTIAL_LINK_TEXT, "O'Kelly et al. 2022").click()  # 2
    WebDriverWait(browser, WAIT).until(ready.title_contains("O'Kelly"))
    doi = browser.find_element(By.CSS_SELECTOR, 'a[href="https://doi.org/10.1016/j.bbih.2022.100485"]')
    assert doi.is_displayed()  # 3: the source itself, one click away
    no_console_errors(browser)


def test_example_query_runs_and_its_results_link_to_entity_pages(server, browser, artifacts):
    browser.get(server.url + "/")
    browser.find_element(By.CSS_SELECTOR, 'a[href$="#example=01-conditions-evidence"]').click()
    rows = WebDriverWait(browser, WAIT).until(
        ready.presence_of_all_elements_located((By.CSS_SELECTOR, "#result-table tbody tr"))
    )
    assert len(rows) >= 15
    assert "rows" in browser.find_element(By.ID, "status").text
    assert "conditionLabel" in browser.find_element(By.CSS_SELECTOR, "#result-table thead").text
    shoot(browser, artifacts, "query-01")
    no_console_errors(browser)

    link = browser.find_element(By.CSS_SELECTOR, '#result-table a[href$="/id/fibromyalgia"]')
    link.click()
    WebDriverWait(browser, WAIT).until(ready.title_contains("fibromyalgia"))
    picture = browser.find_element(By.CSS_SELECTOR, "figure.forest svg.forest-svg")
    assert picture.is_displayed()
    assert browser.find_elements(By.CSS_SELECTOR, "article.claim")
    shoot(browser, artifacts, "entity-fibromyalgia")
    no_console_errors(browser)


def test_query_page_runs_a_typed_query_without_any_cdn(server, browser):
    browser.get(server.url + "/sparql")
    scripts = [s.get_attribute("src") for s in browser.find_elements(By.CSS_SELECTOR, "script[src]")]
    sheets = [s.get_attribute("href") for s in browser.find_elements(By.CSS_SELECTOR, "link[rel=stylesheet]")]
    assert all(src.startswith(server.url) for src in scripts + sheets)
    editor = browser.find_element(By.ID, "query")
    editor.clear()
    editor.send_keys("SELECT ?label WHERE { <https://w3id.org/ldngraph/id/naltrexone> rdfs:label ?label }")
    browser.find_element(By.CSS_SELECTOR, "#query-form button[type=submit]").click()
    cell = WebDriverWait(browser, WAIT).until(
        ready.presence_of_element_located((By.CSS_SELECTOR, "#result-table tbody td"))
    )
    assert cell.text == "naltrexone"
    no_console_errors(browser)


def test_a_study_in_the_table_opens_its_page(server, browser):
    browser.get(server.url + "/id/fibromyalgia")
    browser.find_element(By.CSS_SELECTOR, 'table.studies a[href$="/id/final-trial"]').click()
    WebDriverWait(browser, WAIT).until(ready.title_contains("FINAL trial"))
    assert "Arms: who received what" in browser.find_element(By.ID, "arms").text
    no_console_errors(browser)


# Run before any script of the page: records every Content-Security-Policy violation the page meets.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation",
  (event) => window.cspViolations.push(event.effectiveDirective + " " + event.blockedURI));
"""


def test_query_page_runs_under_its_content_security_policy(server, browser):
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_VIOLATIONS})
    browser.get(server.url + "/sparql#example=02-receptors-antagonised")
    rows = WebDriverWait(browser, WAIT).until(
        ready.presence_of_all_elements_located((By.CSS_SELECTOR, "#result-table tbody tr"))
    )
    assert rows and browser.execute_script("return window.cspViolations") == []
    no_console_errors(browser)
    # The policy is in force and a violation would be seen: script the page did not load from a file
    # does not run, and is reported to the page and on the console.
    browser.execute_script(
        "const s = document.createElement('script'); s.textContent = 'window.inlineRan = true';"
        "document.body.appendChild(s);"
    )
    assert browser.execute_script("return window.inlineRan") is None
    assert [v for v in browser.execute_script("return window.cspViolations") if v.startswith("script-src")]
    errors = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert any("Content Security Policy" in message for message in errors), errors


def test_keyboard_reaches_the_skip_link_and_the_evidence_map(server, browser):
    browser.get(server.url + "/")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    focused = browser.switch_to.active_element
    assert focused.text == "Skip to content"
    # Tab on until a cell of the evidence map has focus, then Enter opens it.
    for _ in range(60):
        focused = browser.switch_to.active_element
        if "/evidence?" in (focused.get_attribute("href") or ""):
            break
        focused.send_keys(Keys.TAB)
    else:
        pytest.fail("no evidence-map cell can be reached with the Tab key")
    focused.send_keys(Keys.ENTER)
    WebDriverWait(browser, WAIT).until(ready.presence_of_element_located((By.CSS_SELECTOR, "article.claim")))


def test_readable_on_a_phone(server, driver_factory, artifacts):
    phone = driver_factory(390, 844)
    try:
        for path, name in (("/", "phone-landing"), ("/id/multiple-sclerosis", "phone-entity")):
            phone.get(server.url + path)
            time.sleep(0.2)
            overflow = phone.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} is {overflow}px wider than the phone's screen"
            shoot(phone, artifacts, name)
            phone.set_window_size(390, 844)
            no_console_errors(phone)
    finally:
        phone.quit()

"""What every browser test checks on a page, and how it keeps a picture of it."""

from __future__ import annotations

WAIT = 10  # seconds for an element to appear


def no_console_errors(browser) -> None:
    """Fail on any error the page logged (scripts, missing resources, CSP)."""
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, errors


def shoot(browser, artifacts, name: str) -> None:
    # The whole page in one picture: grow the window to the document's height first.
    width = browser.execute_script("return window.innerWidth")
    browser.set_window_size(width, 600)  # so a short page is not padded to the last page's height
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(width, min(height + 120, 6000))
    browser.save_screenshot(str(artifacts / f"{name}.png"))

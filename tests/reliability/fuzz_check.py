"""One fuzz case against the live server and what it must never do; shared by the tests and bench/fuzz.py."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import requests
from support.timing import within

FUZZ_TIMEOUT = 1.0  # the fuzzed server's --timeout: short, so runaway inputs end quickly

REGRESSIONS = Path(__file__).resolve().parent / "regressions"
# Past the limit, an answer may take the product's 0.5 s and the machine's slack (support.timing).
LATE = within(1.0)


class FuzzFailure(AssertionError):
    pass


def send(endpoint: str, query: str, how: str, timeout: float) -> requests.Response:
    if how == "get":
        return requests.get(endpoint, params={"query": query}, timeout=timeout)
    if how == "form":
        return requests.post(endpoint, data={"query": query}, timeout=timeout)
    return requests.post(
        endpoint,
        data=query.encode("utf-8", "surrogatepass"),
        headers={"Content-Type": "application/sparql-query"},
        timeout=timeout,
    )


def check(endpoint: str, query: str, limit: float, how: str = "direct") -> int:
    """Send ``query``; raise FuzzFailure on a 5xx other than the time limit's 503, or on a late answer.

    A 503 is the documented answer to a query stopped at the time limit; a 503 because an engine
    crashed means an input got past the guard that should not have, and fails like any 500."""
    started = time.perf_counter()
    try:
        response = send(endpoint, query, how, timeout=limit + LATE + 5)
    except requests.RequestException as error:
        raise FuzzFailure(f"no answer ({error}) to {how} {query[:300]!r}") from None
    elapsed = time.perf_counter() - started
    status = response.status_code
    if status >= 500 and not (status == 503 and "time limit" in response.text):
        raise FuzzFailure(f"{status} {response.text[:200]!r} to {how} {query[:300]!r}")
    if elapsed > limit + LATE:
        raise FuzzFailure(f"answered after {elapsed:.2f} s (limit {limit:g} s) to {how} {query[:300]!r}")
    return status


def keep_regression(query: str) -> Path:
    """Save a failing input where the regression test replays it."""
    REGRESSIONS.mkdir(exist_ok=True)
    path = REGRESSIONS / f"{hashlib.sha256(query.encode('utf-8', 'surrogatepass')).hexdigest()[:16]}.rq"
    path.write_text(query, encoding="utf-8", errors="surrogatepass")
    return path

"""The one policy for what a test may assert about time, and polling instead of sleeping.

A timing assertion states a bound of the product (a runaway query is answered within the limit plus
0.5 s; a quick query beside runaways within 0.5 s) stretched by one slack factor for the machine the
tests run on: the suite runs in parallel (``pytest -n``) on a shared machine, where a process may wait
its turn for a CPU. The factor is ``LDNGRAPH_TEST_SLACK`` (default 2), so a slower machine widens every
bound at once, in one place, instead of each test guessing its own; the benchmarks in ``bench/`` hold
the product to the bounds themselves. What a test waits for, it polls for (``wait_until``): never a
fixed sleep, too short on a busy machine and wasted on an idle one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

SLACK = float(os.environ.get("LDNGRAPH_TEST_SLACK", "2"))


def within(seconds: float) -> float:
    """A bound of ``seconds``, stretched by the slack every timing assertion allows."""
    return seconds * SLACK


def wait_until(condition: Callable[[], T], timeout: float, what: str, interval: float = 0.02) -> T:
    """Poll ``condition`` until it returns something true, and return that; AssertionError saying
    ``what`` was awaited after ``within(timeout)`` seconds."""
    deadline = time.monotonic() + within(timeout)
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {within(timeout):g} s for {what}")
        time.sleep(interval)

"""Grammar fuzzing of the live server: valid, hostile and mutated SPARQL (Hypothesis, derandomised).

Never a 5xx but the time limit's 503, never an answer past the limit (plus 0.5 s and slack for a
shared machine), never a connection to the loopback listener that SERVICE, FROM and LOAD point at.
The long run is ``bench/fuzz.py``; the inputs it found failing live in ``regressions/`` and are
replayed here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from fuzz_check import FUZZ_TIMEOUT, REGRESSIONS, check
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sparql_fuzz_grammar import (
    any_query,
    competency_queries,
    hostile_pieces,
    mutated,
    valid_queries,
    w3c_queries,
)


def ci(examples: int) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,  # the same examples on every run: a failure here is reproducible
        deadline=None,  # each request has its own bound, checked by check()
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )


@ci(120)
@given(query=valid_queries(), how=st.sampled_from(("get", "form", "direct")))
def test_valid_queries_never_fail_the_server(fuzz_server, query, how):
    status = check(fuzz_server.endpoint, query, FUZZ_TIMEOUT, how)
    assert status in (200, 503), query  # valid by construction: answered, or stopped at the limit


@ci(120)
@given(data=st.data())
def test_hostile_queries_are_refused_or_stopped_and_reach_nothing(fuzz_server, listener, data):
    query = data.draw(hostile_pieces(listener.url))
    check(fuzz_server.endpoint, query, FUZZ_TIMEOUT, "direct")
    assert listener.hits == 0, query


@ci(150)
@given(data=st.data())
def test_mutated_real_queries_get_answers_or_4xx(fuzz_server, listener, data):
    query = data.draw(mutated(competency_queries() + w3c_queries()))
    check(fuzz_server.endpoint, query, FUZZ_TIMEOUT, data.draw(st.sampled_from(("get", "direct"))))
    assert listener.hits == 0


def test_the_seed_corpora_are_there():
    assert len(competency_queries()) >= 10
    assert len(w3c_queries()) >= 5
    assert any_query("http://127.0.0.1:9") is not None


@pytest.mark.parametrize("path", sorted(REGRESSIONS.glob("*.rq")), ids=lambda p: p.stem)
def test_inputs_the_long_run_found(fuzz_server, listener, path: Path):
    check(fuzz_server.endpoint, path.read_text(encoding="utf-8", errors="surrogatepass"), FUZZ_TIMEOUT)
    assert listener.hits == 0


def test_the_server_still_answers_after_fuzzing(fuzz_server):
    response = requests.get(fuzz_server.endpoint, params={"query": "ASK { ?s ?p ?o }"}, timeout=10)
    assert response.json()["boolean"] is True
    assert "Traceback" not in fuzz_server.log.read_text(), "a request raised past the handlers"

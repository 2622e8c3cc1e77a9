"""The result cache keeps an answer only when its query comes a second time, within its byte bound."""

from __future__ import annotations

import tracemalloc

from ldn_graph.serving.engine import QueryAnswer
from ldn_graph.serving.protocol import ProtocolRequest
from ldn_graph.serving.result_cache import Doorkeeper, ResultCache

JSON = "application/sparql-results+json"


def _ask(cache: ResultCache, query: str, body: bytes = b"{}") -> bool:
    """Ask the cache as the endpoint does (get, and on a miss put the engine's answer); True on a hit."""
    request = ProtocolRequest(query)
    if cache.get(request, JSON) is not None:
        return True
    cache.put(request, JSON, QueryAnswer(body, JSON))
    return False


def test_an_answer_is_kept_from_the_second_time_its_query_is_asked():
    cache = ResultCache("v1", 1 << 20)
    assert [_ask(cache, "ASK {}") for _ in range(4)] == [False, False, True, True]
    assert cache.size > 0


def test_queries_asked_once_leave_almost_no_answers_behind():
    cache = ResultCache("v1", 1 << 20, seen_once=100)
    kept = 0
    for number in range(1000):
        size = cache.size
        assert not _ask(cache, f"ASK {{}} # {number}", b"x" * 500)
        kept += cache.size > size
    assert kept <= 30  # the doorkeeper's false positives: about 5 expected


def test_the_doorkeeper_never_grows():
    doorkeeper = Doorkeeper(4096)
    assert len(doorkeeper._bits) == 8192
    for digest in range(0, 50_000 * 7919, 7919):
        doorkeeper.seen_before(hash(("v1", f"ASK {{}} # {digest}")))
    assert len(doorkeeper._bits) == 8192


def test_a_sighting_is_forgotten_when_the_doorkeeper_is_cleared():
    doorkeeper = Doorkeeper(3)
    assert not doorkeeper.seen_before(1 | 2 << 32)
    assert doorkeeper.seen_before(1 | 2 << 32)
    assert not doorkeeper.seen_before(3 | 4 << 32)
    assert not doorkeeper.seen_before(5 | 6 << 32)  # the third new query: the filter is cleared
    assert not doorkeeper.seen_before(1 | 2 << 32)
    assert doorkeeper.seen_before(1 | 2 << 32)


def test_a_query_forgotten_by_the_doorkeeper_starts_again():
    cache = ResultCache("v1", 1 << 20, seen_once=2)
    _ask(cache, "ASK { 1 }")
    _ask(cache, "ASK { 2 }")  # the second new query clears the doorkeeper
    assert [_ask(cache, "ASK { 1 }") for _ in range(3)] == [False, False, True]


def test_the_byte_bound_evicts_the_least_recently_used():
    cache = ResultCache("v1", 16 * 1000)
    for query in ("ASK { 1 }", "ASK { 2 }"):
        _ask(cache, query, b"x" * 900)
        _ask(cache, query, b"x" * 900)
    for number in range(3, 30):
        _ask(cache, f"ASK {{ {number} }}", b"x" * 900)
        _ask(cache, f"ASK {{ {number} }}", b"x" * 900)
    assert cache.size <= 16 * 1000
    assert not _ask(cache, "ASK { 1 }", b"x" * 900)  # evicted long ago
    assert _ask(cache, "ASK { 29 }", b"x" * 900)


def test_the_bound_holds_for_the_memory_a_full_cache_takes_not_only_its_answers_bytes():
    bound = 256 << 10
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        cache = ResultCache("v1", bound)
        for number in range(20_000):  # small answers, as ASK and one-label queries give: the worst case
            _ask(cache, f"ASK {{ ?s ?p {number} }}", b'{"boolean": true}')
            _ask(cache, f"ASK {{ ?s ?p {number} }}", b'{"boolean": true}')
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert cache.size <= bound
    assert held < 1.15 * bound, f"a cache bound to {bound:,} bytes holds {held:,}"

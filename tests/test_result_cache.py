"""The result cache keeps an answer only when its query comes a second time, within its byte bound."""

from __future__ import annotations

from ldn_graph.result_cache import ResultCache
from ldn_graph.sparql_engine import QueryAnswer
from ldn_graph.sparql_protocol import ProtocolRequest

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


def test_queries_asked_once_leave_no_answers_behind():
    cache = ResultCache("v1", 1 << 20, seen_once=100)
    for number in range(1000):
        assert not _ask(cache, f"ASK {{}} # {number}", b"x" * 500)
    assert cache.size == 0
    assert len(cache._seen) == 100  # only the newest hashes, bounded


def test_a_query_forgotten_from_the_seen_list_starts_again():
    cache = ResultCache("v1", 1 << 20, seen_once=2)
    _ask(cache, "ASK { 1 }")
    _ask(cache, "ASK { 2 }")
    _ask(cache, "ASK { 3 }")  # pushes ASK { 1 } out of the list
    assert [_ask(cache, "ASK { 1 }") for _ in range(3)] == [False, False, True]


def test_the_byte_bound_evicts_the_least_recently_used():
    cache = ResultCache("v1", 8 * 1000)
    for query in ("ASK { 1 }", "ASK { 2 }"):
        _ask(cache, query, b"x" * 900)
        _ask(cache, query, b"x" * 900)
    for number in range(3, 12):
        _ask(cache, f"ASK {{ {number} }}", b"x" * 900)
        _ask(cache, f"ASK {{ {number} }}", b"x" * 900)
    assert cache.size <= 8 * 1000
    assert not _ask(cache, "ASK { 1 }", b"x" * 900)  # evicted long ago

"""Reusing answers to repeated queries, and pages rendered from them.

The served graph does not change while a server runs, so an answer depends only on the query text, the
dataset the request names, the Accept header it was negotiated from, and the graph's version. Popular
queries (the example queries of a page, a dashboard polling) are then answered without an engine
process, and a popular page (a condition's, read by many) is sent as rendered the first time. The cache is bounded by the memory it holds and forgets the least recently used answer first;
each web worker keeps its own, so it needs no lock across processes.

An answer is kept only when its query is seen a second time: most queries a public endpoint meets are
asked once (the same question with a new comment or a new literal), and keeping their answers would
only push out the popular ones and grow the server to the cache's bound. Queries seen once are marked in
a Bloom filter of fixed size (the "doorkeeper" of TinyLFU admission, Einziger et al. 2017): its memory
is taken when the cache is made and never grows, however many distinct queries arrive.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Protocol

from ldn_graph.serving.engine import QueryAnswer
from ldn_graph.serving.protocol import ProtocolRequest

_LARGEST_SHARE = 8  # an answer bigger than this share of the cache is not kept: it would evict the rest
SEEN_ONCE = 4096  # queries the doorkeeper marks before it is cleared
_BITS_PER_QUERY = 16  # with two bits a query, under 1.4 % of queries asked once pass as seen before
_HASH_MASK = (1 << 64) - 1
# What an entry holds besides its answer's body and its query's text: the key tuple, the answer object,
# the LRU links and the objects' headers. Measured with tracemalloc at 375-415 bytes an entry whatever
# the body's size; without it a cache of small answers (ASK, one label) held 3-6 times its bound.
ENTRY_OVERHEAD = 400


class Doorkeeper:
    """Which queries were seen before, as a Bloom filter of ``period * 16`` bits (8 KiB by default).

    A query sets two bits; it was seen before when both are set already. After ``period`` new queries the
    filter is cleared, so a sighting counts for a while and the false positives (a query asked once
    taken for one asked twice: under 1.4 % when full) never pile up.
    """

    def __init__(self, period: int = SEEN_ONCE):
        bits = 1 << max(3, (period * _BITS_PER_QUERY - 1).bit_length())  # a power of two, for masking
        self.period = period
        self._mask = bits - 1
        self._bits = bytearray(bits // 8)
        self.marked = 0  # new queries since the last clearing

    def seen_before(self, digest: int) -> bool:
        """True when ``digest`` was marked since the last clearing; else mark it and return False."""
        digest &= _HASH_MASK
        positions = (digest & self._mask, (digest >> 32) & self._mask)
        if all(self._bits[bit >> 3] >> (bit & 7) & 1 for bit in positions):
            return True
        for bit in positions:
            self._bits[bit >> 3] |= 1 << (bit & 7)
        self.marked += 1
        if self.marked >= self.period:
            self._bits[:] = bytes(len(self._bits))
            self.marked = 0
        return False


class ResultCache:
    def __init__(self, graph_version: Hashable, max_bytes: int, seen_once: int = SEEN_ONCE):
        self.graph_version = graph_version
        self.max_bytes = max_bytes
        self._doorkeeper = Doorkeeper(seen_once)
        self.size = 0
        self.hits = self.misses = 0
        self._answers: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._lock = threading.Lock()

    def _key(self, request: ProtocolRequest, accept: str | None) -> Hashable:
        return (self.graph_version, request.query, request.default_graphs, request.named_graphs, accept)

    def get(self, request: ProtocolRequest, accept: str | None) -> QueryAnswer | None:
        return self.lookup(self._key(request, accept))

    def put(self, request: ProtocolRequest, accept: str | None, answer: QueryAnswer) -> None:
        cost = len(answer.body) + len(request.query or "") + ENTRY_OVERHEAD  # the query text is the key
        self.keep(self._key(request, accept), answer, cost)

    def lookup(self, key: Hashable) -> object | None:
        """What was kept under ``key`` (any hashable naming a product of this graph version), or None."""
        with self._lock:
            entry = self._answers.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._answers.move_to_end(key)
            self.hits += 1
            return entry[0]

    def keep(self, key: Hashable, value: object, cost: int) -> None:
        """Keep ``value`` (costing ``cost`` bytes) under ``key`` once ``key`` is seen a second time."""
        if cost * _LARGEST_SHARE > self.max_bytes:
            return
        with self._lock:
            if not self._doorkeeper.seen_before(hash(key)):
                return
            old = self._answers.pop(key, None)
            if old is not None:
                self.size -= old[1]
            self._answers[key] = (value, cost)
            self.size += cost
            while self.size > self.max_bytes:
                _, (_, evicted) = self._answers.popitem(last=False)
                self.size -= evicted

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class Answers(Protocol):
    """What answers a query: the engine itself, or its pool of engine processes."""

    def answer(self, request: ProtocolRequest, accept: str | None) -> QueryAnswer: ...


def answer_through(
    cache: ResultCache | None, engine: Answers, request: ProtocolRequest, accept: str | None
) -> tuple[QueryAnswer, bool]:
    """The answer to ``request`` and whether the cache held it; one the engine made is kept for next time.
    The engine's refusals and failures propagate."""
    answer = cache.get(request, accept) if cache is not None else None
    if answer is not None:
        return answer, True
    answer = engine.answer(request, accept)
    if cache is not None:
        cache.put(request, accept, answer)
    return answer, False

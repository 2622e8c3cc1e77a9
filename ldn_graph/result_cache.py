"""Reusing answers to repeated queries.

The served graph does not change while a server runs, so an answer depends only on the query text, the
dataset the request names, the Accept header it was negotiated from, and the graph's version. Popular
queries (the example queries of a page, a dashboard polling) are then answered without an engine
process. The cache is bounded by the bytes it holds and forgets the least recently used answer first;
each web worker keeps its own, so it needs no lock across processes.

An answer is kept only when its query is seen a second time: most queries a public endpoint meets are
asked once (the same question with a new comment or a new literal), and keeping their answers would
only push out the popular ones and grow the server to the cache's bound. Until then only a hash of the
query is remembered, in a short list of its own.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from ldn_graph.sparql_engine import QueryAnswer
from ldn_graph.sparql_protocol import ProtocolRequest

DEFAULT_BYTES = 32 << 20
_LARGEST_SHARE = 8  # an answer bigger than this share of the cache is not kept: it would evict the rest
SEEN_ONCE = 4096  # queries remembered (as hashes) until they are asked again


class ResultCache:
    def __init__(self, graph_version: Hashable, max_bytes: int = DEFAULT_BYTES, seen_once: int = SEEN_ONCE):
        self.graph_version = graph_version
        self.max_bytes = max_bytes
        self.seen_once = seen_once
        self._seen: OrderedDict[int, None] = OrderedDict()
        self.size = 0
        self.hits = self.misses = 0
        self._answers: OrderedDict[Hashable, tuple[QueryAnswer, int]] = OrderedDict()
        self._lock = threading.Lock()

    def _key(self, request: ProtocolRequest, accept: str | None) -> Hashable:
        return (self.graph_version, request.query, request.default_graphs, request.named_graphs, accept)

    def get(self, request: ProtocolRequest, accept: str | None) -> QueryAnswer | None:
        key = self._key(request, accept)
        with self._lock:
            entry = self._answers.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._answers.move_to_end(key)
            self.hits += 1
            return entry[0]

    def put(self, request: ProtocolRequest, accept: str | None, answer: QueryAnswer) -> None:
        cost = len(answer.body) + len(request.query or "")  # the query text is kept as the key
        if cost * _LARGEST_SHARE > self.max_bytes:
            return
        key = self._key(request, accept)
        with self._lock:
            if not self._second_sight(hash(key)):
                return
            old = self._answers.pop(key, None)
            if old is not None:
                self.size -= old[1]
            self._answers[key] = (answer, cost)
            self.size += cost
            while self.size > self.max_bytes:
                _, (_, evicted) = self._answers.popitem(last=False)
                self.size -= evicted

    def _second_sight(self, digest: int) -> bool:
        """True when the query was seen before (and is forgotten from the list); else remember it."""
        if self._seen.pop(digest, False) is None:
            return True
        self._seen[digest] = None
        if len(self._seen) > self.seen_once:
            self._seen.popitem(last=False)
        return False

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

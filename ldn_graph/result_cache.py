"""Reusing answers to repeated queries.

The served graph does not change while a server runs, so an answer depends only on the query text, the
dataset the request names, the Accept header it was negotiated from, and the graph's version. Popular
queries (the example queries of a page, a dashboard polling) are then answered without an engine
process. The cache is bounded by the bytes it holds and forgets the least recently used answer first;
each web worker keeps its own, so it needs no lock across processes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from ldn_graph.sparql_engine import QueryAnswer
from ldn_graph.sparql_protocol import ProtocolRequest

DEFAULT_BYTES = 32 << 20
_LARGEST_SHARE = 8  # an answer bigger than this share of the cache is not kept: it would evict the rest


class ResultCache:
    def __init__(self, graph_version: Hashable, max_bytes: int = DEFAULT_BYTES):
        self.graph_version = graph_version
        self.max_bytes = max_bytes
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
            old = self._answers.pop(key, None)
            if old is not None:
                self.size -= old[1]
            self._answers[key] = (answer, cost)
            self.size += cost
            while self.size > self.max_bytes:
                _, (_, evicted) = self._answers.popitem(last=False)
                self.size -= evicted

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

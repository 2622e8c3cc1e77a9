"""Checks a query must pass before it reaches the engine.

Oxigraph's parser aborts the whole process on a query nested about 1,000 brackets deep, and pyoxigraph
cannot switch ``SERVICE`` off, so an endpoint open to anyone would fetch any URL a query names. Both are
caught here on the query text, without parsing SPARQL: strings, IRIs and comments are skipped so that
brackets or the word SERVICE inside them do not count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ldn_graph.sparql_protocol import BadRequest

MAX_QUERY_CHARS = 100_000
MAX_DEPTH = 64

_SKIPPED = re.compile(
    r"""'''(?:[^'\\]|\\.|'(?!''))*'''"""
    r'''|"""(?:[^"\\]|\\.|"(?!""))*"""'''
    r"""|'(?:[^'\\\n\r]|\\.)*'"""
    r'''|"(?:[^"\\\n\r]|\\.)*"'''
    r"""|<[^<>"{}|^`\\\x00-\x20]*>"""
    r"""|\#[^\n\r]*"""
    r"""|[?$][\w\u00B7\u00C0-\uFFFF]+""",
    re.DOTALL,
)
# SERVICE as a keyword, not as part of a prefixed name (ex:SERVICE, service:x) or a longer word.
_SERVICE = re.compile(r"(?<![\w:.\-])SERVICE(?![\w:\-])", re.IGNORECASE)
_SERVICE_IRI = re.compile(r"SERVICE\s+(?:SILENT\s+)?<([^>]*)>", re.IGNORECASE)


@dataclass(frozen=True)
class QueryGuard:
    """Refuses queries too big or too deep for the engine and SERVICE calls outside ``allowed_services``."""

    max_chars: int = MAX_QUERY_CHARS
    max_depth: int = MAX_DEPTH
    allowed_services: frozenset[str] = frozenset()

    def check(self, query: str) -> None:
        if len(query) > self.max_chars:
            raise BadRequest(f"the query is {len(query):,} characters long; the limit is {self.max_chars:,}")
        bare = _SKIPPED.sub(_blank_out, query)
        depth = deepest = 0
        for char in bare:
            if char in "{([":
                depth += 1
                deepest = max(deepest, depth)
            elif char in "})]":
                depth -= 1
        if deepest > self.max_depth:
            raise BadRequest(f"the query nests brackets {deepest} deep; the limit is {self.max_depth}")
        for match in _SERVICE.finditer(bare):
            iri = _SERVICE_IRI.match(query, match.start())
            if iri is None or iri.group(1) not in self.allowed_services:
                target = f"<{iri.group(1)}>" if iri else "a variable"
                raise BadRequest(f"SERVICE {target} is not allowed on this endpoint (federation is off)")


def _blank_out(match: re.Match[str]) -> str:
    # Keep IRIs (SERVICE needs them) but hide their insides; keep lengths so positions still line up.
    text = match.group(0)
    if text.startswith("<"):
        return "<" + " " * (len(text) - 2) + ">"
    return " " * len(text)

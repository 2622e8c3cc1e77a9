"""The competency queries shipped with the graph (``queries/*.rq``), found by name, with their summaries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ldn_graph.errors import LdnGraphError
from ldn_graph.resources import queries_dir

_SUMMARY = re.compile(r"^#\+\s*summary:\s*(.+)$", re.M)
_NUMBERED = re.compile(r"^(\d+)-(.+)$")


class UnknownQuery(LdnGraphError):
    """No shipped query has the name asked for; lists the names there are."""


@dataclass(frozen=True)
class NamedQuery:
    """A competency query as shipped: its file name without ``.rq``, its summary line and its text."""

    name: str  # e.g. 01-conditions-evidence
    summary: str
    text: str

    @property
    def names(self) -> tuple[str, ...]:
        """What finds it: the whole name, its number with or without leading zeros, the rest of the name."""
        numbered = _NUMBERED.match(self.name)
        if numbered is None:
            return (self.name,)
        number, rest = numbered.groups()
        return (self.name, number, str(int(number)), rest)


@lru_cache(maxsize=4)
def named_queries(folder: Path | None = None) -> tuple[NamedQuery, ...]:
    """The competency queries of ``folder`` (default: the shipped ones), in file-name order."""
    return tuple(
        NamedQuery(path.stem, summary_of(text) or path.stem, text)
        for path in sorted((folder or queries_dir()).glob("*.rq"))
        for text in [path.read_text(encoding="utf-8")]
    )


def find_query(name: str, folder: Path | None = None) -> NamedQuery:
    """The shipped query called ``name``: ``01-conditions-evidence``, ``01``, ``1`` or ``conditions-evidence``
    (a trailing ``.rq`` is allowed); UnknownQuery names the others."""
    wanted = name.removesuffix(".rq")
    queries = named_queries(folder)
    for query in queries:
        if wanted in query.names:
            return query
    listed = ", ".join(query.name for query in queries)
    raise UnknownQuery(
        f"no query file {name} and no shipped query of that name; the shipped queries: {listed}"
    )


def summary_of(query_text: str) -> str:
    found = _SUMMARY.search(query_text)
    return found.group(1).strip() if found else ""

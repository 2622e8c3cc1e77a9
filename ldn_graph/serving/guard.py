"""Checks a query must pass before any engine sees it.

A public endpoint meets hostile queries every day, and the engine cannot defend itself: Oxigraph's
parser aborts its whole process on a query nested about 1,000 brackets deep or on a chain of several
thousand ``UNION`` branches or ``||`` operators, and pyoxigraph can neither switch ``SERVICE`` off nor
be told which graphs ``FROM`` may name. So the query text is checked here first, without parsing
SPARQL: strings, IRIs and comments are masked so that brackets or keywords inside them do not count.

Most queries are plainly within every limit, which cheap counts over the raw text show: brackets,
branch operators and keywords can only be fewer once strings, IRIs and comments are masked. Only a query
those counts cannot clear is masked and scanned.

Every refusal says what was found and what the limit is. ``SERVICE`` is refused unless its endpoint is
written as an absolute IRI on the allow-list (a variable or relative endpoint never is); ``FROM`` and
``FROM NAMED`` may only name graphs the store holds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import urljoin

from ldn_graph.serving.protocol import BadRequest
from ldn_graph.vocab.prefixes import PREFIXES

MAX_QUERY_CHARS = 100_000
MAX_DEPTH = 64
MAX_BRANCHES = 1_000  # UNION branches and boolean or path operators, which the engine nests as deep trees


class QueryTooLarge(BadRequest):
    status = 413


_SKIPPED = re.compile(
    r"""'''(?:[^'\\]|\\.|'(?!''))*'''"""
    r'''|"""(?:[^"\\]|\\.|"(?!""))*"""'''
    r"""|'(?:[^'\\\n\r]|\\.)*'"""
    r'''|"(?:[^"\\\n\r]|\\.)*"'''
    r"""|<[^<>"{}|^`\\\x00-\x20]*>"""
    r"""|<[^<>"{}|^`\x00-\x20]*>"""  # an IRI with codepoint escapes: masked too, decoded when compared
    r"""|\\[_~.\-!$&'()*+,;=/?#@%]"""  # an escaped character in a prefixed name (ex:a\#b is no comment)
    r"""|\#[^\n\r]*"""
    r"""|[?$][\w\u00B7\u00C0-\uFFFF]+""",
    re.DOTALL,
)
# A keyword, not part of a prefixed name (ex:SERVICE, service:x), a variable or a longer word.
_KEYWORD = r"(?<![\w:.\-?$])({})(?![\w:\-])"
_SERVICE = re.compile(_KEYWORD.format("SERVICE"), re.IGNORECASE)
_FROM = re.compile(_KEYWORD.format("FROM") + r"(\s+NAMED(?![\w:\-]))?", re.IGNORECASE)
_GRAPH = re.compile(_KEYWORD.format("GRAPH"), re.IGNORECASE)
_SILENT = re.compile(r"\s*SILENT(?![\w:\-])", re.IGNORECASE)
_BRANCHES = re.compile(_KEYWORD.format("UNION") + r"|\|\||&&|!(?!=)|[|/]", re.IGNORECASE)
_PREFIX_DECL = re.compile(
    _KEYWORD.format("PREFIX") + r"\s*([\w.\-\u00B7\u00C0-\uFFFF]*):\s*(<)", re.IGNORECASE
)
_BASE_DECL = re.compile(_KEYWORD.format("BASE") + r"\s*(<)", re.IGNORECASE)
_NAME = re.compile(r"\s*(?:(<)|([?$])|([\w.\-\u00B7\u00C0-\uFFFF]*:[^\s{}()<>\"',;]*))")
_IRI_AT = re.compile(r"<([^<>\x00-\x20]*)>")
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


@dataclass(frozen=True)
class QueryGuard:
    """Refuses queries too big or deep for the engine, SERVICE off the allow-list, FROM of unheld graphs.

    ``held_graphs`` None leaves FROM unchecked (a guard with no store to look at).
    """

    max_chars: int = MAX_QUERY_CHARS
    max_depth: int = MAX_DEPTH
    max_branches: int = MAX_BRANCHES
    allowed_services: frozenset[str] = frozenset()
    held_graphs: frozenset[str] | None = None
    base_iri: str | None = None
    # The prefixes the engine declares for every query.
    prefixes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(PREFIXES))

    def check(self, query: str) -> None:
        """Raise BadRequest (QueryTooLarge for size) naming the first problem in ``query``.

        The protocol's default-graph-uri and named-graph-uri are not checked: the protocol lets them
        name any graph, and one the store does not hold is empty (the W3C protocol tests ask for that).
        """
        if len(query) > self.max_chars:
            raise QueryTooLarge(
                f"the query is {len(query):,} characters long; the limit is {self.max_chars:,}"
            )
        if "\\" not in query and self._plainly_within(query):
            return
        bare = _SKIPPED.sub(_blank_out, query)
        if "\\" in bare:
            # Codepoint escapes belong in strings and IRIs; outside them they could spell a keyword.
            raise BadRequest(f"unexpected backslash at character {bare.index(chr(92)) + 1} of the query")
        self._check_shape(bare)
        lowered = _lowered(bare)
        services = list(_SERVICE.finditer(bare)) if "service" in lowered else []
        froms = list(_FROM.finditer(bare)) if self.held_graphs is not None and "from" in lowered else []
        if not services and not froms:
            return
        prologue = _Prologue.read(query, bare, self.prefixes, self.base_iri)
        for match in services:
            self._check_service(query, bare, match.end(), prologue)
        for match in froms:
            named = "FROM NAMED" if match.group(2) else "FROM"
            iri = prologue.name_at(query, bare, match.end())
            if iri is None:
                raise BadRequest(f"{named} needs an IRI")
            self._check_graph(iri, named)

    def _plainly_within(self, text: str) -> bool:
        """True when counts over ``text`` (the query, or the query masked) show it within every limit.

        Masking only blanks characters out, so each count over the raw query bounds the one over the
        masked query from above.
        """
        lowered = _lowered(text)
        return (
            text.count("{") + text.count("(") + text.count("[") <= self.max_depth
            and _branch_bound(text, lowered) <= self.max_branches
            and "service" not in lowered
            and (self.held_graphs is None or "from" not in lowered)
        )

    def _check_shape(self, bare: str) -> None:
        # A query cannot nest deeper than the brackets it opens: only walk it when it opens enough.
        opened = bare.count("{") + bare.count("(") + bare.count("[")
        if opened > self.max_depth and (deepest := _deepest(bare)) > self.max_depth:
            raise BadRequest(f"the query nests brackets {deepest} deep; the limit is {self.max_depth}")
        if _branch_bound(bare, _lowered(bare)) <= self.max_branches:
            return
        branches = sum(1 for _ in _BRANCHES.finditer(bare))
        if branches > self.max_branches:
            raise BadRequest(
                f"the query has {branches:,} UNION branches and boolean or path operators; "
                f"the limit is {self.max_branches:,}"
            )

    def _check_service(self, query: str, bare: str, at: int, prologue: _Prologue) -> None:
        silent = _SILENT.match(bare, at)
        at = silent.end() if silent else at
        name = _NAME.match(bare, at)
        if name is not None and name.group(2):
            raise BadRequest(
                "SERVICE with a variable endpoint is not allowed on this endpoint: name the endpoint"
            )
        iri = prologue.name_at(query, bare, at)
        if iri is None or not _SCHEME.match(iri) or iri not in self.allowed_services:
            target = f"<{iri}>" if iri else "with an endpoint that is not an IRI"
            allowed = ", ".join(f"<{i}>" for i in sorted(self.allowed_services)) or "none (federation is off)"
            raise BadRequest(f"SERVICE {target} is not allowed on this endpoint; allowed: {allowed}")

    def _check_graph(self, iri: str, where: str) -> None:
        assert self.held_graphs is not None
        if iri not in self.held_graphs:
            held = (
                ", ".join(f"<{g}>" for g in sorted(self.held_graphs)[:10]) or "none besides the default graph"
            )
            raise BadRequest(
                f"{where} names <{iri}>, a graph this endpoint does not hold (it never fetches graphs); "
                f"named graphs held: {held}"
            )


@dataclass(frozen=True)
class _Prologue:
    """The query's own PREFIX and BASE declarations over the engine's defaults, to read names with."""

    prefixes: Mapping[str, str]
    base_iri: str | None

    @classmethod
    def read(cls, query: str, bare: str, defaults: Mapping[str, str], base_iri: str | None) -> _Prologue:
        prefixes = dict(defaults)
        for match in _PREFIX_DECL.finditer(bare):
            iri = _iri_at(query, match.start(3))
            if iri is not None:
                prefixes[match.group(2)] = iri
        for match in _BASE_DECL.finditer(bare):
            iri = _iri_at(query, match.start(2))
            if iri is not None:
                base_iri = urljoin(base_iri or "", iri)
        return cls(prefixes, base_iri)

    def name_at(self, query: str, bare: str, at: int) -> str | None:
        """The IRI an ``<iri>`` or ``prefix:name`` at ``at`` stands for, or None for anything else."""
        name = _NAME.match(bare, at)
        if name is None:
            return None
        if name.group(1):
            iri = _iri_at(query, name.start(1))
            if iri is None:
                return None
            return urljoin(self.base_iri, iri) if self.base_iri and not _SCHEME.match(iri) else iri
        if name.group(3):
            prefix, _, local = name.group(3).partition(":")
            namespace = self.prefixes.get(prefix)
            return namespace + local if namespace is not None else None
        return None


@dataclass(frozen=True)
class GraphsNamed:
    """The graphs a query names: its own dataset (``FROM``, ``FROM NAMED``) and ``GRAPH <iri>`` patterns."""

    default: tuple[str, ...] = ()  # FROM
    named: tuple[str, ...] = ()  # FROM NAMED
    patterns: tuple[str, ...] = ()  # GRAPH with an IRI (not a variable)

    @property
    def has_dataset(self) -> bool:
        return bool(self.default or self.named)


def graphs_named(
    query: str, prefixes: Mapping[str, str] = PREFIXES, base_iri: str | None = None
) -> GraphsNamed:
    """The graphs ``query`` names, read as the guard reads FROM (outside strings, IRIs and comments)."""
    lowered = _lowered(query)
    if "from" not in lowered and "graph" not in lowered:
        return GraphsNamed()
    bare = _SKIPPED.sub(_blank_out, query)
    prologue = _Prologue.read(query, bare, prefixes, base_iri)
    default, named = [], []
    for match in _FROM.finditer(bare):
        iri = prologue.name_at(query, bare, match.end())
        if iri is not None:
            (named if match.group(2) else default).append(iri)
    patterns = [prologue.name_at(query, bare, match.end()) for match in _GRAPH.finditer(bare)]
    return GraphsNamed(tuple(default), tuple(named), tuple(iri for iri in patterns if iri is not None))


def _deepest(bare: str) -> int:
    depth = deepest = 0
    for char in bare:
        if char in "{([":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif char in "})]":
            depth -= 1
    return deepest


def _branch_bound(text: str, lowered: str) -> int:
    """At least the number of _BRANCHES matches in ``text``: each takes one of these characters or a UNION."""
    return sum(text.count(char) for char in "|&!/") + lowered.count("union")


# The letters outside ASCII that the keyword patterns, ignoring case the Unicode way, take for ASCII ones:
# dotted capital I, dotless i, long s and the Kelvin sign.
_ASCII_FOLDS = (("\u0130", "i"), ("\u0131", "i"), ("\u017f", "s"), ("\u212a", "k"))


def _lowered(text: str) -> str:
    """``text`` in lower case, in which a keyword appears wherever the keyword patterns would find it."""
    if not text.isascii():
        for letter, ascii_letter in _ASCII_FOLDS:
            if letter in text:
                text = text.replace(letter, ascii_letter)
    return text.lower()


def _iri_at(query: str, at: int) -> str | None:
    match = _IRI_AT.match(query, at)
    return _ESCAPE.sub(_unescape, match.group(1)) if match else None


def _unescape(match: re.Match[str]) -> str:
    return chr(int(match.group(1) or match.group(2), 16))


def _blank_out(match: re.Match[str]) -> str:
    # Keep IRI brackets (SERVICE and FROM need them) and a variable's sigil, but hide the insides; keep
    # lengths so that positions still line up with the query text.
    text = match.group(0)
    if text.startswith("<"):
        return "<" + " " * (len(text) - 2) + ">"
    if text[0] in "?$":
        return text[0] + " " * (len(text) - 1)
    return " " * len(text)

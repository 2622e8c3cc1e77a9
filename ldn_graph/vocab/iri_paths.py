"""Persistent IRIs and a server's own paths, both ways.

``https://w3id.org/ldngraph/id/x`` is served at ``/id/x``, the ontology and its terms at ``/ontology``
and ``/ontology/{Term}``; pages link through the server's public URL, RDF answers keep the persistent
IRIs.
"""

from __future__ import annotations

import re

from ldn_graph.vocab.prefixes import BASE, ID, ONTOLOGY, ONTOLOGY_IRI

# Server paths under which persistent IRIs are served; a slug is letters, digits and . _ - / only.
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]*(/[A-Za-z0-9][A-Za-z0-9._\-]*)*")
_TERM = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*")


class UnknownPath(ValueError):
    """A server path that cannot name an IRI of the graph (wrong characters or shape)."""


def iri_for_path(path: str) -> str:
    """The persistent IRI served at ``path`` (``/id/…``, ``/ontology`` or ``/ontology/…``)."""
    path = path.lstrip("/")
    if path == "ontology":
        return ONTOLOGY_IRI
    kind, _, rest = path.partition("/")
    if kind == "id" and _SLUG.fullmatch(rest):
        return ID + rest
    if kind == "ontology" and _TERM.fullmatch(rest):
        return ONTOLOGY + rest
    raise UnknownPath(f"/{path} does not name an IRI of the graph")


def is_local(iri: str) -> bool:
    """True for IRIs under the persistent base, which this server dereferences."""
    return iri.startswith(BASE)


def server_path(iri: str) -> str | None:
    """The path at which a server serves ``iri``, or None for an IRI outside the persistent base."""
    return "/" + iri[len(BASE) :] if is_local(iri) else None

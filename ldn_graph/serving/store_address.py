"""Reaching another store over HTTP: its address and credentials, how we name ourselves, its errors.

Shared by the query client (:mod:`ldn_graph.serving.remote_store`) and the Graph Store Protocol push
(:mod:`ldn_graph.graph.publish`), so that both parse a store URL alike and never show a password.
"""

from __future__ import annotations

import base64
import re
import urllib.parse
from dataclasses import dataclass

from ldn_graph import __version__
from ldn_graph.errors import LdnGraphError

USER_AGENT = f"ldn-graph/{__version__}"


@dataclass(frozen=True)
class StoreAddress:
    """A store's URL and the credentials to use there, kept apart so that messages never show a password.

    Credentials come from ``USER:PASSWORD@`` in the URL or from ``credentials`` (``USER:PASSWORD``),
    which wins.
    """

    url: str  # without credentials: safe to print
    user: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str, credentials: str | None = None, what: str = "--store-url") -> StoreAddress:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            shown = url if parts.password is None else url.replace(parts.password, "****", 1)
            raise LdnGraphError(f"{what} must be an http(s) URL, not {shown!r}")
        user, password = parts.username, parts.password
        if credentials:
            user, separator, password = credentials.partition(":")
            if not separator:
                raise LdnGraphError("credentials are given as USER:PASSWORD")
        netloc = parts.netloc.rpartition("@")[2]
        bare = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
        user = urllib.parse.unquote(user) if user and not credentials else user
        password = urllib.parse.unquote(password) if password and not credentials else password
        return cls(bare, user or None, password if user else None)

    @property
    def basic_authorization(self) -> str | None:
        if self.user is None:
            return None
        token = base64.b64encode(f"{self.user}:{self.password or ''}".encode()).decode("ascii")
        return f"Basic {token}"


_MARKUP = re.compile(rb"<(script|style)\b.*?</\1>|<[^>]*>", re.S | re.I)


def readable(body: bytes, media_type: str) -> str:
    """A store's error message as one line of text, its markup taken out if it sent an HTML page."""
    if "html" in media_type:
        body = _MARKUP.sub(b" ", body[:20_000])
    return " ".join(body[:20_000].decode("utf-8", "replace").split())

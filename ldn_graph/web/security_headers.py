"""Security headers: ``X-Content-Type-Options: nosniff`` on every response, and on every HTML page a
Content-Security-Policy, a Referrer-Policy and a refusal to be framed.

The pages load their script, styles and icon from files under ``/static/`` (none inline) and the query
page sends queries to ``/sparql``; so the policy allows scripts, styles, images, fetches and forms from
this server only, no inline script or style and no ``eval``, and nothing else. "This server" is both the
origin the page was loaded from (``'self'``) and the configured public URL, which pages link through
and which may differ (a page opened at ``localhost`` links ``127.0.0.1``). Pages may not be framed
(``frame-ancestors 'none'``, and ``X-Frame-Options`` for browsers that know only that). The referrer
sent to other sites is the origin only.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response

from ldn_graph.web.config import ServeConfig
from ldn_graph.web.state import state, state_of

NOSNIFF = ("X-Content-Type-Options", "nosniff")
REFERRER_POLICY = "strict-origin-when-cross-origin"


def content_security_policy(config: ServeConfig) -> str:
    public = urlsplit(config.public_url)
    own = f"'self' {public.scheme}://{public.netloc}"
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src {own}",
            f"style-src {own}",
            f"img-src {own}",
            f"connect-src {own}",
            f"form-action {own}",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        )
    )


def security_headers(content_type: str | None, policy: str) -> list[tuple[str, str]]:
    """The headers a response of ``content_type`` gets; ``policy`` is the Content-Security-Policy."""
    if not (content_type or "").startswith("text/html"):
        return [NOSNIFF]
    return [
        NOSNIFF,
        ("Content-Security-Policy", policy),
        ("Referrer-Policy", REFERRER_POLICY),
        ("X-Frame-Options", "DENY"),
    ]


def install_security_headers(app: Flask, config: ServeConfig) -> None:
    state_of(app).content_security_policy = content_security_policy(config)
    app.after_request(_secure)


def _secure(response: Response) -> Response:
    for name, value in security_headers(response.content_type, state().content_security_policy):
        response.headers[name] = value
    return response

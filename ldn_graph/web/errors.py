"""What a client is told when a request fails: the one mapping from the library's errors to HTTP.

A :class:`~ldn_graph.serving.protocol.ProtocolError` carries its own status (400, 403, 406, 414, 415,
502, 503); an :class:`~ldn_graph.serving.engine_pool.EngineFailure` is a fault of ours, 500 (the pool has
logged it with its traceback). Queries to ``/sparql`` are answered in plain text on either path
(:func:`ldn_graph.web.sparql.answer_query`), as SPARQL clients expect; on every other route a browser
gets the error page and any other client a line of text.
"""

from __future__ import annotations

from flask import Flask, Response, render_template, request

from ldn_graph.serving.engine_pool import EngineFailure
from ldn_graph.serving.protocol import HTML, NotAcceptable, ProtocolError, negotiate
from ldn_graph.web.site import PAGE_FORMATS


def status_of(error: ProtocolError | EngineFailure) -> int:
    return error.status if isinstance(error, ProtocolError) else 500


def wants_html() -> bool:
    """Whether the current request's client would rather have a page than data."""
    try:
        return negotiate(request.headers.get("Accept"), PAGE_FORMATS) is HTML
    except NotAcceptable:
        return False


def error_response(error: ProtocolError | EngineFailure) -> Response:
    status = status_of(error)
    if status != 406 and wants_html():  # a 406 says no page is on offer either
        body = render_template("error.html", status=status, message=str(error))
        response = Response(body, status=status, mimetype="text/html")
    else:
        response = Response(f"{error}\n", status=status, mimetype="text/plain")
    response.vary.add("Accept")
    return response


def install_error_handlers(app: Flask) -> None:
    app.register_error_handler(ProtocolError, error_response)
    app.register_error_handler(EngineFailure, error_response)

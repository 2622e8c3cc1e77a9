"""``/sparql``: the SPARQL 1.1 Protocol endpoint and its service description."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, render_template, request

from ldn_graph.engine_process import EngineFailure
from ldn_graph.sparql_protocol import (
    HTML,
    RDF_FORMATS,
    RESULT_FORMATS,
    ProtocolError,
    negotiate,
    read_request,
)
from ldn_graph.sparql_results import write_triples
from ldn_graph.web import endpoint

log = logging.getLogger(__name__)

blueprint = Blueprint("sparql", __name__)


@blueprint.route("/sparql", methods=["GET", "POST"])
def sparql() -> Response:
    protocol_request = read_request(
        request.method, request.headers.get("Content-Type"), request.query_string, request.get_data()
    )
    if protocol_request.query is None:
        return _service_description()
    answer = endpoint().engine.answer(protocol_request, request.headers.get("Accept"))
    response = Response(answer.body, mimetype=answer.media_type)
    if answer.truncated:
        response.headers["X-SPARQL-MaxRows"] = str(endpoint().config.max_rows)
    response.vary.add("Accept")
    return response


def _service_description() -> Response:
    chosen = negotiate(request.headers.get("Accept"), (*RDF_FORMATS, HTML))
    config = endpoint().config
    if chosen is HTML:
        body = render_template(
            "sparql.html",
            endpoint_url=config.endpoint_url,
            void_url=config.void_url,
            result_formats=RESULT_FORMATS,
            rdf_formats=RDF_FORMATS,
        )
    else:
        body = write_triples(endpoint().service_description, chosen.key)
    response = Response(body, mimetype=chosen.media_type)
    response.vary.add("Accept")
    return response


@blueprint.errorhandler(ProtocolError)
def _refused(error: ProtocolError) -> Response:
    response = Response(f"{error}\n", status=error.status, mimetype="text/plain")
    response.vary.add("Accept")
    return response


@blueprint.errorhandler(EngineFailure)
def _failed(error: EngineFailure) -> Response:
    return Response(f"{error}\n", status=500, mimetype="text/plain")

"""Pages people read and their machine twins: the landing page, every entity IRI, the evidence lists.

Every IRI under the persistent base is served at the path it names (``/id/…``, ``/ontology/…``): HTML
for browsers; Turtle, N-Triples, JSON-LD and RDF/XML by ``Accept`` or by suffix (``.ttl``, ``.nt``,
``.jsonld``, ``.rdf``, ``.html``). The data of each page comes from SPARQL run by the endpoint's own
engine, so a page query is bounded by the same time limit as any other query. Links on pages go
through the configured public URL; RDF answers keep the persistent IRIs.
"""

from __future__ import annotations

import contextlib
import logging

from flask import Blueprint, Response, redirect, render_template, request
from pyoxigraph import QueryResultsFormat, RdfFormat, parse, parse_query_results
from werkzeug.exceptions import NotFound

from ldn_graph.serving import entity_page as describe
from ldn_graph.serving import evidence_page as evidence_layer
from ldn_graph.serving import forest_plot, page_queries, schema_org
from ldn_graph.serving.engine import QueryAnswer
from ldn_graph.serving.protocol import (
    HTML,
    RDF_FORMAT,
    BadRequest,
    MediaFormat,
    ProtocolRequest,
    negotiate,
)
from ldn_graph.serving.result_cache import ENTRY_OVERHEAD, answer_through
from ldn_graph.vocab import iri_paths
from ldn_graph.web.errors import wants_html
from ldn_graph.web.site import PAGE_FORMATS, SUFFIXES, Site, current_site
from ldn_graph.web.state import endpoint, state

log = logging.getLogger(__name__)

blueprint = Blueprint("pages", __name__)

_NTRIPLES = RDF_FORMAT["ntriples"].media_type
_RESULTS_JSON = "application/sparql-results+json"


# --- asking the engine ----------------------------------------------------------------------------


def _ask(query: str, accept: str) -> QueryAnswer:
    # Through the endpoint's result cache: a page read twice is answered without an engine process.
    answer, _ = answer_through(state().result_cache, endpoint().engine, ProtocolRequest(query=query), accept)
    return answer


def _triples(query: str) -> tuple[describe.Triples, bool]:
    """The triples a CONSTRUCT query answers, indexed; the branches of a page's query yield some
    triples twice, and dropping the repeated lines of N-Triples here is far cheaper than comparing
    terms one by one."""
    answer = _ask(query, _NTRIPLES)
    lines = b"\n".join(dict.fromkeys(answer.body.splitlines()))
    return describe.Triples(parse(lines, format=RdfFormat.N_TRIPLES), unique=True), answer.truncated


def _rows(query: str) -> list[dict[str, object]]:
    answer = _ask(query, _RESULTS_JSON)
    solutions = parse_query_results(answer.body, format=QueryResultsFormat.JSON)
    names = [variable.value for variable in solutions.variables]
    return [{name: solution[name] for name in names if solution[name] is not None} for solution in solutions]


def _nodes(query: str) -> list[str]:
    """The IRIs a SELECT query binds to ``x``: the nodes a page's CONSTRUCT then describes."""
    return [row["x"].value for row in _rows(query) if "x" in row]


# --- negotiation ----------------------------------------------------------------------------------


def _split_suffix(path: str) -> tuple[str, MediaFormat | None]:
    for suffix, media_format in SUFFIXES.items():
        if path.endswith(suffix):
            return path[: -len(suffix)], media_format
    return path, None


def _chosen(suffixed: MediaFormat | None) -> MediaFormat:
    # A suffix names the format outright; without one the Accept header decides, HTML first on a tie.
    return suffixed or negotiate(request.headers.get("Accept"), PAGE_FORMATS)


def _twins_header(site: Site, path: str) -> str:
    return ", ".join(
        f'<{site.url(path + suffix)}>; rel="alternate"; type="{media_format.media_type}"'
        for suffix, media_format in SUFFIXES.items()
    )


def _finish(response: Response, site: Site, path: str, chosen: MediaFormat, suffixed: bool) -> Response:
    response.vary.add("Accept")
    response.headers["Link"] = _twins_header(site, path)
    if not suffixed:
        suffix = next(s for s, f in SUFFIXES.items() if f is chosen)
        response.headers["Content-Location"] = site.url(path + suffix)
    return response


def _rdf_response(query: str, chosen: MediaFormat) -> Response:
    answer = _ask(query, chosen.media_type)
    response = Response(answer.body, mimetype=answer.media_type)
    if answer.truncated:
        response.headers["X-SPARQL-MaxRows"] = str(endpoint().config.max_rows)
    return response


# --- routes ---------------------------------------------------------------------------------------


@blueprint.route("/")
def landing() -> Response:
    chosen = negotiate(request.headers.get("Accept"), PAGE_FORMATS)
    facts = describe.dataset_facts(_rows(page_queries.dataset_query()))
    site = current_site()
    if chosen is not HTML:
        if facts.iri is None:
            raise NotFound("this graph holds no dataset description")
        response = redirect(site.href(facts.iri), code=303)
        response.vary.add("Accept")
        return response
    evidence = describe.evidence_map(_rows(page_queries.evidence_map_query()))
    release = endpoint().release
    dataset = schema_org.dataset(facts, site, release.manifest.files if release else (), release)
    body = render_template("landing.html", facts=facts, evidence=evidence, dataset_json=dataset)
    response = Response(body, mimetype="text/html")
    response.vary.add("Accept")
    if facts.iri is not None:
        response.headers["Link"] = _twins_header(site, iri_paths.server_path(facts.iri) or "/")
    return response


@blueprint.route("/ontology")
@blueprint.route("/ontology.<ext>")
@blueprint.route("/ontology/<path:rest>")
@blueprint.route("/id/<path:rest>")
def resource(rest: str = "", ext: str = "") -> Response:
    """An IRI of the graph, in the format the suffix names or the client accepts."""
    path, suffixed = _split_suffix(request.path)
    try:
        iri = iri_paths.iri_for_path(path)
    except iri_paths.UnknownPath:
        return _unknown(path)
    chosen = _chosen(suffixed)
    site = current_site()
    if chosen is HTML:
        body = _rendered_page(iri)
        if body is None:
            return _unknown(path)
        response = Response(body, mimetype="text/html")
    else:
        if not _rows(page_queries.exists_query(iri)):
            return _unknown(path, chosen)
        response = _rdf_response(
            page_queries.description_query(iri, _nodes(page_queries.nodes_query(iri))), chosen
        )
    return _finish(response, site, path, chosen, suffixed is not None)


def _rendered_page(iri: str) -> bytes | None:
    """The HTML page of ``iri``, or None when the graph says nothing of it. The page depends only on
    the served graph, so a page read again comes from the result cache: its queries, its indexing and
    its template (most of a condition page's 10-15 ms) are spent once per worker."""
    cache = state().result_cache
    key = (cache.graph_version, "page", iri) if cache is not None else None
    body = cache.lookup(key) if cache is not None else None
    if body is None:
        body = _render_page(iri)
        if body is not None and cache is not None:
            cache.keep(key, body, len(body) + ENTRY_OVERHEAD)
    return body


def _render_page(iri: str) -> bytes | None:
    site = current_site()
    graph, truncated = _triples(page_queries.description_query(iri, _nodes(page_queries.nodes_query(iri))))
    page = describe.entity_page(iri, graph, truncated)
    if page is None:
        return None
    evidence = evidence_layer.condition_evidence(graph, iri)
    study = evidence_layer.study_page(graph, iri)
    return render_template(
        "entity.html",
        page=page,
        evidence=evidence,
        study=study,
        publication=evidence_layer.publication_support(graph, iri),
        plots=forest_plot.panels(evidence.results if evidence else study.study.results if study else ()),
        study_json=schema_org.medical_study(study.study, site.href) if study else None,
    ).encode()


@blueprint.route("/evidence")
@blueprint.route("/evidence.<ext>")
def evidence(ext: str = "") -> Response:
    """The claims about one condition with one evidence status (either may be left out)."""
    suffixed = SUFFIXES.get("." + ext) if ext else None
    if ext and suffixed is None:
        raise NotFound()
    condition = _parameter("condition", lambda slug: iri_paths.iri_for_path("/id/" + slug))
    status = _parameter("status", lambda term: iri_paths.iri_for_path("/ontology/" + term))
    chosen = _chosen(suffixed)
    site = current_site()
    query = page_queries.evidence_claims_query(
        _nodes(page_queries.evidence_claims_nodes_query(condition, status))
    )
    if chosen is HTML:
        graph, truncated = _triples(query)
        found = [describe.parse_claim(graph, s) for s in describe.statements_in(graph)]
        body = render_template(
            "evidence.html",
            claims=found,
            condition=graph.link(condition) if condition else None,
            status=graph.link(status) if status else None,
            status_concept=describe.concept(graph, status) if status else None,
            truncated=truncated,
            query=query,
        )
        response = Response(body, mimetype="text/html")
    else:
        response = _rdf_response(query, chosen)
    path = "/evidence"
    response = _finish(response, site, path, chosen, suffixed is not None)
    # The twins keep the filter: the same claims in each format.
    if request.query_string:
        query_string = "?" + request.query_string.decode("ascii", "replace")
        response.headers["Link"] = ", ".join(
            f'<{site.url(path + s)}{query_string}>; rel="alternate"; type="{f.media_type}"'
            for s, f in SUFFIXES.items()
        )
        if "Content-Location" in response.headers:
            response.headers["Content-Location"] += query_string
    return response


def _parameter(name: str, to_iri) -> str | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        return to_iri(value)
    except iri_paths.UnknownPath:
        raise BadRequest(f"{name}={value!r} names nothing in the graph") from None


@blueprint.route("/search")
def search() -> Response:
    text = request.args.get("q", "").strip()
    if len(text) > 200:
        raise BadRequest("search text is limited to 200 characters")
    found = []
    if text:
        found = [
            describe.Link(row["entity"].value, row["label"].value)
            for row in _rows(page_queries.search_query(text))
            if iri_paths.is_local(row["entity"].value)
        ]
    response = Response(render_template("search.html", text=text, found=found), mimetype="text/html")
    return response


# --- errors ---------------------------------------------------------------------------------------


def _unknown(path: str, chosen: MediaFormat | None = None) -> Response:
    """404 for an IRI the graph does not hold: a page with a search and a way home, or a line of text."""
    iri = None
    with contextlib.suppress(iri_paths.UnknownPath):
        iri = iri_paths.iri_for_path(_split_suffix(path)[0])
    message = f"{iri or path} is not in this graph"
    if (chosen or HTML) is HTML and wants_html():
        guess = path.rstrip("/").rsplit("/", 1)[-1].replace("-", " ")
        body = render_template("not_found.html", iri=iri, path=path, guess=guess)
        response = Response(body, status=404, mimetype="text/html")
    else:
        response = Response(message + "\n", status=404, mimetype="text/plain")
    response.vary.add("Accept")
    return response


@blueprint.app_errorhandler(NotFound)
def _not_found(error: NotFound):
    # Only paths no route claims, and this blueprint's own: other blueprints keep their own answers.
    if request.blueprint not in (None, blueprint.name):
        return error
    return _unknown(request.path)

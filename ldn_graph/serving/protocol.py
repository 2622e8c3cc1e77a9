"""The SPARQL 1.1 Protocol as plain functions: reading a request and negotiating a response format.

No web framework is imported here, so the rules can be tested on their own and any web layer can adapt
them. Every refusal is a typed :class:`ProtocolError` carrying the HTTP status the protocol asks for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from ldn_graph.errors import LdnGraphError

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
_FORMATS_NS = "http://www.w3.org/ns/formats/"


class ProtocolError(LdnGraphError):
    """A request the endpoint refuses; ``status`` is the HTTP status code to answer with."""

    status = 400


class BadRequest(ProtocolError):
    status = 400


def refusal_named(name: str, message: str) -> ProtocolError:
    """The refusal of class ``name`` (a ProtocolError subclass), with ``message``: how a refusal made in
    an engine process is raised again in the worker. An unknown name is a plain ProtocolError (400)."""
    pending, found = [ProtocolError], {}
    while pending:  # subclasses live in several modules; those loaded are the ones that can be raised
        kind = pending.pop()
        found[kind.__name__] = kind
        pending += kind.__subclasses__()
    return found.get(name, ProtocolError)(message)


class UpdateRefused(ProtocolError):
    """SPARQL Update in any form: this endpoint is read-only."""

    status = 403


class NotAcceptable(ProtocolError):
    status = 406


class UnsupportedMediaType(ProtocolError):
    status = 415


class QueryTimeout(ProtocolError):
    status = 503


@dataclass(frozen=True)
class MediaFormat:
    """A format we can answer in: ``media_type`` is sent as Content-Type, ``aliases`` are also accepted."""

    key: str
    media_type: str
    aliases: tuple[str, ...] = ()
    format_iri: str | None = None  # the W3C formats IRI, for the service description
    suffix: str | None = None  # the file suffix naming it: a release's dumps, a page's twins
    name: str = ""  # as a reader knows it

    @property
    def names(self) -> tuple[str, ...]:
        return (self.media_type, *self.aliases)


# The first format of each tuple is the default when the client states no preference.
RESULT_FORMATS: tuple[MediaFormat, ...] = (
    MediaFormat(
        "json", "application/sparql-results+json", ("application/json",), _FORMATS_NS + "SPARQL_Results_JSON"
    ),
    MediaFormat(
        "xml",
        "application/sparql-results+xml",
        ("application/xml", "text/xml"),
        _FORMATS_NS + "SPARQL_Results_XML",
    ),
    MediaFormat("csv", "text/csv", (), _FORMATS_NS + "SPARQL_Results_CSV"),
    MediaFormat("tsv", "text/tab-separated-values", (), _FORMATS_NS + "SPARQL_Results_TSV"),
)
RDF_FORMATS: tuple[MediaFormat, ...] = (
    MediaFormat("turtle", "text/turtle", ("application/x-turtle",), _FORMATS_NS + "Turtle", ".ttl", "Turtle"),
    MediaFormat(
        "ntriples", "application/n-triples", ("text/plain",), _FORMATS_NS + "N-Triples", ".nt", "N-Triples"
    ),
    MediaFormat(
        "jsonld", "application/ld+json", ("application/json",), _FORMATS_NS + "JSON-LD", ".jsonld", "JSON-LD"
    ),
    MediaFormat(
        "rdfxml",
        "application/rdf+xml",
        ("application/xml", "text/xml"),
        _FORMATS_NS + "RDF_XML",
        ".rdf",
        "RDF/XML",
    ),
)
HTML = MediaFormat("html", "text/html", ("application/xhtml+xml",), suffix=".html", name="HTML")
#: The RDF formats by key, for code that names one.
RDF_FORMAT = {media_format.key: media_format for media_format in RDF_FORMATS}


@dataclass(frozen=True)
class _Range:
    kind: str
    subtype: str
    q: float

    def specificity(self, media_type: str) -> int:
        """How closely this range matches ``media_type``: 2 exact, 1 ``type/*``, 0 ``*/*``, -1 not at all."""
        kind, _, subtype = media_type.partition("/")
        if self.kind == "*":
            return 0
        if self.kind != kind:
            return -1
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == subtype else -1


def parse_accept(header: str | None) -> list[_Range]:
    """The media ranges of an Accept header; parameters other than ``q`` are ignored."""
    ranges = []
    for item in (header or "").split(","):
        media_range, *params = (part.strip() for part in item.split(";"))
        kind, slash, subtype = media_range.lower().partition("/")
        if not slash or not kind or not subtype:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0  # a malformed weight must not win a negotiation
        ranges.append(_Range(kind, subtype, q))
    return ranges


def _quality(ranges: Sequence[_Range], media_type: str) -> float:
    """The weight the client gives ``media_type``: the q of its most specific matching range."""
    best, quality = -1, 0.0
    for media_range in ranges:
        specificity = media_range.specificity(media_type)
        if specificity > best:
            best, quality = specificity, media_range.q
    return quality


def _is_named(ranges: Sequence[_Range], media_type: str) -> bool:
    return any(media_range.specificity(media_type) == 2 for media_range in ranges)


def negotiate(accept: str | None, offers: Sequence[MediaFormat]) -> MediaFormat:
    """The offer the client prefers (ties go to the earlier offer); NotAcceptable when none fits."""
    ranges = parse_accept(accept)
    if not ranges:
        return offers[0]
    chosen, chosen_q = None, 0.0
    for offer in offers:
        # An alias counts only when named exactly: text/* means text/csv, not XML results as text/xml.
        aliases = [_quality(ranges, alias) for alias in offer.aliases if _is_named(ranges, alias)]
        q = max([_quality(ranges, offer.media_type), *aliases])
        if q > chosen_q:
            chosen, chosen_q = offer, q
    if chosen is None:
        wanted = ", ".join(offer.media_type for offer in offers)
        raise NotAcceptable(f"none of the accepted media types can be served here; available: {wanted}")
    return chosen


@dataclass(frozen=True)
class ProtocolRequest:
    """What a request to the endpoint asks for; ``query`` None means the service description."""

    query: str | None
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()

    @property
    def has_dataset(self) -> bool:
        """True when the protocol names the dataset, which then replaces the one the query names."""
        return bool(self.default_graphs or self.named_graphs)


_UPDATE_PARAMETERS = ("update", "using-graph-uri", "using-named-graph-uri")


def _media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    media_type, *params = (part.strip() for part in (content_type or "").split(";"))
    parameters = {}
    for param in params:
        name, _, value = param.partition("=")
        parameters[name.strip().lower()] = value.strip().strip('"')
    return media_type.lower(), parameters


def _utf8(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(f"{what} is not UTF-8 (byte {error.start}): {error.reason}") from None


def _parameters(encoded: bytes, what: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(_utf8(encoded, what), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as error:
        raise BadRequest(f"{what} is not UTF-8 once percent-decoded: {error.reason}") from None


def read_request(method: str, content_type: str | None, query_string: bytes, body: bytes) -> ProtocolRequest:
    """Read a GET or POST request to the endpoint the way the SPARQL 1.1 Protocol defines it.

    Raises UpdateRefused for every form of SPARQL Update, UnsupportedMediaType for a POST body that is
    neither a form nor a query, and BadRequest for anything else the protocol does not allow.
    """
    parameters = _parameters(query_string, "the query string")
    direct_query = None
    if method == "POST":
        media_type, media_params = _media_type(content_type)
        if media_type == SPARQL_UPDATE:
            raise UpdateRefused("this endpoint is read-only: SPARQL Update is not accepted")
        if media_type == FORM:
            parameters += _parameters(body, "the form body")
        elif media_type == SPARQL_QUERY:
            charset = media_params.get("charset", "utf-8").lower()
            if charset not in ("utf-8", "utf8"):
                raise BadRequest(f"a query body must be UTF-8, not {charset}")
            direct_query = _utf8(body, "the query body")
        else:
            raise UnsupportedMediaType(
                f"a POST body must be {FORM} or {SPARQL_QUERY}, not {media_type or 'untyped'}"
            )
    names = {name for name, _ in parameters}
    if names.intersection(_UPDATE_PARAMETERS):
        raise UpdateRefused("this endpoint is read-only: SPARQL Update is not accepted")
    queries = [value for name, value in parameters if name == "query"]
    if direct_query is not None:
        queries.append(direct_query)
    if len(queries) > 1:
        raise BadRequest(f"a request carries exactly one query; this one has {len(queries)}")
    if not queries and method == "POST":
        raise BadRequest("a POST to the endpoint needs a query")
    return ProtocolRequest(
        query=queries[0] if queries else None,
        default_graphs=tuple(value for name, value in parameters if name == "default-graph-uri"),
        named_graphs=tuple(value for name, value in parameters if name == "named-graph-uri"),
    )

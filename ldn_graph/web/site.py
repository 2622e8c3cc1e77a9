"""What every page and template shares: the formats a page comes in, and where things live on this site.

The factory registers :func:`template_globals` for the whole application, so that any blueprint's
template (a page, the query page, an error) links the same way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from urllib.parse import urlencode

from flask import Flask

from ldn_graph.serving.entity_page import Link
from ldn_graph.serving.named_queries import NamedQuery, named_queries
from ldn_graph.serving.protocol import HTML, RDF_FORMATS, MediaFormat
from ldn_graph.vocab import iri_paths
from ldn_graph.vocab.dataset import LICENSE, SOURCE_ARTICLE
from ldn_graph.vocab.prefixes import BASE, ID, ONTOLOGY, shorten
from ldn_graph.web.state import endpoint

#: What a page of ours can be had as: the page itself, first, and its RDF twins.
PAGE_FORMATS = (HTML, *RDF_FORMATS)
#: suffix -> format of the twin it names
SUFFIXES: dict[str, MediaFormat] = {f.suffix: f for f in PAGE_FORMATS}
FORMAT_NAMES = {f.key: f.name for f in PAGE_FORMATS}


@dataclass(frozen=True)
class Site:
    """What every template needs to link: the public URL and where things live under it."""

    public_url: str
    endpoint_url: str

    def url(self, path: str, **params: str) -> str:
        query = f"?{urlencode(params)}" if params else ""
        return self.public_url + path + query

    def href(self, target: Link | str) -> str:
        """Where a link to ``target`` goes: our IRIs to this server's page, others to the IRI itself."""
        iri = target if isinstance(target, str) else target.iri
        path = iri_paths.server_path(iri)
        return self.public_url + path if path is not None else iri

    def evidence_url(self, condition: str | None = None, status: str | None = None) -> str:
        params = {}
        if condition:
            params["condition"] = condition.removeprefix(ID)
        if status:
            params["status"] = status.removeprefix(ONTOLOGY)
        return self.url("/evidence", **params)

    def query_url(self, example: NamedQuery) -> str:
        # The query page reads the fragment, fills in the query and runs it: one click from the list.
        return f"{self.url('/sparql')}#example={example.name}"


def current_site() -> Site:
    config = endpoint().config
    return Site(config.public_url, config.endpoint_url)


def template_globals() -> dict[str, object]:
    examples = named_queries()
    return {
        "site": current_site(),
        "examples": examples,
        "examples_data": [asdict(example) for example in examples],
        "licence_url": LICENSE,
        "persistent_base": BASE,
        "id_base": ID,
        "source_article": SOURCE_ARTICLE,
        "twins": list(SUFFIXES.items()),
        "format_names": FORMAT_NAMES,
        "curie": shorten,
    }


def install_template_globals(app: Flask) -> None:
    app.context_processor(template_globals)

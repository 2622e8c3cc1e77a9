"""Build the release graph: parse, stamp the version, materialise standard types, describe.

The result is deterministic: the same sources and the same ``SOURCE_DATE_EPOCH`` give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, XSD
from rdflib.plugin import Serializer, register
from rdflib.plugins.serializers.turtle import TurtleSerializer

from ldn_graph import __version__, resources
from ldn_graph.atomic_files import write_atomic
from ldn_graph.errors import LdnGraphError
from ldn_graph.graph.dataset_description import describe_dataset
from ldn_graph.graph.load import LoadedSources, load_sources
from ldn_graph.graph.namespaces import SCHEMA, bind_prefixes
from ldn_graph.graph.ntriples import sorted_ntriples_of
from ldn_graph.graph.store_graph import StoreGraph
from ldn_graph.vocab.prefixes import BASE, ONTOLOGY, ONTOLOGY_IRI
from ldn_graph.vocab.schemes import split_curie


@dataclass
class BuildResult:
    """The release graph and its sources. The graph is assembled in the sources' own graph (one copy of
    the graph in memory, not two), so ``sources.graph`` is ``graph``."""

    graph: Graph | StoreGraph
    sources: LoadedSources
    version: str
    issued: dt.date


_DATED_HEADING = r"^## +\[?{version}\]?\s+(?:—|-|–)\s*(\d{{4}}-\d{{2}}-\d{{2}})\s*$"


def release_date(root: Path | None = None) -> dt.date:
    """The issued date, never the wall clock: ``SOURCE_DATE_EPOCH`` when set (reproducible builds), else
    the date on this version's heading in the data changelog (``## 0.1.0 — 2026-11-24``), else 1970-01-01."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None:
        try:
            return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).date()
        except ValueError as error:
            raise LdnGraphError(
                f"SOURCE_DATE_EPOCH must be whole seconds since 1970, not {epoch!r}"
            ) from error
    changelog = (root or resources.project_root()) / "CHANGELOG-DATA.md"
    if changelog.is_file():
        pattern = _DATED_HEADING.format(version=re.escape(__version__))
        found = re.search(pattern, changelog.read_text(encoding="utf-8"), re.M)
        if found:
            return dt.date.fromisoformat(found.group(1))
    return dt.date(1970, 1, 1)


def version_iri(version: str) -> URIRef:
    return URIRef(f"{BASE}release/{version}/ontology")


def stamp_version(graph: Graph, version: str) -> None:
    ontology = URIRef(ONTOLOGY_IRI)
    graph.set((ontology, OWL.versionIRI, version_iri(version)))
    graph.set((ontology, OWL.versionInfo, Literal(version)))


def superclasses(graph: Graph) -> dict[URIRef, set[URIRef]]:
    """For each of our classes, every class above it (transitively) through ``rdfs:subClassOf``."""
    direct: dict[URIRef, set[URIRef]] = {}
    for cls, parent in graph.subject_objects(RDFS.subClassOf):
        direct.setdefault(cls, set()).add(parent)
    closure: dict[URIRef, set[URIRef]] = {}

    def climb(cls: URIRef, seen: set[URIRef]) -> set[URIRef]:
        if cls in closure:
            return closure[cls]
        above: set[URIRef] = set()
        for parent in direct.get(cls, ()):
            if parent not in seen:
                above |= {parent} | climb(parent, seen | {parent})
        closure[cls] = above
        return above

    return {cls: climb(cls, {cls}) for cls in direct if str(cls).startswith(ONTOLOGY)}


def materialise_types(graph: Graph | StoreGraph) -> int:
    """Add every superclass of an instance's ldn-graph class as a type, so that users who know only
    schema.org or Biolink find everything without a reasoner. Returns the number of triples added."""
    above = superclasses(graph)
    if isinstance(graph, StoreGraph):
        # One join in the store: a pass in Python over every typing took most of a build of 10^6 triples.
        pairs = " ".join(f"(<{cls}> <{parent}>)" for cls, parents in above.items() for parent in parents)
        before = len(graph)
        graph.store.update(
            f"INSERT {{ ?i a ?parent }} WHERE {{ VALUES (?cls ?parent) {{ {pairs} }} ?i a ?cls }}"
        )
        return len(graph) - before
    typed = set(graph.subject_objects(RDF.type))  # one pass, instead of a look-up per type to add
    missing = {(instance, parent) for instance, cls in typed for parent in above.get(cls, ())} - typed
    graph.addN((instance, RDF.type, parent, graph) for instance, parent in sorted(missing))
    return len(missing)


def link_provider_pages(graph: Graph) -> int:
    """For each identifier of a scheme with no IRI of the thing itself (DrugBank, UNII, PMC, …), add the
    provider's page as ``schema:url``, so every identifier literal leads somewhere a person can read.
    Returns the number of triples added."""
    added = 0
    for entity, literal in list(graph.subject_objects(DCTERMS.identifier)):
        try:
            scheme, local = split_curie(str(literal))
        except ValueError:
            continue  # validation reports it; the build does not guess
        page = scheme.page(local) if scheme.iri_template is None else None
        if page and (entity, SCHEMA.url, URIRef(page)) not in graph:
            graph.add((entity, SCHEMA.url, URIRef(page)))
            added += 1
    return added


def assemble(
    source_graph: Graph | StoreGraph, version: str, issued: dt.date, in_place: bool = False
) -> Graph | StoreGraph:
    """The release graph made from the parsed sources: stamped, materialised and described; in
    ``source_graph`` itself when ``in_place`` (large graphs: no second copy), else in a new graph."""
    if isinstance(source_graph, StoreGraph):
        graph = source_graph  # always in place: a store has no prefixes to bind
    elif in_place:
        graph = bind_prefixes(source_graph)
    else:
        graph = bind_prefixes(Graph())
        graph.addN((s, p, o, graph) for s, p, o in source_graph)
    stamp_version(graph, version)
    materialise_types(graph)
    link_provider_pages(graph)
    describe_dataset(graph, version=version, issued=issued)
    return graph


def build_graph(root: Path | None = None, store: bool = False) -> BuildResult:
    """Build the release graph of a checkout: in an rdflib graph, or with ``store`` in an Oxigraph store
    (``ldn_graph.graph.store_graph``: a fifth of the memory, and N-Triples written natively)."""
    sources = load_sources(root, store=store)
    issued = release_date(root)
    graph = assemble(sources.graph, __version__, issued, in_place=True)
    return BuildResult(graph, sources, __version__, issued)


class CanonicalTurtleSerializer(TurtleSerializer):
    """rdflib's Turtle writer, except that a decimal keeps its canonical lexical form: rdflib writes the
    literal "20"^^xsd:decimal as the shorthand ``20.0``, which a Turtle reader takes as the literal "20.0",
    not the "20" the endpoint returns."""

    def label(self, node, position):
        if isinstance(node, Literal) and node.datatype == XSD.decimal and "." not in str(node):
            return f'"{node}"^^{self.get_pname(XSD.decimal, True) or f"<{XSD.decimal}>"}'
        return super().label(node, position)


register("canonical-turtle", Serializer, __name__, "CanonicalTurtleSerializer")


def serialise(graph: Graph | StoreGraph, fmt: str) -> bytes:
    """Serialise deterministically: N-Triples sorted line by line; Turtle as rdflib writes it, which sorts
    subjects and predicates; JSON-LD with our own context (see ``ldn_graph.graph.jsonld``)."""
    return b"".join(serialised(graph, fmt))


def serialised(graph: Graph | StoreGraph, fmt: str, work: Path | None = None) -> Iterator[bytes]:
    """``serialise`` in pieces, so that a large graph's dump is written out as it is made; ``work`` is
    where sorting N-Triples may keep files for a while (default: the system's temporary directory)."""
    if fmt == "nt":
        if isinstance(graph, StoreGraph):
            yield from sorted_ntriples_of(graph.store, work)
            return
        lines = graph.serialize(format="nt11", encoding="utf-8").decode("utf-8").splitlines()
        yield ("\n".join(sorted(line for line in lines if line.strip())) + "\n").encode("utf-8")
    elif fmt == "ttl":
        if isinstance(graph, StoreGraph):
            from ldn_graph.graph.turtle import store_turtle

            yield from store_turtle(graph)
            return
        yield graph.serialize(format="canonical-turtle", encoding="utf-8")
    else:
        raise LdnGraphError(f"unknown serialisation {fmt!r}")


def as_rdflib(graph: StoreGraph) -> Graph:
    """A store's graph as an rdflib graph, for what only rdflib writes (Turtle)."""
    copy = bind_prefixes(Graph())
    copy.addN((s, p, o, copy) for s, p, o in graph)
    graph.forget_terms()
    return copy


def format_for(path: Path) -> str:
    return "nt" if path.suffix == ".nt" else "ttl"


def read_pieces(path: Path, size: int = 1 << 20) -> Iterator[bytes]:
    """A file's content, ``size`` bytes at a time (a dump of 10^7 triples is never held whole)."""
    with path.open("rb") as stream:
        while piece := stream.read(size):
            yield piece


def write_graph(graph: Graph | StoreGraph, path: Path) -> None:
    path = Path(path)
    write_atomic(path, serialised(graph, format_for(path), work=path.parent))

"""The dataset's description against the DCAT-AP 3.0.0 SHACL shapes (``tests/dcat-ap/``), validated as a
DCAT-AP validator reads it, with no inference: a release's ``void.ttl``, and the ``/.well-known/void`` of
a server with no releases directory. ``tests/dcat-ap/README.md`` says why each expected result is there."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF

from ldn_graph.graph.dataset_description import CONTRIBUTORS, DATASET, LICENSE
from ldn_graph.graph.namespaces import DCAT, SH
from ldn_graph.web.app import create_app
from ldn_graph.web.config import ServeConfig

SHAPES = Path(__file__).resolve().parents[1] / "dcat-ap"
AVAILABILITY = URIRef("http://data.europa.eu/r5r/availability")
DATASET_NODE, EACH_FILE = "the dataset", "each file"
CONFORMS = ("dcat-ap-SHACL.ttl", "range.ttl", "deprecateduris.ttl")

#: shape file -> the results (severity, path, focus) it reports on the description, and no others
EXPECTED = {
    **{name: set() for name in CONFORMS},
    "shapes.ttl": {("Violation", DCAT.byteSize, EACH_FILE)},  # the file's own xsd:decimal
    "shapes_recommended.ttl": {
        ("Warning", DCTERMS.spatial, DATASET_NODE),
        ("Warning", DCTERMS.temporal, DATASET_NODE),
        ("Warning", AVAILABILITY, EACH_FILE),
        ("Warning", DCTERMS.description, EACH_FILE),
        ("Warning", DCTERMS.type, str(LICENSE)),
        ("Warning", DCTERMS.type, str(CONTRIBUTORS)),
    },
}


def shapes(name: str) -> Graph:
    return Graph().parse(SHAPES / name, format="turtle")


def results(description: Graph, name: str) -> set[tuple[str, URIRef | None, str]]:
    _, report, _ = validate(description, shacl_graph=shapes(name), inference="none")
    found = set()
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        if focus == DATASET:
            focus = DATASET_NODE
        elif (focus, RDF.type, DCAT.Distribution) in description:
            focus = EACH_FILE
        severity = str(report.value(result, SH.resultSeverity)).rsplit("#", 1)[1]
        found.add((severity, report.value(result, SH.resultPath), str(focus)))
    return found


@pytest.fixture(scope="module")
def void(released) -> Graph:
    return Graph().parse(released.path / "void.ttl", format="turtle")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_releases_void_meets_dcat_ap(void, name):
    assert results(void, name) == EXPECTED[name]


@pytest.mark.parametrize("name", ["dcat-ap-SHACL.ttl", "range.ttl"])
def test_a_creator_given_as_a_name_fails_the_shapes(void, name):
    # As the description said before: a literal where DCAT-AP wants an agent.
    broken = Graph() + void
    broken.remove((DATASET, DCTERMS.creator, None))
    broken.add((DATASET, DCTERMS.creator, Literal("ldn-graph contributors", lang="en")))
    assert ("Violation", DCTERMS.creator, DATASET_NODE) in results(broken, name)


@pytest.mark.parametrize("name", ["dcat-ap-SHACL.ttl", "range.ttl"])
def test_an_untyped_licence_fails_the_shapes(void, name):
    broken = Graph() + void
    broken.remove((LICENSE, RDF.type, None))
    assert ("Violation", DCTERMS.license, EACH_FILE) in results(broken, name)


@pytest.mark.parametrize("name", CONFORMS)
def test_the_void_of_a_server_without_releases_meets_dcat_ap(store, name):
    client = create_app(ServeConfig(), store=store, isolate_queries=False).test_client()
    response = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    description = Graph().parse(data=response.data, format="turtle")
    assert (LICENSE, RDF.type, DCTERMS.LicenseDocument) in description
    assert results(description, name) == set()

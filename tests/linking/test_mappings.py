"""The SSSOM mapping set: complete, true to the reference table, and valid by sssom-py's own validator."""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS

from ldn_graph import __version__
from ldn_graph.graph.dataset_description import DATASET
from ldn_graph.graph.mappings import CONFIDENCE, MappingSet, build_mapping_set, collect_mappings
from ldn_graph.graph.namespaces import LDNGRAPH, MAPPING_PREDICATES, VOID
from ldn_graph.graph.reference_table import table_key
from ldn_graph.vocab.prefixes import ID, STATEMENT
from ldn_graph.vocab.schemes import SCHEMES, scheme_of_iri, split_curie


def sssom_validate(path: Path):
    """Parse and validate with sssom-py; returns {validation type: messages}."""
    with warnings.catch_warnings():
        # sssom 0.4 calls pandas APIs that pandas 3 deprecates (sssom util.py: copy_on_write, inplace);
        # upstream: https://github.com/mapping-commons/sssom-py/issues — not ours to fix.
        warnings.filterwarnings("ignore", module=r"(sssom|pandas|linkml|linkml_runtime)(\..*)?")
        from sssom.constants import SchemaValidationType
        from sssom.parsers import parse_sssom_table
        from sssom.validators import validate

        msdf = parse_sssom_table(path)
        kinds = [
            SchemaValidationType.JsonSchema,
            SchemaValidationType.PrefixMapCompleteness,
            SchemaValidationType.StrictCurieFormat,
        ]
        reports = validate(msdf, kinds, fail_on_error=False)
    return msdf, {kind.value: [r.message for r in report.results] for kind, report in reports.items()}


@pytest.fixture(scope="module")
def mapping_set(built, table) -> MappingSet:
    return build_mapping_set(built.graph, table, built.version, built.issued)


@pytest.fixture(scope="module")
def sssom_file(mapping_set, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sssom") / "ldn-graph.sssom.tsv"
    path.write_text(mapping_set.to_tsv(), encoding="utf-8")
    return path


def test_the_sssom_validator_accepts_the_set(sssom_file, mapping_set):
    msdf, problems = sssom_validate(sssom_file)
    assert problems == {"JsonSchema": [], "PrefixMapCompleteness": [], "StrictCurieFormat": []}
    assert len(msdf.df) == len(mapping_set.mappings)
    assert msdf.metadata["mapping_set_id"] == f"https://w3id.org/ldngraph/mappings/{__version__}"
    assert msdf.metadata["license"] == "https://creativecommons.org/licenses/by-sa/4.0/"


def test_the_validator_is_not_blind(sssom_file, tmp_path):
    # Drop one prefix from the curie map: the same validator must now complain.
    broken = tmp_path / "broken.sssom.tsv"
    text = sssom_file.read_text(encoding="utf-8")
    broken.write_text(text.replace('#  DRUGBANK: "https://bioregistry.io/drugbank:"\n', ""), encoding="utf-8")
    _, problems = sssom_validate(broken)
    assert any("DRUGBANK" in message for message in problems["PrefixMapCompleteness"])


def test_every_emitted_identifier_of_an_entity_is_a_row(built, mapping_set):
    rows = {(m.subject_id, m.object_id) for m in mapping_set.mappings}
    expected = {
        ("ldn:" + str(entity).removeprefix(ID), str(literal))
        for entity, literal in built.graph.subject_objects(DCTERMS.identifier)
        if str(entity).startswith(ID) and not str(entity).startswith(STATEMENT)
    }
    assert rows == expected and len(rows) == len(mapping_set.mappings)


def test_rows_follow_the_reference_table(mapping_set, table):
    by_key = table.by_key()
    relations = {"exact": "skos:exactMatch", "close": "skos:closeMatch", "broad": "skos:broadMatch"}
    for mapping in mapping_set.mappings:
        scheme, local = split_curie(mapping.object_id)
        row = by_key[table_key(scheme.key, local)]
        assert row.emit
        assert mapping.predicate_id == relations[row.mapping], mapping
        assert mapping.confidence == CONFIDENCE[row.confidence]
        assert mapping.mapping_justification == "semapv:ManualMappingCuration"
        assert mapping.comment.startswith(f"{row.confidence}: ")


def test_known_rows(mapping_set):
    rows = {(m.subject_id, m.object_id): m for m in mapping_set.mappings}
    chebi = rows[("ldn:naltrexone", "CHEBI:7465")]
    assert (chebi.predicate_id, chebi.confidence, chebi.subject_label) == (
        "skos:exactMatch",
        0.95,
        "naltrexone",
    )
    assert "chebi" in chebi.comment.lower()
    assert rows[("ldn:hashimotos-disease", "DOID:7188")].predicate_id == "skos:closeMatch"
    assert rows[("ldn:naltrexone", "ATC:N07BB04")].confidence == 0.8  # likely
    assert rows[("ldn:united-states", "ISO3166:US")].confidence == 0.5  # unverified: kept, ranked low
    assert ("ldn:6beta-naltrexol", "CHEBI:174632") not in rows  # emit = no


def test_mapping_set_agrees_with_void_linksets(built, mapping_set):
    # Each VoID linkset counts the set's rows of its scheme, plus the mappings our ontology's own concepts
    # carry (MeSH publication types, from vocabularies.md), which are vocabulary alignments, not table rows.
    graph = built.graph
    expected = Counter(
        split_curie(m.object_id)[0].key
        for m in mapping_set.mappings
        if split_curie(m.object_id)[0].iri_template
    )
    for predicate in MAPPING_PREDICATES.values():
        for subject, target in graph.subject_objects(predicate):
            if str(subject).startswith(str(LDNGRAPH)):
                expected[scheme_of_iri(str(target)).key] += 1
    linksets = {}
    for linkset in graph.objects(DATASET, VOID.subset):
        if (linkset, RDF.type, VOID.Linkset) in graph:
            linksets[str(linkset).rsplit("/", 1)[-1]] = int(graph.value(linkset, VOID.triples))
    assert linksets == dict(expected)


def test_identifiers_outside_the_table_are_left_out(table, caplog):
    graph = Graph()
    entity = URIRef(ID + "made-up")
    graph.add((entity, RDFS.label, Literal("made up", lang="en")))
    graph.add((entity, DCTERMS.identifier, Literal("CHEBI:999999999")))
    graph.add((entity, DCTERMS.identifier, Literal("CHEBI:7465")))
    mappings = collect_mappings(graph, table)
    assert [m.object_id for m in mappings] == ["CHEBI:7465"]
    assert "CHEBI:999999999" in caplog.text


def test_cli_writes_the_set(cli, tmp_path):
    out = tmp_path / "set.sssom.tsv"
    result = cli("mappings", "--out", str(out))
    assert result.returncode == 0, result.stderr
    _, problems = sssom_validate(out)
    assert not any(problems.values())
    assert SCHEMES["chebi"].curie("7465") in out.read_text(encoding="utf-8")


def test_converted_to_rdf_the_set_meets_the_graphs_triples(sssom_file, built):
    """``sssom convert`` (sssom-py's RDF writer) of the set gives the graph's own mapping triples: every
    scheme the graph links by IRI expands, through the curie_map, to that very IRI."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"(sssom|pandas|linkml|linkml_runtime)(\..*)?")
        from sssom.parsers import parse_sssom_table
        from sssom.writers import to_rdf_graph

        converted = to_rdf_graph(parse_sssom_table(sssom_file))
    mappings = {
        (converted.value(axiom, OWL.annotatedSource), converted.value(axiom, OWL.annotatedProperty), converted.value(axiom, OWL.annotatedTarget))
        for axiom in converted.subjects(OWL.annotatedSource, None)
    }  # fmt: skip
    in_graph = {t for t in mappings if t in built.graph}
    through_resolver = mappings - in_graph
    assert len(in_graph) > 100
    for subject, _, target in through_resolver:  # identifiers the graph holds as literals only
        assert str(target).startswith("https://bioregistry.io/"), target
        prefix, _, local = str(target).removeprefix("https://bioregistry.io/").partition(":")
        assert SCHEMES[prefix].iri_template is None
        assert Literal(SCHEMES[prefix].curie(local)) in set(built.graph.objects(subject, DCTERMS.identifier))
    graph_mappings = {
        (s, p, o)
        for p in MAPPING_PREDICATES
        for s, o in built.graph.subject_objects(p)
        if str(s).startswith(ID) and not str(s).startswith(STATEMENT)
    }
    assert graph_mappings <= in_graph

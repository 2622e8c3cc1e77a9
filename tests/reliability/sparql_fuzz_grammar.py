"""Hypothesis strategies for SPARQL: valid queries over the graph's own vocabulary, hostile ones, and
mutations of real queries (the competency queries and the W3C protocol tests' queries).

Used by the fuzz tests (a short, derandomised run in CI), the differential tests (valid queries only)
and ``bench/fuzz.py`` (the long run). Hostile pieces aim at what a public endpoint meets: deep nesting,
long operator chains, SERVICE and FROM towards a listener that counts connections, oversize literals,
escapes, and bytes that are not SPARQL at all.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
W3C_MANIFEST = ROOT / "tests" / "w3c" / "protocol" / "manifest.ttl"

VARIABLES = ("?s", "?p", "?o", "?x", "?y", "?label", "?n")
PREDICATES = (
    "rdf:type",
    "rdfs:label",
    "skos:definition",
    "schema:drug",
    "schema:healthCondition",
    "schema:studySubject",
    "schema:doseValue",
    "schema:doseUnit",
    "biolink:treats",
    "biolink:has_metabolite",
    "biolink:studied_to_treat",
    "biolink:applied_to_treat",
    "biolink:supporting_text",
    "rdf:subject",
    "rdf:predicate",
    "rdf:object",
    "ldngraph:evidenceStatus",
    "cito:citesAsEvidence",
    "dcterms:identifier",
    "dcterms:date",
    "skos:exactMatch",
    "skos:prefLabel",
    "schema:name",
    "obo:RO_0018029",
)
CLASSES = (
    "schema:Drug",
    "biolink:SmallMolecule",
    "schema:MedicalTherapy",
    "schema:MedicalCondition",
    "biolink:Disease",
    "biolink:Protein",
    "rdf:Statement",
    "schema:MedicalStudy",
    "schema:ScholarlyArticle",
    "schema:DoseSchedule",
    "skos:Concept",
)
ENTITIES = (
    "<https://w3id.org/ldngraph/id/naltrexone>",
    "<https://w3id.org/ldngraph/id/low-dose-naltrexone>",
    "<https://w3id.org/ldngraph/id/does-not-exist>",
    "obo:CHEBI_7465",
)
LITERALS = ('"naltrexone"', '"naltrexone"@en', '"low"', "4.5", "50", '"2018"^^xsd:gYear', "true", '"Q"')
WORDS = ("nal", "dose", "LDN", "pain", "é", "β", "")


def competency_queries() -> list[str]:
    return [path.read_text(encoding="utf-8") for path in sorted((ROOT / "queries").glob("*.rq"))]


def w3c_queries() -> list[str]:
    """The queries of the W3C protocol tests (in their request URLs and bodies)."""
    text = W3C_MANIFEST.read_text(encoding="utf-8")
    found = []
    for encoded in re.findall(r"query=([^\s\"&]+)", text):
        found += parse_qs("query=" + encoded).get("query", [])
    return sorted(set(found))


variables = st.sampled_from(VARIABLES)
subjects = st.one_of(variables, st.sampled_from(ENTITIES))
predicates = st.one_of(
    st.sampled_from(PREDICATES),
    st.sampled_from(PREDICATES).map(lambda p: f"^{p}"),
    st.tuples(st.sampled_from(PREDICATES), st.sampled_from(PREDICATES)).map("/".join),
    st.tuples(st.sampled_from(PREDICATES), st.sampled_from(PREDICATES)).map(lambda t: f"({t[0]}|{t[1]})"),
    st.sampled_from(("rdf:subject", "skos:broader", "rdfs:subClassOf")).map(lambda p: f"{p}*"),
)
objects = st.one_of(variables, st.sampled_from(ENTITIES), st.sampled_from(CLASSES), st.sampled_from(LITERALS))


@st.composite
def triple_patterns(draw, plain: bool = False) -> str:
    predicate = draw(st.sampled_from(PREDICATES) if plain else predicates)
    if predicate == "rdf:type" and draw(st.booleans()):
        return f"{draw(subjects)} a {draw(st.sampled_from(CLASSES))} ."
    return f"{draw(subjects)} {predicate} {draw(objects)} ."


@st.composite
def filters(draw) -> str:
    v = draw(variables)
    return draw(
        st.sampled_from(
            (
                f"FILTER(isIRI({v}))",
                f"FILTER(isLiteral({v}))",
                f"FILTER(BOUND({v}))",
                f'FILTER(LANG({v}) = "en")',
                f'FILTER(STRSTARTS(STR({v}), "https://w3id.org/ldngraph/"))',
                f'FILTER(CONTAINS(LCASE(STR({v})), "{draw(st.sampled_from(WORDS))}"))',
                f'FILTER(REGEX(STR({v}), "^n", "i"))',
                f"FILTER({v} != {draw(st.sampled_from(ENTITIES))})",
                f"FILTER(STRLEN(STR({v})) > {draw(st.integers(0, 40))})",
            )
        )
    )


@st.composite
def group_patterns(draw, depth: int = 0, plain: bool = False) -> str:
    parts = draw(st.lists(triple_patterns(plain), min_size=1, max_size=3))
    if draw(st.booleans()):
        parts.append(draw(filters()))
    if depth < 2:
        extra = draw(st.sampled_from(("", "", "OPTIONAL", "UNION", "MINUS")))
        if extra == "OPTIONAL":
            parts.append(f"OPTIONAL {{ {draw(group_patterns(depth + 1, plain))} }}")
        elif extra == "MINUS":
            parts.append(f"MINUS {{ {draw(group_patterns(depth + 1, plain))} }}")
        elif extra == "UNION":
            left, right = draw(group_patterns(depth + 1, plain)), draw(group_patterns(depth + 1, plain))
            parts = (
                [f"{{ {' '.join(parts)} }} UNION {{ {left} }}"]
                if right == left
                else [f"{{ {' '.join(parts)} }} UNION {{ {left} }} UNION {{ {right} }}"]
            )
    return " ".join(parts)


def _used(pattern: str) -> list[str]:
    return sorted(set(re.findall(r"\?\w+", pattern)))


@st.composite
def valid_queries(draw, deterministic: bool = False) -> str:
    """A query that parses. ``deterministic``: its answer does not depend on the engine's row order
    (no LIMIT or OFFSET, no DESCRIBE), so two engines must give the same multiset of answers."""
    where = draw(group_patterns(plain=deterministic))
    used = _used(where) or ["?s"]
    form = draw(st.sampled_from(("select", "select", "distinct", "count", "ask", "construct")))
    if form == "ask":
        return f"ASK {{ {where} }}"
    if form == "construct":
        triple = draw(triple_patterns(plain=True))
        return f"CONSTRUCT {{ {triple} }} WHERE {{ {where} }}"
    if form == "count":
        key = draw(st.sampled_from(used))
        counted = draw(st.sampled_from(used))
        return f"SELECT {key} (COUNT(DISTINCT {counted}) AS ?count) WHERE {{ {where} }} GROUP BY {key}"
    projection = " ".join(draw(st.lists(st.sampled_from(used), min_size=1, max_size=3, unique=True)))
    distinct = "DISTINCT " if form == "distinct" else ""
    query = f"SELECT {distinct}{projection} WHERE {{ {where} }}"
    if not deterministic and draw(st.booleans()):
        query += f" ORDER BY {projection.split()[0]} LIMIT {draw(st.integers(0, 50))}"
    return query


# -- hostile and broken queries ------------------------------------------------------------------------


def hostile_pieces(listener_url: str) -> st.SearchStrategy[str]:
    """Fragments that must be refused or stopped, never followed out of the machine or crash an engine."""
    deep = st.integers(1, 2000)
    return st.one_of(
        deep.map(lambda n: "SELECT * WHERE " + "{" * n + " ?s ?p ?o " + "}" * n),
        deep.map(lambda n: "ASK { FILTER(" + "(" * n + "1" + ")" * n + ") }"),
        deep.map(lambda n: "ASK { FILTER(" + "!" * n + "true) }"),
        deep.map(lambda n: "ASK { FILTER(" + " || ".join(["false"] * n) + ") }"),
        deep.map(lambda n: "SELECT * { " + " UNION ".join(["{ ?s ?p ?o }"] * n) + " }"),
        deep.map(lambda n: "SELECT * { ?s " + "/".join(["rdf:type"] * n) + " ?o }"),
        st.just(f"SELECT * WHERE {{ SERVICE <{listener_url}/sparql> {{ ?s ?p ?o }} }}"),
        st.just(f"SELECT * WHERE {{ SERVICE SILENT <{listener_url}> {{ ?s ?p ?o }} }}"),
        st.just(f"SELECT * FROM <{listener_url}/graph.ttl> WHERE {{ ?s ?p ?o }}"),
        st.just(f"SELECT * FROM NAMED <{listener_url}/g> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"),
        st.just(f"PREFIX l: <{listener_url}/> SELECT * WHERE {{ SERVICE l:sparql {{ ?s ?p ?o }} }}"),
        st.just(f"BASE <{listener_url}/> SELECT * WHERE {{ SERVICE <sparql> {{ ?s ?p ?o }} }}"),
        st.just(
            f"SELECT * WHERE {{ SERVICE <\\u0068ttp://127.0.0.1:{listener_url.rsplit(':', 1)[1]}/> {{ ?s ?p ?o }} }}"
        ),
        st.just(f"SELECT * WHERE {{ BIND(<{listener_url}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}"),
        st.just(f"LOAD <{listener_url}/data.ttl>"),
        st.just(f"DESCRIBE <{listener_url}/x>"),
        st.just(
            "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(6)) + " }"
        ),
        st.just('SELECT * WHERE { ?s ?p ?o FILTER(REGEX(STR(?o), "(a+)+$")) }'),
        st.integers(1, 200_000).map(lambda n: 'ASK { FILTER("' + "x" * n + '" = "y") }'),
        st.text(min_size=0, max_size=300),
        st.binary(min_size=0, max_size=300).map(lambda b: b.decode("latin-1")),
    )


MUTATION_TOKENS = (
    "{", "}", "(", ")", "[", "]", ".", ";", ",", "?", "$", "<", ">", '"', "'", "#", "\\", "\\u0000", "\x00",
    "SELECT", "WHERE", "FILTER", "OPTIONAL", "UNION", "SERVICE", "FROM", "GRAPH", "VALUES", "BIND", "AS",
    "*", "||", "&&", "!", "^", "/", "|", "a", "ORDER BY", "LIMIT 1", "GROUP BY", "HAVING", "\n", " ", "é",
)  # fmt: skip


@st.composite
def mutated(draw, seeds: list[str]) -> str:
    """A real query with a few random edits: deletions, insertions, duplications and swaps."""
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        at = draw(st.integers(0, len(text) - 1))
        end = min(len(text), at + draw(st.integers(1, 12)))
        edit = draw(st.sampled_from(("delete", "insert", "duplicate", "swap")))
        if edit == "delete":
            text = text[:at] + text[end:]
        elif edit == "insert":
            text = text[:at] + draw(st.sampled_from(MUTATION_TOKENS)) + text[at:]
        elif edit == "duplicate":
            text = text[:end] + text[at:end] + text[end:]
        else:
            other = draw(st.integers(0, len(text) - 1))
            a, b = sorted((at, other))
            text = text[:a] + text[b:b + 1] + text[a + 1:b] + text[a:a + 1] + text[b + 1:]  # fmt: skip
    return text


def any_query(listener_url: str) -> st.SearchStrategy[str]:
    seeds = competency_queries() + w3c_queries()
    return st.one_of(valid_queries(), hostile_pieces(listener_url), mutated(seeds))

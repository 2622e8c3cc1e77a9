"""The competency questions: each query in queries/ is documented, speaks our prefixes, and gives the
expected answers on the built graph."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ldn_graph.serving.named_queries import summary_of
from ldn_graph.serving.query_runner import run_query
from ldn_graph.vocab.prefixes import PREFIXES

QUERIES = Path(__file__).resolve().parents[1] / "queries"
ALL = sorted(QUERIES.glob("*.rq"))
_PREFIX = re.compile(r"^PREFIX\s+(\w*):\s*<([^>]*)>", re.M | re.I)


def ask(store, name: str):
    return run_query(store, (QUERIES / name).read_text(encoding="utf-8"))


def rows(result) -> list[dict[str, str]]:
    return [{k: (v.value if v is not None else "") for k, v in row.items()} for row in result.rows]


def test_there_are_fifteen_competency_queries():
    assert len([q for q in ALL if re.match(r"\d\d-", q.name)]) == 15


@pytest.mark.parametrize("query", ALL, ids=lambda p: p.name)
def test_query_is_documented_and_uses_the_prefix_map(query):
    text = query.read_text(encoding="utf-8")
    assert summary_of(text), f"{query.name} needs a '#+ summary:' line"
    for prefix, namespace in _PREFIX.findall(text):
        assert PREFIXES.get(prefix) == namespace, f"{query.name}: PREFIX {prefix}: <{namespace}>"


@pytest.mark.parametrize("query", ALL, ids=lambda p: p.name)
def test_query_answers(store, query):
    assert run_query(store, query.read_text(encoding="utf-8")).rows


# --- portability: every query gives every store the same answer (docs/scale-out.md) ---------------------

_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_ORDER_BY = re.compile(r"\bORDER\s+BY\b(?P<keys>[^{}]*?)(?:\bLIMIT\b|\bOFFSET\b|\bVALUES\b|$)", re.I | re.S)
_BARE_KEY = re.compile(r"^(?:(?:ASC|DESC)\s*\(\s*)?\?(\w+)\s*\)?$", re.I)
_GROUP_CONCAT = re.compile(r"GROUP_CONCAT\s*\((?P<body>.*?)\)\s*AS\s*\?(?P<name>\w+)", re.I | re.S)
_SEPARATOR = re.compile(r';\s*separator\s*=\s*"([^"]*)"', re.I)


def _sort_keys(text: str) -> list[str]:
    """The keys of the query's last ORDER BY (the outermost one), split at the top level."""
    found = list(_ORDER_BY.finditer(re.sub(r"#[^\n]*", "", text)))
    if not found:
        return []
    keys, depth, current = [], 0, ""
    for char in found[-1].group("keys").strip():
        depth += char == "("
        depth -= char == ")"
        if char.isspace() and depth == 0:
            if current:
                keys.append(current)
            current = ""
        else:
            current += char
    return keys + ([current] if current else [])


def _kind(term) -> str:
    return "iri" if not hasattr(term, "datatype") else term.datatype.value


@pytest.mark.parametrize("query", ALL, ids=lambda p: p.name)
def test_sort_keys_are_portable(store, query):
    """A sort key bound to a bare variable holds IRIs or literals of one type, never tagged ones: SPARQL
    leaves the order of language-tagged literals, and of literals of different types, to each engine
    (sort a label by STR(?label))."""
    text = query.read_text(encoding="utf-8")
    result = run_query(store, text)
    for key in _sort_keys(text):
        bare = _BARE_KEY.match(key)
        if bare is None:
            continue  # an expression: STR(), a comparison, a number
        kinds = {_kind(row[bare.group(1)]) for row in result.rows if row.get(bare.group(1)) is not None}
        assert _RDF_LANG_STRING not in kinds, f"{query.name}: ORDER BY {key} sorts tagged literals; use STR()"
        assert len(kinds) <= 1, f"{query.name}: ORDER BY {key} sorts terms of several kinds: {kinds}"


@pytest.mark.parametrize("query", ALL, ids=lambda p: p.name)
def test_group_concat_is_portable(store, query):
    """GROUP_CONCAT joins plain strings in an order every engine keeps: from a subquery that yields them
    once each, sorted (SPARQL leaves the order of a group's values to each engine)."""
    text = query.read_text(encoding="utf-8")
    found = list(_GROUP_CONCAT.finditer(text))
    if not found:
        return
    assert re.search(r"\{\s*SELECT\s+DISTINCT\b.*\bORDER\s+BY\b.*\}\s*\}\s*GROUP\s+BY", text, re.S | re.I), (
        f"{query.name}: GROUP_CONCAT over a SELECT DISTINCT … ORDER BY subquery"
    )
    result = run_query(store, text)
    for match in found:
        body = match.group("body")
        assert not re.match(r"\s*DISTINCT\b", body, re.I), f"{query.name}: DISTINCT in the subquery, not here"
        separator = _SEPARATOR.search(body).group(1) if _SEPARATOR.search(body) else " "
        for row in result.rows:
            joined = row.get(match.group("name"))
            if joined is None:
                continue
            assert not joined.language, (
                f"{query.name}: ?{match.group('name')} joins tagged literals; use STR()"
            )
            parts = joined.value.split(separator)
            assert parts == sorted(parts), f"{query.name}: ?{match.group('name')} is not joined in order"


@pytest.mark.parametrize("query", ALL, ids=lambda p: p.name)
def test_case_blind_sort_keys_are_portable(query):
    """Sorting without regard to case is STR(LCASE(?label)): Virtuoso sorts LCASE(STR(?label)) wrongly
    once the strings grow long (two labels of 26 and 27 characters came before 'alcohol dependence')."""
    keys = " ".join(_sort_keys(query.read_text(encoding="utf-8")))
    assert not re.search(r"[LU]CASE\s*\(\s*STR\s*\(", keys, re.I), f"{query.name}: sort by STR(LCASE(…))"


@pytest.mark.parametrize("query", ALL, ids=lambda p: p.name)
def test_no_concat_relies_on_an_unbound_value(query):
    """COALESCE(CONCAT(…, ?x), "") counts on CONCAT failing when ?x is unbound, as SPARQL says; Virtuoso
    joins the other parts instead. IF(BOUND(?x), CONCAT(…), "") says the same on every engine."""
    text = re.sub(r"#[^\n]*", "", query.read_text(encoding="utf-8"))
    assert not re.search(r"COALESCE\s*\(\s*CONCAT\s*\(", text, re.I), (
        f'{query.name}: use IF(BOUND(…), CONCAT(…), "")'
    )


def test_q1_conditions_with_evidence(store):
    answer = rows(ask(store, "01-conditions-evidence.rq"))
    by_condition: dict[str, set[tuple[str, str]]] = {}
    for row in answer:
        by_condition.setdefault(row["conditionLabel"], set()).add((row["relation"], row["evidenceStatus"]))
    assert set(by_condition) == {
        "Crohn's disease", "Hashimoto's disease", "multiple sclerosis", "fibromyalgia", "long COVID",
        "chronic pain", "autoimmune disease", "cancer", "immune system dysregulation",
    }  # fmt: skip
    assert ("hasEfficacyFor", "efficacy not shown") in by_condition["long COVID"]
    assert ("hasEfficacyFor", "no supporting evidence") in by_condition["multiple sclerosis"]
    assert ("in_clinical_trials_for", "under investigation") in by_condition["fibromyalgia"]
    assert ("hasEfficacyFor", "preliminary or promising") in by_condition["chronic pain"]
    assert ("applied_to_treat", "reported finding") in by_condition["Crohn's disease"]
    ms_2014 = [r for r in answer if r["conditionLabel"] == "multiple sclerosis" and r["asOf"] == "2014"]
    assert len(ms_2014) == 1 and "National MS Society" in ms_2014[0]["sources"]
    unsourced = [r for r in answer if r["conditionLabel"] == "immune system dysregulation"]
    assert unsourced[0]["sources"] == "citation needed"


def test_q2_receptors(store):
    answer = {
        (r["substanceLabel"], r["receptorLabel"], r["extent"])
        for r in rows(ask(store, "02-receptors-antagonised.rq"))
    }
    assert answer == {
        (substance, receptor, "to a lesser extent" if receptor.startswith("δ") else "full")
        for substance in ("naltrexone", "6β-naltrexol")
        for receptor in ("μ-opioid receptor", "κ-opioid receptor", "δ-opioid receptor")
    }


def test_q3_mechanisms_by_dose(store):
    answer = rows(ask(store, "03-mechanisms-by-dose.rq"))
    standard = {r["targetLabel"] for r in answer if r["doseLevel"] == "standard dose"}
    low = {r["targetLabel"]: r["evidenceStatus"] for r in answer if r["doseLevel"] == "low dose"}
    assert standard == {"GABA receptor signalling", "dopamine secretion"}
    assert {r["evidenceStatus"] for r in answer if r["doseLevel"] == "standard dose"} == {
        "not true as stated"
    }
    assert [r["doseLevel"] for r in answer[: len(standard)]] == ["standard dose"] * len(standard)  # first
    assert low["Toll-like receptor 4"] == "hypothesised"
    assert low["endorphin production"] == "hypothesised"
    assert all(status == "hypothesised" for status in low.values())


def test_q4_doses(store):
    answer = rows(ask(store, "04-doses.rq"))
    low = [r for r in answer if r["doseLevel"] == "low dose"]
    assert [(r["doseValue"], r["doseUnit"], r["fractionOfStandardDose"]) for r in low] == [
        ("4.5", "http://qudt.org/vocab/unit/MilliGM", "0.1")
    ]
    ultra = {r["doseUnit"].rsplit("/", 1)[-1] for r in answer if r["doseLevel"] == "ultra-low dose"}
    assert ultra == {"MicroGM", "NanoGM", "PicoGM"}
    assert [r["doseValue"] for r in answer if r["doseLevel"] == "standard dose"] == [""]


def test_q5_regulatory_status(store):
    answer = rows(ask(store, "05-regulatory-status.rq"))
    assert {r["wikidata"] for r in answer} == {
        "http://www.wikidata.org/entity/Q145", "http://www.wikidata.org/entity/Q458",
        "http://www.wikidata.org/entity/Q30",
    }  # fmt: skip
    assert all(r["unsourced"] == "true" and r["sourceFlag"] == "citation needed" for r in answer)


def test_q6_studies(store):
    answer = rows(ask(store, "06-studies-by-condition.rq"))
    designs = {(r["conditionLabel"], r["design"], r["date"]) for r in answer}
    assert ("fibromyalgia", "randomised controlled trial", "2021") in designs  # started, not published
    published = {(r["conditionLabel"], r["design"], r.get("published", "")[:4]) for r in answer}
    assert ("fibromyalgia", "systematic review", "2023") in published
    assert ("long COVID", "interventional pre-post study", "2022") in published
    review = next(
        r for r in answer if r["design"] == "systematic review" and r.get("published", "").startswith("2023")
    )
    assert "(preliminary or promising)" in review["findings"]
    covid = next(
        r for r in answer if r["conditionLabel"] == "long COVID" and "O'Kelly" in r["publicationLabel"]
    )
    assert "(efficacy not shown)" in covid["findings"]
    assert any("do not support claims of efficacy" in r.get("conclusion", "") for r in answer)  # quoted


def test_q7_claims_per_publication(store):
    answer = rows(ask(store, "07-claims-per-publication.rq"))
    younger = {r["claim"] for r in answer if r["identifier"] == "doi:10.1007/s10067-014-2517-2"}
    assert (
        "hypothesis: low-dose naltrexone may antagonise Toll-like receptor 4 on macrophages, including microglia"
        in younger
    )
    assert "low-dose naltrexone is typically 4.5 mg, about 1/10th of the normal dose" in younger
    assert younger == {r["claim"] for r in answer if r["identifier"] == "PMID:24526250"}


def test_q8_identifiers_and_gaps(store):
    answer = rows(ask(store, "08-external-identifiers.rq"))
    naltrexone = {r["identifier"]: r["relation"] for r in answer if r["entityLabel"] == "naltrexone"}
    assert naltrexone["CHEBI:7465"] == "exactMatch"
    assert naltrexone["DRUGBANK:DB00704"] == ""  # no canonical IRI: identifier literal only
    assert {r["entityLabel"] for r in answer if r["scheme"] == "(none)"} >= {
        "endorphin production",
        "opioid analgesics",
    }


def test_q9_norway(store):
    answer = rows(ask(store, "09-norway-prescribing.rq"))
    assert [(float(r["value"]), r["asOf"]) for r in answer] == [(20.0, "2014"), (71.0, "2014")]
    assert answer[1]["population"] == "general medicine practitioners registered in Norway in 2014"


def test_q10_unsourced(store):
    answer = rows(ask(store, "10-unsourced-claims.rq"))
    assert len(answer) == 12  # 8 the article leaves unsourced, 4 whose cited reference does not address them
    assert all(r["flag"] == "citation needed" for r in answer)
    assert sum("[citation needed]" in r["supportingText"] for r in answer) == 3


def test_q11_evidence_by_condition(store):
    answer = rows(ask(store, "11-evidence-by-condition.rq"))
    by_condition = {r["conditionLabel"]: r for r in answer}
    assert set(by_condition) >= {
        "Crohn's disease", "Hashimoto's disease", "multiple sclerosis", "fibromyalgia", "long COVID",
        "chronic pain", "cancer",
    }  # fmt: skip
    fibromyalgia = {r["design"]: int(r["studies"]) for r in answer if r["conditionLabel"] == "fibromyalgia"}
    assert fibromyalgia["randomised crossover trial"] == 2  # Younger 2013, Bested 2023
    assert fibromyalgia["systematic review with meta-analysis"] == 2
    # 99 (FINAL) + 58 (Bested) + 53 (Younger): the reviews' participants are not added again
    assert by_condition["fibromyalgia"]["primaryParticipants"] == "210"
    assert by_condition["fibromyalgia"]["evidenceStatus"] == "not confirmed by later trials"
    assert "FINAL trial" in by_condition["fibromyalgia"]["restsOn"]
    long_covid = by_condition["long COVID"]
    assert (long_covid["evidenceStatus"], long_covid["certainty"]) == ("efficacy not shown", "low certainty")
    assert long_covid["ratedBy"].startswith("Byambasuren et al. 2025")
    assert {r["ratedBy"] for r in answer if r["certainty"] == "not rated"} == {"not rated"}


def test_q12_randomised_trials(store):
    answer = rows(ask(store, "12-randomised-trials.rq"))
    final = [r for r in answer if r["trialLabel"].startswith("FINAL trial")]
    difference = [r for r in final if r["statistic"] == "mean difference"]
    assert len(difference) == 1
    assert {k: difference[0][k] for k in ("participants", "dose", "duration", "estimate", "ciLower", "ciUpper")} == {
        "participants": "99", "dose": "6 mg once daily", "duration": "12 weeks",
        "estimate": "-0.34", "ciLower": "-0.95", "ciUpper": "0.27",
    }  # fmt: skip
    assert difference[0]["direction"] == "no significant difference"
    designs = {r["design"] for r in answer}
    assert designs <= {
        "randomised controlled trial",
        "randomised parallel-group trial",
        "randomised crossover trial",
    }
    innova = [r for r in answer if r["trialLabel"].startswith("INNOVA")]
    assert innova[0]["primaryOutcome"] == "no primary result in the graph; status: Ongoing"
    assert not any(r["conditionLabel"] == "long COVID" and r["statistic"] for r in answer)


def test_q13_claims_updated_by_evidence(store):
    answer = rows(ask(store, "13-claims-updated-by-evidence.rq"))
    assert {r["conditionLabel"] for r in answer} >= {
        "fibromyalgia",
        "multiple sclerosis",
        "long COVID",
        "chronic pain",
    }
    ms_2014 = [r for r in answer if r["articleAsOf"] == "2014"]
    assert len(ms_2014) == 1 and ms_2014[0]["articleStatus"] == "no supporting evidence"
    assert ms_2014[0]["summaryStatus"] == "efficacy not shown"
    fibromyalgia = {r["articleStatus"] for r in answer if r["conditionLabel"] == "fibromyalgia"}
    assert "preliminary or promising" in fibromyalgia
    assert {r["summaryStatus"] for r in answer if r["conditionLabel"] == "fibromyalgia"} == {
        "not confirmed by later trials"
    }
    assert all(r["evidenceSays"].endswith(".") for r in answer)


def test_q14_registered_trials(store):
    answer = {r["trialLabel"].split(":")[0]: r for r in rows(ask(store, "14-registered-trials.rq"))}
    final = answer["FINAL trial"]
    assert set(final["registryNumbers"].split(" | ")) == {
        "CLINICALTRIALS:NCT04270877", "EUCLINICALTRIALS:2019-000702-30",
    }  # fmt: skip
    assert (final["status"], final["publishedResults"]) == ("Completed", "yes")
    assert "Naltrexone 6 mg once daily versus placebo" in final["resultPublications"]
    assert (answer["INNOVA trial"]["status"], answer["INNOVA trial"]["publishedResults"]) == ("Ongoing", "no")
    assert {r["conditionLabel"] for r in answer.values()} >= {
        "fibromyalgia", "Crohn's disease", "multiple sclerosis", "long COVID", "cancer", "chronic pain",
    }  # fmt: skip


def test_q15_one_study(store):
    answer = rows(ask(store, "15-one-study.rq"))
    assert {r["node"] for r in answer} == {
        "https://w3id.org/ldngraph/id/final-trial",
        *(f"https://w3id.org/ldngraph/id/final-trial-arm-{n}" for n in (1, 2)),
        *(f"https://w3id.org/ldngraph/id/final-trial-result-{n}" for n in (1, 2, 3)),
    }
    difference = [r for r in answer if r["node"].endswith("result-1")]
    assert difference[0]["states"] == (
        "primary; mean difference -0.34 (95% CI -0.95 to 0.27); p = 0.27; no significant difference"
    )
    assert "-0·34 (-0·95 to 0·27; p=0·27" in difference[0]["quote"]
    assert all(r["quote"] and r["sources"] for r in answer)
    arm = next(r for r in answer if r["node"].endswith("arm-1"))
    assert arm["states"] == "experimental arm; 6 mg once daily; for 12 weeks; n = 49"

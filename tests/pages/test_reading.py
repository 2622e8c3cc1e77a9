"""Pages a clinician, a patient or a journalist reads: what each page type must say, in plain words.

Each test is about what a reader meets: the application on the built graph, through Flask's test client.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from page_links import Links

from ldn_graph.vocab.prefixes import ID, STATEMENT

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CURIE = re.compile(r"\b(?:rdf|rdfs|owl|skos|dcterms|schema|biolink|obo|cito|prov|ldngraph|void|dcat|xsd):\w")


class Visible(HTMLParser):
    """The words a reader sees: no markup, no attributes, nothing inside <code>, <script> or <style>."""

    def __init__(self, html: str):
        super().__init__()
        self.words: list[str] = []
        self._hidden = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag in ("code", "script", "style", "details"):
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in ("code", "script", "style", "details"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.words.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.words).split())


def page(client, path: str) -> str:
    response = client.get(path, headers={"Accept": BROWSER})
    assert response.status_code == 200, (path, response.status_code)
    return response.text


def json_ld(html: str) -> dict:
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert found, "no JSON-LD on the page"
    return json.loads(found.group(1))


def test_condition_page_answers_how_strong_the_evidence_is(client):
    html = page(client, "/id/fibromyalgia")
    text = Visible(html).text
    # One plain sentence, dated, with its status explained and its certainty and rater.
    assert "Small early trials suggested that low-dose naltrexone might ease fibromyalgia pain" in text
    assert "As of 2025" in text and "not confirmed by later trials" in text
    assert "a later, larger randomised trial did not find" in text  # the status's one-line definition
    assert "certainty of the evidence: not rated (no review rated it" in text
    # The studies: design, participants, dose and duration, outcome, result with interval, registry.
    table = html[
        html.index('<table class="studies"') : html.index("</table>", html.index('<table class="studies"'))
    ]
    assert table.count("<tr>") == 1 + 7  # the head and one row per study of fibromyalgia
    for words in (
        "randomised controlled trial, vs placebo",
        "99 randomised",
        "6 mg once daily for 12 weeks",
        "mean difference: −0.34 (95% CI −0.95 to 0.27; p = 0.27)",
        "no significant difference",
        "NCT04270877",
        "EU Clinical Trials Register",
    ):
        assert words in table, words


def test_condition_page_draws_a_forest_plot_with_the_line_of_no_effect(client):
    html = page(client, "/id/fibromyalgia")
    figures = re.findall(r'<figure class="forest".*?</figure>', html, re.S)
    assert figures, "no forest plot"
    by_caption = {re.search(r"<strong>(.*?)</strong>", f).group(1): f for f in figures}
    assert {"Mean difference", "Risk ratio"} <= set(by_caption)
    ratio = by_caption["Risk ratio"]
    assert "(log scale)" in ratio and "no effect (1)" in ratio
    assert ratio.count('class="null"') == ratio.count("<li>")  # the line of no effect crosses every row
    mean = by_caption["Mean difference"]
    assert "no effect (0)" in mean
    # FINAL's interval crosses the line of no effect; the 2024 meta-analysis's pain result does not.
    rows = re.findall(r'x1="([\d.]+)%" x2="([\d.]+)%" y1="50%"', mean)
    null = float(re.search(r'class="null" x1="([\d.]+)%"', mean).group(1))
    assert any(float(low) < null < float(high) for low, high in rows)
    assert any(float(high) < null for low, high in rows)


def test_condition_page_lists_every_claim_with_status_date_and_later_evidence(client):
    html = page(client, "/id/fibromyalgia")
    claims = re.findall(r'<article class="claim".*?</article>', html, re.S)
    assert len(claims) == 7  # the outcome claims and the small-samples limitation were missing
    text = " ".join(Visible(c).text for c in claims)
    assert "The fibromyalgia studies reviewed in 2023 had small sample sizes" in text
    assert (
        "All clinical studies of low-dose naltrexone in fibromyalgia showed statistically significant improvements in pain tolerance"
        in text
    )
    assert "says the article" in text
    # Dated where the source is dated, never "no date given".
    assert "no date given" not in html
    trial = next(c for c in claims if "ldn-in-clinical-trials-for-fibromyalgia" in c)
    assert "Sourced to" in Visible(trial).text
    # What later evidence says, beside the article's claim.
    promising = next(c for c in claims if "ldn-efficacy-fibromyalgia-2023" in c)
    assert "Later evidence" in promising and "not confirmed by later trials" in promising


def test_a_negative_claim_never_reads_as_its_opposite(client):
    html = page(client, "/id/multiple-sclerosis")
    card = next(
        c
        for c in re.findall(r'<article class="claim".*?</article>', html, re.S)
        if "ldn-efficacy-multiple-sclerosis-2014" in c
    )
    text = Visible(card).text
    assert text.startswith("As of 2014, no peer-reviewed studies supporting low-dose naltrexone")
    assert "has efficacy for multiple sclerosis" not in text  # the bare triple is kept under "As data"
    assert "The graph does not state this claim as fact." in text
    assert "stated, not asserted" not in html


def test_pages_speak_in_words_not_curies(client):
    for path in (
        "/",
        "/id/fibromyalgia",
        "/id/final-trial",
        "/id/bruun-2024",
        "/id/low-dose-naltrexone",
        "/id/naltrexone",
        "/evidence?condition=multiple-sclerosis",
        "/ontology/Promising",
    ):
        text = Visible(page(client, path)).text
        assert not CURIE.findall(text), (path, CURIE.findall(text)[:5])
    html = page(client, "/id/naltrexone")
    assert 'title="obo:RO_0018029"' in html or "is antagonist of" in html  # the CURIE one hover away


def test_study_page_shows_arms_results_quotes_registry_and_json_ld(client, site):
    html = page(client, "/id/final-trial")
    text = Visible(html).text
    assert "randomised controlled trial" in text and "99 randomised" in text
    assert (
        "Experimental arm: low-dose naltrexone 6 mg" in text
        and "6 mg once daily for 12 weeks · 49 participants" in text
    )
    assert "−0.34 (95% CI −0.95 to 0.27; p = 0.27)" in text
    assert "corresponding to a between-group difference of -0·34" in text  # the quote behind it
    links = Links(html)
    assert "https://clinicaltrials.gov/study/NCT04270877" in links.hrefs()
    assert site + "/id/bruun-2024" in links.hrefs()
    study = json_ld(html)
    assert study["@type"] == "MedicalTrial" and study["@id"] == ID + "final-trial"
    assert study["healthCondition"]["name"] == "fibromyalgia"
    assert "CLINICALTRIALS:NCT04270877" in study["identifier"]
    assert {p["@id"] for p in study["subjectOf"]} >= {ID + "bruun-2024"}


def test_publication_page_lists_what_it_supports(client, site):
    html = page(client, "/id/bruun-2024")
    assert "What this publication supports" in html
    links = Links(html)
    assert site + "/id/final-trial" in links.hrefs()
    assert "pain intensity, 11-point numeric rating scale" in Visible(html).text


def test_twins_carry_the_facts_the_page_shows(client):
    """The RDF twin of a condition holds its studies' results, as the page does."""
    data = client.get("/id/fibromyalgia.nt").text
    assert f"<{ID}final-trial-result-1> <https://schema.org/value>" in data
    assert f"<{ID}evidence-summary-fibromyalgia> <http://www.w3.org/2000/01/rdf-schema#comment>" in data
    assert f"<{STATEMENT}fibromyalgia-review-small-samples>" in data


def test_evidence_list_heading_and_landing_licence_read_as_english(client):
    html = page(client, "/evidence?condition=multiple-sclerosis&status=NoSupportingEvidence")
    heading = Visible(re.search(r"<h1>.*?</h1>", html, re.S).group(0)).text
    assert heading == "Claims about multiple sclerosis whose evidence status is “no supporting evidence”"
    landing = Visible(page(client, "/")).text
    assert "CC BY-SA 4.0 : CC BY-SA 4.0" not in landing and "CC BY-SA 4.0 . Attribution: ldn-graph" in landing


def test_an_undeclared_prefix_is_named_with_its_place_in_one_line(client):
    response = client.get("/sparql", query_string={"query": "SELECT * WHERE {\n  ?s foo:bar ?o }"})
    assert response.status_code == 400
    message = response.text.strip()
    assert "\n" not in message and len(message) < 160, message
    assert "'foo:'" in message and "line 2, column 6" in message


def test_a_page_read_again_comes_rendered_from_the_cache_with_the_same_bytes(release):
    from ldn_graph.serving.stores import load_store
    from ldn_graph.web.app import create_app
    from ldn_graph.web.config import ServeConfig
    from ldn_graph.web.state import state_of

    store = load_store(release, ())
    uncached = create_app(ServeConfig(cache_bytes=0), store=store, isolate_queries=False).test_client()
    app = create_app(ServeConfig(), store=store, isolate_queries=False)
    cached = app.test_client()
    cache = state_of(app).result_cache
    fresh = uncached.get("/id/fibromyalgia", headers={"Accept": BROWSER})
    reads = [cached.get("/id/fibromyalgia", headers={"Accept": BROWSER}) for _ in range(3)]
    assert {read.data for read in reads} == {fresh.data}
    assert [read.headers["Link"] for read in reads] == [fresh.headers["Link"]] * 3
    hits = cache.hits
    cached.get("/id/fibromyalgia", headers={"Accept": BROWSER})
    assert cache.hits == hits + 1  # the page itself, not its queries: none of them is asked
    # A page of something the graph does not hold is never kept.
    for _ in range(3):
        assert cached.get("/id/no-such-thing", headers={"Accept": BROWSER}).status_code == 404

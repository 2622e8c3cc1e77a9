"""``ldn-graph new study``: a skeleton that validation explains until the curator has filled it in."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from support.cli import ldn_graph

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path) -> Path:
    for folder in ("ontology", "graph_data"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    shutil.copy(ROOT / "CHANGELOG-DATA.md", tmp_path)
    return tmp_path


def new_study(project: Path, *args: str) -> subprocess.CompletedProcess:
    return ldn_graph("new", "study", *args, "--data-dir", str(project))


def violations(project: Path) -> list[dict]:
    result = ldn_graph("validate", "--format", "json", "--data-dir", str(project))
    return json.loads(result.stdout)["violations"]


def test_the_skeleton_parses_and_validation_says_what_is_missing(project):
    made = new_study(
        project, "NCT09999999", "--condition", "fibromyalgia", "--design", "RandomisedParallelDesign"
    )
    assert made.returncode == 0, made.stderr
    skeleton = project / "graph_data" / "evidence" / "nct09999999-trial.ttl"
    text = skeleton.read_text(encoding="utf-8")
    assert 'dcterms:identifier "CLINICALTRIALS:NCT09999999"' in text
    assert "<https://clinicaltrials.gov/study/NCT09999999>" in text
    found = violations(project)
    assert found and all("nct09999999" in v["focus"] for v in found)  # only the new file is incomplete
    rules = {v["rule"] for v in found}
    assert {"Placeholder", "QuoteRecorded", "EvidenceStudy", "StudyResult", "DoseSchedule"} <= rules
    assert not re.search(r"schema:value\s+-?\d", text.replace("#  schema:value", ""))  # no number guessed


def test_a_filled_in_skeleton_conforms(project):
    """Filled in from the FINAL trial's record (its quotes are in the curation notes), the file validates."""
    assert new_study(
        project, "NCT09999999", "--condition", "fibromyalgia", "--design", "RandomisedControlledTrialDesign",
        "--arms", "1", "--results", "1", "--slug", "final-trial-again",
    ).returncode == 0  # fmt: skip
    path = project / "graph_data" / "evidence" / "final-trial-again.ttl"
    study_quote = "We screened 158 participants for eligibility from Jan 6, 2021, to Dec 27, 2022, and 99 patients were randomly assigned to low-dose naltrexone (n=49) or placebo (n=50)."
    result_quote = "The mean change in pain intensity was -1·3 points (95% CI -1·7 to -0·8) in the low-dose naltrexone group and -0·9 (-1·4 to -0·5) in the placebo group, corresponding to a between-group difference of -0·34 (-0·95 to 0·27; p=0·27, Cohen's d 0·23)."
    arm_quote = "This trial aimed to investigate whether 12-week treatment with 6 mg low-dose naltrexone was superior to placebo for reducing pain in women with fibromyalgia."
    text = path.read_text(encoding="utf-8")
    for placeholder, value in [
        (r'"FILL IN: the sentence of the record that gives the design and size"', json.dumps(study_quote)),
        (r'"FILL IN: the sentence that gives this arm\'s treatment"', json.dumps(arm_quote)),
        (
            r'"FILL IN: the sentence that gives this result\'s numbers"',
            json.dumps(result_quote, ensure_ascii=False),
        ),
        (r'"FILL IN: [^"]*"', '"the FINAL trial, again"'),
        ("#  biolink:study_size N", "biolink:study_size 99"),
        ("#  schema:doseValue 4.5", "schema:doseValue 6.0"),
        ("#  ldngraph:statistic", "ldngraph:statistic"),
        ("#  schema:value -0.34", "schema:value -0.34"),
        ("#  ldngraph:direction", "ldngraph:direction"),
        ("cito:citesAsEvidence ldn:clinicaltrials-nct09999999", "cito:citesAsEvidence ldn:bruun-2024"),
    ]:
        text = re.sub(
            placeholder if placeholder.startswith('"') else re.escape(placeholder), lambda _, v=value: v, text
        )
    path.write_text(text, encoding="utf-8")
    assert violations(project) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["XYZ", "--condition", "fibromyalgia", "--design", "RandomisedParallelDesign"], "not a registry number"),
        (["NCT09999999", "--condition", "gout", "--design", "RandomisedParallelDesign"], "unknown condition 'gout'"),
        (["NCT09999999", "--condition", "fibromyalgia", "--design", "Anecdote"], "unknown study design 'Anecdote'"),
        (["NCT09999999", "--condition", "fibromyalgia", "--design", "CohortDesign", "--slug", "final-trial"],
         "ldn:final-trial is already in the graph"),
    ],
)  # fmt: skip
def test_bad_choices_are_refused_with_the_valid_ones(project, args, message):
    result = new_study(project, *args)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not list((project / "graph_data" / "evidence").glob("nct09999999*"))


def test_an_existing_file_is_never_overwritten(project):
    args = ["NCT09999999", "--condition", "fibromyalgia", "--design", "CohortDesign"]
    assert new_study(project, *args).returncode == 0
    path = project / "graph_data" / "evidence" / "nct09999999-trial.ttl"
    path.write_text("# the curator's work\n", encoding="utf-8")
    again = new_study(project, *args, "--slug", "another-trial", "--out", str(path))
    assert again.returncode == 2 and "never written over" in again.stderr
    assert path.read_text(encoding="utf-8") == "# the curator's work\n"

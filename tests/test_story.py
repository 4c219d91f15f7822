"""A story first (issue 17, point 2): the summary that opens each index.html, bound to findings.json.

Hand-written findings and the hand-written incident-only case (tests/incident_only_kit.py)
pin the wording; the tiny case's rendered sets (tests/reportkit.py) pin that every figure of
the summary is the recorded one, as format_value writes it, with nothing typed beside it.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from reportkit import report_set

from workbench.reportset.build import plain_markdown
from workbench.reportset.story import Figure, figure_text, opening_markdown, summary, unanswered_questions
from workbench.values import format_value, format_when

FIG = re.compile(r'<strong class="wb-fig" data-finding="([^"/]+)/([^"]+)">(.*?)</strong>', re.S)


def _text(paragraphs) -> str:
    return " ".join(
        "".join(p.text if isinstance(p, Figure) else p for s in para for p in s.parts) for para in paragraphs
    )


def test_a_time_reads_in_local_time_with_its_weekday():
    assert format_when("2013-12-13T17:52:00+00:00") == "Friday 13 December 2013 at 18:52"
    assert format_when("2013-12-13T23:30:00+00:00") == "Saturday 14 December 2013 at 00:30"  # a day later, locally
    assert format_when("2013-07-05T22:05:00+00:00") == "Saturday 6 July 2013 at 00:05"  # summer time: UTC+2
    with pytest.raises(ValueError, match="with a zone"):
        format_when("2013-12-13T17:52:00")


def test_a_range_reads_in_words_and_one_number_when_the_bounds_agree():
    assert figure_text({"min": 140, "likely": 150, "max": 330}, "accounts_exposed") == (
        "between 140 and 330; most likely about 150"
    )
    assert figure_text({"min": 52, "likely": 52, "max": 52}, "accounts_exposed") == "52"
    assert figure_text([17, 4], "caseworkers_flagged") == "2"  # ids for investigators: how many
    assert figure_text(48.52, "time_to_contain_hours") == "48 h 31 min"


HANDWRITTEN = {
    "01_incident_reconstruction": {
        "onset_at": {"value": "2013-12-13T18:23:35+00:00", "description": "Onset"},
        "first_report_at": {"value": "2013-12-14T07:09:48+00:00", "description": "First report"},
        "time_to_detect_hours": {"value": 12.77, "description": "Hours from onset to the first fault report"},
    },
    "02_exposure_and_changes": {
        "deployed_at": {"value": "2013-12-13T17:52:00+00:00", "description": "Deployment"},
        "accounts_exposed": {"value": {"min": 140, "likely": 150, "max": 330}, "description": "Accounts shown"},
        "people_put_into_others_accounts": {"value": 160, "description": "People put"},
        "people_possibly_affected": {"value": 1200, "description": "Possibly affected"},
        "field_changes_by_others": {
            "value": {"unknown": "the case has no profile_changes evidence"},
            "description": "x",
        },
    },
}


def test_the_summary_reads_the_findings_and_says_what_it_cannot_answer():
    paragraphs = summary(HANDWRITTEN)
    text = _text(paragraphs)
    assert "deployed on Friday 13 December 2013 at 18:52" in text
    assert "The data of between 140 and 330; most likely about 150 accounts was shown" in text
    assert "possibly affected: 1\u202f200 members" in text
    assert "Users first reported the fault on Saturday 14 December 2013 at 08:09, 12 h 46 min after it began" in text
    # unknown: the question and the reason, never a 0
    assert "What was changed and what is to be restored: unknown (the case has no profile_changes evidence)." in text
    # no report 03 in the set, and no login_disabled_at: said, not skipped
    assert "What the fairness review found: not covered by the reports of this set." in text
    assert unanswered_questions(paragraphs) == [
        "What was changed and what is to be restored",
        "How long it took to detect and contain",
        "Whether allocation was affected",
        "What the fairness review found",
    ]
    # a question two sentences leave open for the same reason says so once
    assert text.count("What the fairness review found:") == 1


def test_a_report_opens_with_its_key_figures_and_how_to_read_it():
    text = opening_markdown("02_exposure_and_changes", HANDWRITTEN["02_exposure_and_changes"])
    assert text.startswith("## Key figures\n")
    assert "- Accounts shown: **between 140 and 330; most likely about 150**" in text
    assert "How to read this." in text
    assert opening_markdown("99_unknown", {}) is None


def test_plain_markdown_drops_parameter_instructions_and_code():
    text = (
        "Each report shows the rule that matched. Investigators can add phrases with the `extra_report_phrases` "
        "parameter. Receipt times are moved onto the web clock; see `findings.json`."
    )
    assert plain_markdown(text, {"extra_report_phrases", "notes_url"}) == (
        "Each report shows the rule that matched. Receipt times are moved onto the web clock; see findings.json."
    )
    assert plain_markdown("Tag it `confirmed`.", set()) == "Tag it confirmed."


# --- the hand-written incident-only case: a partial case's index says what it could not answer


@pytest.fixture(scope="module")
def incident_only_index(tmp_path_factory):
    """The index of the incident-only case's four reports, run in process (no kernel), written by write_set."""
    from incident_only_kit import write
    from nbinprocess import notebook_path, run_in_process

    from workbench.case import open_case
    from workbench.ingest import ingest
    from workbench.reportset.contents import ReportEntry, write_set
    from workbench.reportset.provenance import case_fingerprint, environment

    root = tmp_path_factory.mktemp("incident_only_story")
    url = f"sqlite:///{root / 'case.db'}"
    ingest(write(root / "evidence"), url, progress=False)
    out = root / "reports"
    entries = []
    for nb in ("00", "01", "02", "03"):
        path = notebook_path(nb)
        run_in_process(path, {"case_url": url, "out_dir": str(out / path.stem)})
        entries.append(ReportEntry(path.stem, path.stem, f"{path.stem}/x.html", f"{path.stem}/findings.json"))
    case = open_case(url)
    try:
        fingerprint = case_fingerprint(case)
    finally:
        case.close()
    index = write_set(
        out,
        audience="public",
        banner="Public copy",
        case_label="case.db",
        env=environment(),
        fingerprint=fingerprint,
        parameters={},
        reports=entries,
    )
    return index.read_text(encoding="utf-8")


def _summary(index: str) -> str:
    return re.search(r'<section id="summary" class="wb-summary">(.*?)</section>', index, re.S).group(1)


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", html))).strip()


def test_a_partial_case_says_which_questions_it_could_not_answer(incident_only_index):
    text = _plain(_summary(incident_only_index))
    # worked out from the kit's rows: deployed 17:00 UTC, 1002 served 1001's page at 18:05 UTC
    assert "deployed on Friday 13 December 2013 at 18:00" in text
    assert "served on Friday 13 December 2013 at 19:05" in text
    assert "13 h 55 min after it began" in text and "47 h after the first report" in text
    assert re.search(r"What the fairness review found: unknown \(the case has no [^)]*contracts", text)
    assert re.search(r"Whether allocation was affected: unknown \(the case has no [^)]*interests", text)
    assert "This case could not answer: " in text and "What the fairness review found" in text.split("could not")[-1]


# --- the tiny case's rendered sets: every figure bound to findings.json


@pytest.fixture(scope="module")
def tiny_sets(tiny_duckdb, tmp_path_factory):
    return {a: report_set(tmp_path_factory, tiny_duckdb, a) for a in ("investigator", "public")}


def _expected(value, name: str) -> str:
    """How the summary must write a recorded value, worked out here from format_value and the zone."""
    if isinstance(value, dict) and {"min", "likely", "max"} <= set(value):
        low, likely, high = (format_value(value[k], name) for k in ("min", "likely", "max"))
        return low if low == high else f"between {low} and {high}; most likely about {likely}"
    if isinstance(value, list):
        return str(len(value))
    if isinstance(value, str) and value[10:11] == "T":
        local = datetime.fromisoformat(value).astimezone(ZoneInfo("Europe/Stockholm"))
        return f"{local:%A} {local.day} {local:%B %Y at %H:%M}"
    return format_value(value, name)


@pytest.mark.parametrize("audience", ["investigator", "public"])
def test_every_figure_of_the_summary_is_the_recorded_one(tiny_sets, audience):
    root = tiny_sets[audience]
    index = (root / "index.html").read_text(encoding="utf-8")
    summary_html = _summary(index)
    figures = FIG.findall(summary_html)
    assert len(figures) >= 20
    for notebook, name, shown in figures:
        recorded = json.loads((root / notebook / "findings.json").read_text(encoding="utf-8"))[name]["value"]
        assert unescape(shown) == _expected(recorded, name), (notebook, name)
    # nothing typed: with the bound figures taken out, no digit is left in the summary
    assert not re.search(r"\d", _plain(FIG.sub("", summary_html))), _plain(FIG.sub("", summary_html))
    text = _plain(summary_html)
    deployed = json.loads((root / "00_case_overview" / "findings.json").read_text())["deployed_at"]["value"]
    assert deployed == "2013-12-13T17:52:00+00:00" and "Friday 13 December 2013 at 18:52" in text
    for said in ("was shown to another person", "changed", "reported the fault", "allocation", "fairness review"):
        assert said in text
    assert "could not answer" not in text and "unknown" not in text  # the whole case answers every question
    assert re.search(r"\d+ h \d+ min after it began", text) and re.search(r"\d+ h \d+ min after the first report", text)


@pytest.mark.parametrize("audience", ["investigator", "public"])
def test_each_report_opens_with_its_key_figures(tiny_sets, audience):
    root = tiny_sets[audience]
    for stem in ("01_incident_reconstruction", "02_exposure_and_changes", "03_queue_fairness"):
        page = (root / stem / f"{stem}.html").read_text(encoding="utf-8")
        title, key, how = page.index("<h1"), page.index('id="Key-figures"'), page.index("How to read this.")
        assert title < key < how < page.index("<h2", key + 1), stem
    # report 00: the chain of custody comes after the incident in time
    page = (root / "00_case_overview" / "00_case_overview.html").read_text(encoding="utf-8")
    assert page.index('id="The-incident-in-time"') < page.index('id="Chain-of-custody"') < page.index('id="provenance"')


def test_the_public_index_shows_labels_not_names(tiny_sets):
    index = (tiny_sets["public"] / "index.html").read_text(encoding="utf-8")
    assert "<code" not in index and "[accounts_exposed]" not in index
    assert "Accounts whose data was shown to another person" in index
    assert "/tmp" not in index and str(Path.home()) not in index and "case.duckdb" in index
    investigator = (tiny_sets["investigator"] / "index.html").read_text(encoding="utf-8")
    assert "<code>accounts_exposed</code>" in investigator and "duckdb:///" in investigator

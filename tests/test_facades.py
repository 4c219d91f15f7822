"""The facades of notebooks 01 and 02: one call, one result object, milestones and clocks by name,
figures declared once and recorded by section."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import polars as pl
import pytest

from workbench.case import open_case
from workbench.errors import UnknownNameError
from workbench.exposure import FIGURES as EXPOSURE_FIGURES, SECTIONS as EXPOSURE_SECTIONS, review_exposure
from workbench.findings import Findings, load
from workbench.incident import (
    FIGURES as INCIDENT_FIGURES,
    MILESTONES,
    SECTIONS as INCIDENT_SECTIONS,
    reconstruct_incident,
)
from workbench.queries import run
from workbench.reportset.execution import NOTEBOOKS_DIR


@pytest.fixture(scope="module")
def case(tiny_db):
    with open_case(tiny_db) as c:
        yield c


@pytest.fixture(scope="module")
def incident(case):
    return reconstruct_incident(case)


@pytest.fixture(scope="module")
def review(case):
    return review_exposure(case)


def test_milestones_are_reached_by_name_and_match_the_evidence(incident, case, tiny_case):
    window = run("incident_window", case).row(0, named=True)
    assert incident.deployed_at == window["deployed_at"]
    assert incident.onset_at == tiny_case.truth("swapped_sessions")["bound_at"].min()
    for attribute, milestone in MILESTONES.items():
        assert getattr(incident, attribute) == incident.milestone(milestone)
    # the incident log's clock is the web clock on the tiny case: its actions are as logged
    assert incident.clock("incident log")["offset_seconds"] in (0, None)
    assert incident.login_disabled_at == window["login_disabled_at"]


def test_the_mail_clock_is_read_by_name_not_by_row_position(incident, tiny_case):
    offsets = incident.offsets
    reordered = offsets.reverse()
    mail = incident.clock("mail")
    truth = dict(tiny_case.truth("clock_offsets").iter_rows())["mail"]
    assert abs(mail["offset_seconds"] - truth) <= mail["uncertainty_seconds"]
    assert mail == reordered.filter(pl.col("source") == "mail").row(0, named=True)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda i: i.clock("mial"), r"unknown clock 'mial'\. Did you mean 'mail'\?"),
        (lambda i: i.milestone("login disable"), r"unknown milestone 'login disable'\. Did you mean 'login disabled'"),
        (lambda i: i.response("time_to_detekt"), r"unknown measure 'time_to_detekt'\. Did you mean 'time_to_detect'"),
        (lambda i: i.alternative("oncall"), r"unknown alternative 'oncall'\. Did you mean 'on_call'"),
    ],
)
def test_an_unknown_name_says_what_was_meant(incident, call, message):
    with pytest.raises(UnknownNameError, match=message):
        call(incident)


def test_response_times_run_from_the_named_milestones(incident):
    detect = incident.response("time_to_detect")
    hours = (incident.first_report_at - incident.onset_at) / timedelta(hours=1)
    assert detect["hours"] == round(hours, 2)
    contain = incident.response("time_to_contain")
    assert contain["to_at"] == incident.login_disabled_at


def test_record_writes_exactly_the_figures_of_one_section(incident, tmp_path):
    findings = Findings(tmp_path)
    recorded = incident.record(findings, "milestones")
    assert set(recorded) == {
        "deployed_at",
        "first_report_at",
        "login_disabled_at",
        "fix_deployed_at",
        "login_enabled_at",
    }
    assert recorded["login_disabled_at"] == incident.login_disabled_at
    saved = load(tmp_path)
    assert set(saved) == set(recorded)
    assert saved["deployed_at"]["query"] == "incident_window"


def test_an_unknown_section_names_the_sections(incident, review, tmp_path):
    with pytest.raises(UnknownNameError, match=r"unknown section 'milestone'\. Did you mean 'milestones'"):
        incident.record(Findings(tmp_path), "milestone")
    with pytest.raises(UnknownNameError, match=r"unknown section 'tier3'\. Did you mean 'tier 3'"):
        review.record(Findings(tmp_path), "tier3")


def test_public_counts_follow_the_disclosure_policy_when_recorded_by_section(review, tmp_path):
    """count=True figures go through the public policy: these are incident-wide totals, shown exactly.

    This pinned "<5" (and 0 as "<5") before the disclosure policy (docs/disclosure.md): a
    total points at no small group, and "<5" stated zeros as fact.
    """
    public = Findings(tmp_path / "public", audience="public")
    review.record(public, "allocation")
    values = {k: v["value"] for k, v in load(tmp_path / "public").items()}
    counts = [f for f in EXPOSURE_FIGURES if f.section == "allocation" and f.count]
    for figure in counts:
        real = figure.value(review)
        assert values[figure.name] == real, figure.name
    review.record(public, "subjects")  # protected identity: a breakdown, 1–4 hidden, 0 shown as 0
    shown = load(tmp_path / "public")["protected_identity_exposed"]["value"]
    real = EXPOSURE_FIGURES_BY_NAME["protected_identity_exposed"].value(review)
    for k in ("min", "likely", "max"):
        assert shown[k] == ("1–4" if 0 < getattr(real, k) < 5 else getattr(real, k)), k


EXPOSURE_FIGURES_BY_NAME = {f.name: f for f in EXPOSURE_FIGURES}


@pytest.mark.parametrize(
    ("figures", "sections"), [(INCIDENT_FIGURES, INCIDENT_SECTIONS), (EXPOSURE_FIGURES, EXPOSURE_SECTIONS)]
)
def test_figure_names_are_unique_and_every_figure_has_a_section(figures, sections):
    names = [f.name for f in figures]
    assert len(names) == len(set(names))
    assert {f.section for f in figures} == set(sections)


@pytest.mark.parametrize(
    ("notebook", "variable", "sections"),
    [
        ("01_incident_reconstruction", "incident", INCIDENT_SECTIONS),
        ("02_exposure_and_changes", "review", EXPOSURE_SECTIONS),
    ],
)
def test_each_notebook_records_every_section_once(notebook, variable, sections):
    nb = json.loads((NOTEBOOKS_DIR / f"{notebook}.ipynb").read_text())
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    recorded = re.findall(rf'{variable}\.record\(findings, "([^"]+)"\)', code)
    assert sorted(recorded) == sorted(sections)
    assert "findings.record(" not in code  # every figure is declared in the package, once


def test_the_exposure_review_holds_the_chain_once(review, case):
    sessions = run("window_sessions", case)
    assert review.sessions.select(sessions.columns).sort("session_id").equals(sessions.sort("session_id"))
    assert review.restore.equals(review.changes.restore_list())
    assert review.bounds == review.exposure.bounds()
    assert review.notices.people.height > 0

"""The counterfactual shutdown on the tiny case, checked against truth and a brute-force count."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from workbench.case import open_case
from workbench.errors import WorkbenchError
from workbench.incident import counterfactual as cf
from workbench.queries import run


@pytest.fixture(scope="module")
def evidence(tiny_db):
    with open_case(tiny_db) as case:
        window = run("incident_window", case).row(0, named=True)
        yield {
            "case": case,
            "window": window,
            "mismatched": run("mismatched_sessions", case),
            "changes": run("mismatched_changes", case),
        }


@pytest.fixture(scope="module")
def truth(tiny_case):
    """Swapped sessions with their login (``login_at``): disabling login stops sessions, not swaps already under way."""
    logins = tiny_case.evidence("logins").select("session_id", login_at="time")
    swapped = tiny_case.truth("swapped_sessions").join(logins, on="session_id")
    changed = (
        tiny_case.truth("unauthorized_changes")
        .join(tiny_case.evidence("profile_changes").select("change_id", "session_id"), on="change_id")
        .join(swapped.select("session_id", "login_at"), on="session_id")
    )
    return swapped, changed


def test_curve_equals_what_truth_says_would_still_have_happened(evidence, truth):
    w = evidence["window"]
    curve = cf.shutdown_curve(
        evidence["mismatched"], evidence["changes"], start=w["deployed_at"], end=w["login_disabled_at"], step_minutes=60
    )
    swapped, changed = truth
    assert curve["shutdown_at"][0] == w["deployed_at"] and curve["shutdown_at"][-1] == w["login_disabled_at"]
    for row in curve.iter_rows(named=True):
        t = row["shutdown_at"]
        before = swapped.filter(pl.col("login_at") < t)
        assert row["n_mismatched_sessions"] == before.height
        assert row["n_exposed_accounts"] == before["bound_account_id"].n_unique()
        assert row["n_changed_accounts"] == changed.filter(pl.col("login_at") < t)["owner_account_id"].n_unique()
    for column in ("n_mismatched_sessions", "n_exposed_accounts", "n_changed_accounts"):
        assert curve[column].is_sorted()
    assert curve["n_mismatched_sessions"][-1] == swapped.height and curve["n_mismatched_sessions"][0] == 0


def test_named_alternatives(evidence):
    w = evidence["window"]
    first = w["deployed_at"] + timedelta(hours=14)

    def named(delay):
        return {
            r["alternative"]: r
            for r in cf.alternatives(
                evidence["mismatched"],
                evidence["changes"],
                deployed_at=w["deployed_at"],
                first_report_at=first,
                login_disabled_at=w["login_disabled_at"],
                on_call_delay_hours=delay,
            ).iter_rows(named=True)
        }

    now = named(0)
    assert now["on_call"]["shutdown_at"] == now["at_first_report"]["shutdown_at"] == first
    assert now["on_call"]["n_exposed_accounts_avoided"] == now["at_first_report"]["n_exposed_accounts_avoided"] > 0
    assert now["smoke_test"]["n_mismatched_sessions"] == now["smoke_test"]["n_exposed_accounts"] == 0
    assert now["smoke_test"]["n_mismatched_sessions_avoided"] == now["actual"]["n_mismatched_sessions"] > 0
    assert now["actual"]["n_exposed_accounts_avoided"] == 0
    late = named(1000)
    assert (
        late["on_call"]["shutdown_at"] == w["login_disabled_at"] and late["on_call"]["n_exposed_accounts_avoided"] == 0
    )
    assert named(1)["on_call"]["n_mismatched_sessions_avoided"] <= now["on_call"]["n_mismatched_sessions_avoided"]


def test_without_a_report_on_call_saves_nothing(evidence):
    w = evidence["window"]
    got = cf.alternatives(
        evidence["mismatched"],
        evidence["changes"],
        deployed_at=w["deployed_at"],
        first_report_at=None,
        login_disabled_at=w["login_disabled_at"],
    )
    assert got["alternative"].to_list() == ["actual", "on_call", "at_first_report", "smoke_test"]
    assert got.filter(pl.col("alternative") == "on_call")["n_exposed_accounts_avoided"].item() == 0


def test_bad_sweeps_are_refused(evidence):
    w = evidence["window"]
    with pytest.raises(WorkbenchError, match="the sweep needs start before end"):
        cf.shutdown_curve(
            evidence["mismatched"], evidence["changes"], start=w["login_disabled_at"], end=w["deployed_at"]
        )


def test_binding_rate_against_a_brute_force_count(evidence):
    w = evidence["window"]
    start, end = w["deployed_at"], w["login_disabled_at"]
    sessions = run("sessions", evidence["case"], start=start, end=end)
    got = cf.binding_rate(sessions, evidence["mismatched"], start=start, end=end)
    at_risk = 0
    rows = sessions.select("applicant_id", "login_at", "ended_at").rows()
    for member, t, _ in rows:
        if start <= t < end and any(m != member and s < t < e for m, s, e in rows):
            at_risk += 1
    assert got["logins_at_risk"] == at_risk
    # Every generated swap binds a login beside another member's open session: all are in the rate.
    assert got["mismatched"] == evidence["mismatched"]["session_id"].n_unique()
    assert got["mismatched_not_at_risk"] == 0
    assert got["rate"] == pytest.approx(got["mismatched"] / at_risk)
    p = got["rate"]
    assert (1 - p) ** got["pairs_needed"] <= 0.05 < (1 - p) ** (got["pairs_needed"] - 1)

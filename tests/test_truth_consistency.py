"""Planted truth is consistent with the evidence it was planted in."""

from __future__ import annotations

import polars as pl
import pytest

from workbench.scenario.world import INCIDENT


def test_every_swapped_session_rendered_a_foreign_account(tiny_case):
    swapped = tiny_case.truth("swapped_sessions")
    logins = tiny_case.evidence("logins")
    views = tiny_case.evidence("page_views")
    joined = swapped.join(logins, on="session_id", how="left")
    assert joined["applicant_id"].null_count() == 0, "a swapped session has no login"
    assert (joined["applicant_id"] == joined["authenticated_applicant_id"]).all()
    assert (joined["bound_account_id"] != joined["authenticated_applicant_id"]).all()
    foreign = views.join(swapped, on="session_id").filter(pl.col("account_id") == pl.col("bound_account_id"))
    assert set(foreign["session_id"]) == set(swapped["session_id"])
    # while the fault is live, and only then
    assert swapped["bound_at"].min() >= INCIDENT.deployed_at
    assert swapped["bound_at"].max() < INCIDENT.login_disabled_at


def test_no_unswapped_session_rendered_a_foreign_account(tiny_case):
    views = tiny_case.evidence("page_views").join(
        tiny_case.evidence("logins").select("session_id", "applicant_id"), on="session_id"
    )
    foreign = views.filter(pl.col("account_id").is_not_null() & (pl.col("account_id") != pl.col("applicant_id")))
    assert set(foreign["session_id"]) == set(tiny_case.truth("swapped_sessions")["session_id"])


def test_every_unauthorized_change_is_in_profile_changes(tiny_case):
    truth = tiny_case.truth("unauthorized_changes")
    changes = tiny_case.evidence("profile_changes")
    logins = tiny_case.evidence("logins").select("session_id", pl.col("applicant_id").alias("actor"))
    joined = truth.join(changes, on="change_id", how="left").join(logins, on="session_id", how="left")
    assert joined["session_id"].null_count() == 0, "an unauthorized change is missing from profile_changes"
    assert (joined["account_id"] == joined["owner_account_id"]).all()
    assert (joined["actor"] == joined["actor_applicant_id"]).all()
    assert (joined["field"] == joined["field_right"]).all()
    # and every change by a non-owner is in truth
    all_foreign = changes.join(logins, on="session_id").filter(pl.col("actor") != pl.col("account_id"))
    assert set(all_foreign["change_id"]) == set(truth["change_id"])


def test_fault_reports_are_support_messages(tiny_case):
    reports = set(tiny_case.truth("fault_reports")["message_id"])
    assert reports <= set(tiny_case.evidence("support_messages")["message_id"])
    assert len(reports) < tiny_case.evidence("support_messages").height  # most messages are unrelated


def test_allocation_touched_is_visible_in_interests(tiny_case):
    touched = tiny_case.truth("allocation_touched")
    interests = tiny_case.evidence("interests").with_columns(key=pl.format("{}:{}", "listing_id", "applicant_id"))
    swapped = tiny_case.truth("swapped_sessions")
    assert set(touched["session_id"]) <= set(swapped["session_id"])
    reg = touched.filter(pl.col("kind") == "interest_registered").join(interests, on="key", how="left")
    assert reg.height > 0 and (reg["session_id"] == reg["session_id_right"]).all()
    wd = touched.filter(pl.col("kind") == "interest_withdrawn").join(interests, on="key", how="left")
    assert wd.height > 0 and wd["withdrawn_at"].null_count() == 0


def test_allocation_truth_points_at_real_rows(tiny_case):
    contracts = tiny_case.evidence("contracts")
    fraud = tiny_case.truth("fraudulent_allocations")
    j = fraud.join(contracts, on="listing_id", how="left")
    assert (j["applicant_id"] == j["applicant_id_right"]).all() and (j["handler_id"] == j["handler_id_right"]).all()
    assert set(fraud["handler_id"]) <= set(tiny_case.truth("corrupt_handlers")["handler_id"])
    prio = tiny_case.truth("priority_allocations").join(contracts, on="listing_id", how="left")
    assert (prio["applicant_id"] == prio["applicant_id_right"]).all()
    grants = tiny_case.evidence("handler_actions").filter(pl.col("action") == "priority_grant")
    assert set(zip(prio["listing_id"], prio["applicant_id"], strict=True)) <= set(
        zip(grants["listing_id"], grants["applicant_id"], strict=True)
    )


def test_fake_profiles_look_like_malmo_2017(tiny_case):
    fakes = tiny_case.truth("fake_profiles").join(tiny_case.evidence("applicants"), on="applicant_id", how="left")
    assert (fakes["created_by_handler_id"] == fakes["handler_id"]).all()
    assert (fakes["queue_start"] < fakes["registered_at"].dt.date()).all()
    shared = fakes.group_by("handler_id").agg(
        pl.col("email").n_unique() < pl.len(), pl.col("phone").n_unique() < pl.len()
    )
    assert shared.select(pl.any_horizontal("email", "phone").all()).item()


def test_clock_offsets_name_the_mail_server(tiny_case):
    offsets = dict(tiny_case.truth("clock_offsets").iter_rows())
    assert 120 <= abs(offsets["mail"]) <= 9 * 60
    assert offsets["web"] == 0


@pytest.mark.parametrize(
    "spec",
    ["missing-account-id=0.3", "log-gap=2013-12-14T10:00/PT1H"],
)
def test_degrade_changes_evidence_but_never_truth(tiny_case, case_factory, spec):
    degraded = case_factory(scale="tiny", seed=1, degrade=(spec,))
    for name in ("swapped_sessions", "unauthorized_changes", "allocation_touched"):
        assert degraded.truth(name).equals(tiny_case.truth(name)), name
    full, less = tiny_case.evidence("page_views"), degraded.evidence("page_views")
    if spec.startswith("missing"):
        assert less.height == full.height
        lost = (less["account_id"].null_count() - full["account_id"].null_count()) / full[
            "account_id"
        ].is_not_null().sum()
        assert 0.25 < lost < 0.35
    else:
        gap = pl.col("time").is_between(
            pl.datetime(2013, 12, 14, 10, time_zone="UTC"),
            pl.datetime(2013, 12, 14, 11, time_zone="UTC"),
            closed="left",
        )
        assert full.filter(gap).height > 0 and less.filter(gap).height == 0
        assert less.height == full.height - full.filter(gap).height
    for other in ("logins", "profile_changes", "support_messages"):
        assert degraded.evidence(other).equals(tiny_case.evidence(other))

"""The small (demo) case is calibrated to the public figures of DESIGN §1, as ratios."""

from __future__ import annotations

import polars as pl

from workbench.scenario.world import INCIDENT, SCALES

INNER = ["Södermalm", "Kungsholmen", "Vasastan", "Östermalm", "Norrmalm"]
WINDOW = pl.col("time").is_between(INCIDENT.deployed_at, INCIDENT.login_disabled_at, closed="left")


def _waits(case):
    contracts = case.evidence("contracts").join(case.evidence("listings"), on="listing_id")
    first_change = (
        case.evidence("handler_actions")
        .filter(pl.col("action") == "queue_date_change")
        .sort("time")
        .group_by("applicant_id")
        .agg(pl.col("old_value").first().str.to_date().alias("original"))
    )
    apps = case.evidence("applicants").join(first_change, on="applicant_id", how="left")
    apps = apps.with_columns(queue=pl.coalesce("original", "queue_start"))
    return contracts.join(apps.select("applicant_id", "queue"), on="applicant_id").with_columns(
        wait=(pl.col("signed_at").dt.date() - pl.col("queue")).dt.total_days() / 365.25,
        inner=pl.col("district").is_in(INNER),
    )


def test_queue_time_at_allocation_is_8_to_10_years_and_about_16_inner_city(small_case):
    w = _waits(small_case)
    assert 8.0 <= w["wait"].mean() <= 10.5
    assert 14.0 <= w.filter("inner")["wait"].mean() <= 18.5


def test_allocations_per_member_and_year_match_stockholm_proportions(small_case):
    s = SCALES["small"]
    per_year = small_case.evidence("contracts").height / (s.last_year - s.first_year + 1)
    # Stockholm mediated 11,000–15,000 a year for ~450,000 members: 2.4–3.3 % of members.
    share = per_year / small_case.evidence("applicants").height
    assert 0.020 <= share <= 0.036


def test_share_of_window_logins_that_change_profile_data(small_case):
    logins = small_case.evidence("logins")
    in_window = logins.filter(WINDOW)
    changes = (
        small_case.evidence("profile_changes")
        .filter(WINDOW)
        .join(logins.select("session_id", "applicant_id"), on="session_id")
    )
    # 674 changers among "tens of thousands" of logins (about 31,000 at stockholm): ~2 %.
    ratio = changes["applicant_id"].n_unique() / in_window.height
    assert 0.01 <= ratio <= 0.04
    assert in_window.height / logins.height < 0.35  # the window is a weekend inside two weeks of logs


def test_protected_identity_and_fault_reports_are_rare(small_case):
    a = small_case.evidence("applicants")
    assert 0.002 <= a["protected_identity"].mean() <= 0.01
    reports = small_case.truth("fault_reports").height
    assert 1 <= reports < 0.1 * small_case.evidence("support_messages").height

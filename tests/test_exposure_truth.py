"""Exposure and changes on the generated tiny and small cases, compared with the planted truth.

On complete evidence every bound is exact (min = likely = max = truth); tier 1 matches a
direct count of the evidence; the unauthorized-change set and the allocation touches are
exactly those the generator planted.
"""

from __future__ import annotations

import polars as pl
import pytest

from workbench.case import open_case
from workbench.exposure import review_exposure
from workbench.exposure.review import FIGURES
from workbench.exposure.tiers import shown_fields
from workbench.figures import record_section
from workbench.findings import Findings


class Analysed:
    def __init__(self, gen, url):
        case = open_case(url)
        self.gen = gen
        review = review_exposure(case)
        self.binding, self.changes, self.exposure = review.binding, review.changes, review.exposure
        self.allocation, self.notices, self.bounds = review.allocation, review.notices, review.bounds
        self.restore = review.restore
        case.close()


@pytest.fixture(scope="module", params=["tiny", "small"])
def analysed(request):
    gen = request.getfixturevalue(f"{request.param}_case")
    url = request.getfixturevalue("tiny_db" if request.param == "tiny" else "small_db")
    return Analysed(gen, url)


def _window(gen):
    actions = dict(gen.evidence("incident_actions").select("action", "time").iter_rows())
    deployments = gen.evidence("deployments")["time"]
    start = deployments.filter(deployments <= actions["login_disabled"]).max()
    return start, actions["fix_deployed"]


def _exact(bounds, value):
    assert (bounds.min, bounds.likely, bounds.max) == (value, value, value)


def test_tier_1_is_a_direct_count_of_logins_in_the_window(analysed):
    start, end = _window(analysed.gen)
    logins = analysed.gen.evidence("logins").filter((pl.col("time") >= start) & (pl.col("time") < end))
    _exact(analysed.bounds["people_possibly_affected"], logins["applicant_id"].n_unique())
    assert analysed.binding.sessions.height == logins.height


def test_tier_2_both_sides_equal_truth(analysed):
    swapped = analysed.gen.truth("swapped_sessions")
    _exact(analysed.bounds["accounts_bound_to_others"], swapped["bound_account_id"].n_unique())
    _exact(analysed.bounds["people_put_into_others_accounts"], swapped["authenticated_applicant_id"].n_unique())
    links = analysed.exposure.links
    assert set(links.select("session_id", "applicant_id", "account_id").iter_rows()) == set(
        swapped.select("session_id", "authenticated_applicant_id", "bound_account_id").iter_rows()
    )
    assert analysed.binding.unexplained.height == 0
    assert (analysed.binding.sessions["status"] == "unknown").sum() == 0


def test_tier_3_accounts_shown_equal_the_accounts_rendered_in_swapped_sessions(analysed):
    swapped = analysed.gen.truth("swapped_sessions")
    pages = analysed.gen.evidence("page_views").join(swapped, on="session_id")
    rendered = pages.filter(pl.col("account_id") == pl.col("bound_account_id"))
    _exact(analysed.bounds["accounts_exposed"], rendered["account_id"].n_unique())
    protected = analysed.gen.evidence("applicants").filter("protected_identity")["applicant_id"]
    _exact(
        analysed.bounds["protected_identity_exposed"],
        rendered.filter(pl.col("account_id").is_in(protected.implode()))["account_id"].n_unique(),
    )


def test_protected_identity_never_shows_the_address(analysed):
    assert shown_fields("/mina-sidor/profil", True) == [
        "name",
        "personnummer",
        "applicant_id",
        "email",
        "phone",
        "employer",
        "annual_income",
        "co_applicant_name",
        "co_applicant_personnummer",
    ]
    assert shown_fields("/mina-sidor/erbjudanden", True) == ["name", "applicant_id"]
    protected = analysed.exposure.views.filter("protected_identity")
    assert protected.height > 0 or analysed.bounds["protected_identity_exposed"].max == 0
    for fields in protected["fields"].to_list():
        assert not {"address", "postal_code", "city"} & set(fields)
    profile = analysed.exposure.views.filter(~pl.col("protected_identity") & (pl.col("path") == "/mina-sidor/profil"))
    assert "personnummer" in profile["fields"][0] and "address" in profile["fields"][0]


def _co_applicants_shown(gen) -> set[str]:
    """Co-applicant personnummer on each profile page a swapped session rendered, as it was then."""
    swapped = gen.truth("swapped_sessions")
    pages = (
        gen.evidence("page_views")
        .join(swapped, on="session_id")
        .filter((pl.col("path") == "/mina-sidor/profil") & (pl.col("status") == 200))
    )
    changes = gen.evidence("profile_changes").filter(pl.col("field") == "co_applicant_personnummer")
    snapshot = dict(gen.evidence("applicants").select("applicant_id", "co_applicant_personnummer").iter_rows())
    shown = set()
    for session, account, t in pages.select("session_id", "bound_account_id", "time").iter_rows():
        mine = changes.filter(pl.col("account_id") == account).sort("time", "change_id")
        before, after = mine.filter(pl.col("time") <= t), mine.filter(pl.col("time") > t)
        if before.height:
            value, by = before["new_value"][-1], before["session_id"][-1]
        else:
            value, by = (after["old_value"][0] if after.height else snapshot[account]), None
        if value is not None and by != session:
            shown.add(value)
    return shown


def test_co_applicants_counted_separately_as_shown_at_the_time(analysed):
    _exact(analysed.bounds["co_applicants_exposed"], len(_co_applicants_shown(analysed.gen)))
    assert set(analysed.exposure.co_applicants["co_applicant_personnummer"]) == _co_applicants_shown(analysed.gen)


def test_unauthorized_changes_are_exactly_the_planted_ones(analysed):
    truth = analysed.gen.truth("unauthorized_changes")
    others = analysed.changes.by_others
    assert set(others.select("change_id", "actor_applicant_id", "account_id", "field").iter_rows()) == set(
        truth.select("change_id", "actor_applicant_id", "owner_account_id", "field").iter_rows()
    )
    _exact(analysed.bounds["accounts_changed_by_others"], truth["owner_account_id"].n_unique())
    counts = analysed.changes.counts()
    assert counts["people_who_changed_others_data"] == truth["actor_applicant_id"].n_unique()
    assert counts["changes_with_unknown_actor"] == 0


def test_made_some_change_counts_the_actors_in_the_window(analysed):
    start, end = _window(analysed.gen)
    changes = analysed.gen.evidence("profile_changes").filter((pl.col("time") >= start) & (pl.col("time") < end))
    actors = changes.join(analysed.gen.evidence("logins").select("session_id", "applicant_id"), on="session_id")
    counts = analysed.changes.counts()
    assert counts["people_who_made_changes"] == actors["applicant_id"].n_unique()
    own = actors.filter(pl.col("applicant_id") == pl.col("account_id"))
    assert counts["people_who_edited_own_data"] == own["applicant_id"].n_unique()
    split = dict(analysed.changes.made_some_change().iter_rows())
    assert split["made some change (actors)"] == counts["people_who_made_changes"]


def test_restore_list_gives_the_value_before_each_run_and_flags_later_owner_changes(analysed, tmp_path):
    truth_ids = analysed.gen.truth("unauthorized_changes")["change_id"].implode()
    log = (
        analysed.gen.evidence("profile_changes")
        .sort("account_id", "field", "time", "change_id")
        .with_columns(other=pl.col("change_id").is_in(truth_ids))
    )
    runs, conflicts = 0, 0
    for (_account, _field), group in log.group_by("account_id", "field"):
        flags = group["other"].to_list()
        for i, other in enumerate(flags):
            if other and (i == 0 or not flags[i - 1]):
                runs += 1
                end = i
                while end + 1 < len(flags) and flags[end + 1]:
                    end += 1
                conflicts += any(not f for f in flags[end + 1 :])
    restore = analysed.changes.restore_list()
    assert restore.height == runs and int(restore["conflict"].sum()) == conflicts
    assert conflicts >= 1  # the generator plants owners putting values back
    first = log.filter("other").sort("time").row(0, named=True)
    row = restore.filter((pl.col("account_id") == first["account_id"]) & (pl.col("field") == first["field"])).row(
        0, named=True
    )
    assert row["restore_value"] == first["old_value"] and row["changed_at"] == first["time"]
    assert set(restore.filter("conflict")["action"]) <= {
        "review: owner changed the field later",
        "none: owner already restored it",
    }
    # the figures count the rows by action, and every row has one (notebook 02's sentence and table)
    counts = record_section(Findings(tmp_path), analysed, FIGURES, "restore")
    by_action = dict(restore.group_by("action").len().iter_rows())
    assert counts["field_changes_to_restore"] == by_action.get("restore", 0) == restore.height - conflicts
    assert counts["fields_restored_by_owner"] + counts["restore_conflicts"] == conflicts


def test_allocation_touched_is_exactly_the_planted_set(analysed):
    truth = analysed.gen.truth("allocation_touched")
    touched = analysed.allocation.touched
    assert set(touched.select("kind", "key", "session_id").iter_rows()) == set(truth.iter_rows())
    assert analysed.allocation.counts()["allocation_affected"] == truth.height
    assert analysed.allocation.possibly_touched.height == 0


def test_tiers_are_nested(analysed):
    e = analysed.exposure
    tier1 = set(e.tier1["applicant_id"])
    viewers, owners = set(e.links["applicant_id"]), set(e.links["account_id"])
    exposed = set(e.links.filter(pl.col("p_render") > 0)["account_id"])
    changed = set(analysed.changes.by_others["account_id"])
    assert viewers <= tier1 and owners <= tier1
    assert changed <= exposed <= owners
    t = {row["tier"]: row for row in e.tiers().iter_rows(named=True)}
    assert t["1"]["likely"] >= t["2"]["likely"] >= t["3"]["likely"] >= t["4"]["likely"] > 0
    assert all(row["widened_by"] == "" for row in t.values())


def test_notification_list_has_one_row_per_person_and_everyone_to_inform(analysed):
    people = analysed.notices.people
    assert people["personnummer"].n_unique() == people.height
    members = set(people["applicant_id"].drop_nulls())
    truth = analysed.gen.truth("unauthorized_changes")
    assert set(analysed.exposure.links["account_id"]) <= members
    assert set(truth["actor_applicant_id"]) <= members
    assert _co_applicants_shown(analysed.gen) <= set(people["personnummer"])
    changed = people.filter(pl.col("applicant_id").is_in(truth["owner_account_id"].implode()))
    assert set(changed["message_category"]) <= {"protected_identity", "changed_by_other"}
    assert (people["certainty"] == "certain").all()

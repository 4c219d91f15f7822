"""Queue fairness on the small case against its truth: replay, caseworkers, red flags, fake profiles, groups."""

from __future__ import annotations

import polars as pl
import pytest

from workbench.case import open_case
from workbench.fairness import fake_profiles, review_fairness
from workbench.fairness.redflags import manual_offers, repeated_pairs


@pytest.fixture(scope="module")
def review(small_db):
    with open_case(small_db) as case:
        return review_fairness(case, alpha=0.01, permutations=20_000, seed=1)


def _ids(frame: pl.DataFrame, column: str = "listing_id") -> set:
    return set(frame[column].to_list())


def test_every_planted_fraudulent_allocation_is_unexplained_and_no_priority_allocation_is(review, small_case):
    a = review.replay.allocations
    unexplained = _ids(a.filter(pl.col("outcome") == "unexplained"))
    fraud = small_case.truth("fraudulent_allocations")
    priority = small_case.truth("priority_allocations")
    assert fraud.height >= 10 and priority.height >= 10
    assert _ids(fraud) <= unexplained
    assert not _ids(priority) & unexplained
    # every priority allocation is explained by its decision, and the replay finds no other departure
    assert _ids(priority) <= _ids(a.filter(pl.col("deviation") == "priority decision"))
    assert unexplained == _ids(fraud)


def test_every_planted_corrupt_caseworker_is_flagged_and_nobody_else(review, small_case):
    corrupt = set(small_case.truth("corrupt_handlers")["handler_id"].to_list())
    assert corrupt and set(review.caseworkers_flagged) == corrupt
    flagged = review.caseworkers.filter("flagged")
    assert (flagged["p_holm"] < 0.01).all() and (flagged["effect"] >= 0.02).all()
    assert review.p_floor == pytest.approx(review.caseworkers_tested / 20_001)


def test_skipped_members_stood_before_the_tenant_with_nothing_recorded(review):
    skipped = review.replay.skipped
    assert skipped.height >= review.unexplained_deviations
    assert (skipped["positions_lost"] >= 1).all()
    passed = review.replay.passed_over
    assert passed.filter(pl.col("status") == "skipped").height == skipped.height
    assert review.queue_days_jumped_total > 0


def test_fake_profiles_suspected_are_the_planted_ones_with_their_evidence(review, small_case):
    planted = small_case.truth("fake_profiles")
    suspected = review.fake_profiles.filter("suspected")
    assert _ids(suspected, "applicant_id") == _ids(planted, "applicant_id")
    got = suspected.join(planted, on="applicant_id")
    assert (got["created_by_handler_id"] == got["handler_id"]).all()
    assert got["profile_created_action_id"].null_count() == 0
    assert (got["days_before_registration"] > 365).all() and (got["n_sharing"] >= 1).all()
    housed = small_case.truth("fraudulent_allocations").join(planted, on=["applicant_id", "handler_id"], how="semi")
    assert _ids(got.filter("housed_by_creator"), "applicant_id") == _ids(housed, "applicant_id")


def test_backdating_then_a_lease_from_the_same_caseworker_marks_planted_sales(review, small_case):
    changes = review.queue_date_changes
    fraud = small_case.truth("fraudulent_allocations")
    assert changes.height > 0 and changes["backdated"].all()
    assert review.backdated_queue_dates == changes.height
    leases = changes.filter("then_contract").select("applicant_id", "handler_id", listing_id="contract_listing_id")
    assert leases.height == changes.height
    assert leases.join(fraud, on=["listing_id", "applicant_id", "handler_id"], how="anti").height == 0


def test_red_flags_point_at_the_corrupt_caseworkers(review, small_case):
    corrupt = set(small_case.truth("corrupt_handlers")["handler_id"].to_list())
    flags = review.red_flags
    serious = flags.filter(pl.col("flag").is_in(["backdating then lease", "manual offer", "repeated pair"]))
    assert serious.height > 0 and set(serious["handler_id"].to_list()) <= corrupt
    edits = flags.filter(pl.col("flag") == "edit before offer")
    assert edits.filter(pl.col("handler_id").is_in(list(corrupt))).height > 0.8 * edits.height
    rate = flags.filter(pl.col("flag") == "off-hours").group_by(corrupt=pl.col("handler_id").is_in(list(corrupt))).len()
    per = dict(rate.iter_rows())
    assert per[True] / len(corrupt) > 3 * per[False] / (review.caseworkers_tested - len(corrupt))
    # every flag carries its evidence row
    assert flags.filter(pl.col("flag") != "off-hours")["action_id"].null_count() == 0


def test_manual_offers_and_repeated_pairs_come_with_their_audit_rows(review):
    actions = review.evidence.actions
    manual = manual_offers(actions, review.replay.allocations)
    assert manual.height == actions.filter(pl.col("action") == "manual_offer").height > 0
    assert (
        manual.filter("became_tenant")["outcome"].to_list() == ["unexplained"] * manual.filter("became_tenant").height
    )
    pairs = repeated_pairs(actions)
    rows = pairs.explode("action_ids").join(actions, left_on="action_ids", right_on="action_id")
    assert (rows["handler_id"] == rows["handler_id_right"]).all() and (
        rows["applicant_id"] == rows["applicant_id_right"]
    ).all()


def test_the_power_curve_rises_with_the_fraud_rate(review):
    power = review.power.sort("fraud_rate")
    assert power["power"][0] <= 0.02  # with no fraud planted, the planted caseworker is (almost) never flagged
    assert power["power"][-1] >= 0.9
    assert power["power"][-1] > power["power"][1]
    assert review.detectable_fraud_rate is not None and 0 < review.detectable_fraud_rate <= 0.2


def test_each_covered_caseworker_has_an_mde_within_the_ceiling_and_the_claim_is_the_largest(review):
    cw = review.caseworkers
    covered = cw.filter("covered")
    assert review.caseworkers_covered == sorted(covered["handler_id"].to_list())
    assert not covered["flagged"].any() and (covered["n_with_peers"] > 0).all()
    assert (covered["mde"] <= review.mde_ceiling).all()
    assert review.detectable_fraud_rate == covered["mde"].max()
    # a caseworker with many allocations can be seen selling less than one with few
    busiest, quietest = (
        covered.sort("n_with_peers").row(-1, named=True),
        covered.sort("n_with_peers").row(0, named=True),
    )
    assert busiest["mde"] < quietest["mde"]
    # the pooled curve plants only into the covered caseworkers, and never more than the simulations asked
    assert (review.power["simulations"] == 200).all()


def test_caseworkers_flagged_is_shown_as_ids_pseudonyms_or_a_count(review, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", "test-key-0123456789abcdef")
    assert review.flagged_for("investigator") == review.caseworkers_flagged
    pseudonyms = review.flagged_for("auditor")
    assert len(pseudonyms) == len(review.caseworkers_flagged) and all(p.startswith("H-") for p in pseudonyms)
    assert review.flagged_for("public") == len(review.caseworkers_flagged)


def test_group_selection_rates_match_fairlearn_metricframe(review):
    fairlearn = pytest.importorskip(
        "fairlearn.metrics", reason="fairlearn is a test-only dependency: pip install fairlearn"
    )
    a = review.replay.allocations
    in_order = (a["outcome"] == "in_order").cast(pl.Int64).to_numpy()
    view = review.groups
    for grouping in ("district", "kind", "year"):
        frame = fairlearn.MetricFrame(
            metrics=fairlearn.selection_rate,
            y_true=in_order,
            y_pred=in_order,
            sensitive_features=a[grouping].cast(pl.String).to_numpy(),
        )
        oracle = {str(k): v for k, v in frame.by_group.items()}
        ratios = {str(k): v for k, v in (frame.by_group / frame.overall).items()}
        mine = view.filter(pl.col("grouping") == grouping)
        assert set(mine["group"]) == set(oracle)
        for row in mine.iter_rows(named=True):
            assert row["share_in_order"] == pytest.approx(oracle[row["group"]])
            assert row["disparity"] == pytest.approx(ratios[row["group"]])
            assert row["within_band"] == (0.8 <= ratios[row["group"]] <= 1.25)
        assert frame.ratio(method="to_overall") == pytest.approx(min(min(r, 1 / r) for r in ratios.values()))


def test_fake_profile_signals_on_a_hand_built_register():
    from datetime import UTC as utc, date, datetime

    members = pl.DataFrame(
        {
            "applicant_id": [1, 2, 3, 4, 5],
            "created_by_handler_id": [7, 7, None, None, None],
            "queue_start": [date(2001, 1, 1), date(2002, 1, 1), date(2010, 5, 1), date(2005, 1, 1), date(2000, 1, 1)],
            "registered_at": [
                datetime(2013, 4, 1, 19, tzinfo=utc),
                datetime(2013, 4, 2, 19, tzinfo=utc),
                datetime(2010, 5, 1, 9, tzinfo=utc),
                datetime(2005, 1, 1, 9, tzinfo=utc),
                datetime(2009, 6, 1, 9, tzinfo=utc),
            ],
            "email": [
                "bostad.sthlm@example.net",
                "Bostad.Sthlm@example.net ",
                "a@example.com",
                "b@example.com",
                "c@example.com",
            ],
            "phone": ["073-111 22 33", "0731112233", "070-1", "070-2", "070-3"],
        }
    )
    fees = pl.DataFrame({"applicant_id": [1, 2, 3, 4, 5], "first_paid_year": [2013, 2013, 2010, 2008, 2009]})
    ips = pl.DataFrame({"applicant_id": [3, 4, 5], "ip": ["83.1.1.1", "83.1.1.1", "83.1.1.1"]})
    # member 5's date was backdated by a caseworker: a backdating case, not a made-up profile
    actions = pl.DataFrame(
        {
            "action_id": [5, 6],
            "time": [datetime(2013, 4, 1, 19, tzinfo=utc), datetime(2014, 1, 1, tzinfo=utc)],
            "action": ["profile_created", "queue_date_change"],
            "applicant_id": [1, 5],
            "old_value": [None, "2009-06-01"],
        }
    )
    contracts = pl.DataFrame({"listing_id": [100], "applicant_id": [1], "handler_id": [7]})
    got = fake_profiles(members, fees, ips, actions, contracts).sort("applicant_id")
    assert got["applicant_id"].to_list() == [1, 2, 3, 4, 5]
    assert got["n_signals"].to_list() == [4, 4, 1, 1, 1]
    assert got["suspected"].to_list() == [True, True, False, False, False]
    assert got["profile_created_action_id"].to_list() == [5, None, None, None, None]
    assert got["housed_by_creator"].to_list() == [True, False, False, False, False]


def test_period_and_districts_narrow_the_review(small_db):
    with open_case(small_db) as case:
        narrow = review_fairness(
            case,
            period_start="2014-01-01",
            period_end="2014-12-31",
            districts=["Solna", "Nacka"],
            permutations=5000,
            power_simulations=10,
        )
    a = narrow.replay.allocations
    assert a.height > 0 and set(a["district"]) <= {"Solna", "Nacka"} and set(a["year"]) == {2014}
    assert set(narrow.red_flags["handler_id"]) <= set(a["handler_id"])


def test_an_empty_period_is_refused_with_the_span_of_the_case(small_db):
    from workbench.errors import WorkbenchError

    with (
        open_case(small_db) as case,
        pytest.raises(
            WorkbenchError,
            match=r"no contract to replay for period_start=1990-01-01, period_end=1990-12-31, districts=None; "
            r"the case's allocated listings close between 2013-\d\d-\d\d and 2015-\d\d-\d\d",
        ),
    ):
        review_fairness(case, period_start="1990-01-01", period_end="1990-12-31")

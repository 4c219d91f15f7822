"""The caseworker dashboard headless, and the five fairness charts from audience-fit frames."""

from __future__ import annotations

import itertools

import polars as pl
import pytest

from workbench import fairness
from workbench.case import open_case
from workbench.fairness.caseworkers import RATE_BANDS
from workbench.i18n import t
from workbench.reportset.rate_audit import WITHHELD
from workbench.widgets import CaseworkerDashboard
from workbench.widgets.charts import chart_label
from workbench.widgets.fairness_charts import (
    OUTCOME_COLOURS,
    caseworker_rate_chart,
    power_chart,
    queue_time_chart,
    red_flag_timeline_chart,
    winner_rank_chart,
)

KEY = "test-key-0123456789abcdef"


@pytest.fixture(scope="module")
def review(small_db):
    with open_case(small_db) as case:
        return fairness.review_fairness(case, permutations=5000, power_simulations=20)


@pytest.fixture(scope="module")
def corrupt(small_case) -> list[int]:
    return sorted(small_case.truth("corrupt_handlers")["handler_id"].to_list())


def _data(chart) -> list[dict]:
    spec = chart.to_dict()
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


def test_dashboard_opens_on_the_most_significant_caseworker(review):
    dash = CaseworkerDashboard(review)
    assert dash.value == review.caseworkers["handler_id"][0] == dash.selected_caseworker
    assert dash.rates["handler_id"].item() == dash.value
    assert dash.allocations.height == review.replay.allocations.filter(pl.col("handler_id") == dash.value).height


def test_choosing_a_caseworker_shows_their_allocations_skips_rates_and_red_flags(review, corrupt):
    dash = CaseworkerDashboard(review)
    dash.value = corrupt[0]
    mine = review.replay.allocations.filter(pl.col("handler_id") == corrupt[0])
    assert set(dash.allocations["listing_id"]) == set(mine["listing_id"])
    rates = dash.rates.row(0, named=True)
    assert rates["n_unexplained"] == (mine["outcome"] == "unexplained").sum() > 0
    assert rates["rate"] > rates["peer_rate"] and rates["effect_label"] in ("large", "very large")
    skipped = dash.passed_over.filter(pl.col("status") == "skipped")
    assert skipped.height > 0 and set(skipped["listing_id"]) <= set(mine["listing_id"])
    assert dash.timeline.height > 0 and (dash.timeline["handler_id"] == corrupt[0]).all()
    assert "skipped" in dash._w_passed.value and f"Caseworker {corrupt[0]}" in dash._w_summary.value
    assert "Flagged by the test." in dash._w_summary.value
    honest = review.caseworkers_covered[0]
    dash.value = honest
    mde = review.caseworkers.filter(pl.col("handler_id") == honest)["mde"].item()
    assert f"Selling {mde:.1%} of their allocations out of queue order would have got them flagged" in (
        dash._w_summary.value
    )
    dash.value = corrupt[0]
    shown = _data(dash.chart)
    assert len(shown) == dash.timeline.height and {r["flag"] for r in shown} == set(dash.timeline["flag"])


def test_district_and_period_filters_narrow_everything(review, corrupt):
    dash = CaseworkerDashboard(review, caseworker=corrupt[0])
    district = dash.allocations["district"].mode().sort()[0]
    dash.districts = (district,)
    assert set(dash.allocations["district"]) == {district}
    first = int(review.replay.allocations["year"].min())
    dash.years = (first, first)
    assert set(dash.allocations["year"]) <= {first}
    assert (dash.timeline["time"].dt.year() == first).all()
    dash.districts = ()
    assert (
        dash.allocations.height
        >= review.replay.allocations.filter(
            (pl.col("handler_id") == corrupt[0]) & (pl.col("year") == first) & (pl.col("district") == district)
        ).height
    )


def test_dashboard_shows_pseudonyms_to_auditors_and_nothing_per_person_to_the_public(review, corrupt, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", KEY)
    dash = CaseworkerDashboard(review, audience="auditor", caseworker=corrupt[0])
    labels = [label for label, _ in dash._w_caseworker.options]
    assert all(label.startswith("H-") for label in labels)
    assert f"Caseworker {corrupt[0]}<" not in dash._w_summary.value and "Caseworker H-" in dash._w_summary.value
    member = str(dash.allocations["applicant_id"][0])
    assert member not in dash._w_allocations.value
    public = CaseworkerDashboard(review, audience="public")
    assert public.value is None and public.allocations.height == 0 and "not the public" in public._w_summary.value


@pytest.mark.parametrize("audience", ["investigator", "auditor", "public"])
def test_the_five_charts_build_from_audience_fit_frames(review, audience, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", KEY)
    ranks = fairness.rank_distribution(review, audience)
    rates = fairness.caseworker_rates(review, audience)
    flags = fairness.flag_timeline(review, audience)
    charts = {
        "ranks": winner_rank_chart(ranks),
        "rates": caseworker_rate_chart(rates),
        "power": power_chart(fairness.power_table(review, audience)),
        "queue_time": queue_time_chart(fairness.queue_time(review, audience)),
        "flags": red_flag_timeline_chart(flags),
    }
    data = {name: _data(chart) for name, chart in charts.items()}
    assert {r["outcome"] for r in data["ranks"]} == {chart_label("outcome", o) for o in OUTCOME_COLOURS}
    assert len(data["rates"]) == review.caseworkers_tested
    if audience != "public":
        assert all("mde" in r for r in data["rates"])  # each caseworker's minimum detectable effect in the tooltip
        # the tooltip writes shares as the table does ("6.2%"), never "0.062"
        tips = {
            t["field"]: t.get("format")
            for layer in charts["rates"].to_dict()["layer"]
            for t in layer.get("encoding", {}).get("tooltip", [])
        }
        assert {tips[c] for c in ("rate", "rate_low", "rate_high", "threshold", "mde")} == {".1%"}
    assert len(data["power"]) >= len(fairness.FRAUD_RATES)
    flagged_rows = [r for r in data["rates"] if r["flagged"] == t("yes")]  # a word, as in the table
    assert len(flagged_rows) == len(review.caseworkers_flagged)
    ids = {str(h) for h in review.replay.allocations["applicant_id"].head(50)}
    if audience == "public":
        assert "handler_id" not in rates.columns and "time" not in flags.columns
        assert all(r["caseworker"].startswith("caseworker ") for r in data["rates"])
        # docs/disclosure.md: a band and a flag, nothing n or k could be worked back from
        assert not WITHHELD & {f for r in data["rates"] for f in r} and "rate" not in data["rates"][0]
    if audience != "investigator":
        text = str(data)
        assert not any(i in text for i in ids)


def test_the_public_sees_each_caseworkers_rate_as_the_band_it_lies_in(review):
    truth = review.caseworkers.sort("handler_id")
    public = fairness.caseworker_rates(review, "public")
    assert set(public.columns) == {"caseworker", "rate_band", "effect_label", "flagged"}
    assert public.height == truth.height and public["flagged"].sum() == truth["flagged"].sum()
    expected = sorted(
        next(f"{round(100 * a)}–{round(100 * b)}%" for a, b in itertools.pairwise(RATE_BANDS) if r < b or b == 1)
        for r in truth["rate"]
    )
    assert sorted(public["rate_band"].to_list()) == expected  # each caseworker's true rate, in its band
    chart = _data(caseworker_rate_chart(public))
    assert all(r["rate_from"] <= r["rate_to"] and r["rate_band"] for r in chart)


def test_chart_builders_do_not_mutate_their_input(review):
    frame = fairness.caseworker_rates(review, "investigator")
    before = frame.clone()
    caseworker_rate_chart(frame)
    assert frame.equals(before)


def test_on_change_runs_after_the_dashboard_has_refreshed(review, corrupt):
    dash = CaseworkerDashboard(review)
    seen = []
    dash.on_change(lambda d: seen.append((d.value, set(d.allocations["listing_id"]))))
    other = next(c for c in corrupt if c != dash.value)
    dash.value = other
    mine = review.replay.allocations.filter(pl.col("handler_id") == other)
    assert seen == [(other, set(mine["listing_id"]))]

"""A caseworker too small to judge, on hand-written allocation cases: named, counted, not covered.

Rows are written with ``tests/queuekit.py``, not the generator: eight busy caseworkers in one
district and year, each with 100 allocations of which 4 passed someone over with nothing
recorded, beside one who made only a few.
"""

from __future__ import annotations

import string

import polars as pl
import pytest
from queuekit import HandCase, team

from workbench.fairness import caseworker_rates, power_curve, review_evidence
from workbench.fairness.mde import MDE_CEILING
from workbench.findings import Findings
from workbench.values import format_value

NO_IPS = pl.DataFrame(schema={"applicant_id": pl.Int64, "ip": pl.String})
BUSY = {h: (100, 4) for h in range(1, 9)}


def _review(handlers: dict[int, tuple[int, int]]):
    case = HandCase()
    team(case, handlers)
    return review_evidence(case.evidence(), NO_IPS, alpha=0.01, permutations=20_000, seed=1, power_simulations=50)


def _verdict(review, audience: str, tmp_path) -> tuple[str, dict]:
    """The verdict as notebook 03 says it, with every figure it names recorded as the notebook does."""
    template = review.verdict(audience)
    power = {name: value for name, value, _ in review.power_findings(audience)}
    figures = {**power, "caseworkers_flagged": review.flagged_for(audience)}
    findings = Findings(tmp_path, audience=audience)
    for _, name, _, _ in string.Formatter().parse(template):
        if name:
            findings.record(name, figures[name] if name in figures else getattr(review, name), name)
    return findings.text(template), figures


@pytest.fixture(scope="module")
def two_of_two():
    """The issue's case: caseworker 9 made 2 allocations, both out of queue order."""
    return _review({**BUSY, 9: (2, 2)})


def test_the_two_allocation_caseworker_is_not_flagged_and_is_too_few_to_judge(two_of_two):
    by = {r["handler_id"]: r for r in two_of_two.caseworkers.iter_rows(named=True)}
    nine = by[9]
    assert (nine["n_allocations"], nine["n_unexplained"]) == (2, 2)
    assert not nine["flagged"] and nine["p_holm"] > 0.01
    assert nine["mde"] is None and nine["too_few"] and not nine["covered"]
    assert nine["effect_label"] == "too few allocations to judge (n = 2)"
    assert two_of_two.caseworkers_too_few == [9] and two_of_two.caseworkers_too_few_to_judge == 1
    # the project's own power curve agrees: fraud planted only into 9 is never flagged, even at 100 %
    only_nine = power_curve(
        two_of_two.replay.allocations, rates=(1.0,), simulations=50, exclude=tuple(range(1, 9)), permutations=20_000
    )
    assert only_nine["detected"].to_list() == [0]


def test_the_busy_caseworkers_stay_covered_and_the_claim_holds_for_each(two_of_two):
    assert two_of_two.caseworkers_covered == list(range(1, 9))
    busy = two_of_two.caseworkers.filter(pl.col("handler_id") <= 8)
    assert busy["covered"].all() and (busy["mde"] <= MDE_CEILING).all()
    claim = two_of_two.detectable_fraud_rate
    assert claim == busy["mde"].max()
    # the verdict's claim, tried on each covered caseworker with the power curve's own simulation
    for handler in (1, 8):
        planted = power_curve(
            two_of_two.replay.allocations,
            rates=(claim,),
            simulations=200,
            exclude=tuple(h for h in range(1, 10) if h != handler),
            permutations=20_000,
            seed=handler,
        )
        assert planted["power"].item() >= 0.8 - 3 * (0.8 * 0.2 / 200) ** 0.5, handler


def test_the_verdict_names_whom_it_covers_and_leaves_out_the_small_one(two_of_two, tmp_path):
    text, figures = _verdict(two_of_two, "investigator", tmp_path)
    assert figures["caseworkers_power_covers"] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert figures["caseworkers_too_few_named"] == ["9 (n = 2)"]
    percent = figures["detectable_fraud_percent"]
    assert (
        f"For each of caseworkers 1, 2, 3, 4, 5, 6, 7, 8 (those not flagged with enough allocations to judge), "
        f"selling {format_value(percent, 'detectable_fraud_percent')} of their allocations out of queue order would "
        "have got them flagged with at least 80% power." in text
    )
    assert "No power claim covers the 1 caseworker(s) with too few allocations to judge (9 (n = 2))" in text
    assert "A caseworker selling" not in text  # no claim left that reads as covering everyone


def test_the_dashboard_says_who_is_too_few_to_judge(two_of_two):
    from workbench.widgets import CaseworkerDashboard

    dash = CaseworkerDashboard(two_of_two, caseworker=9)
    assert "Too few allocations to judge (n = 2): no claim of the test's power covers them." in dash._w_summary.value
    dash.value = 1
    assert "would have got them flagged with at least 80% power" in dash._w_summary.value


def test_the_public_gets_counts_and_no_small_n(two_of_two, tmp_path):
    text, figures = _verdict(two_of_two, "public", tmp_path)
    assert figures["caseworkers_power_covers"] == 8 and "caseworkers_too_few_named" not in figures
    assert "For each of the 8 caseworker(s) not flagged with enough allocations to judge" in text
    assert "(n = 2)" not in text
    rates = caseworker_rates(two_of_two, "public")
    assert "too few allocations to judge" in rates["effect_label"].to_list()
    assert not any("(n =" in label for label in rates["effect_label"].to_list())


def test_fraud_planted_into_a_low_volume_caseworker_gets_no_power_claim(tmp_path):
    # caseworker 10 handled 8 allocations and sold 3 of them: not flagged, too few to judge
    review = _review({**BUSY, 10: (8, 3)})
    ten = review.caseworkers.filter(pl.col("handler_id") == 10).row(0, named=True)
    assert ten["n_unexplained"] == 3 and not ten["flagged"]
    assert ten["too_few"] and not ten["covered"]
    assert ten["mde"] is None or ten["mde"] > MDE_CEILING
    assert 10 not in review.caseworkers_covered and review.caseworkers_too_few == [10]
    assert 10 in review.caseworkers_of_interest  # their red flags go on the timeline instead
    text, figures = _verdict(review, "investigator", tmp_path)
    assert 10 not in figures["caseworkers_power_covers"]
    assert "(10 (n = 8))" in text
    # the pooled power curve plants only into the covered caseworkers
    assert review.power["simulations"].max() == 50


def test_with_nobody_to_cover_the_verdict_claims_no_power(tmp_path):
    review = _review({1: (6, 0), 2: (5, 0), 3: (2, 2)})
    assert review.caseworkers_covered == [] and review.detectable_fraud_rate is None
    assert review.caseworkers_too_few_to_judge == 3
    assert review.power["simulations"].to_list() == [0] * review.power.height
    assert review.power["power"].null_count() == review.power.height
    text, _ = _verdict(review, "investigator", tmp_path)
    assert "The test cannot say how large a fraud it could have seen" in text
    assert "would have got them flagged with at least" not in text

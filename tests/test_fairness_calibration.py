"""False flags: no-fraud small cases over many seeds, and the test's size under random noise."""

from __future__ import annotations

import numpy as np
import polars as pl
from queuekit import replay_world as _replay_world

from workbench.fairness import (
    review_caseworkers,
)
from workbench.fairness.caseworkers import exact_p_values, holm, strata_cells

SEEDS = range(1, 11)
ALPHA = 0.01


def test_no_fraud_small_cases_flag_nobody_over_ten_seeds():
    from workbench.scenario import build_world

    flagged_seeds, unexplained = 0, []
    for seed in SEEDS:
        world, _ = build_world("small", seed, fraud=False)
        allocations = _replay_world(world)
        review = review_caseworkers(allocations, alpha=ALPHA, permutations=20_000, seed=seed)
        flagged_seeds += bool(review["flagged"].any())
        unexplained.append(int((allocations["outcome"] == "unexplained").sum()))
    share = flagged_seeds / len(SEEDS)
    print(
        f"\nno-fraud small cases with any caseworker flagged: {flagged_seeds}/{len(SEEDS)} = {share:.2f} "
        f"(nominal family-wise rate {ALPHA}); unexplained deviations per seed: {unexplained}"
    )
    assert share <= ALPHA
    assert unexplained == [0] * len(SEEDS)  # honest allocations replay exactly


def test_family_wise_false_flag_rate_under_random_noise_is_at_most_alpha():
    """With deviations spread at random (the null hypothesis true), Holm keeps P(any flag) <= alpha."""
    rng = np.random.default_rng(7)
    handlers = np.repeat(np.arange(1, 13), 250)
    base = pl.DataFrame(
        {
            "handler_id": handlers,
            "district": rng.choice(["Farsta", "Solna", "Bromma", "Kista"], handlers.size),
            "year": rng.choice([2013, 2014, 2015], handlers.size),
        }
    )
    alpha, runs, any_flag = 0.05, 300, 0
    for _ in range(runs):
        noisy = base.with_columns(
            outcome=pl.Series(np.where(rng.random(handlers.size) < 0.03, "unexplained", "in_order"))
        )
        p = exact_p_values(strata_cells(noisy))["p_exact"].to_numpy()
        any_flag += bool((holm(p) < alpha).any())
    rate = any_flag / runs
    print(f"\nfamily-wise false-flag rate under random noise: {rate:.3f} (alpha {alpha}, {runs} runs)")
    assert rate <= alpha + 3 * np.sqrt(alpha * (1 - alpha) / runs)


def test_two_corrupt_caseworkers_in_one_team_are_found_by_the_replay_and_red_flags():
    """Seed 2 plants both corrupt caseworkers in one three-person team: within district × year
    each is compared with peers that include the other, so the test alone is weak there (a known
    limit of a within-stratum comparison). The replay and the red flags still name them."""
    from workbench.fairness.redflags import red_flags
    from workbench.scenario import build_world

    world, _ = build_world("small", 2, fraud=True)
    allocations = _replay_world(world)
    corrupt = set(world.truth["corrupt_handlers"]["handler_id"].to_list())
    fraud = set(world.truth["fraudulent_allocations"]["listing_id"].to_list())
    assert set(allocations.filter(pl.col("outcome") == "unexplained")["listing_id"].to_list()) == fraud
    review = review_caseworkers(allocations, alpha=ALPHA, permutations=20_000, seed=2)
    assert set(review.head(len(corrupt))["handler_id"].to_list()) == corrupt  # the most significant
    print(
        f"\nseed 2, corrupt {sorted(corrupt)}: flagged {review.filter('flagged')['handler_id'].to_list()}, "
        f"p_holm {review.head(len(corrupt))['p_holm'].round(4).to_list()}"
    )
    t = world.tables
    actions = t["handler_actions"].filter(pl.col("action") != "offer_sent")
    offers = t["offers"].select("listing_id", "applicant_id", "handler_id", time="offered_at")
    flags = red_flags(actions, offers, t["contracts"], allocations)
    serious = flags.filter(pl.col("flag").is_in(["backdating then lease", "manual offer"]))
    assert set(serious["handler_id"].to_list()) == corrupt

"""Queue fairness: replay of every allocation, caseworker statistics, red flags and fake profiles.

The queue rules themselves are :mod:`workbench.fairness.queue_model`; the evidence comes from the
``fairness`` queries. In a notebook::

    review = review_fairness(case, alpha=0.01, permutations=20_000, seed=1)
    review.unexplained_deviations, review.flagged_for("auditor")
"""

from .caseworkers import MIN_EFFECT, review_caseworkers
from .fakes import fake_profiles
from .groups import BAND, group_view
from .mde import MDE_CEILING, minimum_detectable_effects
from .power import FRAUD_RATES, detectable_rate, power_curve
from .redflags import red_flags
from .replay import (
    AllocationEvidence,
    Replay,
    load_allocation_evidence,
    replay_allocations,
)
from .review import FairnessReview, review_evidence, review_fairness
from .views import (
    allocation_reviews,
    caseworker_rates,
    flag_timeline,
    group_disparities,
    power_table,
    queue_time,
    rank_distribution,
    skipped_members,
    suspected_profiles,
)

__all__ = [
    "BAND",
    "FRAUD_RATES",
    "MDE_CEILING",
    "MIN_EFFECT",
    "AllocationEvidence",
    "FairnessReview",
    "Replay",
    "allocation_reviews",
    "caseworker_rates",
    "detectable_rate",
    "fake_profiles",
    "flag_timeline",
    "group_disparities",
    "group_view",
    "load_allocation_evidence",
    "minimum_detectable_effects",
    "power_curve",
    "power_table",
    "queue_time",
    "rank_distribution",
    "red_flags",
    "replay_allocations",
    "review_caseworkers",
    "review_evidence",
    "review_fairness",
    "skipped_members",
    "suspected_profiles",
]

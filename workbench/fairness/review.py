"""One call for notebook 03: replay, caseworker tests, power, red flags, fake profiles, groups.

>>> review = review_fairness(case, alpha=0.01, permutations=20_000, seed=1)   # doctest: +SKIP
>>> review.unexplained_deviations, review.caseworkers_flagged                 # doctest: +SKIP
(42, [6, 9])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import polars as pl

from ..audience import Audience, pseudonym
from ..errors import WorkbenchError
from ..queries import run
from .caseworkers import MIN_EFFECT, p_floor, review_caseworkers
from .fakes import fake_profiles
from .groups import group_view
from .power import FRAUD_RATES, TARGET_POWER, detectable_rate, power_curve
from .redflags import queue_date_changes, red_flags
from .replay import (
    AllocationEvidence,
    Replay,
    load_allocation_evidence,
    replay_allocations,
)

if TYPE_CHECKING:
    from ..case import CaseLike

__all__ = ["OFFER_RESPONSES", "SERIOUS_FLAGS", "FairnessReview", "review_fairness"]

OFFER_RESPONSES = ("accepted", "declined", "no_answer", "disqualified")
SERIOUS_FLAGS = ("backdating then lease", "backdating", "manual offer")
"""Red flags that put a caseworker on the timeline even when the test does not flag them."""


@dataclass(frozen=True)
class FairnessReview:
    """Everything notebook 03 reports, with the parameters it was computed with.

    Frames: ``replay`` (:class:`Replay`), ``caseworkers`` (one row per caseworker, see
    :func:`review_caseworkers`), ``power`` (:func:`power_curve`), ``queue_date_changes``,
    ``red_flags`` (:func:`red_flags`), ``fake_profiles`` and ``groups`` (:func:`group_view`).
    """

    evidence: AllocationEvidence
    replay: Replay
    caseworkers: pl.DataFrame
    power: pl.DataFrame
    queue_date_changes: pl.DataFrame
    red_flags: pl.DataFrame
    fake_profiles: pl.DataFrame
    groups: pl.DataFrame
    alpha: float
    min_effect: float
    permutations: int
    seed: int

    @property
    def allocations_replayed(self) -> int:
        return self.replay.allocations.height

    @property
    def allocations_in_queue_order(self) -> int:
        return self.replay.count("in_order")

    @property
    def explained_deviations(self) -> int:
        return self.replay.count("explained")

    @property
    def unexplained_deviations(self) -> int:
        return self.replay.count("unexplained")

    @property
    def applicants_skipped(self) -> int:
        return self.replay.applicants_skipped

    @property
    def queue_days_jumped_total(self) -> int:
        return self.replay.queue_days_jumped

    @property
    def caseworkers_flagged(self) -> list[int]:
        """Handler ids of the flagged caseworkers, most significant first."""
        return self.caseworkers.filter("flagged")["handler_id"].to_list()

    @property
    def caseworkers_of_interest(self) -> list[int]:
        """Flagged caseworkers, then any other with a serious red flag (:data:`SERIOUS_FLAGS`)."""
        serious = self.red_flags.filter(pl.col("flag").is_in(SERIOUS_FLAGS))["handler_id"].unique().sort().to_list()
        flagged = self.caseworkers_flagged
        return flagged + [h for h in serious if h not in flagged]

    @property
    def caseworkers_without_peers(self) -> int:
        """Caseworkers with unexplained deviations who had no peers in their districts and years to compare with."""
        cw = self.caseworkers
        return int(((cw["n_with_peers"] == 0) & (cw["n_unexplained"] > 0)).sum())

    @property
    def caseworkers_tested(self) -> int:
        return self.caseworkers.height

    @property
    def fake_profiles_suspected(self) -> int:
        return int(self.fake_profiles["suspected"].sum()) if self.fake_profiles.height else 0

    @property
    def backdated_queue_dates(self) -> int:
        return int(self.queue_date_changes["backdated"].sum()) if self.queue_date_changes.height else 0

    @property
    def p_floor(self) -> float:
        """The smallest Holm-corrected p-value the test can give."""
        return p_floor(self.permutations, self.caseworkers_tested)[1]

    @property
    def detectable_fraud_rate(self) -> float | None:
        """Smallest simulated fraud rate flagged with :data:`TARGET_POWER` power (None: none was)."""
        return detectable_rate(self.power, TARGET_POWER)

    @property
    def nothing_found(self) -> bool:
        """No unexplained deviation, no flagged caseworker, no backdating and no suspected fake profile."""
        return not (
            self.unexplained_deviations
            or self.caseworkers_flagged
            or self.backdated_queue_dates
            or self.fake_profiles_suspected
        )

    def flagged_for(self, audience: str) -> list[int] | list[str] | int:
        """``caseworkers_flagged`` as an audience may see it: ids, pseudonyms, or only how many."""
        who = Audience.parse(audience)
        if who.sees_identifiers:
            return self.caseworkers_flagged
        if who.pseudonymised:
            return [pseudonym(h, "handler_id") for h in self.caseworkers_flagged]
        return len(self.caseworkers_flagged)

    def verdict(self) -> str:
        """A findings template (``Findings.say``) saying plainly what was found, or that nothing was.

        Refers to the figures notebook 03 records, by their names in findings.json.
        """
        if self.nothing_found:
            text = (
                "**Nothing was found.** All {allocations_replayed} allocations were replayed: "
                "{allocations_in_queue_order} followed queue order and {explained_deviations} departed from it "
                "with a recorded legitimate exception. No allocation departed from queue order without one, "
                "no caseworker was flagged, no queue date was moved earlier and no profile looks fake. "
            )
        else:
            text = (
                "Of {allocations_replayed} allocations, {allocations_in_queue_order} followed queue order, "
                "{explained_deviations} departed from it with a recorded legitimate exception, and "
                "**{unexplained_deviations} departed from it without one**, skipping {applicants_skipped} members. "
                "The members who should have got those apartments had queued {queue_days_jumped_total} days "
                "longer in all than the tenants who got them. "
            )
            text += (
                "Caseworkers flagged: **{caseworkers_flagged}**. "
                if self.caseworkers_flagged
                else "No caseworker was flagged by the test. "
            )
            if self.caseworkers_without_peers:
                text += (
                    "{caseworkers_without_peers} caseworker(s) with such departures handled their districts alone, "
                    "so no peers could be compared with them: see their red flags. "
                )
        if self.detectable_fraud_rate is None:
            return text + (
                "The test is weak in this case: even a caseworker selling {max_fraud_percent} % of their "
                "allocations out of order would be flagged in only {power_at_max_percent} % of simulations."
            )
        return text + (
            "How large a fraud could it have seen? A caseworker selling {detectable_fraud_percent} % of their "
            "allocations out of queue order would have been flagged with at least "
            f"{round(100 * TARGET_POWER)} % power."
        )

    def power_findings(self) -> list[tuple[str, float, str]]:
        """(name, value, description) of the power figures the verdict refers to, in percent."""
        rate = self.detectable_fraud_rate
        if rate is not None:
            return [
                (
                    "detectable_fraud_percent",
                    round(100 * rate, 1),
                    f"Smallest share of a caseworker's allocations sold out of order that the test flags with "
                    f"{TARGET_POWER:.0%} power (percent)",
                )
            ]
        last = self.power.sort("fraud_rate").tail(1)
        return [
            (
                "max_fraud_percent",
                round(100 * float(last["fraud_rate"].item()), 1),
                "Largest share of a caseworker's allocations sold out of order that was simulated (percent)",
            ),
            (
                "power_at_max_percent",
                round(100 * float(last["power"].item()), 1),
                "Share of simulations in which that caseworker was flagged (percent)",
            ),
        ]


def _in_period(frame: pl.DataFrame, start: date | None, end: date | None, column: str = "time") -> pl.DataFrame:
    day = pl.col(column).dt.date()
    if start is not None:
        frame = frame.filter(day >= start)
    if end is not None:
        frame = frame.filter(day <= end)
    return frame


def review_fairness(
    case: CaseLike,
    *,
    period_start: date | str | None = None,
    period_end: date | str | None = None,
    districts: Sequence[str] | None = None,
    alpha: float = 0.01,
    min_effect: float = MIN_EFFECT,
    permutations: int = 20_000,
    seed: int = 1,
    power_simulations: int = 200,
    fraud_rates: Sequence[float] = FRAUD_RATES,
    block_after: int | None = None,
) -> FairnessReview:
    """Run the whole queue-fairness analysis on ``case`` for listings closing in the period.

    Parameters are notebook 03's: ``alpha`` the family-wise error rate, ``min_effect`` the
    smallest risk difference flagged, ``permutations`` and ``seed`` for the permutation
    test (and the power simulation), ``districts`` e.g. ``["Södermalm"]``.
    """
    evidence = load_allocation_evidence(
        case, period_start, period_end, districts=districts, withdrawals=block_after is not None
    )
    result = replay_allocations(evidence, block_after=block_after)
    allocations = result.allocations
    if allocations.is_empty():
        closes = evidence.listings["closes_at"].dt.date()
        span = (
            f"between {closes.min()!s} and {closes.max()!s}" if closes.len() else "nowhere: the case has no contracts"
        )
        raise WorkbenchError(
            f"no contract to replay for period_start={evidence.period_start}, period_end={evidence.period_end}, "
            f"districts={list(evidence.districts) if evidence.districts else None}; the case's allocated listings close {span}"
        )
    caseworkers = review_caseworkers(
        allocations, alpha=alpha, min_effect=min_effect, permutations=permutations, seed=seed
    )
    flagged = tuple(caseworkers.filter("flagged")["handler_id"].to_list())
    power = power_curve(
        allocations,
        rates=tuple(fraud_rates),
        simulations=power_simulations,
        alpha=alpha,
        min_effect=min_effect,
        permutations=permutations,
        seed=seed,
        exclude=flagged,
    )
    handlers = allocations["handler_id"].unique().implode()
    actions = _in_period(evidence.actions, evidence.period_start, evidence.period_end)
    if evidence.districts:
        actions = actions.filter(pl.col("handler_id").is_in(handlers))
    offers = (
        evidence.decisions.filter(pl.col("decision").is_in(OFFER_RESPONSES))
        .join(allocations.select("listing_id"), on="listing_id", how="semi")
        .select("listing_id", "applicant_id", "handler_id", "time")
    )
    contracts = evidence.listings.select("listing_id", "applicant_id", "handler_id", "signed_at")
    fakes = fake_profiles(evidence.members, evidence.fees, run("login_ips", case), evidence.actions, contracts)
    return FairnessReview(
        evidence=evidence,
        replay=result,
        caseworkers=caseworkers,
        power=power,
        queue_date_changes=queue_date_changes(actions, contracts),
        red_flags=red_flags(actions, offers, contracts, allocations),
        fake_profiles=fakes,
        groups=group_view(allocations),
        alpha=alpha,
        min_effect=min_effect,
        permutations=permutations,
        seed=seed,
    )

"""One call for notebook 03: replay, caseworker tests, power, red flags, fake profiles, groups.

>>> review = review_fairness(case, alpha=0.01, permutations=20_000, seed=1)   # doctest: +SKIP
>>> review.unexplained_deviations, review.caseworkers_flagged                 # doctest: +SKIP
(42, [6, 9])
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any, SupportsFloat, cast

import polars as pl

from ..audience import Audience, pseudonym
from ..errors import WorkbenchError
from ..i18n import translate
from ..notes.reviews import read_annotations
from ..queries import run
from .caseworkers import MIN_EFFECT, check_permutations, p_floor, permutations_for, review_caseworkers
from .flags import OFFER_RESPONSES, flags_and_profiles
from .mde import MDE_CEILING, judge, minimum_detectable_effects, power_statement
from .power import FRAUD_RATES, TARGET_POWER, power_curve
from .replay import (
    AllocationEvidence,
    Replay,
    load_allocation_evidence,
    replay_allocations,
)
from .snapshot import selected

if TYPE_CHECKING:
    from ..case import CaseLike

__all__ = ["OFFER_RESPONSES", "SERIOUS_FLAGS", "FairnessReview", "review_evidence", "review_fairness"]

SERIOUS_FLAGS = ("backdating then lease", "backdating", "manual offer")
"""Red flags that put a caseworker on the timeline even when the test does not flag them."""


@dataclass(frozen=True)
class FairnessReview:
    """Everything notebook 03 reports, with the parameters it was computed with.

    Frames: ``replay`` (:class:`Replay`), ``caseworkers`` (one row per caseworker, see
    :func:`review_caseworkers`, with ``mde``, ``covered`` and ``too_few`` of
    :func:`workbench.fairness.mde.judge`), ``power`` (:func:`power_curve`, planted only into
    the covered caseworkers), ``queue_date_changes``,
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
    mde_ceiling: float = MDE_CEILING
    annotations: tuple[Any, ...] = ()  # read from the notes (workbench.notes.reviews): allocations reviewed by hand

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
        """Flagged caseworkers, then any other with a serious red flag (:data:`SERIOUS_FLAGS`), then those
        too small to judge (the test cannot speak for them: their red flags must)."""
        serious = self.red_flags.filter(pl.col("flag").is_in(SERIOUS_FLAGS))["handler_id"].unique().sort().to_list()
        chosen = self.caseworkers_flagged
        chosen += [h for h in serious if h not in chosen]
        return chosen + [h for h in self.caseworkers_too_few if h not in chosen]

    @property
    def caseworkers_without_peers(self) -> int:
        """Caseworkers with unexplained deviations who had no peers in their districts and years to compare with."""
        cw = self.caseworkers
        return int(((cw["n_with_peers"] == 0) & (cw["n_unexplained"] > 0)).sum())

    @property
    def caseworkers_tested(self) -> int:
        return self.caseworkers.height

    @property
    def caseworkers_covered(self) -> list[int]:
        """Caseworkers the power statement covers: peers to compare with, not flagged, MDE at most the ceiling."""
        return self.caseworkers.filter("covered")["handler_id"].sort().to_list()

    @property
    def caseworkers_too_few(self) -> list[int]:
        """Caseworkers with too few allocations to judge: peers, not flagged, MDE above the ceiling (or none)."""
        return self.caseworkers.filter("too_few")["handler_id"].sort().to_list()

    @property
    def caseworkers_too_few_to_judge(self) -> int:
        return len(self.caseworkers_too_few)

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
        """The largest MDE among the covered caseworkers: a share sold that each of them would have been
        flagged for with at least :data:`TARGET_POWER` power (None: nobody is covered)."""
        covered = self.caseworkers.filter("covered")["mde"]
        return float(cast(SupportsFloat, covered.max())) if covered.len() else None

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
        return _named(self.caseworkers_flagged, audience)

    def covered_for(self, audience: str) -> list[int] | list[str] | int:
        """``caseworkers_covered`` as an audience may see it: ids, pseudonyms, or only how many."""
        return _named(self.caseworkers_covered, audience)

    def too_few_for(self, audience: str) -> list[str] | int:
        """``caseworkers_too_few`` as an audience may see it, with their n: ["9 (n = 2)"], pseudonyms, or how many."""
        n = dict(self.caseworkers.select("handler_id", "n_with_peers").iter_rows())
        names = _named(self.caseworkers_too_few, audience)
        if isinstance(names, int):
            return names
        return [f"{name} (n = {n[h]})" for name, h in zip(names, self.caseworkers_too_few, strict=True)]

    def verdict(self, audience: str = "investigator") -> str:
        """A findings template (``Findings.say``) saying plainly what was found, or that nothing was.

        Refers to the figures notebook 03 records, by their names in findings.json (those of
        :meth:`power_findings` for the same ``audience`` among them).
        """
        # each sentence in the report's language: translate() looks its English up in the catalogue (sv.yaml)
        if not self.allocations_replayed:  # no contract (in the period): nothing to judge, not "nothing found"
            return translate(
                "**Whether anyone got an apartment out of queue order cannot be answered from this case:** it holds "
                "{allocations_replayed} contracts to replay against queue order, so no caseworker was tested and no "
                "claim is made about how large a fraud could have been seen."
            )
        if self.nothing_found and self.caseworkers_too_few and not self.caseworkers_covered:
            # "Nothing was found" would be quoted alone, though no caseworker could be judged at all
            text = translate(
                "**No allocation departed from queue order without a recorded exception, but no caseworker could be "
                "judged:** each handled too few allocations for the test. All {allocations_replayed} allocations were "
                "replayed: {allocations_in_queue_order} followed queue order and {explained_deviations} departed from "
                "it with a recorded legitimate exception. No queue date was moved earlier and no profile looks fake. "
            )
        elif self.nothing_found:
            text = translate(
                "**Nothing was found.** All {allocations_replayed} allocations were replayed: "
                "{allocations_in_queue_order} followed queue order and {explained_deviations} departed from it "
                "with a recorded legitimate exception. No allocation departed from queue order without one, "
                "no caseworker was flagged, no queue date was moved earlier and no profile looks fake. "
            )
        else:
            text = translate(
                "Of {allocations_replayed} allocations, {allocations_in_queue_order} followed queue order, "
                "{explained_deviations} departed from it with a recorded legitimate exception, and "
                "**{unexplained_deviations} departed from it without one**, skipping {applicants_skipped} members. "
                "The members who should have got those apartments had queued {queue_days_jumped_total} days "
                "longer in all than the tenants who got them. "
            )
            text += (
                translate("Caseworkers flagged: **{caseworkers_flagged}**. ")
                if self.caseworkers_flagged
                else translate("No caseworker was flagged by the test. ")
            )
            if self.caseworkers_without_peers:
                text += translate(
                    "{caseworkers_without_peers} caseworker(s) with such departures handled their districts alone, "
                    "so no peers could be compared with them: see their red flags. "
                )
        return text + power_statement(
            named=Audience.parse(audience).sees_rows,
            covered=bool(self.caseworkers_covered),
            too_few=bool(self.caseworkers_too_few),
        )

    def power_findings(self, audience: str = "investigator") -> list[tuple[str, object, str]]:
        """(name, value, description) of the power figures the verdict refers to, fit for ``audience``."""
        out: list[tuple[str, object, str]] = [
            (
                "mde_ceiling_percent",
                round(100 * self.mde_ceiling, 1),
                f"Largest share of a caseworker's allocations sold out of order that the test must flag with "
                f"{TARGET_POWER:.0%} power for them to be judged (percent)",
            ),
            (
                "caseworkers_power_covers",
                self.covered_for(audience),
                "Caseworkers not flagged whom the power statement covers: peers to compare with and a minimum "
                "detectable fraud at most the ceiling (ids; pseudonyms for auditors; how many for the public)",
            ),
        ]
        if Audience.parse(audience).sees_rows:
            out.append(
                (
                    "caseworkers_too_few_named",
                    self.too_few_for(audience),
                    "Caseworkers with too few allocations to judge, with their allocations that had peers (n)",
                )
            )
        rate = self.detectable_fraud_rate
        if rate is not None:
            out.append(
                (
                    "detectable_fraud_percent",
                    round(100 * rate, 1),
                    f"Share of a caseworker's allocations sold out of order that the test flags with at least "
                    f"{TARGET_POWER:.0%} power, for each caseworker the statement covers (percent)",
                )
            )
        return out


def _named(handlers: list[int], audience: str) -> list[int] | list[str] | int:
    """Handler ids as ``audience`` may see them: ids, pseudonyms, or only how many."""
    who = Audience.parse(audience)
    if who.sees_identifiers:
        return handlers
    if who.pseudonymised:
        return [pseudonym(h, "handler_id") for h in handlers]
    return len(handlers)


def review_fairness(
    case: CaseLike,
    *,
    period_start: date | str | None = None,
    period_end: date | str | None = None,
    districts: Sequence[str] | None = None,
    alpha: float = 0.01,
    min_effect: float = MIN_EFFECT,
    permutations: int | None = None,
    seed: int = 1,
    power_simulations: int = 200,
    fraud_rates: Sequence[float] = FRAUD_RATES,
    block_after: int | None = None,
    mde_ceiling: float = MDE_CEILING,
    notes: str | os.PathLike[str] | None = None,
) -> FairnessReview:
    """Run the whole queue-fairness analysis on ``case`` for listings closing in the period.

    Parameters are notebook 03's: ``alpha`` the family-wise error rate, ``min_effect`` the
    smallest risk difference flagged, ``permutations`` (None: :func:`permutations_for` the caseworkers tested) and ``seed`` for the permutation
    test (and the power simulation), ``districts`` e.g. ``["Södermalm"]``, ``mde_ceiling``
    the largest minimum detectable fraud share at which a caseworker is still judged; ``notes``
    the notes database whose annotations mark allocations confirmed or dismissed (None: beside the case, if any).
    """
    evidence = load_allocation_evidence(
        case, period_start, period_end, districts=districts, withdrawals=block_after is not None
    )
    reviewed = review_evidence(
        evidence,
        run("login_ips", case),
        alpha=alpha,
        min_effect=min_effect,
        permutations=permutations,
        seed=seed,
        power_simulations=power_simulations,
        fraud_rates=fraud_rates,
        block_after=block_after,
        mde_ceiling=mde_ceiling,
    )
    return replace(reviewed, annotations=read_annotations(case, notes))


def review_evidence(
    evidence: AllocationEvidence,
    login_ips: pl.DataFrame,
    *,
    alpha: float = 0.01,
    min_effect: float = MIN_EFFECT,
    permutations: int | None = None,
    seed: int = 1,
    power_simulations: int = 200,
    fraud_rates: Sequence[float] = FRAUD_RATES,
    block_after: int | None = None,
    mde_ceiling: float = MDE_CEILING,
) -> FairnessReview:
    """:func:`review_fairness` on evidence already loaded (``login_ips``: the ``login_ips`` query's rows)."""
    # the caseworkers tested are those of the contracts replayed: refuse too few permutations before the replay
    tested = selected(evidence)["handler_id"].n_unique()
    permutations = permutations_for(tested, alpha) if permutations is None else permutations
    check_permutations(permutations, tested, alpha)
    result = replay_allocations(evidence, block_after=block_after)
    allocations = result.allocations
    if allocations.is_empty() and evidence.listings.height:  # contracts, but none in the period chosen
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
    mde = minimum_detectable_effects(
        allocations, alpha=alpha, min_effect=min_effect, permutations=permutations, seed=seed
    )
    caseworkers = judge(caseworkers, mde, mde_ceiling)
    # The red flags, fake profiles and group view read only the evidence and the replay: they run
    # on a second thread (polars, outside Python's lock) while the power simulation (Python and
    # small numpy arrays, in one thread) runs here, so both cores work. Not during the replay or
    # the MDEs: those use both cores already, and the process holds less than just after the replay (national: 3.9 GB against 5.3 GB).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fairness-flags") as pool:
        beside = pool.submit(contextvars.copy_context().run, flags_and_profiles, evidence, login_ips, allocations)
        power = power_curve(
            allocations,
            rates=tuple(fraud_rates),
            simulations=power_simulations,
            alpha=alpha,
            min_effect=min_effect,
            permutations=permutations,
            seed=seed,
            exclude=tuple(caseworkers.filter(~pl.col("covered"))["handler_id"].to_list()),
        )
        changes, flags, fakes, groups = beside.result()
    return FairnessReview(
        evidence=evidence,
        replay=result,
        caseworkers=caseworkers,
        power=power,
        queue_date_changes=changes,
        red_flags=flags,
        fake_profiles=fakes,
        groups=groups,
        alpha=alpha,
        min_effect=min_effect,
        permutations=permutations,
        seed=seed,
        mde_ceiling=mde_ceiling,
    )

"""The four exposure headlines by themselves, without the rest of the review.

>>> h = exposure_headlines(case)                                     # doctest: +SKIP
>>> h.sessions_bound, h.accounts_bound_to_others                     # doctest: +SKIP
(1259, 1243)

The question an investigator asks first: how many sessions were bound into another
member's account, to how many accounts, how many people were put into someone else's
account, and how many field changes were saved by someone other than the account's owner?
:func:`exposure_headlines` answers it in one statement (the ``exposure_headlines`` query)
with the binding's own rule (:mod:`workbench.exposure.binding`): a session is bound when its
evidence names a foreign account. The figures are the proven ones, the minima of
:func:`workbench.exposure.review_exposure`'s bounds, which also gives their maxima and
likely values, the tiers, the restore list and the notification list.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl

from ..queries import run
from ..queries.absence import window_bounds

if TYPE_CHECKING:
    from ..case import CaseLike

__all__ = ["ExposureHeadlines", "exposure_headlines"]


@dataclass(frozen=True)
class ExposureHeadlines:
    """The four headlines of the window [start, end), each a count the evidence proves.

    ``sessions_bound``: window sessions whose pages, changes or interests name another
    member's account; ``accounts_bound_to_others``: the distinct accounts they were bound to;
    ``people_put_into_others_accounts``: the distinct members who logged in to those sessions;
    ``field_changes_by_others``: profile changes saved in the window by a logged-in member
    other than the account's owner. The first three equal the review's
    ``status == "bound"`` sessions and the ``min`` of its ``accounts_bound_to_others`` and
    ``people_put_into_others_accounts`` bounds; the last its ``field_changes_by_others``.
    """

    start: datetime
    end: datetime
    sessions_bound: int
    accounts_bound_to_others: int
    people_put_into_others_accounts: int
    field_changes_by_others: int

    def counts(self) -> dict[str, int]:
        """The four counts by name, without the window."""
        return {k: v for k, v in asdict(self).items() if k not in ("start", "end")}

    def to_frame(self) -> pl.DataFrame:
        """The four counts as a table for the notebook: headline, n."""
        return pl.DataFrame(
            {"headline": list(self.counts()), "n": list(self.counts().values())},
            schema={"headline": pl.String, "n": pl.Int64},
        )


def exposure_headlines(
    case: CaseLike, *, start: datetime | None = None, end: datetime | None = None
) -> ExposureHeadlines:
    """The four exposure headlines over [start, end) (default: deployment to fix, as the review's window).

    Without the deployment or the fix in the evidence the web log's span stands in, as in
    :func:`workbench.exposure.review_exposure`. One query (``exposure_headlines``) after the
    window's: at stockholm about a seventh of the CPU the binding and the change log take (README,
    ``exposure_queries``).
    """
    if start is None or end is None:
        start, end = window_bounds(run("incident_window", case).row(0, named=True), case, start, end)
    row = run("exposure_headlines", case, start=start, end=end).row(0, named=True)
    return ExposureHeadlines(start=start, end=end, **{k: int(v or 0) for k, v in row.items()})

"""One call for notebook 02: bind sessions, attribute changes, assess exposure, check allocation, notify.

>>> review = review_exposure(case, idle_timeout_minutes=20)          # doctest: +SKIP
>>> review.bounds["accounts_exposed"]                                # doctest: +SKIP
Bounds(min=122, likely=122, max=122)
>>> review.record(findings, "tier 3")                                # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

import polars as pl

from ..figures import record_section
from ..notes.reviews import read_annotations
from ..queries import run
from ..queries.absence import window_bounds
from ..queries.websessions import DEFAULT_IDLE_TIMEOUT_MINUTES
from .allocation_check import AllocationCheck, check_allocation
from .binding import SessionBinding, bind_sessions
from .changes import ChangeLog, attribute_changes
from .figures import FIGURES, SECTIONS
from .headlines import ExposureHeadlines
from .notify import Notifications, notification_list
from .tiers import Exposure, assess_exposure

if TYPE_CHECKING:
    from ..case import Case
    from ..values import Bounds

__all__ = ["FIGURES", "SECTIONS", "ExposureReview", "review_exposure"]  # the figures live in .figures


@dataclass(frozen=True)
class ExposureReview:
    """Everything notebook 02 reports: one rich object, many views.

    ``binding`` (:class:`SessionBinding`: the window's sessions, bound, own or unknown),
    ``changes`` (:class:`ChangeLog`: who changed what), ``exposure`` (:class:`Exposure`:
    the tiers with bounds), ``allocation`` (:class:`AllocationCheck`: queue acts on another
    member's account) and ``notices`` (:class:`Notifications`: whom to inform). ``window``
    holds the ``incident_window`` row; ``bounds`` every tier count as min, likely, max.
    """

    case: Case = field(repr=False)
    idle_timeout_minutes: int
    window: dict[str, datetime | None]
    binding: SessionBinding
    changes: ChangeLog
    exposure: Exposure
    allocation: AllocationCheck
    notices: Notifications
    bounds: dict[str, Bounds]
    annotations: tuple[Any, ...] = ()  # read from the notes (workbench.notes.reviews); see .reviewed

    @property
    def sessions(self) -> pl.DataFrame:
        """The window's sessions in the one session model, with what their pages show (``window_sessions``)."""
        return self.binding.sessions

    @property
    def headlines(self) -> ExposureHeadlines:
        """The four headlines as :func:`workbench.exposure.exposure_headlines` gives them alone: the proven counts."""
        b = self.bounds
        return ExposureHeadlines(
            start=self.binding.start,
            end=self.binding.end,
            sessions_bound=int((self.binding.sessions["status"] == "bound").sum()),
            accounts_bound_to_others=b["accounts_bound_to_others"].min,
            people_put_into_others_accounts=b["people_put_into_others_accounts"].min,
            field_changes_by_others=self.changes.counts()["field_changes_by_others"],
        )

    @cached_property
    def restore(self) -> pl.DataFrame:
        """The restore list: every field another person changed, with the value to restore (see :class:`ChangeLog`)."""
        return self.changes.restore_list()

    def record(self, findings: Any, section: str) -> dict[str, Any]:
        """Record the figures of ``section`` (one of :data:`SECTIONS`, e.g. ``"tier 2"``) into ``findings``."""
        return record_section(findings, self, FIGURES, section)


def review_exposure(
    case: Case,
    *,
    idle_timeout_minutes: int = DEFAULT_IDLE_TIMEOUT_MINUTES,
    start: datetime | None = None,
    end: datetime | None = None,
    notes: str | os.PathLike[str] | None = None,
) -> ExposureReview:
    """Notebook 02's analysis in one call, over the incident window [start, end) (default: deployment to fix).

    ``idle_timeout_minutes`` ends sessions whose logout the log does not hold (see
    :mod:`workbench.queries.websessions`); ``notes`` the notes database whose annotations mark
    sessions and accounts confirmed or dismissed (None: the one beside the case, if any).
    """
    window = run("incident_window", case).row(0, named=True)
    start, end = window_bounds(window, case, start, end)
    # One connection, one thread: reading the independent queries on a second connection while
    # the binding worked (a prefetch, when a core looked free) cost 2-6 % more CPU seconds and
    # gave no wall time back in any A/B on this 2-core machine (README, exposure_queries).
    binding = bind_sessions(case, start=start, end=end, idle_timeout_minutes=idle_timeout_minutes)
    changes = attribute_changes(case, start=start, end=end)
    exposure = assess_exposure(case, binding, changes)
    allocation = check_allocation(case, binding, changes)
    notices = notification_list(exposure, changes, allocation)
    return ExposureReview(
        case=case,
        idle_timeout_minutes=idle_timeout_minutes,
        window=window,
        binding=binding,
        changes=changes,
        exposure=exposure,
        allocation=allocation,
        notices=notices,
        bounds=exposure.bounds(),
        annotations=read_annotations(case, notes),
    )

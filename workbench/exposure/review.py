"""One call for notebook 02: bind sessions, attribute changes, assess exposure, check allocation, notify.

>>> review = review_exposure(case, idle_timeout_minutes=20)          # doctest: +SKIP
>>> review.bounds["accounts_exposed"]                                # doctest: +SKIP
Bounds(min=122, likely=122, max=122)
>>> review.record(findings, "tier 3")                                # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

import polars as pl

from ..figures import Figure, record_section, sections
from ..notes.reviews import read_annotations
from ..queries import run
from ..queries.absence import window_or_span
from ..queries.runner import prefetch
from ..queries.websessions import DEFAULT_IDLE_TIMEOUT_MINUTES
from .allocation_check import AllocationCheck, check_allocation
from .binding import SessionBinding, bind_sessions
from .changes import RESTORE_ACTIONS, ChangeLog, attribute_changes
from .notify import Notifications, notification_list
from .tiers import Exposure, assess_exposure

if TYPE_CHECKING:
    from ..case import Case
    from ..values import Bounds

__all__ = ["FIGURES", "SECTIONS", "ExposureReview", "review_exposure"]


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
    start = start or window["deployed_at"]
    end = end or window["fix_deployed_at"]
    if start is None or end is None:
        # Without the deployment or the fix in the evidence the web log's span stands in, so every
        # answer that does not need them is still given; those that do are recorded as unknown.
        span = window_or_span(window, case)
        start = start or span["deployed_at"]
        end = end or span["fix_deployed_at"]
    # The queries below do not depend on each other: read them on a second connection while
    # the binding reads its window sessions and works in polars, when a core is free for it.
    timed: dict[str, Any] = {"start": start, "end": end, "idle_timeout_minutes": idle_timeout_minutes}
    within: dict[str, Any] = {"start": start, "end": end}
    later = [("candidate_sessions", timed), ("profile_change_log", within)]  # foreign pages: with the sessions
    later += [(name, within) for name in ("possibly_affected", "exposure_subjects", "allocation_actions")]
    later += [("withdrawals_without_page", within)]
    with prefetch(case, later if _core_free() else ()):
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


def _core_free() -> bool:
    """Whether a second connection can run on a core of its own: fewer runnable tasks than cores.

    At stockholm on two cores loaded by other work (load average 10), the second connection
    took 4-6 % more CPU seconds and no wall time off; it can only shorten the wall when a
    core is idle. The frames are the same either way.
    """
    try:
        load = os.getloadavg()[0]
    except OSError:  # not every platform reports it
        return True
    return load < (os.cpu_count() or 1) - 0.5


def _status(status: str) -> Any:
    return lambda r: int((r.binding.sessions["status"] == status).sum())


def _bounds(name: str) -> Any:
    return lambda r: r.bounds[name]


def _changes(name: str) -> Any:
    return lambda r: r.changes.counts()[name]


def _action(action: str) -> Any:
    """The rows of the restore list whose ``action`` is ``action``: what its table counts."""
    return lambda r: int((r.restore["action"] == action).sum())


def _acts(name: str) -> Any:
    return lambda r: r.allocation.counts()[name]


def _certainty(level: str) -> Any:
    return lambda r: int((r.notices.people["certainty"] == level).sum())


FIGURES: Sequence[Figure] = (
    Figure(
        "deployed_at",
        "window",
        "Deployment that opened the incident",
        lambda r: r.window["deployed_at"],
        "incident_window",
    ),
    Figure("login_disabled_at", "window", "Login disabled", lambda r: r.window["login_disabled_at"], "incident_window"),
    Figure("fix_deployed_at", "window", "Fix deployed", lambda r: r.window["fix_deployed_at"], "incident_window"),
    # tier 1
    Figure(
        "people_possibly_affected",
        "tier 1",
        "Members who logged in during the incident window",
        lambda r: r.bounds["people_possibly_affected"].likely,
        "possibly_affected",
        count=True,
    ),
    Figure(
        "window_sessions",
        "tier 1",
        "Sessions that logged in during the window",
        lambda r: r.binding.sessions.height,
        "window_sessions",
        count=True,
    ),
    # tier 2
    Figure(
        "accounts_bound_to_others",
        "tier 2",
        "Accounts bound into someone else's session",
        _bounds("accounts_bound_to_others"),
        "window_sessions",
        count=True,
    ),
    Figure(
        "people_put_into_others_accounts",
        "tier 2",
        "People put into someone else's account",
        _bounds("people_put_into_others_accounts"),
        "window_sessions",
        count=True,
    ),
    Figure(
        "sessions_bound",
        "tier 2",
        "Sessions whose evidence shows a foreign account",
        _status("bound"),
        "window_sessions",
        count=True,
    ),
    Figure(
        "bindings_unexplained",
        "tier 2",
        "Observed bindings the mechanism does not explain (not the candidate account)",
        lambda r: r.binding.unexplained.height,
        "candidate_sessions",  # what the candidates are swept from (exposure/candidates.py)
        count=True,
    ),
    # tier 3
    Figure(
        "accounts_exposed",
        "tier 3",
        "Accounts whose data was shown to another person",
        _bounds("accounts_exposed"),
        "foreign_page_views",
        count=True,
    ),
    Figure(
        "pages_shown_to_others",
        "tier 3",
        "Page views that rendered an account to a person who is not its owner",
        _bounds("pages_shown_to_others"),
        "foreign_page_views",
        count=True,
    ),
    # how the bounds are derived
    Figure(
        "sessions_unsettled",
        "bounds",
        "Window sessions whose binding the evidence cannot settle",
        _status("unknown"),
        "window_sessions",
        count=True,
    ),
    Figure(
        "page_views_missing_account_id",
        "bounds",
        "Rendering page views of window sessions that name no account",
        lambda r: int(r.binding.sessions["render_views_missing_account"].sum()),
        "window_sessions",
    ),
    Figure(
        "page_log_gaps", "bounds", "Gaps detected in the page log", lambda r: r.binding.describe_gaps(), "page_log_gaps"
    ),
    Figure(
        "swap_rate",
        "bounds",
        "Share of candidate sessions bound to another account, among those whose pages settle it",
        lambda r: None if r.binding.rates["swap_rate"] is None else round(r.binding.rates["swap_rate"], 4),
        "window_sessions",
    ),
    # co-applicants and protected identity
    Figure(
        "co_applicants_exposed",
        "subjects",
        "Co-applicants shown on a profile page to another person",
        _bounds("co_applicants_exposed"),
        "exposure_subjects",
        count=True,
    ),
    Figure(
        "protected_identity_exposed",
        "subjects",
        "Protected-identity members whose data was shown to another person",
        _bounds("protected_identity_exposed"),
        "exposure_subjects",
        count=True,
    ),
    # who changed what
    Figure(
        "people_who_made_changes",
        "changes",
        "People who saved a profile change during the window",
        _changes("people_who_made_changes"),
        "profile_change_log",
        count=True,
    ),
    Figure(
        "people_who_edited_own_data",
        "changes",
        "People who edited their own data during the window",
        _changes("people_who_edited_own_data"),
        "profile_change_log",
        count=True,
    ),
    Figure(
        "people_who_changed_others_data",
        "changes",
        "People who edited someone else's data without knowing",
        _changes("people_who_changed_others_data"),
        "profile_change_log",
        count=True,
    ),
    Figure(
        "accounts_changed_by_others",
        "changes",
        "Accounts whose data another person edited",
        _changes("accounts_changed_by_others"),
        "profile_change_log",
        count=True,
    ),
    Figure(
        "field_changes_by_others",
        "changes",
        "Field changes saved by someone other than the account's owner",
        _changes("field_changes_by_others"),
        "profile_change_log",
        count=True,
    ),
    Figure(
        "changes_with_unknown_actor",
        "changes",
        "Changes in the window whose session has no login (actor unknown)",
        _changes("changes_with_unknown_actor"),
        "profile_change_log",
        count=True,
    ),
    # restore list: each row (a field of an account another person changed) has one action
    Figure(
        "field_changes_to_restore",
        "restore",
        "Fields another person changed that are to be restored (the owner has not changed them since)",
        _action(RESTORE_ACTIONS[0]),
        "profile_change_log",
        count=True,
    ),
    Figure(
        "fields_restored_by_owner",
        "restore",
        "Fields another person changed that the owner has already put back (nothing to restore)",
        _action(RESTORE_ACTIONS[1]),
        "profile_change_log",
        count=True,
    ),
    Figure(
        "restore_conflicts",
        "restore",
        "Fields another person changed that the owner changed again later (review with the owner, do not overwrite)",
        _action(RESTORE_ACTIONS[2]),
        "profile_change_log",
        count=True,
    ),
    # "queue times and allocation were not affected"
    Figure(
        "allocation_affected",
        "allocation",
        "Queue acts (interests registered or withdrawn, offers answered) made on another member's account",
        _acts("allocation_affected"),
        "allocation_actions",
        count=True,
    ),
    Figure(
        "allocation_possibly_affected",
        "allocation",
        "Queue acts of sessions whose binding is unknown",
        _acts("allocation_possibly_affected"),
        "allocation_actions",
        count=True,
    ),
    Figure(
        "interests_registered_by_others",
        "allocation",
        "Interests registered on another member's account",
        _acts("interests_registered_by_others"),
        "allocation_actions",
        count=True,
    ),
    Figure(
        "interests_withdrawn_by_others",
        "allocation",
        "Interests withdrawn from another member's account",
        _acts("interests_withdrawn_by_others"),
        "allocation_actions",
        count=True,
    ),
    Figure(
        "offers_answered_by_others",
        "allocation",
        "Offers answered from a session bound to another account",
        _acts("offers_answered_by_others"),
        "allocation_actions",
        count=True,
    ),
    Figure(
        "listings_closed_in_window_losing_applicants",
        "allocation",
        "Listings that closed during the window and lost an applicant to another person's withdrawal",
        _acts("listings_closed_in_window_losing_applicants"),
        "allocation_actions",
        count=True,
    ),
    Figure(
        "income_changed_by_others",
        "allocation",
        "Accounts whose income (an eligibility field) another person changed",
        _acts("income_changed_by_others"),
        "profile_change_log",
        count=True,
    ),
    Figure(
        "allocation_claim",
        "allocation",
        "Whether the claim 'queue times and allocation were not affected' holds",
        lambda r: r.allocation.verdict(),
        "allocation_actions",
    ),
    # notifications
    Figure(
        "notifications",
        "notifications",
        "People to inform on proven evidence",
        _certainty("certain"),
        "window_sessions",
        count=True,
    ),
    Figure(
        "notifications_possible",
        "notifications",
        "People to inform if the unsettled sessions were bound",
        _certainty("possible"),
        "window_sessions",
        count=True,
    ),
)
"""Every figure notebook 02 records, by section."""

SECTIONS = sections(FIGURES)
"""The sections of :data:`FIGURES`, in the order notebook 02 tells them."""

"""Every figure notebook 02 records, by section: what each says and where it is read from an :class:`ExposureReview`.

The figures are the review's findings as ``findings.json`` holds them; :data:`SECTIONS` orders
them as the notebook tells them. Split from :mod:`workbench.exposure.review` (the one call).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..figures import Figure, sections
from .changes import RESTORE_ACTIONS

__all__ = ["FIGURES", "SECTIONS"]


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

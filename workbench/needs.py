"""The evidence each recorded figure cannot be answered without, declared once, by figure name.

A case may lack a table: ingest records it in ``manifest_absent`` and creates it empty. An
empty table counts nothing, so a figure computed from it would read 0 ("no fault report")
where the truth is "we were not given the mailbox". :class:`workbench.findings.Findings`
looks a figure up here when it is recorded: if a table it needs is absent, the figure is
recorded as unknown, with a reason naming the table, instead of the value computed.

The entries are deliberately strict: a figure needs a table when leaving the table out
can change the figure (tests/test_missing_tables.py drops each table in turn and checks).
A figure not listed needs no evidence table (a parameter, the ingest reconciliation, a
score on the shipped corpus); tests/test_missing_tables.py fails on a recorded figure that
is neither listed nor in :data:`NEEDS_NOTHING`, so a new figure must declare what it needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .evidence import TABLES
from .i18n import current_language, messages
from .wording import say

__all__ = ["NEEDS", "NEEDS_NOTHING", "absent_reason", "missing_for", "needs", "unknown_because"]

# Groups of evidence behind one kind of question.
_WINDOW = ("deployments", "incident_actions")  # the deployment that opened the incident, and login disabled / fix
_DEPLOYED = ("deployments", "incident_actions")  # the latest deployment before the first incident action
_ACTIONS = ("incident_actions",)
_SESSIONS = ("logins", "page_views")  # who logged in, and whose account each page rendered
_OPEN = ("logins", "page_views", "logouts")  # whether a session was still open at an instant
_MAIL = ("support_messages",)
_ALLOCATION = ("applicants", "fees", "listings", "interests", "offers", "contracts", "handler_actions")

NEEDS: dict[str, tuple[str, ...]] = {
    # 00 case overview
    "members": ("applicants",),
    "logins": ("logins",),
    "page_views": ("page_views",),
    "support_messages": ("support_messages",),
    "contracts": ("contracts",),
    "deployed_at": _DEPLOYED,
    "login_disabled_at": _ACTIONS,
    "fix_deployed_at": _ACTIONS,
    # 01 incident reconstruction
    "mail_clock_offset_seconds": (*_MAIL, *_SESSIONS),
    "mail_clock_uncertainty_seconds": (*_MAIL, *_SESSIONS),
    "mail_clock_pairs": (*_MAIL, *_SESSIONS),
    "sessions_mismatched": _SESSIONS,
    "onset_at": _SESSIONS,
    "onset_local": _SESSIONS,
    "onset_login_local": _SESSIONS,
    "onset_minutes_after_login": _SESSIONS,
    "people_possibly_affected": ("logins", *_WINDOW),
    "fault_reports": _MAIL,
    "first_report_at": _MAIL,
    "login_enabled_at": _ACTIONS,
    "messages_not_classified_in_window": (*_MAIL, *_WINDOW),
    "logins_with_another_session_open": (*_OPEN, *_WINDOW),
    "binding_rate_percent": (*_OPEN, *_WINDOW),
    "logins_at_risk_bound": (*_OPEN, *_WINDOW),
    "mismatched_without_open_session": (*_OPEN, *_WINDOW),
    "smoke_test_pairs_needed": (*_OPEN, *_WINDOW),
    "time_to_detect_hours": (*_SESSIONS, *_MAIL),
    "time_to_detect_uncertainty_minutes": (*_SESSIONS, *_MAIL),
    "first_report_local": _MAIL,
    "time_to_contain_hours": (*_MAIL, *_ACTIONS),
    "time_to_contain_uncertainty_minutes": (*_MAIL, *_ACTIONS),
    "login_disabled_local": _ACTIONS,
    "onset_to_fix_hours": (*_SESSIONS, *_ACTIONS),
    "onset_to_fix_uncertainty_minutes": (*_SESSIONS, *_ACTIONS),
    "exposures_actual": _SESSIONS,
    "exposures_avoidable_with_on_call": (*_SESSIONS, *_MAIL, *_WINDOW),
    "sessions_avoidable_with_on_call": (*_SESSIONS, *_MAIL, *_WINDOW),
    "changed_accounts_avoidable_with_on_call": (*_SESSIONS, *_MAIL, *_WINDOW, "profile_changes"),
    "exposures_avoidable_at_first_report": (*_SESSIONS, *_MAIL, *_WINDOW),
    "messages_set_by_hand": _MAIL,  # an annotation names a message of the case: none without the mailbox
    "reports_added_by_hand": _MAIL,
    "reports_removed_by_hand": _MAIL,
    # 02 exposure and changes
    "window_sessions": ("logins", *_WINDOW),
    "sessions_bound": (*_SESSIONS, *_WINDOW),
    "accounts_bound_to_others": (*_SESSIONS, *_WINDOW),
    "people_put_into_others_accounts": (*_SESSIONS, *_WINDOW),
    "bindings_unexplained": (*_OPEN, *_WINDOW),
    "accounts_exposed": (*_SESSIONS, *_WINDOW),
    "pages_shown_to_others": (*_SESSIONS, *_WINDOW),
    "sessions_unsettled": (*_SESSIONS, *_WINDOW),
    "page_views_missing_account_id": ("page_views", *_WINDOW),
    "page_log_gaps": (*_SESSIONS, *_WINDOW),
    "swap_rate": (*_OPEN, *_WINDOW),
    "co_applicants_exposed": ("applicants", *_OPEN, *_WINDOW),
    "protected_identity_exposed": ("applicants", *_SESSIONS, *_WINDOW),
    "people_who_made_changes": ("logins", "profile_changes", *_WINDOW),
    "people_who_edited_own_data": ("logins", "profile_changes", *_WINDOW),
    "people_who_changed_others_data": ("logins", "profile_changes", *_WINDOW),
    "accounts_changed_by_others": ("logins", "profile_changes", *_WINDOW),
    "field_changes_by_others": ("logins", "profile_changes", *_WINDOW),
    "changes_with_unknown_actor": ("logins", "profile_changes", *_WINDOW),
    "field_changes_to_restore": ("logins", "profile_changes", *_WINDOW),
    "fields_restored_by_owner": ("logins", "profile_changes", *_WINDOW),
    "restore_conflicts": ("logins", "profile_changes", *_WINDOW),
    "allocation_claim": (*_SESSIONS, *_WINDOW, "profile_changes", "interests", "offers", "listings"),
    "allocation_affected": (*_SESSIONS, *_WINDOW, "profile_changes", "interests", "offers"),
    "interests_registered_by_others": (*_SESSIONS, *_WINDOW, "interests"),
    "interests_withdrawn_by_others": (*_SESSIONS, *_WINDOW, "interests"),
    "offers_answered_by_others": (*_SESSIONS, *_WINDOW, "offers"),
    "listings_closed_in_window_losing_applicants": (*_SESSIONS, *_WINDOW, "interests", "listings"),
    "income_changed_by_others": ("logins", "profile_changes", *_WINDOW),
    "allocation_possibly_affected": (*_OPEN, *_WINDOW, "profile_changes", "interests", "offers"),
    "notifications": ("applicants", *_SESSIONS, *_WINDOW, "profile_changes", "interests", "offers"),
    "notifications_possible": ("applicants", *_OPEN, *_WINDOW, "profile_changes", "interests", "offers"),
    # 03 queue fairness
    "allocations_replayed": ("listings", "contracts"),
    "allocations_in_queue_order": _ALLOCATION,
    "explained_deviations": _ALLOCATION,
    "unexplained_deviations": _ALLOCATION,
    "applicants_skipped": _ALLOCATION,
    "queue_days_jumped_total": _ALLOCATION,
    "caseworkers_flagged": _ALLOCATION,
    "caseworkers_without_peers": _ALLOCATION,
    "caseworkers_too_few_to_judge": _ALLOCATION,
    "caseworkers_tested": ("listings", "contracts"),
    "p_floor": ("listings", "contracts"),
    "caseworkers_power_covers": _ALLOCATION,
    "caseworkers_too_few_named": _ALLOCATION,
    "detectable_fraud_percent": _ALLOCATION,
    "backdated_queue_dates": ("handler_actions",),
    "fake_profiles_suspected": ("applicants", "fees", "logins", "handler_actions", "contracts"),
}
"""Figure name -> the evidence tables it cannot be answered without."""

NEEDS_NOTHING: frozenset[str] = frozenset(
    {
        # the ingest reconciliation and what was absent: from the manifest itself
        "files_ingested",
        "rows_read",
        "rows_loaded",
        "rows_quarantined",
        "evidence_tables_absent",
        # parameters
        "on_call_delay_hours",
        "smoke_test_confidence_percent",
        "alpha",
        "min_effect",
        "permutations",
        "mde_ceiling_percent",
        # the rules scored on corpora that ship with the package
        "fault_report_precision_handwritten",
        "fault_report_recall_handwritten",
        "handwritten_messages",
        "fault_report_target",
        "handwritten_meets_target",
        "validation_is_current",
        "fault_report_precision_generated",
        "fault_report_recall_generated",
    }
)
"""Figures that need no evidence table: known on any case."""

_unknown_tables = sorted({t for tables in NEEDS.values() for t in tables} - set(TABLES))
if _unknown_tables:  # a typo here would silently never make a figure unknown
    raise ValueError(f"workbench.needs names tables the evidence format does not have: {_unknown_tables}")


def needs(name: str) -> tuple[str, ...]:
    """The evidence tables figure ``name`` needs, in declared order; () when it needs none or is not listed."""
    declared = set(NEEDS.get(name, ()))
    return tuple(t for t in TABLES if t in declared)


def missing_for(name: str, absent: Mapping[str, str]) -> dict[str, str]:
    """The tables figure ``name`` needs that ``absent`` (``{table: why}``) lists, with why."""
    return {t: absent[t] for t in needs(name) if t in absent}


def unknown_because(missing: Mapping[str, str] | Iterable[str], language: str | None = None) -> str:
    """The reason a figure is unknown, naming the missing evidence in plain words, in ``language``.

    ``unknown_because({"support_messages": "no file at ingest"})`` is
    ``"the case has no support_messages evidence: no file at ingest"``; in Swedish (the
    catalogue's ``missing_evidence_why``, ``absent_reason``) ``"ärendet saknar bevis ur
    support_messages: ingen fil vid inläsningen"``. The tables keep their names, as the evidence has them.
    """
    lang = language or current_language()
    why = dict(missing) if isinstance(missing, Mapping) else {t: "" for t in missing}
    reasons = [absent_reason(r, lang) for r in sorted(set(why.values()) - {""})]
    tables = list(why)
    listed = tables[0] if len(tables) == 1 else say("or_list", lang, items=", ".join(tables[:-1]), last=tables[-1])
    if reasons:
        return say("missing_evidence_why", lang, tables=listed, reasons=", ".join(reasons))
    return say("missing_evidence", lang, tables=listed)


def absent_reason(reason: str, language: str | None = None) -> str:
    """Why ingest found a table absent (``"no file at ingest"``), in ``language``: the catalogue's ``absent_reason``."""
    return messages(language or current_language()).get(f"absent_reason.{reason}", reason)

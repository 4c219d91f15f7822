"""The figures notebook 01 records from an :class:`~workbench.incident.Incident`, declared once, by section.

Each :class:`~workbench.figures.Figure` names the finding, its one-line description, the
registered query behind it and whether it counts members; ``incident.record(findings,
section)`` records a section's figures where the notebook tells that part of the story.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..figures import Figure, sections
from .clocks import why_unknown_text
from .hand import HAND_FIGURES
from .timeline import local_label

__all__ = ["FAULT_REPORT_TARGET", "FIGURES", "SECTIONS", "WHY_NONE"]

FAULT_REPORT_TARGET = 0.9
"""Precision and recall the project asks of the fault-report rules on hand-written mail."""


def _hours(measure: str) -> Any:
    return lambda i: i.response(measure)["hours"]


def _onset_row(i: Any) -> dict[str, Any] | None:
    m = i.mismatched
    return m.sort("bound_at", "session_id").row(0, named=True) if m.height else None


def _onset_login(i: Any) -> Any:
    row = _onset_row(i)
    return None if row is None else row["login_at"]


def _onset_delay_minutes(i: Any) -> float | None:
    row = _onset_row(i)
    return None if row is None else round((row["bound_at"] - row["login_at"]).total_seconds() / 60, 1)


FIGURES: Sequence[Figure] = (
    # clocks
    Figure(
        "mail_clock_offset_seconds",
        "clocks",
        "The mail server's clock against the web servers' clock",
        lambda i: i.clock("mail")["offset_seconds"],
        "contact_form_pairs",
    ),
    Figure(
        "mail_clock_uncertainty_seconds",
        "clocks",
        "Uncertainty of the mail clock offset",
        lambda i: i.clock("mail")["uncertainty_seconds"],
        "contact_form_pairs",
    ),
    Figure(
        "mail_clock_pairs",
        "clocks",
        "Web-form messages paired with their contact-form request",
        lambda i: i.clock("mail")["pairs"],
        "contact_form_pairs",
    ),
    # sessions bound to another person's account
    Figure(
        "sessions_mismatched",
        "mismatched sessions",
        "Sessions that rendered another member's account",
        lambda i: i.mismatched["session_id"].n_unique(),
        "mismatched_sessions",
        count=True,
    ),
    Figure(
        "onset_at",
        "mismatched sessions",
        "Onset: the first page that showed a member another member's account",
        lambda i: i.mismatched["bound_at"].min(),
        "mismatched_sessions",
    ),
    Figure(
        "onset_local",
        "mismatched sessions",
        "Onset, local weekday and time",
        lambda i: local_label(i.mismatched["bound_at"].min(), i.timezone),
        "mismatched_sessions",
    ),
    Figure(
        "onset_login_local",
        "mismatched sessions",
        "Login of the session that showed the first foreign page, local weekday and time",
        lambda i: local_label(_onset_login(i), i.timezone),
        "mismatched_sessions",
    ),
    Figure(
        "onset_minutes_after_login",
        "mismatched sessions",
        "Time from that session's login to its first foreign page (0: bound at login)",
        lambda i: _onset_delay_minutes(i),
        "mismatched_sessions",
    ),
    # the organisation's "possibly affected"
    Figure(
        "people_possibly_affected",
        "possibly affected",
        "Members who logged in between the deployment and the fix",
        lambda i: i.affected.height,
        "possibly_affected",
        count=True,
    ),
    # fault reports
    Figure(
        "fault_reports",
        "fault reports",
        "Support messages classified as reports of the fault",
        lambda i: i.reports.height,
        "support_inbox",
        count=True,
    ),
    # milestones
    Figure(
        "deployed_at", "milestones", "Deployment that opened the incident", lambda i: i.deployed_at, "incident_window"
    ),
    Figure(
        "first_report_at",
        "milestones",
        "First fault report, on the web clock",
        lambda i: i.first_report_at,
        "support_inbox",
    ),
    Figure(
        "login_disabled_at",
        "milestones",
        "Login disabled, on the web clock",
        lambda i: i.login_disabled_at,
        "incident_window",
    ),
    Figure(
        "fix_deployed_at",
        "milestones",
        "Fix deployed, on the web clock",
        lambda i: i.fix_deployed_at,
        "incident_window",
    ),
    Figure(
        "login_enabled_at",
        "milestones",
        "Login re-enabled, on the web clock",
        lambda i: i.login_enabled_at,
        "incident_window",
    ),
    # mail the rules did not classify
    Figure(
        "messages_not_classified_in_window",
        "unclassified mail",
        "Support messages between the deployment and login disabled that the rules did not classify as reports",
        lambda i: i.unclassified.height,
        "support_inbox",
        count=True,
    ),
    # how often a login beside an open session ended up bound
    Figure(
        "logins_with_another_session_open",
        "binding rate",
        "Logins in the fault window made while another member's session was open",
        lambda i: i.binding_rate["logins_at_risk"],
        "sessions",
        count=True,
    ),
    Figure(
        "logins_at_risk_bound",
        "binding rate",
        "Of those logins, the ones whose session showed another member's account (at login or later)",
        lambda i: i.binding_rate["mismatched"],
        "mismatched_sessions",
        count=True,
    ),
    Figure(
        "binding_rate_percent",
        "binding rate",
        "Percentage of those logins whose session showed another member's account",
        lambda i: None if i.binding_rate["rate"] is None else round(100 * i.binding_rate["rate"], 1),
        "sessions",
    ),
    Figure(
        "mismatched_without_open_session",
        "binding rate",
        "Mismatched sessions that logged in in the fault window with no other member's session open (outside the rate)",
        lambda i: i.binding_rate["mismatched_not_at_risk"],
        "mismatched_sessions",
        count=True,
    ),
    # response times
    Figure(
        "time_to_detect_hours",
        "response times",
        "Time from onset to the first fault report",
        _hours("time_to_detect"),
        "mismatched_sessions",
    ),
    Figure(
        "time_to_contain_hours",
        "response times",
        "Time from the first fault report to login disabled",
        _hours("time_to_contain"),
        "incident_window",
    ),
    Figure(
        "onset_to_fix_hours", "response times", "Time from onset to the fix", _hours("onset_to_fix"), "incident_window"
    ),
    Figure(
        "first_report_local",
        "response times",
        "First fault report, local weekday and time",
        lambda i: i.response("time_to_detect")["to_local"],
        "support_inbox",
    ),
    Figure(
        "login_disabled_local",
        "response times",
        "Login disabled, local weekday and time",
        lambda i: i.response("time_to_contain")["to_local"],
        "incident_window",
    ),
    Figure(
        "time_to_detect_uncertainty_minutes",
        "response times",
        "Clock uncertainty of the time to detect, both ends added (unknown when a clock was not estimated)",
        lambda i: i.uncertainty_minutes("time_to_detect"),
        "contact_form_pairs",
    ),
    Figure(
        "time_to_contain_uncertainty_minutes",
        "response times",
        "Clock uncertainty of the time to contain, both ends added (unknown when a clock was not estimated)",
        lambda i: i.uncertainty_minutes("time_to_contain"),
        "contact_form_pairs",
    ),
    Figure(
        "onset_to_fix_uncertainty_minutes",
        "response times",
        "Clock uncertainty of onset to fix, both ends added (unknown when a clock was not estimated)",
        lambda i: i.uncertainty_minutes("onset_to_fix"),
        "fix_deployment_pairs",
    ),
    # what an earlier shutdown would have saved
    Figure(
        "exposures_actual",
        "counterfactual",
        "Accounts shown to another person (as it happened)",
        lambda i: i.alternative("actual")["n_exposed_accounts"],
        "mismatched_sessions",
        count=True,
    ),
    Figure(
        "exposures_avoidable_with_on_call",
        "counterfactual",
        "Accounts shown to another person that on-call staff acting on the first report would have spared",
        lambda i: i.alternative("on_call")["n_exposed_accounts_avoided"],
        "mismatched_sessions",
        count=True,
    ),
    Figure(
        "sessions_avoidable_with_on_call",
        "counterfactual",
        "Mismatched sessions on-call staff would have prevented",
        lambda i: i.alternative("on_call")["n_mismatched_sessions_avoided"],
        "mismatched_sessions",
        count=True,
    ),
    Figure(
        "changed_accounts_avoidable_with_on_call",
        "counterfactual",
        "Accounts changed by another person that on-call staff would have spared",
        lambda i: i.alternative("on_call")["n_changed_accounts_avoided"],
        "mismatched_changes",
        count=True,
    ),
    Figure(
        "exposures_avoidable_at_first_report",
        "counterfactual",
        "Accounts spared by disabling login at the first report",
        lambda i: i.alternative("at_first_report")["n_exposed_accounts_avoided"],
        "mismatched_sessions",
        count=True,
    ),
    Figure(
        "on_call_delay_hours",
        "counterfactual",
        "Time on-call staff take to act in the on-call alternative",
        lambda i: i.on_call_delay_hours,
    ),
    # the smoke test that was not run
    Figure(
        "smoke_test_pairs_needed",
        "smoke test",
        "Concurrent login pairs a smoke test needs to trigger the fault with the confidence below",
        lambda i: i.binding_rate["pairs_needed"],
        "sessions",
    ),
    Figure(
        "smoke_test_confidence_percent",
        "smoke test",
        "Probability a smoke test should have of triggering the fault (percent)",
        lambda i: round(100 * i.binding_rate["confidence"]),
    ),
    # how far the rules can be trusted
    Figure(
        "fault_report_precision_handwritten",
        "rules on hand-written mail",
        "Precision of the fault-report rules on the held-out hand-written corpus",
        lambda i: round(i.handwritten_score["precision"], 4),
    ),
    Figure(
        "fault_report_recall_handwritten",
        "rules on hand-written mail",
        "Recall of the fault-report rules on the held-out hand-written corpus",
        lambda i: round(i.handwritten_score["recall"], 4),
    ),
    Figure(
        "handwritten_messages",
        "rules on hand-written mail",
        "Messages in the held-out hand-written corpus",
        lambda i: i.handwritten_score["messages"],
    ),
    Figure(
        "fault_report_target",
        "rules on hand-written mail",
        "Precision and recall the project asks of the rules on hand-written messages",
        lambda i: FAULT_REPORT_TARGET,
    ),
    Figure(
        "handwritten_meets_target",
        "rules on hand-written mail",
        "The rules meet the target on the held-out hand-written corpus",
        lambda i: min(i.handwritten_score["precision"], i.handwritten_score["recall"]) >= FAULT_REPORT_TARGET,
    ),
    Figure(
        "validation_is_current",
        "rules on generated cases",
        "The generated-case scores were measured with the rules in use now",
        lambda i: i.validation["current"],
    ),
    Figure(
        "fault_report_precision_generated",
        "rules on generated cases",
        "Lowest precision of the rules on the generated cases",
        lambda i: i.validation["cases"]["precision"].min(),
    ),
    Figure(
        "fault_report_recall_generated",
        "rules on generated cases",
        "Lowest recall of the rules on the generated cases",
        lambda i: i.validation["cases"]["recall"].min(),
    ),
    *HAND_FIGURES,  # the fault reports set by hand
)
"""Every figure notebook 01 records, by section."""
SECTIONS = sections(FIGURES)
"""The sections of :data:`FIGURES`, in the order notebook 01 tells them."""

_NO_MISMATCH = "no session was bound to another member's account, so there is no onset"
_NO_REPORT = "no support message was classified as a fault report"
_NO_RISK = "no login in the window was made while another member's session was open, so there is no rate to measure"
WHY_NONE: dict[str, str] = {
    "mail_clock_offset_seconds": why_unknown_text("mail"),
    "mail_clock_uncertainty_seconds": why_unknown_text("mail"),
    "onset_at": _NO_MISMATCH,
    "onset_local": _NO_MISMATCH,
    "first_report_at": _NO_REPORT,
    "first_report_local": _NO_REPORT,
    "time_to_detect_hours": f"{_NO_MISMATCH}, or {_NO_REPORT}",
    "time_to_contain_hours": f"{_NO_REPORT}, or login disabled is not in the incident log",
    "onset_to_fix_hours": f"{_NO_MISMATCH}, or the fix is not in the incident log",
    "login_disabled_at": "the incident log has no 'login disabled'",
    "login_disabled_local": "the incident log has no 'login disabled'",
    "fix_deployed_at": "the incident log has no 'fix deployed'",
    "login_enabled_at": "the incident log has no 'login enabled'",
    "deployed_at": "no deployment precedes the first action in the incident log",
    "binding_rate_percent": _NO_RISK,
    "smoke_test_pairs_needed": _NO_RISK,
}
"""Why a figure of notebook 01 that comes out None cannot be answered (recorded as unknown with this reason)."""

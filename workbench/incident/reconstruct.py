"""One call for notebook 01: clocks, sessions, fault reports, milestones, response times, counterfactual.

>>> incident = reconstruct_incident(case, idle_timeout_minutes=20)      # doctest: +SKIP
>>> incident.first_report_at, incident.login_disabled_at                 # doctest: +SKIP
>>> incident.record(findings, "response times")                         # doctest: +SKIP

Every time is UTC on the web server's clock; local times appear only in the ``*_local`` text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

import polars as pl

from ..errors import UnknownNameError, WorkbenchError
from ..figures import Figure, record_section, sections
from ..queries import run
from ..queries.websessions import DEFAULT_IDLE_TIMEOUT_MINUTES
from ..settings import DISPLAY_TZ
from . import clocks, counterfactual
from .classify import evaluate, handwritten_corpus, validation_record
from .timeline import (
    classified_inbox,
    daily_summary,
    fault_reports,
    hourly_series,
    local_label,
    milestones,
    response_times,
    timeline_events,
    unclassified_messages,
)

if TYPE_CHECKING:
    from ..case import Case

__all__ = ["FIGURES", "MILESTONES", "SECTIONS", "Incident", "reconstruct_incident"]

MILESTONES = {
    "deployed_at": "deployment",
    "onset_at": "first mismatched session",
    "first_report_at": "first fault report",
    "login_disabled_at": "login disabled",
    "fix_deployed_at": "fix deployed",
    "login_enabled_at": "login re-enabled",
}
"""The named milestones of :class:`Incident` (attribute -> milestone in ``marks``)."""

FAULT_REPORT_TARGET = 0.9
"""Precision and recall the project asks of the fault-report rules on hand-written mail."""


@dataclass(frozen=True)
class Incident:
    """Everything notebook 01 reports, with the parameters it was computed with.

    Frames: ``offsets`` (one row per clock, :func:`clocks.estimate_offsets`), ``mismatched``
    and ``changes`` (the ``mismatched_sessions`` and ``mismatched_changes`` queries),
    ``affected`` (``possibly_affected``), ``inbox`` (every support message, classified),
    ``reports`` (the fault reports), ``marks`` (the milestones), ``sessions`` (sessions open
    between the deployment and login disabled), ``hourly``, ``times`` (response times),
    ``curve`` and ``alternatives`` (the counterfactual). Milestones are attributes:
    ``deployed_at``, ``onset_at``, ``first_report_at``, ``login_disabled_at``,
    ``fix_deployed_at``, ``login_enabled_at`` (None when the evidence lacks one).
    """

    case: Case = field(repr=False)
    timezone: str
    idle_timeout_minutes: int
    on_call_delay_hours: float
    extra_report_phrases: tuple[str, ...]
    offsets: pl.DataFrame
    mismatched: pl.DataFrame
    changes: pl.DataFrame
    affected: pl.DataFrame
    inbox: pl.DataFrame
    reports: pl.DataFrame
    marks: pl.DataFrame
    sessions: pl.DataFrame
    hourly: pl.DataFrame
    times: pl.DataFrame
    curve: pl.DataFrame
    alternatives: pl.DataFrame
    binding_rate: dict[str, Any]

    def milestone(self, name: str) -> datetime | None:
        """The time of milestone ``name`` (e.g. ``"login disabled"``), None when the evidence lacks it."""
        known = set(MILESTONES.values()) | {m for m in self.marks["milestone"].to_list()}
        if name not in known:
            raise UnknownNameError("milestone", name, known)
        return _at(self.marks, name)

    @property
    def deployed_at(self) -> datetime | None:
        return self.milestone("deployment")

    @property
    def onset_at(self) -> datetime | None:
        """The login that bound the first mismatched session."""
        return self.milestone("first mismatched session")

    @property
    def first_report_at(self) -> datetime | None:
        return self.milestone("first fault report")

    @property
    def login_disabled_at(self) -> datetime | None:
        return self.milestone("login disabled")

    @property
    def fix_deployed_at(self) -> datetime | None:
        return self.milestone("fix deployed")

    @property
    def login_enabled_at(self) -> datetime | None:
        return self.milestone("login re-enabled")

    def clock(self, source: str) -> dict[str, Any]:
        """The offset row of clock ``source`` (``"mail"``, ``"incident log"``, ...), by name."""
        return _named_row(self.offsets, "source", source, "clock")

    def response(self, measure: str) -> dict[str, Any]:
        """The row of ``times`` for ``measure`` (``"time_to_detect"``, ``"time_to_contain"``, ``"onset_to_fix"``)."""
        return _named_row(self.times, "measure", measure, "measure")

    def alternative(self, name: str) -> dict[str, Any]:
        """The counterfactual row ``name`` (``"actual"``, ``"on_call"``, ``"at_first_report"``, ...)."""
        return _named_row(self.alternatives, "alternative", name, "alternative")

    @property
    def unclassified(self) -> pl.DataFrame:
        """Messages between the deployment and login disabled that the rules did not classify as reports."""
        return unclassified_messages(self.inbox, _needed(self.marks, "deployment"), _needed(self.marks, "login disabled"))

    def daily(self) -> pl.DataFrame:
        """Per local day: mismatched sessions and the accounts they showed to another person."""
        return daily_summary(self.mismatched, timezone=self.timezone)

    def events(self) -> pl.DataFrame:
        """Every event of the incident as one row, for :class:`workbench.widgets.TimelineExplorer`."""
        return timeline_events(self.case, self.mismatched, self.reports, self.marks, self.changes,
                               idle_timeout_minutes=self.idle_timeout_minutes)

    @cached_property
    def handwritten_score(self) -> dict[str, Any]:
        """Precision and recall of the shipped rules (without extra phrases) on the held-out hand-written corpus."""
        return evaluate(handwritten_corpus("test"))

    @cached_property
    def validation(self) -> dict[str, Any]:
        """How the rules scored on generated cases, and each hand-written round (see :func:`validation_record`)."""
        return validation_record()

    def record(self, findings: Any, section: str) -> dict[str, Any]:
        """Record the figures of ``section`` (one of :data:`SECTIONS`, e.g. ``"clocks"``) into ``findings``."""
        return record_section(findings, self, FIGURES, section)


def reconstruct_incident(case: Case, *, timezone: str = DISPLAY_TZ,
                         idle_timeout_minutes: int = DEFAULT_IDLE_TIMEOUT_MINUTES, on_call_delay_hours: float = 1.0,
                         extra_report_phrases: Iterable[str] = ()) -> Incident:
    """Rebuild the incident from the case: notebook 01's analysis in one call.

    ``idle_timeout_minutes`` ends sessions whose logout the log does not hold (see
    :mod:`workbench.queries.websessions`); ``on_call_delay_hours`` is how long on-call staff
    would take to act on the first report; ``extra_report_phrases`` are investigators' own
    wordings of a fault report, e.g. ``["fel konto"]``.
    """
    phrases = tuple(extra_report_phrases)
    offsets = clocks.estimate_offsets(case)
    mismatched = run("mismatched_sessions", case)
    changes = run("mismatched_changes", case)
    affected = run("possibly_affected", case)
    inbox = classified_inbox(case, offsets, phrases)
    reports = fault_reports(case, offsets, inbox=inbox)
    marks = milestones(run("incident_window", case), mismatched, reports, offsets)

    deployed, disabled = _needed(marks, "deployment"), _needed(marks, "login disabled")
    hourly = hourly_series(case, reports, idle_timeout_minutes=idle_timeout_minutes)
    sessions = run("sessions", case, start=deployed, end=disabled, idle_timeout_minutes=idle_timeout_minutes)
    rate = counterfactual.binding_rate(sessions, mismatched, start=deployed, end=disabled)
    times = response_times(marks, timezone)
    curve = counterfactual.shutdown_curve(mismatched, changes, start=deployed, end=disabled)
    alternatives = counterfactual.alternatives(
        mismatched, changes, deployed_at=deployed, first_report_at=_at(marks, "first fault report"),
        login_disabled_at=disabled, on_call_delay_hours=on_call_delay_hours,
    )
    return Incident(
        case=case, timezone=timezone, idle_timeout_minutes=idle_timeout_minutes,
        on_call_delay_hours=on_call_delay_hours, extra_report_phrases=phrases, offsets=offsets,
        mismatched=mismatched, changes=changes, affected=affected, inbox=inbox, reports=reports, marks=marks,
        sessions=sessions, hourly=hourly, times=times, curve=curve, alternatives=alternatives, binding_rate=rate,
    )


def _named_row(frame: pl.DataFrame, column: str, name: str, kind: str) -> dict[str, Any]:
    """The row of ``frame`` whose ``column`` is ``name``; an unknown name lists the known ones."""
    row = frame.filter(pl.col(column) == name)
    if row.is_empty():
        raise UnknownNameError(kind, name, frame[column].to_list())
    return row.row(0, named=True)


def _at(marks: pl.DataFrame, milestone: str) -> datetime | None:
    found = marks.filter(pl.col("milestone") == milestone)["time"]
    return found[0] if found.len() else None


_SOURCES = {"deployment": "a row in deployments", "login disabled": "a 'login disabled' row in incident_actions"}


def _needed(marks: pl.DataFrame, milestone: str) -> datetime:
    """A milestone the reconstruction cannot do without; a clear error naming the evidence when it is missing."""
    found = _at(marks, milestone)
    if found is None:
        raise WorkbenchError(
            f"the incident cannot be reconstructed without the {milestone} milestone: the case has no "
            f"{_SOURCES[milestone]} (ingest that evidence, or check its manifest for quarantined rows)"
        )
    return found


def _hours(measure: str) -> Any:
    return lambda i: i.response(measure)["hours"]


FIGURES: Sequence[Figure] = (
    # clocks
    Figure("mail_clock_offset_seconds", "clocks", "Mail server clock ahead of the web clock (seconds; negative: behind)",
           lambda i: i.clock("mail")["offset_seconds"], "contact_form_pairs"),
    Figure("mail_clock_uncertainty_seconds", "clocks", "Uncertainty of the mail clock offset (seconds)",
           lambda i: i.clock("mail")["uncertainty_seconds"], "contact_form_pairs"),
    Figure("mail_clock_pairs", "clocks", "Web-form messages paired with their contact-form request",
           lambda i: i.clock("mail")["pairs"], "contact_form_pairs"),
    # sessions bound to another person's account
    Figure("sessions_mismatched", "mismatched sessions", "Sessions that rendered another member's account",
           lambda i: i.mismatched["session_id"].n_unique(), "mismatched_sessions", count=True),
    Figure("onset_at", "mismatched sessions", "Onset: the login that bound the first mismatched session",
           lambda i: i.mismatched["bound_at"].min(), "mismatched_sessions"),
    Figure("onset_local", "mismatched sessions", "Onset, local weekday and time",
           lambda i: local_label(i.mismatched["bound_at"].min(), i.timezone), "mismatched_sessions"),
    # the organisation's "possibly affected"
    Figure("people_possibly_affected", "possibly affected", "Members who logged in between the deployment and the fix",
           lambda i: i.affected.height, "possibly_affected", count=True),
    # fault reports
    Figure("fault_reports", "fault reports", "Support messages classified as reports of the fault",
           lambda i: i.reports.height, "support_inbox", count=True),
    # milestones
    Figure("deployed_at", "milestones", "Deployment that opened the incident", lambda i: i.deployed_at, "incident_window"),
    Figure("first_report_at", "milestones", "First fault report, on the web clock", lambda i: i.first_report_at,
           "support_inbox"),
    Figure("login_disabled_at", "milestones", "Login disabled, on the web clock", lambda i: i.login_disabled_at,
           "incident_window"),
    Figure("fix_deployed_at", "milestones", "Fix deployed, on the web clock", lambda i: i.fix_deployed_at,
           "incident_window"),
    Figure("login_enabled_at", "milestones", "Login re-enabled, on the web clock", lambda i: i.login_enabled_at,
           "incident_window"),
    # mail the rules did not classify
    Figure("messages_not_classified_in_window", "unclassified mail",
           "Support messages between the deployment and login disabled that the rules did not classify as reports",
           lambda i: i.unclassified.height, "support_inbox", count=True),
    # how often a login beside an open session was bound
    Figure("logins_with_another_session_open", "binding rate",
           "Logins in the fault window made while another member's session was open",
           lambda i: i.binding_rate["logins_at_risk"], "sessions", count=True),
    Figure("binding_rate_percent", "binding rate", "Percentage of those logins that were bound to the other account",
           lambda i: round(100 * (i.binding_rate["rate"] or 0.0), 1), "sessions"),
    # response times
    Figure("time_to_detect_hours", "response times", "Hours from onset to the first fault report",
           _hours("time_to_detect"), "mismatched_sessions"),
    Figure("time_to_contain_hours", "response times", "Hours from the first fault report to login disabled",
           _hours("time_to_contain"), "incident_window"),
    Figure("onset_to_fix_hours", "response times", "Hours from onset to the fix", _hours("onset_to_fix"),
           "incident_window"),
    Figure("first_report_local", "response times", "First fault report, local weekday and time",
           lambda i: i.response("time_to_detect")["to_local"], "support_inbox"),
    Figure("login_disabled_local", "response times", "Login disabled, local weekday and time",
           lambda i: i.response("time_to_contain")["to_local"], "incident_window"),
    # what an earlier shutdown would have saved
    Figure("exposures_actual", "counterfactual", "Accounts shown to another person (as it happened)",
           lambda i: i.alternative("actual")["n_exposed_accounts"], "mismatched_sessions", count=True),
    Figure("exposures_avoidable_with_on_call", "counterfactual",
           "Accounts shown to another person that on-call staff acting on the first report would have spared",
           lambda i: i.alternative("on_call")["n_exposed_accounts_avoided"], "mismatched_sessions", count=True),
    Figure("sessions_avoidable_with_on_call", "counterfactual", "Mismatched sessions on-call staff would have prevented",
           lambda i: i.alternative("on_call")["n_mismatched_sessions_avoided"], "mismatched_sessions", count=True),
    Figure("changed_accounts_avoidable_with_on_call", "counterfactual",
           "Accounts changed by another person that on-call staff would have spared",
           lambda i: i.alternative("on_call")["n_changed_accounts_avoided"], "mismatched_changes", count=True),
    Figure("exposures_avoidable_at_first_report", "counterfactual", "Accounts spared by disabling login at the first report",
           lambda i: i.alternative("at_first_report")["n_exposed_accounts_avoided"], "mismatched_sessions", count=True),
    Figure("on_call_delay_hours", "counterfactual", "Hours on-call staff take to act in the on-call alternative",
           lambda i: i.on_call_delay_hours),
    # the smoke test that was not run
    Figure("smoke_test_pairs_needed", "smoke test",
           "Concurrent login pairs a smoke test needs to trigger the fault with the confidence below",
           lambda i: i.binding_rate["pairs_needed"], "sessions"),
    Figure("smoke_test_confidence_percent", "smoke test",
           "Probability a smoke test should have of triggering the fault (percent)",
           lambda i: round(100 * i.binding_rate["confidence"])),
    # how far the rules can be trusted
    Figure("fault_report_precision_handwritten", "rules on hand-written mail",
           "Precision of the fault-report rules on the held-out hand-written corpus",
           lambda i: round(i.handwritten_score["precision"], 4)),
    Figure("fault_report_recall_handwritten", "rules on hand-written mail",
           "Recall of the fault-report rules on the held-out hand-written corpus",
           lambda i: round(i.handwritten_score["recall"], 4)),
    Figure("handwritten_messages", "rules on hand-written mail", "Messages in the held-out hand-written corpus",
           lambda i: i.handwritten_score["messages"]),
    Figure("fault_report_target", "rules on hand-written mail",
           "Precision and recall the project asks of the rules on hand-written messages",
           lambda i: FAULT_REPORT_TARGET),
    Figure("handwritten_meets_target", "rules on hand-written mail",
           "The rules meet the target on the held-out hand-written corpus",
           lambda i: min(i.handwritten_score["precision"], i.handwritten_score["recall"]) >= FAULT_REPORT_TARGET),
    Figure("validation_is_current", "rules on generated cases",
           "The generated-case scores were measured with the rules in use now", lambda i: i.validation["current"]),
    Figure("fault_report_precision_generated", "rules on generated cases",
           "Lowest precision of the rules on the generated cases", lambda i: i.validation["cases"]["precision"].min()),
    Figure("fault_report_recall_generated", "rules on generated cases",
           "Lowest recall of the rules on the generated cases", lambda i: i.validation["cases"]["recall"].min()),
)
"""Every figure notebook 01 records, by section."""
SECTIONS = sections(FIGURES)
"""The sections of :data:`FIGURES`, in the order notebook 01 tells them."""

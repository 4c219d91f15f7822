"""One call for notebook 01: clocks, sessions, fault reports, milestones, response times, counterfactual.

>>> incident = reconstruct_incident(case, idle_timeout_minutes=20)      # doctest: +SKIP
>>> incident.first_report_at, incident.login_disabled_at                 # doctest: +SKIP
>>> incident.record(findings, "response times")                         # doctest: +SKIP

Every time is UTC on the web server's clock; local times appear only in the ``*_local`` text.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

import polars as pl

from ..errors import UnknownNameError
from ..figures import record_section
from ..i18n import translate
from ..notes.reviews import annotation_list, read_annotations, review_verdicts
from ..queries import run
from ..queries.absence import window_or_span
from ..queries.websessions import DEFAULT_IDLE_TIMEOUT_MINUTES
from ..settings import DISPLAY_TZ
from . import clocks, counterfactual
from .classify import evaluate, handwritten_corpus, validation_record
from .figures import FIGURES, WHY_NONE
from .hand import apply_hand_review
from .timeline import (
    classified_inbox,
    daily_summary,
    fault_reports,
    hourly_series,
    milestones,
    response_times,
    timeline_events,
    unclassified_messages,
)

if TYPE_CHECKING:
    from ..case import Case

__all__ = ["MILESTONES", "Incident", "reconstruct_incident"]

MILESTONES = {
    "deployed_at": "deployment",
    "onset_at": "first mismatched session",
    "first_report_at": "first fault report",
    "login_disabled_at": "login disabled",
    "fix_deployed_at": "fix deployed",
    "login_enabled_at": "login re-enabled",
}
"""The named milestones of :class:`Incident` (attribute -> milestone in ``marks``)."""


@dataclass(frozen=True)
class Incident:
    """Everything notebook 01 reports, with the parameters it was computed with.

    Frames: ``offsets`` (one row per clock, :func:`clocks.estimate_offsets`), ``mismatched``
    and ``changes`` (the ``mismatched_sessions`` and ``mismatched_changes`` queries),
    ``affected`` (``possibly_affected``), ``inbox`` (every support message, classified),
    ``reports`` (the fault reports), ``marks`` (the milestones), ``sessions`` (sessions open
    between the deployment and login disabled), ``hourly``, ``times`` (response times, their
    local times in the report's language, made when asked: the analysis writes no words), ``curve`` and ``alternatives`` (the counterfactual). Milestones are attributes:
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
    curve: pl.DataFrame
    alternatives: pl.DataFrame
    binding_rate: dict[str, Any]
    window: dict[str, datetime] = field(default_factory=dict)
    """The window the analysis ran over: ``start`` (the deployment) and ``end`` (login disabled).
    A milestone the evidence lacks is replaced by the web log's span (see
    :func:`workbench.queries.absence.window_or_span`); what depends on it is recorded as unknown."""
    annotations: tuple[Any, ...] = ()
    """The active annotations on the case read from ``notes`` (:mod:`workbench.notes.reviews`); the
    support messages among them tagged ``confirmed`` or ``false-positive`` set ``inbox.is_report`` by hand."""

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
        """The first page that showed a member another member's account (it may come after the login)."""
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

    @property
    def times(self) -> pl.DataFrame:
        """The response times (:func:`response_times`), ``from_local``/``to_local`` in the current report language.

        Made when asked, not when the incident is reconstructed: a run of several copies
        reconstructs once and shows it in each copy's language.
        """
        return response_times(self.marks, self.timezone)

    def response(self, measure: str) -> dict[str, Any]:
        """The row of ``times`` for ``measure`` (``"time_to_detect"``, ``"time_to_contain"``, ``"onset_to_fix"``)."""
        return _named_row(self.times, "measure", measure, "measure")

    def alternative(self, name: str) -> dict[str, Any]:
        """The counterfactual row ``name`` (``"actual"``, ``"on_call"``, ``"at_first_report"``, ...)."""
        return _named_row(self.alternatives, "alternative", name, "alternative")

    @property
    def unclassified(self) -> pl.DataFrame:
        """Messages between the deployment and login disabled that the rules did not classify as reports.

        A message an investigator already set by hand (confirmed or false-positive) is not listed: it was read.
        """
        return unclassified_messages(
            self.inbox.filter(pl.col("set_by_hand").is_null()), self.window["start"], self.window["end"]
        )

    def annotation_list(self, audience: str, kinds: Iterable[str] | None = None) -> pl.DataFrame:
        """The annotations read from the notes, fit for ``audience`` (see :func:`workbench.notes.reviews.annotation_list`)."""
        return annotation_list(self.annotations, audience, kinds=None if kinds is None else tuple(kinds))

    def daily(self) -> pl.DataFrame:
        """Per local day: mismatched sessions and the accounts they showed to another person."""
        return daily_summary(self.mismatched, timezone=self.timezone)

    def events(self) -> pl.DataFrame:
        """Every event of the incident as one row, for :class:`workbench.widgets.TimelineExplorer`."""
        return timeline_events(
            self.case,
            self.mismatched,
            self.reports,
            self.marks,
            self.changes,
            idle_timeout_minutes=self.idle_timeout_minutes,
        )

    @cached_property
    def handwritten_score(self) -> dict[str, Any]:
        """Precision and recall of the shipped rules (without extra phrases) on the held-out hand-written corpus."""
        return evaluate(handwritten_corpus("test"))

    @cached_property
    def validation(self) -> dict[str, Any]:
        """How the rules scored on generated cases, and each hand-written round (see :func:`validation_record`)."""
        return validation_record()

    def uncertainty_minutes(self, measure: str) -> Any:
        """The clock uncertainty of response time ``measure`` in minutes; Unknown, saying which clock, when not estimated."""
        from ..values import Unknown

        row = self.response(measure)
        if row["uncertainty_minutes"] is not None or row["hours"] is None:
            return row["uncertainty_minutes"]
        ends = self.marks.filter(pl.col("milestone").is_in([row["from"], row["to"]]))
        sources = [_CLOCK_OF.get(kind, clocks.REFERENCE) for kind in ends["kind"]]
        why = [w for c in dict.fromkeys(sources) if (w := clocks.why_unknown(self.offsets, c, "uncertainty_seconds"))]
        return Unknown(translate("; ".join(why) or "a clock of this measure could not be estimated"))

    def record(self, findings: Any, section: str) -> dict[str, Any]:
        """Record the figures of ``section`` (one of :data:`SECTIONS`, e.g. ``"clocks"``) into ``findings``."""
        return record_section(findings, self, FIGURES, section, WHY_NONE)


def reconstruct_incident(
    case: Case,
    *,
    timezone: str = DISPLAY_TZ,
    idle_timeout_minutes: int = DEFAULT_IDLE_TIMEOUT_MINUTES,
    on_call_delay_hours: float = 1.0,
    extra_report_phrases: Iterable[str] = (),
    notes: str | os.PathLike[str] | None = None,
) -> Incident:
    """Rebuild the incident from the case: notebook 01's analysis in one call.

    ``idle_timeout_minutes`` ends sessions whose logout the log does not hold (see
    :mod:`workbench.queries.websessions`); ``on_call_delay_hours`` is how long on-call staff
    would take to act on the first report; ``extra_report_phrases`` are investigators' own
    wordings of a fault report, e.g. ``["fel konto"]``; ``notes`` the notes database whose
    ``confirmed`` / ``false-positive`` support messages override the rules (None: the one beside
    the case, if any; see :mod:`workbench.notes.reviews`).
    """
    phrases = tuple(extra_report_phrases)
    offsets = clocks.estimate_offsets(case)
    mismatched = run("mismatched_sessions", case)
    changes = run("mismatched_changes", case)
    affected = run("possibly_affected", case)  # the window defaults to the web log's span without milestones
    annotations = read_annotations(case, notes)
    inbox = apply_hand_review(classified_inbox(case, offsets, phrases), review_verdicts(annotations, "support_message"))
    reports = fault_reports(case, offsets, inbox=inbox)
    window = run("incident_window", case)
    marks = milestones(window, mismatched, reports, offsets)
    # A case without the deployment or the incident log still gets every answer that does not
    # need them: the web log's span stands in, and the figures that need them are unknown.
    span = window_or_span(window.row(0, named=True), case)
    deployed = _at(marks, "deployment") or span["deployed_at"]
    disabled = _at(marks, "login disabled") or span["login_disabled_at"]
    hourly = hourly_series(case, reports, idle_timeout_minutes=idle_timeout_minutes)
    # through the instant login was disabled: a login logged then happened (the query's end is open)
    through = disabled + timedelta(microseconds=1)
    sessions = run("sessions", case, start=deployed, end=through, idle_timeout_minutes=idle_timeout_minutes)
    rate = counterfactual.binding_rate(sessions, mismatched, start=deployed, end=disabled)
    curve = counterfactual.shutdown_curve(mismatched, changes, start=deployed, end=disabled)
    alternatives = counterfactual.alternatives(
        mismatched,
        changes,
        deployed_at=deployed,
        first_report_at=_at(marks, "first fault report"),
        login_disabled_at=disabled,
        on_call_delay_hours=on_call_delay_hours,
    )
    return Incident(
        case=case,
        timezone=timezone,
        idle_timeout_minutes=idle_timeout_minutes,
        on_call_delay_hours=on_call_delay_hours,
        extra_report_phrases=phrases,
        offsets=offsets,
        mismatched=mismatched,
        changes=changes,
        affected=affected,
        inbox=inbox,
        reports=reports,
        marks=marks,
        sessions=sessions,
        hourly=hourly,
        curve=curve,
        alternatives=alternatives,
        binding_rate=rate,
        window={"start": deployed, "end": disabled},
        annotations=annotations,
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


_CLOCK_OF = {"report": "mail", "action": "incident log"}  # milestone kind -> the clock its time is on

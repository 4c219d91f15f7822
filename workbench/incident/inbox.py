"""The support inbox as fault reports: every message classified, its time moved onto the web clock.

:func:`classified_inbox` classifies once (:mod:`workbench.incident.classify`) and corrects
the mail server's clock (:mod:`workbench.incident.clocks`); :func:`fault_reports` and
:func:`unclassified_messages` are the two halves an investigator reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl

from ..queries import run
from . import clocks
from .classify import classify

if TYPE_CHECKING:
    from ..case import Case

__all__ = ["classified_inbox", "fault_reports", "unclassified_messages"]

_REPORT_COLUMNS = (
    "message_id",
    "received_at",
    "reported_at",
    "channel",
    "sender_applicant_id",
    "sender_address",
    "subject",
    "rule",
    "matched_text",
)


def classified_inbox(case: Case, offsets: pl.DataFrame, extra_phrases: Iterable[str] = ()) -> pl.DataFrame:
    """Every support message, classified, with ``reported_at`` on the web clock.

    ``received_at`` stays as the mail server stamped it; ``reported_at`` is corrected by the
    mail clock's estimated offset. ``is_report``, ``rule`` and ``matched_text`` say whether
    and why each was classified as a report (see :mod:`workbench.incident.classify`);
    ``extra_phrases`` are investigators' own phrases. Classify once, then take
    :func:`fault_reports` and :func:`unclassified_messages` from it.
    """
    inbox = classify(run("support_inbox", case), extra_phrases)
    return clocks.correct(inbox, "received_at", offsets, "mail", into="reported_at")


def fault_reports(
    case: Case, offsets: pl.DataFrame, extra_phrases: Iterable[str] = (), *, inbox: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Support messages that report the fault, with ``reported_at`` on the web clock.

    From ``inbox`` (:func:`classified_inbox`) when given, else classified now. ``rule`` and
    ``matched_text`` say why each was classified.
    """
    if inbox is None:
        inbox = classified_inbox(case, offsets, extra_phrases)
    hand = ["set_by_hand"] if "set_by_hand" in inbox.columns else []  # an investigator's verdict, where given
    return inbox.filter("is_report").select(*_REPORT_COLUMNS, *hand).sort("reported_at", "message_id")


def unclassified_messages(inbox: pl.DataFrame, start: datetime, end: datetime) -> pl.DataFrame:
    """Messages of ``inbox`` (:func:`classified_inbox`) received in [start, end) on the web clock, not classified as reports.

    The rules miss some wordings (see the hand-written rounds in
    :func:`workbench.incident.classify.validation_record`), so these are the messages to read before
    trusting the first-report time: message_id, reported_at, channel, subject and body.
    """
    return (
        inbox.filter(~pl.col("is_report") & (pl.col("reported_at") >= start) & (pl.col("reported_at") < end))
        .select("message_id", "reported_at", "channel", "subject", "body")
        .sort("reported_at", "message_id")
    )

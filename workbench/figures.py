"""Declared figures: what a facade records into :class:`workbench.findings.Findings`, by section.

A result object such as :class:`workbench.incident.Incident` declares each headline figure
once, with its description and the query behind it, and a notebook records one section at
a time, between the prose that explains it::

    incident.record(findings, "clocks")
    findings.say("The mail server's clock runs {mail_clock_offset_seconds} seconds ...")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import UnknownNameError
from .i18n import translate
from .values import Unknown

__all__ = ["Figure", "record_section", "sections"]


@dataclass(frozen=True)
class Figure:
    """One recorded figure: ``value`` takes the result object and returns what is recorded."""

    name: str  # "time_to_detect_hours"
    section: str  # "response times"
    description: str  # one line for the reader
    value: Callable[[Any], Any]
    query: str | None = None  # the registered query that produced it
    count: bool = False  # a count of members: suppressed when small for the public


def sections(figures: Sequence[Figure]) -> list[str]:
    """The section names of ``figures``, in declaration order."""
    return list(dict.fromkeys(f.section for f in figures))


def record_section(
    findings: Any,
    subject: Any,
    figures: Sequence[Figure],
    section: str,
    why_none: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Record every figure of ``section`` from ``subject`` into ``findings``; the values recorded, by name.

    A figure whose value is None is recorded as :class:`~workbench.values.Unknown`, with its
    reason from ``why_none`` (figure name -> why the evidence cannot answer it) when given.
    """
    chosen = [f for f in figures if f.section == section]
    if not chosen:
        raise UnknownNameError("section", section, sections(figures))
    why = why_none or {}

    def value(f: Figure) -> Any:
        got = f.value(subject)
        return Unknown(translate(why[f.name])) if got is None and f.name in why else got  # in the report's language

    return {f.name: findings.record(f.name, value(f), f.description, query=f.query, count=f.count) for f in chosen}

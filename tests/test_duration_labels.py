"""A duration's label names what is timed, not a unit: the page writes the value with its own ("42 min", "12 h 48 min")."""

from __future__ import annotations

import re

import pytest

from workbench.i18n import translations
from workbench.incident.figures import FIGURES
from workbench.values import format_value, value_kind

_DURATIONS = [f for f in FIGURES if value_kind(f.name) == "duration"]
_UNIT_WORDS = {
    "en": re.compile(r"\b(hours?|minutes?|seconds?)\b", re.IGNORECASE),
    "sv": re.compile(r"\b(timm(e|ar)|minut(er)?|sekund(er)?)\b", re.IGNORECASE),
}


def test_the_response_times_are_durations():
    names = {f.name for f in _DURATIONS}
    assert {"time_to_detect_hours", "time_to_contain_hours", "onset_to_fix_hours", "mail_clock_offset_seconds"} <= names


@pytest.mark.parametrize("figure", _DURATIONS, ids=lambda f: f.name)
def test_a_duration_label_names_no_unit_in_either_language(figure):
    assert not _UNIT_WORDS["en"].search(figure.description), figure.description
    swedish = translations("sv", "finding_label")[figure.name]
    assert not _UNIT_WORDS["sv"].search(swedish), swedish


def test_42_minutes_to_detect_reads_as_minutes_beside_its_label():
    """Last session: "Hours from onset to the first fault report: 42 min" told the reader two units."""
    (figure,) = [f for f in FIGURES if f.name == "time_to_detect_hours"]
    line = f"{figure.description}: {format_value(0.7, figure.name, 'en')}"
    assert line == "Time from onset to the first fault report: 42 min"
    swedish = f"{translations('sv', 'finding_label')[figure.name]}: {format_value(0.7, figure.name, 'sv')}"
    assert swedish == "Tid från början till den första felanmälan: 42 min"

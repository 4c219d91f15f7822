"""A clock offset reads with its direction, to the same precision as its uncertainty, in both languages.

Last session: "The mail server's clock runs -7 min (± 1 s)": -415 s rounded to minutes, so
both ends of the interval (-416 s, -414 s) also read "-7 min", and "Klockan går -7 min" is
no Swedish sentence.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from workbench.findings import Findings
from workbench.i18n import using
from workbench.values import format_clock_offset, format_duration, format_value

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "01_incident_reconstruction.ipynb"


def test_an_offset_and_both_ends_of_its_interval_read_apart():
    ends = [format_value(s, "mail_clock_offset_seconds", "en") for s in (-416, -415, -414)]
    assert ends == ["6 min 56 s behind", "6 min 55 s behind", "6 min 54 s behind"]
    assert format_value(-415, "mail_clock_offset_seconds", "sv") == "6 min 55 s efter"
    assert format_value(120, "mail_clock_offset_seconds", "sv") == "2 min före"
    assert format_value(120, "mail_clock_offset_seconds", "en") == "2 min ahead"
    assert format_clock_offset(0.2, "sv") == "i takt" and format_clock_offset(0, "en") == "in step"


def test_a_figure_in_seconds_keeps_its_seconds_and_others_round_to_minutes():
    assert format_value(125, "mail_clock_uncertainty_seconds", "en") == "2 min 5 s"
    assert format_value(3725, "difference_seconds", "en") == "1 h 2 min 5 s"
    assert format_value(180, "difference_seconds", "en") == "3 min"
    assert format_duration(-415) == "-7 min"  # a duration with no unit named keeps minutes
    assert format_value(6.92, "onset_minutes_after_login", "en") == "7 min"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Against the web servers' clock, the mail server's clock runs **6 min 55 s behind** (± **1 s**, from"),
        ("sv", "Jämfört med webbservrarnas klocka går mejlserverns klocka **6 min 55 s efter** (± **1 s**, utifrån"),
    ],
)
def test_the_notebook_sentence_says_which_way_the_mail_clock_runs(tmp_path, language, expected):
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    source = next("".join(c["source"]) for c in cells if "{mail_clock_offset_seconds}" in "".join(c["source"]))
    call = next(
        n
        for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "say"
    )
    template = ast.literal_eval(call.args[0])
    findings = Findings(tmp_path, audience="public")
    findings.record("mail_clock_offset_seconds", -415, "Mail clock")
    findings.record("mail_clock_uncertainty_seconds", 1, "Its uncertainty")
    findings.record("mail_clock_pairs", 12, "Pairs")
    with using(language):
        text = findings.text(template)
    assert text.startswith(expected), text
    assert "-" not in text.split("(")[0]

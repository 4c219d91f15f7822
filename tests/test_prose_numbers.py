"""No number in prose that differs from the table it describes (issue 17, point 6, its third rule).

Read on the tiny case's public set in English, rendered once (tests/reportkit.py). Each figure
a reader meets in words is bound to findings.json, and through it to the table of findings:

- the summary that opens index.html (each figure is marked with the finding it shows);
- the key-figure cards of the index and the key figures each report opens with (by label);
- each ``findings.say`` sentence of a report that the page shows: filled with the recorded
  values, it must read on the page as it is (a number differing from findings.json fails).

A figure is compared as a reader reads it, not as the code formats it: a time by its local
date, hour and minute; a duration by its seconds, to the precision shown; a range by its
three numbers; a count by its value. Each check is also tried on a page made to fail it.
"""

from __future__ import annotations

import calendar
import html as htmlmod
import json
import re
import string
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from reportkit import report_set
from test_reader_check import page_text

from workbench.reportset.build import notebook_paths
from workbench.reportset.translation import notebook_prose
from workbench.values import format_value, is_unknown, value_kind

ZONE = ZoneInfo("Europe/Stockholm")
MONTHS = {m: i for i, m in enumerate(calendar.month_name) if m}
SECONDS = {"hours": 3600, "minutes": 60, "seconds": 1}
FIG = re.compile(r'<strong class="wb-fig" data-finding="([^"/]+)/([^"]+)">(.*?)</strong>', re.S)


def _number(text: str) -> float | None:
    text = text.replace("\u202f", "").replace("\u00a0", "").replace("\u2212", "-")
    return float(text) if re.fullmatch(r"-?\d+(?:\.\d+)?", text) else None


def _range(low: str, likely: str, high: str) -> tuple:
    """A range as three numbers; "52 (between 52 and 52)" is the number 52, and "1–4" stays words."""
    if low == likely == high:
        return shown(low)
    return ("range", _number(low), _number(likely), _number(high))


def shown(text: str) -> tuple:
    """A figure as the page shows it, as a reader reads it: ``("time", y, m, d, H, M)``, ``("seconds", s, ±)``, …"""
    text = htmlmod.unescape(re.sub(r"<[^>]+>", "", text)).strip()
    if m := re.fullmatch(r"\w+ (\d+) (\w+) (\d{4}) at (\d\d):(\d\d)", text):
        return ("time", int(m[3]), MONTHS.get(m[2], 0), int(m[1]), int(m[4]), int(m[5]))
    if m := re.fullmatch(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d)(?::\d\d)? [A-Z]+", text):
        return ("time", *(int(g) for g in m.groups()))
    if m := re.fullmatch(r"(-?)(?:(\d+) h)? ?(?:(\d+) min)? ?(?:([\d.]+) s)?", text):
        if any(m.groups()[1:]):
            h, mi, s = (float(g or 0) for g in m.groups()[1:])
            finest = 0.5 if m[4] else 30 if m[3] else 1800
            return ("seconds", (-1 if m[1] else 1) * (h * 3600 + mi * 60 + s), finest)
    if m := re.fullmatch(r"(.+) (ahead|behind)", text):  # a clock offset says its sign in words
        inner = shown(m[1])
        if inner[0] == "seconds":
            return ("seconds", (-1 if m[2] == "behind" else 1) * inner[1], inner[2])
    if text == "in step":
        return ("seconds", 0.0, 0.5)
    if m := re.fullmatch(r"between (\S+) and (\S+); most likely about (\S+)", text):
        return _range(m[1], m[3], m[2])
    if m := re.fullmatch(r"(\S+) \(between (\S+) and (\S+)\)", text):
        return _range(m[2], m[1], m[3])
    if text == "none":
        return ("number", 0.0, 0.0)
    if text.endswith(" percentage points"):  # a difference of two shares: read as the percentages are
        text = text.removesuffix(" percentage points") + "%"
    if (n := _number(text.removesuffix("%"))) is not None:
        decimals = len(text.removesuffix("%").partition(".")[2])
        return ("percent" if text.endswith("%") else "number", n, 0.5 * 10**-decimals)
    return ("words", text)


def recorded(value, name: str) -> tuple:
    """A findings.json value in the same terms as :func:`shown`."""
    if isinstance(value, dict) and {"min", "likely", "max"} <= set(value):
        low, likely, high = (recorded(value[k], name) for k in ("min", "likely", "max"))
        return likely if low == high else ("range", low[1], likely[1], high[1])
    if isinstance(value, bool):
        return ("words", "yes" if value else "no")
    if isinstance(value, list):
        return ("number", float(len(value)))
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+[+-]\d\d:\d\d", value):
        t = datetime.fromisoformat(value).astimezone(ZONE)
        return ("time", t.year, t.month, t.day, t.hour, t.minute)
    if not isinstance(value, int | float):
        return ("words", str(value))
    if value_kind(name) == "duration":
        unit = next(u for u in SECONDS if u in name.split("_")[1:])
        return ("seconds", float(value) * SECONDS[unit])
    return ("number", float(value))


def agree(page: tuple, record: tuple) -> bool:
    """Whether what the page shows is the recorded figure, to the precision the page shows it."""
    if page[0] == "percent" and record[0] == "number":
        return any(abs(page[1] - v) <= page[2] + 1e-9 for v in (record[1], 100 * record[1]))
    if page[0] != record[0]:
        return (page == ("words", "yes") and record == ("words", "True")) or (
            page == ("words", "no")
            and record
            == (
                "words",
                "False",
            )
        )
    if page[0] in ("number", "seconds"):
        return abs(page[1] - record[1]) <= page[2] + 1e-9
    return page == record


def index_problems(index: str, findings: dict[str, dict]) -> list[str]:
    """Where the index's summary or key-figure cards say a figure other than findings.json and its table."""
    found = []
    for notebook, name, text in FIG.findall(index):
        entry = findings.get(notebook, {}).get(name)
        if entry is None:
            found.append(f"the summary shows {notebook}/{name}, which no findings.json records")
        elif not agree(shown(text), recorded(entry["value"], name)):
            found.append(f"the summary says {text!r} for {name}; findings.json has {entry['value']!r}")
    # each report's section: its key-figure cards, then its table of every finding, in findings.json's order
    for section in re.split(r"<h3>", index)[1:]:
        notebook = re.search(r'href="([^"/]+)/', section)[1]
        entries = findings[notebook]
        rows = re.findall(r"<tr><td>([^<]*)</td><td class=\"num\">([^<]*)</td>", section)
        assert len(rows) == len(entries), notebook
        for (label, value), (name, entry) in zip(rows, entries.items(), strict=True):
            assert htmlmod.unescape(label) == entry["description"], (notebook, name)
            if not agree(shown(value), recorded(entry["value"], name)):
                found.append(f"the table of {notebook} says {value!r} for {name}; findings.json has {entry['value']!r}")
        by_label = {e["description"]: (n, e) for n, e in entries.items()}
        for value, label in re.findall(r'<div><div class="v">([^<]*)</div>([^<]*)</div>', section):
            name, entry = by_label[htmlmod.unescape(label).strip()]
            if not agree(shown(value), recorded(entry["value"], name)):
                found.append(f"the card of {name} in {notebook} says {value!r}; findings.json has {entry['value']!r}")
    return found


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("*", "")).strip()  # Markdown emphasis marks left out


def report_problems(page: str, findings: dict[str, dict], templates: list[str]) -> list[str]:
    """Where a report's key figures, or a sentence it says, show a figure other than findings.json."""
    found = []
    by_label = {e["description"]: (n, e) for n, e in findings.items()}
    key = re.search(r'<h2 id="[^"]*">Key figures.*?</ul>', page, re.S)
    for label, value in re.findall(r"<li>(.*?): <strong>(.*?)</strong></li>", key[0] if key else "", re.S):
        name, entry = by_label[htmlmod.unescape(label).strip()]
        if not agree(shown(value), recorded(entry["value"], name)):
            found.append(f"the key figure {name} says {value!r}; findings.json has {entry['value']!r}")
    text = _plain(page_text(page))
    for template in templates:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f]
        if not fields or any(f not in findings or is_unknown(findings[f]["value"]) for f in fields):
            continue
        # the template's longest piece of words says whether the page says this sentence at all
        pieces = [_plain(lit) for lit, _, _, _ in string.Formatter().parse(template) if lit and "`" not in lit]
        anchor = max(pieces, key=len, default="")
        if len(anchor) < 12 or anchor not in text:
            continue
        values = {f: format_value(findings[f]["value"], f) for f in fields}
        sentence = _plain(template.format_map(values))
        if sentence not in text:
            at = text.index(anchor)
            found.append(
                f"the page says {text[max(0, at - 80) : at + len(anchor) + 80]!r}; findings.json: {sentence!r}"
            )
    return found


@pytest.fixture(scope="module")
def public_set(tiny_duckdb, tmp_path_factory) -> Path:
    return report_set(tmp_path_factory, tiny_duckdb, "public")


def _findings(root: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(root.glob("*/findings.json"))}


def test_the_summary_and_key_figures_of_the_index_say_what_findings_json_and_its_tables_say(public_set):
    index = (public_set / "index.html").read_text(encoding="utf-8")
    findings = _findings(public_set)
    assert len(FIG.findall(index)) >= 20 and index.count('class="v"') >= 15  # it reads the figures, not nothing
    assert index_problems(index, findings) == []


def test_every_sentence_and_key_figure_of_a_report_says_what_findings_json_says(public_set):
    findings = _findings(public_set)
    said = 0
    for path in notebook_paths():
        page = (public_set / path.stem / f"{path.stem}.html").read_text(encoding="utf-8")
        templates = [t for t in notebook_prose(path) if "{" in t]
        assert report_problems(page, findings.get(path.stem, {}), templates) == [], path.stem
        text = _plain(page_text(page))
        said += sum(
            _plain(t.format_map({f: format_value(findings[path.stem][f]["value"], f) for f in fs})) in text
            for t in templates
            if (fs := [f for _, f, _, _ in string.Formatter().parse(t) if f])
            and all(f in findings.get(path.stem, {}) and not is_unknown(findings[path.stem][f]["value"]) for f in fs)
        )
    assert said >= 15  # sentences were found on the pages and compared, not skipped


def test_a_page_whose_prose_differs_from_its_findings_fails():
    findings = {
        "02_x": {
            "accounts_exposed": {"value": {"min": 40, "likely": 52, "max": 61}, "description": "Accounts shown"},
            "onset_at": {"value": "2013-12-13T18:23:35+00:00", "description": "Onset"},
            "time_to_detect_hours": {"value": 12.77, "description": "Hours to detect"},
        }
    }
    summary = (
        '<strong class="wb-fig" data-finding="02_x/accounts_exposed">between 40 and 61; most likely about 52</strong>'
        '<strong class="wb-fig" data-finding="02_x/onset_at">Friday 13 December 2013 at 19:23</strong>'
        '<strong class="wb-fig" data-finding="02_x/time_to_detect_hours">12 h 46 min</strong>'
        '<h3><a href="02_x/02_x.html">Report</a></h3><div class="key"><div><div class="v">52 (between 40 and 61)'
        "</div>Accounts shown</div></div><table><tbody>"
        '<tr><td>Accounts shown</td><td class="num">52 (between 40 and 61)</td></tr>'
        '<tr><td>Onset</td><td class="num">2013-12-13 19:23:35 CET</td></tr>'
        '<tr><td>Hours to detect</td><td class="num">12 h 46 min</td></tr></tbody></table>'
    )
    assert index_problems(summary, findings) == []
    wrong = summary.replace("most likely about 52", "most likely about 53").replace("19:23:35 CET", "18:23:35 CET")
    wrong = wrong.replace('class="v">52', 'class="v">51').replace("12 h 46 min</strong>", "12 h 16 min</strong>")
    found = index_problems(wrong, findings)
    assert len(found) == 4, found
    assert "summary says 'between 40 and 61; most likely about 53' for accounts_exposed" in found[0]
    assert "summary says '12 h 16 min' for time_to_detect_hours" in found[1]
    assert "table of 02_x says '2013-12-13 18:23:35 CET' for onset_at" in found[2]
    assert "card of accounts_exposed in 02_x says '51 (between 40 and 61)'" in found[3]
    template = "**{accounts_exposed}** accounts were shown to another person, from **{onset_at}**."
    page = (
        '<h2 id="Key-figures">Key figures</h2><ul><li>Accounts shown: <strong>52 (between 40 and 61)</strong></li></ul>'
        "<p><strong>52 (between 40 and 61)</strong> accounts were shown to another person, from "
        "<strong>2013-12-13 19:23:35 CET</strong>.</p>"
    )
    assert report_problems(page, findings["02_x"], [template]) == []
    bad = page.replace("<p><strong>52", "<p><strong>53").replace("<strong>52 (", "<strong>50 (", 1)
    found = report_problems(bad, findings["02_x"], [template])
    assert len(found) == 2 and "key figure accounts_exposed says '50" in found[0] and "53 (between" in found[1]


def test_the_sentence_on_changes_by_others_counts_changes_not_fields(public_set, tiny_case):
    """The figure is the planted changes' count, and the sentence calls it changes: it said "fields" before.

    The same field of one account changed twice is two changes, so "N fields changed" would
    overstate the fields whenever that happened.
    """
    truth = tiny_case.truth("unauthorized_changes")
    text = _plain(page_text((public_set / "02_exposure_and_changes" / "02_exposure_and_changes.html").read_text()))
    accounts = truth["owner_account_id"].n_unique()
    # as the index's summary says it ("Someone other than the owner made N changes ..."): many people, not one
    assert f"someone other than the owner made {truth.height} changes to profile fields on {accounts} accounts" in text
    assert "fields changed by another person" not in text

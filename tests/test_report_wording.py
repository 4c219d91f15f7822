"""Wording a reader would quote: labels beside their values, in both languages."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from workbench.i18n import translations

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _recorded_label(notebook: str, name: str) -> str:
    """The English description notebook ``notebook`` records finding ``name`` with."""
    cells = json.loads((NOTEBOOKS / notebook).read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse("".join(cell["source"]))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "record"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value == name
            ):
                return ast.literal_eval(node.args[2])
    raise AssertionError(f"{notebook} records no {name}")


def test_the_absent_tables_label_does_not_run_into_its_count():
    """Last session: 'Evidence tables with no file at ingest: what needs them is unknown, not 0: 0'."""
    english = _recorded_label("00_case_overview.ipynb", "evidence_tables_absent")
    swedish = translations("sv", "finding_label")["evidence_tables_absent"]
    for label in (english, swedish):
        line = f"{label}: 0"
        assert line.count(":") == 1, line  # the only colon is the one before the value
        assert not re.search(r"\b0: 0$", line), line
    assert english.startswith("Evidence tables with no file at ingest (")


def test_a_bounded_figure_is_labelled_for_one_number_and_its_range_says_itself():
    """Last session: '(lowest, most likely, highest)' beside a single number when the three agreed."""
    from workbench.exposure.review import FIGURES
    from workbench.values import Bounds, format_value

    three = re.compile(r"min, likely, max|lowest, most likely, highest|lägst, troligast, högst", re.IGNORECASE)
    swedish = translations("sv", "finding_label")
    for figure in FIGURES:
        assert not three.search(figure.description), figure.description
        assert not three.search(swedish.get(figure.name, "")), swedish[figure.name]
    assert format_value(Bounds(52, 52, 52), "accounts_exposed", "en") == "52"
    assert format_value(Bounds(40, 52, 60), "accounts_exposed", "en") == "52 (between 40 and 60)"
    assert format_value(Bounds(40, 52, 60), "accounts_exposed", "sv") == "52 (mellan 40 och 60)"


def _flags(rows: list[tuple[str, int, str | None]]):
    from datetime import UTC, datetime

    import polars as pl

    return pl.DataFrame(
        {
            "time": [datetime(2013, 12, 11, 9, tzinfo=UTC)] * len(rows),
            "handler_id": [7] * len(rows),
            "applicant_id": [1001] * len(rows),
            "listing_id": [None] * len(rows),
            "action_id": list(range(len(rows))),
            "flag": [flag for flag, _, _ in rows],
            "detail_parts": [{"n": n, "text": text, "yes": None} for _, n, text in rows],
        },
        schema_overrides={
            "listing_id": pl.Int64,
            "detail_parts": pl.Struct({"n": pl.Int64(), "text": pl.String(), "yes": pl.Boolean()}),
        },
    )


def test_a_red_flag_of_1_day_or_1_action_says_it_in_the_singular():
    """Last session: 'queue date moved 1 days earlier'."""
    from workbench.fairness.redflags import with_details
    from workbench.i18n import using

    flags = _flags(
        [
            ("backdating", 1, None),
            ("backdating", 11, None),
            ("edit before offer", 1, None),
            ("repeated pair", 1, "profile_edit"),
            ("repeated pair", 3, "profile_edit"),
        ]
    )
    assert with_details(flags)["detail"].to_list() == [
        "queue date moved 1 day earlier",
        "queue date moved 11 days earlier",
        "offer 1 day after the edit",
        "1 action: profile_edit",
        "3 actions: profile_edit",
    ]
    with using("sv"):
        assert with_details(flags)["detail"].to_list() == [
            "ködatum flyttat 1 dag bakåt",
            "ködatum flyttat 11 dagar bakåt",
            "erbjudande 1 dag efter ändringen",
            "1 åtgärd: profile_edit",
            "3 åtgärder: profile_edit",
        ]


def test_the_findings_list_of_one_report_reads_for_one_finding_too():
    """Last session: 'All 1 finding of this report'."""
    from workbench.i18n import t

    assert t("all_findings", "en", n=1) == "1 finding recorded in this report"
    assert t("all_findings", "en", n=12) == "12 findings recorded in this report"
    assert t("all_findings", "sv", n=1) == "1 uppgift redovisad i rapporten"
    assert t("all_findings", "sv", n=12) == "12 uppgifter redovisade i rapporten"


def test_the_response_times_table_writes_every_duration_to_the_minute():
    """Last session: the 'Hours' column read 12,8 / 48,39 / 110,8, three precisions, beside '48 h 23 min' in the text."""
    from workbench.i18n import column_label
    from workbench.values import format_value, value_kind

    assert value_kind("hours") == "duration" and value_kind("n_hours") is None
    column = [format_value(h, "hours", "sv") for h in (12.8, 48.39, 110.8)]
    assert column == ["12 h 48 min", "48 h 23 min", "110 h 48 min"]
    assert format_value(48.39, "hours", "en") == format_value(48.39, "time_to_detect_hours", "en")
    for language, unit in (("en", r"\bhours?\b"), ("sv", r"\btimm(e|ar)\b")):
        assert not re.search(unit, column_label("hours", language), re.IGNORECASE)  # the cells carry the unit


def test_the_target_power_reads_as_every_other_text_writes_it():
    """Last session: '80,0 % styrka' in the verdict beside '80 % styrka' in the labels."""
    from workbench.fairness.mde import power_statement
    from workbench.i18n import using

    for language, whole in (("en", "80%"), ("sv", "80\u202f%")):
        with using(language):
            texts = [
                power_statement(named=named, covered=covered, too_few=True)
                for named in (True, False)
                for covered in (True, False)
            ]
        for text in texts:
            assert whole in text and "80.0" not in text and "80,0" not in text, text
    swedish = translations("sv", "finding_label")["mde_ceiling_percent"]
    assert "80 % styrka" in swedish.replace("\u202f", " ")


def test_notebook_02_names_columns_by_the_headings_the_reader_sees():
    """Last session: 'The column widened_by', 'without account_id', '`likely`' beside tables headed otherwise."""
    from workbench.exposure.review import FIGURES
    from workbench.i18n import column_label

    cells = json.loads((NOTEBOOKS / "02_exposure_and_changes.ipynb").read_text(encoding="utf-8"))["cells"]
    prose = []
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            prose.append(source)
        else:
            prose += [
                ast.literal_eval(node.args[0])
                for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.Call)
                and getattr(node.func, "attr", "") == "say"
                and not isinstance(node.args[0], ast.Name)  # the Art. 33 template, checked below
            ]
    prose += [f.description for f in FIGURES]
    from workbench.exposure.notify import ART33_TEMPLATE

    prose.append(ART33_TEMPLATE)
    code_names = re.compile(r"\baccount_id\b|\bwidened_by\b|`(min|max|likely)`|\*\*(min|max|likely)\*\*")
    found = [hit.group(0) for text in prose for hit in code_names.finditer(text)]
    assert found == [], found
    shown = "\n".join(prose)
    assert f"*{column_label('widened_by', 'en')}*" in shown  # the heading the table shows
    for name in ("min", "likely", "max"):
        assert f"**{column_label(name, 'en')}**" in shown

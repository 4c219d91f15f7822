"""The restore figures, the sentences that quote them and the restore table agree, in both languages.

Hand-written change log of four fields another person changed (invented accounts):

- account 11, email: changed by another person, never touched again          -> restore
- account 12, phone: changed twice in a row by another person (one run)      -> restore
- account 13, phone: changed by another, then the owner put the old value back -> none (owner restored)
- account 14, annual_income: changed by another, then the owner set a new value -> review

So 2 fields to restore, 1 the owner already restored, 1 to review: 4 rows, 5 changes by others.
"""

from __future__ import annotations

import ast
import json
import re
import string
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from workbench.exposure.changes import ChangeLog
from workbench.exposure.review import FIGURES
from workbench.figures import record_section
from workbench.findings import Findings
from workbench.i18n import messages, using

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "02_exposure_and_changes.ipynb"
START, END = datetime(2013, 12, 13, 8, tzinfo=UTC), datetime(2013, 12, 15, 8, tzinfo=UTC)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2013, 12, 14, hour, minute, tzinfo=UTC)


# change_id, time, account_id, actor, field, old, new
ROWS = [
    (1, at(10), 11, 21, "email", "a@example.com", "x@example.com"),
    (2, at(10, 5), 12, 22, "phone", "070-1", "070-2"),
    (3, at(10, 6), 12, 22, "phone", "070-2", "070-3"),
    (4, at(11), 13, 23, "phone", "070-4", "070-9"),
    (5, at(12), 13, 13, "phone", "070-9", "070-4"),  # the owner puts the old value back
    (6, at(11, 30), 14, 24, "annual_income", "300000", "1"),
    (7, at(13), 14, 14, "annual_income", "1", "320000"),  # the owner sets a new value
    (8, at(9), 15, 15, "email", "b@example.com", "c@example.com"),  # the owner's own change
]


def change_log() -> ChangeLog:
    frame = pl.DataFrame(
        [
            {
                "change_id": cid,
                "time": t,
                "session_id": f"s{actor}",
                "account_id": account,
                "actor_applicant_id": actor,
                "actor_type": "own" if actor == account else "other",
                "in_window": True,
                "field": field,
                "old_value": old,
                "new_value": new,
            }
            for cid, t, account, actor, field, old, new in ROWS
        ]
    )
    return ChangeLog(START, END, frame)


class _Review:
    """What the restore and change figures read from a review: the change log and its restore list."""

    def __init__(self, changes: ChangeLog):
        self.changes = changes
        self.restore = changes.restore_list()


def _notebook_sentence(marker: str) -> str:
    """The template of the ``findings.say(...)`` call in the notebook 02 cell that contains ``marker``."""
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    source = next("".join(c["source"]) for c in cells if c["cell_type"] == "code" and marker in c["source"][0])
    call = next(
        n
        for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "say"
    )
    return ast.literal_eval(call.args[0])


def _record(tmp_path: Path) -> tuple[Findings, pl.DataFrame]:
    review = _Review(change_log())
    findings = Findings(tmp_path, audience="investigator")
    record_section(findings, review, FIGURES, "changes")
    record_section(findings, review, FIGURES, "restore")
    return findings, review.restore


def test_the_restore_list_gives_one_action_per_field_changed_by_another():
    restore = change_log().restore_list()
    actions = dict(restore.select("account_id", "action").iter_rows())
    assert actions == {
        11: "restore",
        12: "restore",
        13: "none: owner already restored it",
        14: "review: owner changed the field later",
    }
    assert restore.filter(pl.col("account_id") == 12)["change_ids"].item() == "2 3"


def test_the_restore_figures_are_the_counts_of_the_table_actions(tmp_path):
    findings, restore = _record(tmp_path)
    by_action = dict(restore.group_by("action").len().iter_rows())
    shown = findings.load()
    assert shown["field_changes_to_restore"]["value"] == by_action["restore"] == 2
    assert shown["fields_restored_by_owner"]["value"] == by_action["none: owner already restored it"] == 1
    assert shown["restore_conflicts"]["value"] == by_action["review: owner changed the field later"] == 1
    # every row of the table is one of the three
    total = sum(
        shown[n]["value"] for n in ("field_changes_to_restore", "fields_restored_by_owner", "restore_conflicts")
    )
    assert total == restore.height


@pytest.mark.parametrize("language", ["en", "sv"])
def test_the_notebook_sentence_quotes_the_table_counts(tmp_path, language):
    findings, restore = _record(tmp_path)
    template = _notebook_sentence('review.record(findings, "restore")')
    with using(language):
        text = findings.text(template)
    figures = [int(n) for n in re.findall(r"\*\*(\d+)\*\*", text)]
    by_action = dict(restore.group_by("action").len().iter_rows())
    expected = [
        by_action["restore"],
        by_action["none: owner already restored it"],
        by_action["review: owner changed the field later"],
    ]
    assert figures == expected, text
    # the sentence must not call all the table's rows "to be restored" or all owner changes conflicts
    assert f"**{restore.height}**" not in text


def _fill(template: str, values: dict[str, str]) -> str:
    names = {f for _, f, _, _ in string.Formatter().parse(template) if f}
    return template.format(**{n: values.get(n, "?") for n in names})


@pytest.mark.parametrize("language", ["en", "sv"])
def test_the_summary_and_the_art33_draft_say_the_same_three_counts(language):
    from workbench.exposure.notify import ART33_TEMPLATE
    from workbench.i18n import translate

    values = {"field_changes_to_restore": "17", "fields_restored_by_owner": "4", "restore_conflicts": "3"}
    story = _fill(messages(language)["story_restored"], values)
    art33 = _fill(translate(ART33_TEMPLATE, language), values)
    for text in (story, art33):
        figures = [int(n) for n in re.findall(r"\b(17|4|3|20|21|24)\b", text)]
        assert sorted(figures) == [3, 4, 17], text

"""A count of 1 reads in the singular, with its verb, in both languages: "1 session was bound", "1 fältändring"."""

from __future__ import annotations

import re
import string

import pytest

from workbench.i18n import messages, singular_after_one, t, translations


def _ones(template: str) -> str:
    fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    return template.format(*["1"] * fields.count(""), **dict.fromkeys(fields, "1"))


def test_a_message_filled_with_1_says_its_noun_and_verb_in_the_singular():
    assert t("rows_withheld", "en", n="1") == "1 per-person row is not shown in the public report."
    assert t("rows_withheld", "en", n="2") == "2 per-person rows are not shown in the public report."
    assert t("rows_withheld", "sv", n="1") == "1 rad om enskilda personer visas inte i den offentliga rapporten."
    assert t("chart.flags_left_out", "sv", n="1") == (
        "1 signal om arbete utanför arbetstid utelämnad för att diagrammet ska gå att läsa"
    )
    assert t("chart.flags_left_out", "en", n="1") == "1 off-hours flag left out to keep the chart readable"
    assert t("percentage_points", "sv", p="1") == "1 procentenhet"
    assert t("index_rendered", "en", when="x", version="v", case="c", n="1").endswith("(1 evidence file).")


def test_a_notebook_sentence_with_1_agrees_in_both_languages(tmp_path):
    from workbench.findings import Findings
    from workbench.i18n import using

    template = (
        "Of the fields another person changed, **{field_changes_to_restore}** are to be restored. "
        "In **{fields_restored_by_owner}** the owner has already put the old value back, and **{restore_conflicts}** "
        "the owner changed again later; a field the owner changed again is flagged for review with the owner, not overwritten."
    )
    findings = Findings(tmp_path, audience="public")
    findings.record("field_changes_to_restore", 1, "Fields to restore")
    findings.record("fields_restored_by_owner", 1, "Fields the owner restored")
    findings.record("restore_conflicts", 1, "Fields to review")
    assert findings.text(template).startswith(
        "Of the fields another person changed, **1** is to be restored. In **1** "
    )
    with using("sv"):
        assert findings.text(template).startswith(
            "Av fälten som en annan person ändrade ska **1** återställas. I **1** av"
        )
    findings.record("field_changes_to_restore", 3, "Fields to restore")
    assert findings.text(template).startswith("Of the fields another person changed, **3** are to be restored.")


def test_a_participle_agrees_with_a_swedish_noun_of_1():
    assert singular_after_one(
        "**1** erbjudanden besvarade, **1** intresseanmälningar gjorda och 1 återtagna", "sv"
    ) == ("**1** erbjudande besvarat, **1** intresseanmälan gjord och 1 återtagen")
    assert singular_after_one("Ytterligare\n1 felkopplade sessioner loggade in", "sv") == (
        "Ytterligare\n1 felkopplad session loggade in"
    )


@pytest.mark.parametrize(
    "text",
    [
        "11 sessions were bound",
        "1\u202f001 sessions were bound",
        "0.1 accounts",
        "2 people are",
        "1,5 dagar",
        "1 h 1 min",
    ],
)
def test_a_figure_other_than_1_is_left_alone(text):
    assert singular_after_one(text, "en") == text
    assert singular_after_one(text, "sv") == text


def test_the_summary_says_1_flagged_caseworker_was_flagged():
    from workbench.reportset.story import summary

    findings = {
        "03_queue_fairness": {
            "caseworkers_flagged": {"value": 1},
            "caseworkers_tested": {"value": 12},
        }
    }
    sentences = [s for paragraph in summary(findings, "en") for s in paragraph]
    text = " ".join("".join(p if isinstance(p, str) else p.text for p in s.parts) for s in sentences)
    assert "Of the 12 caseworkers tested, 1 was flagged for more departures than their peers." in text


# "1 sessions were", "1 are": a count of 1 followed by a plural noun or verb, as English reads it.
_ENGLISH_PLURAL_AFTER_ONE = re.compile(r"(?<![\w.,])\**1\**\s+(?:(?:[\w'-]+s|people)\s+)*(?:were|are)\b")
_SWEDISH_PLURAL_AFTER_ONE = re.compile(
    r"(?<![\w.,])\**1\**\s+(?:\w+a\s+)?\w+(?:ningar|ioner|ar|er|anden|on|mmar)\b(?!\s+(?:av|om)\b)"
)


def test_every_sentence_filled_with_1s_has_no_plural_after_the_1():
    """Every catalogue message and notebook sentence, each figure 1: no "1 sessions were", no "1 konton"."""
    english = list(messages("en").values()) + list(translations("sv", "notebook_text"))
    swedish = list(messages("sv").values()) + [
        v for v in translations("sv", "notebook_text").values() if isinstance(v, str)
    ]
    wrong = [
        hit.group(0)
        for text in english
        for hit in _ENGLISH_PLURAL_AFTER_ONE.finditer(singular_after_one(_ones(text), "en"))
    ]
    wrong += [
        hit.group(0)
        for text in swedish
        for hit in _SWEDISH_PLURAL_AFTER_ONE.finditer(singular_after_one(_ones(text), "sv"))
        if hit.group(0).split()[-1] not in _SWEDISH_SINGULAR_LOOKALIKES
    ]
    assert wrong == [], wrong


# Swedish words after a 1 that end like a plural but are not one.
_SWEDISH_SINGULAR_LOOKALIKES = {
    "efter",
    "eller",
    "har",  # "1 har ägaren ändrat": a verb, the same for one and many
    "innehåller",
    "var",
    "person",
    "session",
    "permutation",
    "under",
}


def test_one_cut_text_is_a_text_not_texts():
    assert t("texts_cut", "en", n="1", limit="1 000") == "1 text over 1 000 characters cut here"
    assert t("texts_cut", "sv", n="1", limit="1 000") == "1 text längre än 1 000 tecken har avkortats här"
    assert t("texts_cut", "sv", n="3", limit="1 000") == "3 texter längre än 1 000 tecken har avkortats här"

"""The story a reader gets first: the summary that opens each index.html, and each report's key figures.

Every figure here is read from the reports' ``findings.json``: nothing is typed. A sentence
(see the ``story_*`` texts of :mod:`workbench.wording`) names the findings it needs in braces;
:func:`summary` fills them from the report that answers its question, so the summary changes
when the findings do. A sentence whose figure is unknown (``{"unknown": reason}``) becomes
"<question>: unknown (<reason>)", and one whose report is not in the set says so; the summary
then lists the questions the case could not answer.

How a figure reads (:func:`figure_text`): a time in local time with its weekday ("Friday 13
December 2013 at 18:52"), a range in words ("between 140 and 330; most likely about 150", or
the one number when the bounds agree), a list by how many it holds, anything else as
:func:`workbench.values.format_value` writes it ("48 h 31 min").
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..i18n import current_language, messages, translate
from ..markup import markdown_text
from ..values import format_value, format_when, is_unknown, unknown_reason
from ..wording import KEY_FIGURES, how_to_read, say, singular_after_one

__all__ = [
    "STORY",
    "Figure",
    "Sentence",
    "figure_text",
    "key_figures",
    "opening_markdown",
    "summary",
    "unanswered_questions",
]


@dataclass(frozen=True)
class Figure:
    """One figure of the summary: the finding it is read from, and how it reads."""

    notebook: str  # "02_exposure_and_changes"
    name: str  # "accounts_exposed"
    text: str  # "52"


@dataclass(frozen=True)
class Sentence:
    """A sentence of the summary: text and figures in reading order; ``unanswered`` when it says a question is open."""

    question: str  # the question it answers, as the reader reads it: "How many people were affected"
    parts: tuple[str | Figure, ...]
    unanswered: bool = False


# (question, sentence, the report prefix that answers it), in reading order.
STORY: tuple[tuple[str, str, str], ...] = (
    ("question_what", "story_what", "00_"),
    ("question_when", "story_onset", "01_"),
    ("question_people", "story_people", "02_"),
    ("question_people", "story_population", "02_"),
    ("question_changed", "story_changed", "02_"),
    ("question_changed", "story_restored", "02_"),
    ("question_times", "story_detect", "01_"),
    ("question_times", "story_contain", "01_"),
    ("question_allocation", "story_allocation", "02_"),
    ("question_fairness", "story_fairness", "03_"),
    ("question_fairness", "story_caseworkers", "03_"),
)


# A sentence whose figures stand on a clock the evidence could not set against the web's: the
# uncertainties it is read with, and what it then adds ("…: unknown by how much, because …").
CAVEATS: dict[str, tuple[tuple[str, ...], str]] = {
    "story_contain": (
        ("time_to_detect_uncertainty_minutes", "time_to_contain_uncertainty_minutes"),
        "story_clock_unknown",
    ),
}


def _is_time(value: Any) -> bool:
    return isinstance(value, str) and len(value) >= 20 and value[10:11] == "T" and value[-6:-5] in "+-"


def figure_text(value: Any, name: str, language: str | None = None) -> str:
    """A figure as the summary says it (see the module's doc): bounds in words, times with the weekday."""
    lang = language or current_language()
    if isinstance(value, Mapping) and {"min", "likely", "max"} <= set(value):
        low, likely, high = (figure_text(value[k], name, lang) for k in ("min", "likely", "max"))
        return low if low == high else say("range_words", lang, low=low, high=high, likely=likely)
    if isinstance(value, list):
        return format_value(len(value), None, lang)
    if _is_time(value):
        return format_when(value, language=lang)
    text = format_value(value, name, lang)
    return translate(text, lang) if isinstance(value, str) else text  # "does not hold": "stämmer inte"


def _lookup(name: str, prefix: str, findings: Mapping[str, Mapping[str, Any]]) -> tuple[str, Any] | None:
    """(notebook, recorded entry) of ``name``: from the report starting ``prefix`` if it has it, else the first that does."""
    order = sorted(findings, key=lambda nb: (not nb.startswith(prefix), nb))
    return next(((nb, findings[nb][name]) for nb in order if name in findings[nb]), None)


def _sentence(question: str, key: str, prefix: str, findings: Mapping[str, Mapping[str, Any]], lang: str) -> Sentence:
    parts: list[str | Figure] = []
    asked = say(question, lang)
    for literal, field, _, _ in string.Formatter().parse(messages(lang)[key]):
        if literal:
            if parts and isinstance(parts[-1], Figure) and parts[-1].text == "1":
                literal = singular_after_one("1" + literal, lang)[1:]  # "1 profile field on 1 account"
            parts.append(literal)
        if field is None:
            continue
        found = _lookup(field, prefix, findings)
        if found is None:
            return Sentence(asked, (say("story_not_covered", lang, question=asked),), unanswered=True)
        notebook, entry = found
        if is_unknown(entry["value"]):
            text = say("story_unknown", lang, question=asked, reason=unknown_reason(entry["value"]))
            return Sentence(asked, (text,), unanswered=True)
        parts.append(Figure(notebook, field, figure_text(entry["value"], field, lang)))
    uncertainties, caveat = CAVEATS.get(key, ((), ""))
    for name in uncertainties:
        found = _lookup(name, prefix, findings)
        if found is not None and is_unknown(found[1]["value"]):
            parts.append(" " + say(caveat, lang, reason=unknown_reason(found[1]["value"])))
            break
    return Sentence(asked, tuple(parts))


def summary(findings: Mapping[str, Mapping[str, Any]], language: str | None = None) -> list[list[Sentence]]:
    """The summary as paragraphs of sentences, one paragraph per question, from ``{notebook: findings}``.

    A question two sentences answer, each unknown for the same reason, says so once.
    """
    lang = language or current_language()
    paragraphs: dict[str, list[Sentence]] = {}
    for question, key, prefix in STORY:
        sentence = _sentence(question, key, prefix, findings, lang)
        said = paragraphs.setdefault(question, [])
        if not (sentence.unanswered and sentence in said):
            said.append(sentence)
    return list(paragraphs.values())


def unanswered_questions(paragraphs: Sequence[Sequence[Sentence]]) -> list[str]:
    """The questions of the summary it could not answer, in reading order, each once."""
    return list(dict.fromkeys(s.question for p in paragraphs for s in p if s.unanswered))


def key_figures(notebook: str, findings: Mapping[str, Any], language: str | None = None) -> list[dict[str, str]]:
    """The key figures of one report that it recorded: ``[{"name", "label", "value"}]``, unknown ones with their reason."""
    return [
        {
            "name": name,
            "label": findings[name]["description"],
            "value": figure_text(findings[name]["value"], name, language),
        }
        for name in KEY_FIGURES.get(notebook, ())
        if name in findings
    ]


def opening_markdown(notebook: str, findings: Mapping[str, Any], language: str | None = None) -> str | None:
    """The Markdown a report page opens with, after its title: its key figures and how to read it."""
    lang = language or current_language()
    figures = key_figures(notebook, findings, lang)
    how = how_to_read(notebook, lang)
    if not figures and not how:
        return None
    lines = []
    if figures:
        lines += [f"## {say('key_figures', lang)}", ""]
        lines += [f"- {markdown_text(f['label'])}: **{markdown_text(f['value'])}**" for f in figures]
        lines.append("")
    if how:
        lines.append(f"**{markdown_text(say('how_to_read', lang))}.** {markdown_text(how)}")
    return "\n".join(lines)

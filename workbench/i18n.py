"""The report's language: one message catalogue per language, and the language a text is written in.

Every word the workbench writes around figures (units, yes/no, banners, the summary, table
headers, "how to read this") is a message in ``workbench/locales/<language>.yaml``, looked
up by key: ``t("money", "sv", amount="1 200")`` gives ``"1 200 kr"``. Both catalogues hold
the same keys (``tests/test_i18n.py`` fails otherwise).

The notebooks are written in English; their Swedish lives in ``sv.yaml`` too, in four
sections keyed by the English they translate:

- ``finding_label``: the label of each finding, by its name (``accounts_exposed``);
- ``notebook_text``: a sentence of a notebook's code (a ``findings.say`` template, a caption), by
  its English text: :func:`translate`;
- ``query_description``: what each registered query returns, by the query's name (the
  provenance section shows it): :func:`query_description`;
- ``notebook_cell``: each Markdown cell, by notebook and cell id, with the SHA-256 (first 12 hex
  digits) of the English it translates: :func:`cell_text`. A changed English cell makes
  the translation stale, and the test names it.

A notebook says its language once (``set_language(language)``, from its ``language``
parameter); code that renders for a language outside a notebook passes it explicitly or
uses :func:`using`.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

from .errors import WorkbenchError

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LanguageError",
    "cell_text",
    "check_language",
    "column_label",
    "current_language",
    "differences",
    "english_digest",
    "finding_label",
    "messages",
    "query_description",
    "set_language",
    "singular_after_one",
    "t",
    "translate",
    "translations",
    "using",
]

LANGUAGES = ("en", "sv")
DEFAULT_LANGUAGE = "en"
LOCALES = Path(__file__).resolve().parent / "locales"
TRANSLATION_SECTIONS = ("finding_label", "notebook_text", "notebook_cell", "query_description")
"""Sections of ``sv.yaml`` that translate the notebooks' English, keyed by it; ``en.yaml`` has none."""

_process_language = DEFAULT_LANGUAGE
_override: ContextVar[str | None] = ContextVar("workbench_language", default=None)


class LanguageError(WorkbenchError, ValueError):
    """A language the workbench has no catalogue for."""


def check_language(language: object) -> str:
    """``language`` if it is one of :data:`LANGUAGES`; else a LanguageError saying which are."""
    if language not in LANGUAGES:
        raise LanguageError(
            f"language {language!r} is not one the reports are written in; allowed: {', '.join(LANGUAGES)}"
        )
    return str(language)


def set_language(language: str) -> None:
    """Write this process's texts in ``language`` (a notebook's cell of its own after its parameters).

    It returns nothing: as the last line of its cell, a value would be printed under every report.
    """
    global _process_language
    _process_language = check_language(language)


def current_language() -> str:
    """The language texts are written in here: :func:`using`'s, else :func:`set_language`'s, else English."""
    return _override.get() or _process_language


@contextlib.contextmanager
def using(language: str) -> Iterator[str]:
    """Write texts in ``language`` inside the ``with`` block (this thread or task only)."""
    token = _override.set(check_language(language))
    try:
        yield language
    finally:
        _override.reset(token)


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, str):
            flat[name] = value
        else:
            raise LanguageError(f"{LOCALES}: message {name!r} must be text, got {value!r}")
    return flat


@cache
def _catalogue(language: str) -> dict[str, Any]:
    import yaml

    path = LOCALES / f"{check_language(language)}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise LanguageError(f"{path}: a catalogue is a mapping of message keys to texts")
    return data


@cache
def messages(language: str) -> dict[str, str]:
    """Every message of ``language`` by dotted key (``"banner.public"``), the translation sections left out."""
    data = _catalogue(language)
    return _flatten({k: v for k, v in data.items() if k not in TRANSLATION_SECTIONS})


def differences(a: Mapping[str, str], b: Mapping[str, str], names: tuple[str, str] = ("en", "sv")) -> list[str]:
    """What two catalogues' messages disagree on: a key only one has, or a key whose placeholders differ."""
    import string

    def fields(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    found = [f"{k!r} is in {names[0]}.yaml but not in {names[1]}.yaml" for k in sorted(set(a) - set(b))]
    found += [f"{k!r} is in {names[1]}.yaml but not in {names[0]}.yaml" for k in sorted(set(b) - set(a))]
    found += [
        f"{k!r} fills {sorted(fields(a[k]))} in {names[0]}.yaml but {sorted(fields(b[k]))} in {names[1]}.yaml"
        for k in sorted(set(a) & set(b))
        if fields(a[k]) != fields(b[k])
    ]
    return found


def translations(language: str, section: str) -> dict[str, Any]:
    """A translation section (:data:`TRANSLATION_SECTIONS`) of ``language``'s catalogue; empty for English."""
    return dict(_catalogue(language).get(section) or {})


def t(key: str, language: str | None = None, /, **values: object) -> str:
    """The message ``key`` in ``language`` (default: :func:`current_language`), ``values`` filled in."""
    lang = check_language(language) if language is not None else current_language()
    try:
        text = messages(lang)[key]
    except KeyError:
        raise LanguageError(f"no message {key!r} in {LOCALES / (lang + '.yaml')}") from None
    return singular_after_one(text.format(**values), lang) if values else text


# What a counted phrase becomes after a figure of exactly 1, by language: "1 sessions were bound"
# must read "1 session was bound", "1 fältändringar" "1 fältändring". A phrase carries the verb or
# participle that agrees with its noun ("offers answered"; "erbjudanden besvarade": "erbjudande
# besvarat"); the longest phrase that follows the 1 wins. Phrases from the catalogues and the
# notebooks' sentences (tests/test_plurals.py fills every one of them with 1s).
_SINGULAR: dict[str, dict[str, str]] = {
    "en": {
        "accounts": "account",
        "actions": "action",
        "accounts were": "account was",
        "allocations": "allocation",
        "allocations were": "allocation was",
        "acts come": "act comes",
        "are": "is",
        "caseworkers": "caseworker",
        "changes": "change",
        "characters": "character",
        "co-applicants": "co-applicant",
        "concurrent pairs are": "concurrent pair is",
        "contracts": "contract",
        "days": "day",
        "evidence files": "evidence file",
        "field changes": "field change",
        "field changes are": "field change is",
        "fields": "field",
        "files": "file",
        "findings": "finding",
        "further mismatched sessions": "further mismatched session",
        "held-out hand-written messages": "held-out hand-written message",
        "interests": "interest",
        "listings": "listing",
        "logins": "login",
        "logins were": "login was",
        "members": "member",
        "messages": "message",
        "mismatched sessions": "mismatched session",
        "of them conflict": "of them conflicts",
        "of those changes are": "of those changes is",
        "off-hours flags": "off-hours flag",
        "offers": "offer",
        "other support messages": "other support message",
        "page views": "page view",
        "pages": "page",
        "people": "person",
        "people are": "person is",
        "people were": "person was",
        "per-person rows are": "per-person row is",
        "percentage points": "percentage point",
        "permutations": "permutation",
        "profile fields": "profile field",
        "queue acts": "queue act",
        "queue acts were": "queue act was",
        "rendering page views lack": "rendering page view lacks",
        "rendering page views name": "rendering page view names",
        "reports": "report",
        "rows": "row",
        "sessions": "session",
        "sessions show": "session shows",
        "sessions were": "session was",
        "support messages": "support message",
        "support messages report": "support message reports",
        "support messages were": "support message was",
        "texts": "text",
        "web-form messages": "web-form message",
        "were": "was",
    },
    "sv": {
        "andra meddelanden": "annat meddelande",
        "anmälningar": "anmälan",
        "annonser": "annons",
        "bevisfiler": "bevisfil",
        "dagar": "dag",
        "erbjudanden": "erbjudande",
        "erbjudanden besvarade": "erbjudande besvarat",
        "felkopplade sessioner": "felkopplad session",
        "filer": "fil",
        "fältändringar": "fältändring",
        "inloggningar": "inloggning",
        "intresseanmälningar": "intresseanmälan",
        "intresseanmälningar gjorda": "intresseanmälan gjord",
        "konton": "konto",
        "medlemmar": "medlem",
        "meddelanden": "meddelande",
        "permutationer": "permutation",
        "personer": "person",
        "procentenheter": "procentenhet",
        "rader": "rad",
        "rapporter": "rapport",
        "samtidiga par": "samtidigt par",
        "sessioner": "session",
        "sidor": "sida",
        "sidvisningar": "sidvisning",
        "signaler": "signal",
        "texter": "text",
        "signaler om arbete utanför arbetstid utelämnade": "signal om arbete utanför arbetstid utelämnad",
        "återtagna": "återtagen",
        "uppgifter i rapporten": "uppgift i rapporten",
        "uppgifter redovisade": "uppgift redovisad",
        "åtgärder": "åtgärd",
        "ändringar": "ändring",
    },
}


@cache
def _singular_pattern(language: str) -> re.Pattern[str] | None:
    phrases = sorted(_SINGULAR.get(language, {}), key=len, reverse=True)
    if not phrases:
        return None
    # A line may break inside a phrase or between the figure and it; "21", "1 001" and "0.1" are not 1.
    alternatives = "|".join(r"\s+".join(map(re.escape, p.split())) for p in phrases)
    return re.compile(r"(?<![\w.,\u202f\u00a0–-])(\*\*1\*\*|1)(\s+)(" + alternatives + r")(?![\w-])")


def singular_after_one(text: str, language: str | None = None) -> str:
    """``text`` with a counted phrase in the singular after a figure of exactly 1.

    ``"**1** sessions cannot be settled"`` becomes ``"**1** session cannot be settled"``, ``"1 sessions
    were bound"`` ``"1 session was bound"`` (``"1 konton"``: ``"1 konto"``); ``2 sessions``, ``21 sessions``
    and ``1 000 sessions`` are left alone.
    """
    lang = language or current_language()
    pattern = _singular_pattern(lang)
    if pattern is None:
        return text
    nouns = _SINGULAR[lang]
    return pattern.sub(lambda m: m.group(1) + m.group(2) + nouns[" ".join(m.group(3).split())], text)


def column_label(name: str, language: str | None = None) -> str:
    """A table column's header in ``language``: the catalogue's ``column.<name>``, else the name itself."""
    return messages(language or current_language()).get(f"column.{name}", name)


def translate(english: str, language: str | None = None) -> str:
    """A notebook's English sentence in ``language``: the ``notebook_text`` section's entry for it, else the English."""
    lang = check_language(language) if language is not None else current_language()
    if lang == DEFAULT_LANGUAGE:
        return english
    found = translations(lang, "notebook_text").get(english)
    return found if isinstance(found, str) else english


def finding_label(name: str, english: str, language: str | None = None) -> str:
    """The label of finding ``name`` in ``language``; ``english`` is the one the notebook gave."""
    lang = check_language(language) if language is not None else current_language()
    if lang == DEFAULT_LANGUAGE:
        return english
    found = translations(lang, "finding_label").get(name)
    return found if isinstance(found, str) else english


def query_description(name: str, english: str, language: str | None = None) -> str:
    """What query ``name`` returns, in ``language``; ``english`` is its registered description."""
    lang = check_language(language) if language is not None else current_language()
    if lang == DEFAULT_LANGUAGE:
        return english
    found = translations(lang, "query_description").get(name)
    return found if isinstance(found, str) else english


def english_digest(source: str) -> str:
    """The first 12 hex digits of the SHA-256 of an English cell's text, as ``sv.yaml`` records it."""
    return hashlib.sha256(source.strip().encode("utf-8")).hexdigest()[:12]


def cell_text(notebook: str, cell_id: str, english: str, language: str) -> str | None:
    """Markdown cell ``cell_id`` of ``notebook`` in ``language``, or None when untranslated or stale.

    Stale: the English cell changed since it was translated (its digest differs from the recorded ``en``).
    """
    if check_language(language) == DEFAULT_LANGUAGE:
        return english
    entry = translations(language, "notebook_cell").get(notebook, {}).get(cell_id)
    if not isinstance(entry, Mapping) or entry.get("en") != english_digest(english):
        return None
    return str(entry["text"])

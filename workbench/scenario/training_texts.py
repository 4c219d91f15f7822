"""The generator's message templates as labelled training messages for the fault-report model.

The trained classifier (:mod:`workbench.incident.triage`) learns from the hand-written rounds
and from the messages the generator writes. The incident analysis may not import the
generator (``tests/test_layers.py``), so the generated messages ship as a CSV,
``workbench/data/fault_reports_generated.csv``, built here; ``tests/test_triage.py`` fails
when the file is not what :func:`training_messages` gives now.

Every template is filled twice with invented names (never a real person's), a time word,
a changed field and its new value, with the generator's greetings, sign-offs and typos
(lower case, Swedish letters dropped, one character dropped).
"""

from __future__ import annotations

import re

import numpy as np
import polars as pl

from . import message_texts as texts, training_effects as effects

__all__ = ["training_messages"]

# Invented names, none of them a real person's in this project.
_NAMES = ("Lena Björkvall", "Omar Haddad", "Sanna Lindqvist", "Pekka Saarinen", "Yasmin Ekdahl", "Tobias Frosterud")
_VALUES = {
    "sv": ("0734-112233", "Byggfirman Norrskog AB", "Gränsvägen 4", "412 000"),
    "en": ("0701-998877", "Nordic Cargo Ltd", "Lakeside Road 9", "38,000"),
}
_WHEN = {
    "sv": ("idag", "igår", "i lördags kl 19.40", "i fredags"),
    "en": ("today", "yesterday", "on Saturday at 19:40", "on Friday"),
}


def _fill(rng, template: str, lang: str) -> str:
    field = rng.choice(list(texts.FIELD_PHRASES[lang].values()))
    return (
        template.replace("{seen_name}", str(rng.choice(_NAMES)))
        .replace("{own_name}", str(rng.choice(_NAMES)))
        .replace("{seen_id}", str(int(rng.integers(1_000_000, 1_100_000))))
        .replace("{own_id}", str(int(rng.integers(1_000_000, 1_100_000))))
        .replace("{when}", str(rng.choice(_WHEN[lang])))
        .replace("{field}", str(field))
        .replace("{new_value}", str(rng.choice(_VALUES[lang])))
        .replace("{listing}", str(int(rng.integers(210_000, 230_000))))
        .replace("{district}", "Södermalm")
        .replace("{year}", "2014")
    )


def _typo(rng, body: str, lang: str) -> str:
    u = rng.random()
    if u < 0.1:
        return body.lower()
    if u < 0.18 and lang == "sv":
        return body.replace("å", "a").replace("ä", "a").replace("ö", "o")
    if u < 0.24 and body:
        at = int(rng.integers(0, len(body)))
        return body[:at] + body[at + 1 :]
    return body


def _effect(rng, template: str, lang: str, wrapped: bool = False) -> str:
    """An effect template (:mod:`.training_effects`) filled, with a greeting, sometimes in sms-speak.

    ``wrapped`` sets it inside a thread, a forward or after another question (:data:`~.training_effects.WRAPPERS`).
    """
    body = _slots(rng, template, lang)
    body = body[0].upper() + body[1:]
    if lang == "sv" and rng.random() < 0.3:
        body = f" {body.lower()} "
        for long, short in effects.SMS_SV:
            body = body.replace(long, short)
        body = body.strip().replace("å", "a").replace("ä", "a").replace("ö", "o")
        if rng.random() < 0.3:  # vowels dropped inside words, as some texters do
            body = re.sub(r"(?<=\w)[aeiouy](?=\w)", "", body)
    if wrapped:
        body = _slots(rng, str(rng.choice(effects.WRAPPERS[lang])).replace("{msg}", body), lang)
    return _typo(rng, str(rng.choice(texts.GREETINGS[lang])) + body, lang)


def _slots(rng, template: str, lang: str) -> str:
    return (
        template.replace("{thing}", str(rng.choice(effects.THINGS[lang])))
        .replace("{other}", str(rng.choice(effects.OTHERS)))
        .replace("{place}", str(rng.choice(effects.PLACES)))
        .replace("{n}", str(int(rng.integers(1, 4))))
        .replace("{q}", str(rng.choice(effects.CLOSINGS[lang])))
        .strip()
    )


def _effect_messages(rng, copies: int) -> list[tuple[str, int, str | None, str]]:
    """Reports told only by an effect (label 1) and their near misses (label 0), each filled ``copies`` times, then once wrapped."""
    rows: list[tuple[str, int, str | None, str]] = []
    for lang in ("sv", "en"):
        for label, bodies in (
            (1, effects.EFFECT_REPORTS[lang]),
            (0, effects.EFFECT_NEAR_MISSES[lang]),
            (0, effects.WORRY_NEAR_MISSES[lang]),
        ):
            for template in bodies:
                for k in range(copies + 1):
                    rows.append((lang, label, None, _effect(rng, template, lang, wrapped=k == copies)))
    return rows


def training_messages(copies: int = 2, seed: int = 19) -> pl.DataFrame:
    """id, lang, label, subject, body: every template of the generator, filled ``copies`` times."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[str, int, str | None, str]] = []
    for lang in ("sv", "en"):
        sources: list[tuple[int, tuple, tuple]] = [
            (1, texts.FAULT[lang], texts.FAULT_SUBJECTS[lang]),
            (1, texts.OWNER[lang], texts.OWNER_SUBJECTS[lang]),
        ]
        for entry in texts.UNRELATED.values():
            subjects, bodies = (entry[2], entry[3]) if lang == "sv" else (entry[4], entry[5])
            sources.append((0, bodies, subjects))
        for label, bodies, subjects in sources:
            for template in bodies:
                for _ in range(copies):
                    greeting = str(rng.choice(texts.GREETINGS[lang]))
                    signoff = str(rng.choice(texts.SIGNOFFS[lang]))
                    body = _typo(rng, _fill(rng, greeting + template + signoff, lang), lang)
                    subject = subjects[int(rng.integers(0, len(subjects)))]
                    rows.append((lang, label, subject, body))
    rows += _effect_messages(np.random.default_rng(seed + 1), copies)
    return pl.DataFrame(
        {
            "id": [f"g{i:04d}" for i in range(1, len(rows) + 1)],
            "lang": [r[0] for r in rows],
            "label": [r[1] for r in rows],
            "subject": [r[2] for r in rows],
            "body": [r[3] for r in rows],
        },
        schema={"id": pl.String, "lang": pl.String, "label": pl.Int64, "subject": pl.String, "body": pl.String},
    )

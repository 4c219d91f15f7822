"""Which support messages report the fault: a transparent rule set in Swedish and English.

A message reports the fault when it says that the writer landed in, or was shown, another
person's account, or that someone else changed the writer's own data. The rules, in
families, are in :mod:`workbench.incident.fault_report_rules`; each is a regular expression over a
normalised text (lower case, å/ä → a, ö → o, é → e, curly quotes straight), so "Någon annans
sida", "nagon annans sida" and "NÅGON ANNANS SIDA" match alike. Normalising keeps every
character in place, so the phrase that matched is quoted from the original message. A
wrapped line joins the next one and "> " quote marks are blanked, so a forwarded report
reads as it was written; a blank line still ends a sentence.

A match of a negatable rule is discarded when a negation stands just before it in the same
clause ("I did not see anyone else's data", "jag såg aldrig någon annans uppgifter"), when
its clause asks what could happen ("Could another user see my data?", "..., kan jag se hans
uppgifter?"), when its sentence wonders, worries, asks leave or passes on hearsay ("Jag
läste i tidningen att man kunde se någon annans sida", "a friend told me"), or when it
stands inside double quotes (a text message quoted to the writer). A rule's ``blocked_by``
drops a match in a sentence about money, a letter, a co-applicant, a relative, a listing or
a phone call: "fel konto" in a sentence about a payment is a bank account; its ``unless``
skips a whole message, e.g. one about an invoice for the "not mine" rules.

Investigators add their own phrases with ``extra_phrases``: plain text, not regular
expressions, matched with the same normalisation on word boundaries.

>>> found = classify(pl.DataFrame({"message_id": ["<a>"], "subject": [None],
...                                "body": ["Jag kom in på nån annans konto igår"]}))
>>> print(found["rule"][0], "|", found["matched_text"][0])
sv: another person's account or data | nån annans konto
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from importlib import resources

import polars as pl

from ..errors import WorkbenchError
from .fault_report_rules import RULES, Rule

__all__ = [
    "RULES",
    "RULES_SHA256",
    "Rule",
    "classify",
    "evaluate",
    "handwritten_corpus",
    "normalise",
    "rules_table",
    "score",
    "validation_record",
]

_FOLD = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u", "’": "'", "‘": "'", "´": "'", "`": "'"})
_FOLD_CASED = str.maketrans({"Å": "A", "Ä": "A", "Ö": "O", "É": "E", "Ü": "U"})


def normalise(text: str) -> str:
    """Lower case without Swedish accents, one character for one: ``"Någon"`` -> ``"nagon"``."""
    lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return lowered.translate(_FOLD)


def _soft_breaks(text: str) -> str:
    """A wrapped line joins the next, and quote marks ("> ") at a line's start are blanked.

    A blank line still ends a sentence; one character stays one character, so a match's
    place in the result is its place in the message.
    """
    text = re.sub(r"(?m)^[ \t]*>[> \t]*", lambda m: " " * len(m.group()), text)
    return re.sub(r"(?<![\n.!?])\n(?![ \t]*\n)", " ", text)


def _fold_accents(text: str) -> str:
    """Accents folded, capitals kept, one character for one: ``"Åsa Öberg"`` -> ``"Asa Oberg"``."""
    return text.translate(_FOLD).translate(_FOLD_CASED)


RULES_SHA256 = hashlib.sha256(
    json.dumps(
        [
            [r.name, r.pattern, r.negatable, r.blocked_by, r.cased, list(r.along), list(r.context), r.unless]
            for r in RULES
        ]
    ).encode()
).hexdigest()
"""Fingerprint of the rule set: a validation record applies to the rules with this hash."""

# A negation within a few words before a match, in the same sentence, cancels a negatable rule.
_NEGATION = re.compile(
    r"\b(?:inte|aldrig|ej|ingen|inga|inget|not|never|no|didn'?t|don'?t|doesn'?t|haven'?t|hasn'?t|wasn'?t|cannot|can'?t)\b"
    r"[^.!?\n,;:–-]{0,25}$"
)

# A question about what could happen is not a report of what did: a question whose clause
# opens with a modal or an auxiliary verb ("Kan någon annan se...", "Has anyone seen...").
_QUESTION_OPENER = re.compile(
    r"(?:kan|kunde|skulle|gar\s+det|ar\s+det\s+mojligt|har|hade|ar|far"
    r"|finns|kommer|could|can|would|might|may|is\s+it\s+possible|will|has|have|had|did|does|do|is|are|was|were|should)\b"
)
# Worry, wondering, risk, permission and hearsay: anywhere before the match in its sentence.
_SPECULATION = re.compile(
    r"\b(?:undrar\s+om|wonder(?:ing)?\s+(?:if|whether)|orolig\s+(?:for\s+)?att|worried\s+(?:that|if)|afraid\s+(?:that|if)"
    r"|radd\s+(?:for\s+)?att|risk(?:en)?\s+(?:att|that)|ratt\s+att|tillatet|allowed|permitted|right\s+to"
    r"|nyheter\w*|tidning\w*|radio\w*|internet|natet|tv|news|media|(?:last|laste|laser)\s+(?:om|pa|i)|read\s+(?:about|in|on|that)|heard|hort|horde"
    r"|berattade|berattat|sa\s+att|sade\s+att|enligt|told\s+me|said\s+that|according\s+to)\b"
)
# Might-have-happened, anywhere in the sentence.
_MAYBE = re.compile(
    r"\b(?:might|may\s+have|could\s+have|kan\s+ha|kunde\s+ha|skulle\s+kunna|kanske|possibly|eventuellt)\b"
)


def _speculative(sentence: str, before: str, stop: str) -> bool:
    """Whether the sentence asks or wonders what could happen, rather than telling what did."""
    if stop == "?" and _opens_clause(before):
        return True
    return _SPECULATION.search(before) is not None or _MAYBE.search(sentence) is not None


def _quoted(folded: str, at: int) -> bool:
    """Whether position ``at`` is inside a double-quoted passage ("…", “…”, «…») of its paragraph."""
    paragraph = folded.rfind("\n\n", 0, at) + 1
    before = folded[paragraph:at]
    return (
        (before.count('"') % 2 == 1)
        or (before.count("\u201c") > before.count("\u201d"))
        or (before.count("«") > before.count("»"))
    )


def _opens_clause(before: str) -> bool:
    """Whether the last clause before the match opens with a modal or auxiliary verb."""
    clause = re.split(r"[,;:]|\b(?:och|men|eller|and|but|or)\b", before)[-1].strip()
    return _QUESTION_OPENER.match(clause) is not None


def _extra_rules(phrases: Iterable[str]) -> list[Rule]:
    """Rules for investigators' phrases, named ``extra 1``, ``extra 2``, … in the order given.

    The name never quotes the phrase: rule names reach every audience (counts per rule are
    public), while a phrase is the investigator's own text and may name a person.
    """
    rules = []
    for number, phrase in enumerate(phrases, start=1):
        if not isinstance(phrase, str) or not phrase.strip():
            raise WorkbenchError(
                f"extra report phrases must be non-empty strings, got {phrase!r}; e.g. ['fick se en annans sida']"
            )
        words = normalise(phrase.strip()).split()
        pattern = r"\b" + r"\s+".join(re.escape(w) for w in words) + r"\b"
        rules.append(Rule(f"extra {number}", "any", pattern, phrase.strip()))
    return rules


def _sentence(folded: str, start: int, end: int) -> tuple[int, int]:
    """The span of the sentence around ``folded[start:end]``."""
    begin = max(folded.rfind(c, 0, start) for c in ".!?\n") + 1
    stops = [i for i in (folded.find(c, end) for c in ".!?\n") if i >= 0]
    return begin, min(stops) if stops else len(folded)


_Compiled = tuple[
    Rule, re.Pattern, re.Pattern | None, tuple[re.Pattern, ...], tuple[re.Pattern, ...], re.Pattern | None
]


def _first_match(text: str, compiled: Sequence[_Compiled]) -> tuple[str, str] | None:
    """(rule name, matched original text) of the first rule that matches, in rule order."""
    folded = _soft_breaks(normalise(text))
    cased = _soft_breaks(_fold_accents(text))
    for rule, pattern, blocker, along, context, unless in compiled:
        if not all(c.search(folded) for c in context) or (unless is not None and unless.search(folded)):
            continue
        for m in pattern.finditer(cased if rule.cased else folded):
            begin, stop = _sentence(folded, m.start(), m.end())
            sentence = folded[begin:stop]
            if rule.negatable and (
                _NEGATION.search(folded[max(begin, m.start() - 40) : m.start()])
                or _speculative(sentence, folded[begin : m.start()], folded[stop : stop + 1])
                or _quoted(folded, m.start())
            ):
                continue
            if blocker is not None and blocker.search(sentence):
                continue
            spans = [(m.start(), m.end())]
            for extra in along:
                found = extra.search(sentence)
                if found is None:
                    break
                spans.append((begin + found.start(), begin + found.end()))
            else:
                return rule.name, text[min(a for a, _ in spans) : max(b for _, b in spans)]
    return None


def classify(messages: pl.DataFrame, extra_phrases: Iterable[str] = ()) -> pl.DataFrame:
    """``messages`` with ``is_report``, ``rule`` and ``matched_text`` added.

    ``messages`` needs ``subject`` and ``body`` (e.g. the ``support_inbox`` query);
    both are read, subject first. ``extra_phrases`` are investigators' own phrases, e.g.
    ``["fick se en annans sida"]``. ``rule`` names the rule that matched, ``matched_text``
    quotes the message (free text), both null when nothing matched.
    """
    missing = [c for c in ("subject", "body") if c not in messages.columns]
    if missing:
        raise WorkbenchError(f"classify needs columns subject and body; missing {missing} in {messages.columns}")
    compiled = [
        (
            r,
            r.compiled(),
            re.compile(r.blocked_by) if r.blocked_by else None,
            tuple(re.compile(a) for a in r.along),
            tuple(re.compile(c) for c in r.context),
            re.compile(r.unless) if r.unless else None,
        )
        for r in (*RULES, *_extra_rules(extra_phrases))
    ]
    texts = (pl.col("subject").fill_null("") + "\n\n" + pl.col("body").fill_null("")).alias("_text")
    found = [_first_match(t, compiled) for t in messages.select(texts)["_text"].to_list()]
    return messages.with_columns(
        is_report=pl.Series([f is not None for f in found], dtype=pl.Boolean),
        rule=pl.Series([f[0] if f else None for f in found], dtype=pl.String),
        matched_text=pl.Series([f[1] if f else None for f in found], dtype=pl.String),
    )


def rules_table(extra_phrases: Iterable[str] = (), audience: str = "investigator") -> pl.DataFrame:
    """The rule set as a table: rule, lang, example, negatable, pattern, and what else it needs.

    ``also_in_sentence`` and ``also_in_message`` are the further patterns that must match
    (joined by " AND "); ``blocked_by`` is the pattern that drops a match in its sentence.
    For an ``audience`` that does not see free text, the example and pattern of each extra
    phrase (``extra 1``, …) are withheld: the phrase is the investigator's own text.
    """
    from ..audience import WITHHELD, Audience

    extra = _extra_rules(extra_phrases)
    rules = (*RULES, *extra)
    shown = Audience.parse(audience).sees_free_text
    own = [True] * len(RULES) + [shown] * len(extra)
    return pl.DataFrame(
        {
            "rule": [r.name for r in rules],
            "lang": [r.lang for r in rules],
            "example": [r.example if ok else WITHHELD for r, ok in zip(rules, own, strict=True)],
            "negatable": [r.negatable for r in rules],
            "pattern": [r.pattern if ok else WITHHELD for r, ok in zip(rules, own, strict=True)],
            "also_in_sentence": [" AND ".join(r.along) or None for r in rules],
            "also_in_message": [" AND ".join(r.context) or None for r in rules],
            "unless_in_message": [r.unless for r in rules],
            "blocked_by": [r.blocked_by for r in rules],
        },
        schema_overrides={
            "also_in_sentence": pl.String,
            "also_in_message": pl.String,
            "unless_in_message": pl.String,
            "blocked_by": pl.String,
        },
    )


def score(predicted: Iterable[str], actual: Iterable[str]) -> dict[str, float | int]:
    """Precision and recall of a predicted set of ids against the actual set.

    Both are 1.0 when both sets are empty; tp, fp and fn are given as counts.
    """
    p, a = set(predicted), set(actual)
    tp = len(p & a)
    return {
        "precision": tp / len(p) if p else float(not a),
        "recall": tp / len(a) if a else 1.0,
        "tp": tp,
        "fp": len(p - a),
        "fn": len(a - p),
    }


def evaluate(corpus: pl.DataFrame, extra_phrases: Iterable[str] = ()) -> dict[str, float | int]:
    """Precision and recall of the rules on a labelled corpus (columns id, subject, body, label)."""
    found = classify(corpus, extra_phrases)
    result = score(found.filter("is_report")["id"], found.filter(pl.col("label") == 1)["id"])
    return {**result, "messages": corpus.height, "reports": int((corpus["label"] == 1).sum())}


_CORPUS_SCHEMA = {
    "id": pl.String,
    "lang": pl.String,
    "label": pl.Int64,
    "subject": pl.String,
    "body": pl.String,
    "note": pl.String,
}


def handwritten_corpus(part: str = "test") -> pl.DataFrame:
    """Labelled messages written by hand (not by the generator): id, lang, label, subject, body, note.

    ``part="test"`` is the held-out corpus (round 8): written by two writers who had seen
    neither the rules nor earlier rounds, scored once with the rules frozen, and never used
    to change them. ``part="development"`` holds rounds 1 to 7 (column ``round``), each
    scored before anyone read it and then used to revise the rules; their scores at that
    time are in :func:`validation_record`. ``label`` is 1 for a report of the fault.
    ``part="fresh"`` holds rounds 9 and 10, written for the trained model
    (:mod:`workbench.incident.triage`) in the styles rounds 1 to 8 lack; round 10 is the
    model's untouched test until model version 3, which trains on it. ``part="heldout"`` holds
    rounds 11 and 12, written blind by new writers and scored once with model version 3 frozen;
    model version 4 trains on them. ``part="blind"`` holds rounds 13 and 14, written blind by
    new writers and scored once with model version 4 frozen; never trained or tuned on.
    """
    names = {
        "test": "fault_reports_handwritten.csv",
        "development": "fault_reports_handwritten_dev.csv",
        "fresh": "fault_reports_handwritten_fresh.csv",
        "heldout": "fault_reports_handwritten_heldout.csv",
        "blind": "fault_reports_handwritten_blind.csv",
    }
    if part not in names:
        raise WorkbenchError(f"unknown corpus part {part!r}; allowed: {', '.join(names)}")
    schema = (
        dict(_CORPUS_SCHEMA)
        if part == "test"
        else {"id": pl.String, "round": pl.Int64, **{k: v for k, v in _CORPUS_SCHEMA.items() if k != "id"}}
    )
    with resources.as_file(resources.files("workbench") / "data" / names[part]) as path:
        return pl.read_csv(path, schema=schema)


def validation_record() -> dict:
    """How the rules scored where the true reports are known, as the test suite measured it.

    From ``workbench/data/fault_report_validation.json``: ``cases`` (a frame: the generated
    cases' scores), ``history`` (a frame: each hand-written round as it scored before it was
    looked at), ``rules_sha256``, and ``current``, whether the record was made with the
    rules in use now (the test suite fails when it is stale).
    """
    with resources.as_file(resources.files("workbench") / "data" / "fault_report_validation.json") as path:
        record = json.loads(path.read_text(encoding="utf-8"))
    return {
        "rules_sha256": record["rules_sha256"],
        "current": record["rules_sha256"] == RULES_SHA256,
        "cases": pl.DataFrame(record["cases"]),
        "history": pl.DataFrame(record["history"]),
    }

"""Which support messages report the fault: a transparent rule set in Swedish and English.

A message reports the fault when it says that the writer landed in, or was shown, another
person's account, or that someone else changed the writer's own data. Each rule is a
regular expression over a normalised text (lower case, å/ä → a, ö → o, é → e, curly quotes
straight), so "Någon annans sida", "nagon annans sida" and "NÅGON ANNANS SIDA" match alike.
Normalising keeps every character in place, so the phrase that matched is quoted from the
original message.

A match of a "seen another's data" rule is discarded when a negation stands just before it
in the same clause ("I did not see anyone else's data", "jag såg aldrig någon annans
uppgifter") or when its sentence asks what could happen ("Could another user see my
data?"); "fel konto" / "wrong account" in a sentence about money is a bank account.

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
from dataclasses import dataclass
from importlib import resources

import polars as pl

from .errors import WorkbenchError

__all__ = [
    "Rule",
    "RULES",
    "RULES_SHA256",
    "normalise",
    "classify",
    "rules_table",
    "score",
    "evaluate",
    "handwritten_corpus",
    "validation_record",
]

_FOLD = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u", "’": "'", "‘": "'", "´": "'", "`": "'"})


def normalise(text: str) -> str:
    """Lower case without Swedish accents, one character for one: ``"Någon"`` -> ``"nagon"``."""
    lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return lowered.translate(_FOLD)


@dataclass(frozen=True)
class Rule:
    """One phrase family: ``name`` as shown to the reader, the language, and the pattern.

    ``negatable`` rules are dropped when a negation precedes the match in its sentence or
    when the sentence is a question about what could happen ("Could another user see my
    data?"); ``blocked_by`` drops a match whose sentence also matches that pattern.
    """

    name: str
    lang: str
    pattern: str
    example: str
    negatable: bool = False
    blocked_by: str | None = None

    def compiled(self) -> re.Pattern:
        return re.compile(self.pattern)


# Building blocks over normalised text.
_SV_SOMEONE = r"(?:nagon|nan|nagons|nans)"
_SV_PEOPLE = r"(?:person|kund|anvandare|sokande|manniska|kvinna|man|medlem|familj)"
_SV_KIND = rf"{_SV_PEOPLE}(?:s|ens|ns)?"
_SV_WHOSE = rf"{_SV_PEOPLE}(?:s|ens|ns)"  # possessive: "en annan persons", not "en annan person"
_SV_OTHER = (
    rf"(?:{_SV_SOMEONE}\s+annans|(?:en\s+)?(?:helt\s+)?annan\s+{_SV_WHOSE}|fel\s+{_SV_WHOSE}"
    rf"|(?:en\s+)?(?:helt\s+)?frammande(?:\s+{_SV_WHOSE})?|(?:en\s+)?framlings?)"
)
_SV_THING = (
    r"(?:konto\w*|sida|sidor|sidan|profil\w*|\w*uppgifter\w*|namn|personnummer|adress\w*|lon|inkomst"
    r"|arbetsgivare|telefonnummer|mina\s+sidor|\w*intressen)"
)
_SV_CHANGED = r"(?:andrat|andrats|bytt|bytts|andrade|andrad|redigerat|uppdaterat|raderat)"
_EN_SOME = r"(?:som+e?(?:one|body))"
_EN_OTHER = (
    rf"(?:(?:{_EN_SOME}|anyone|anybody)\s+else'?s|(?:another|a\s+different|different|other)\s+"
    r"(?:person|user|customer|applicant|member|individual|people)(?:'?s|s')|(?:a\s+)?strangers?'?s?"
    rf"|{_EN_SOME}\s+elses)"
)
_EN_THING = (
    r"(?:account|profile|page|pages|my\s+pages|details|data|info|information|name|personnummer"
    r"|address|adress|salary|income|employer|phone|social\s+security)"
)
_EN_CHANGED = r"(?:changed|edited|modified|updated|altered|replaced|deleted)"
# "Fel konto" / "wrong account" in a sentence about money is a bank account.
_MONEY = (
    r"\b(?:betal\w*|bankgiro|plusgiro|avgift\w*|faktura\w*|pengar\w*|swish\w*|overfor\w*|inbetal\w*"
    r"|paid|pay\w*|fee|fees|transfer\w*|refund\w*|invoice\w*|money|bank)\b"
)

RULES: tuple[Rule, ...] = (
    Rule("sv: another person's account or data", "sv",
         rf"\b{_SV_OTHER}\s+(?:\S+\s+){{0,3}}?{_SV_THING}\b",
         "jag hamnade på någon annans sida", negatable=True),
    Rule("sv: wrong account", "sv", r"\bfel\s+(?:konto|kundkonto|profil|mina\s+sidor)\b",
         "jag blev inloggad på fel konto", negatable=True, blocked_by=_MONEY),
    Rule("sv: logged in as someone else", "sv",
         rf"\binloggad\s+som\s+(?:en\s+annan|{_SV_SOMEONE}\s+annan|fel)\b",
         "jag var inloggad som en annan person"),
    Rule("sv: landed with someone else", "sv",
         rf"\b(?:hamnade|hamnar|kom|kommer)\s+(?:in\s+)?(?:pa|i|till|hos)\s+(?:en\s+annan|{_SV_SOMEONE}\s+annan)\b",
         "jag hamnade hos någon annan"),
    Rule("sv: account that is not mine", "sv",
         rf"\b(?:konto\w*|sida|sidor|profil\w*|uppgifter\w*)\s+som\s+(?:inte\s+ar\s+mi(?:tt|n|na)|tillhor(?:de)?\s+"
         rf"(?:en\s+annan|{_SV_SOMEONE}))\b|\binte\s+(?:mitt|mina)\s+(?:konto|sida|sidor|uppgifter|profil|namn)\b",
         "ett konto som inte är mitt"),
    Rule("sv: belonged to another", "sv",
         rf"\btillhor(?:de)?\s+(?:\S+\s+){{0,2}}?(?:en\s+annan|{_SV_SOMEONE}\s+annan|en\s+frammande)\b",
         "profilen tillhörde en annan person"),
    Rule("sv: shows another customer", "sv",
         rf"\b(?:visar|visade|visas|visades)\s+(?:en\s+)?(?:annan|fel|frammande)\s+{_SV_KIND}\b"
         rf"|\b(?:annan|fel|frammande)\s+{_SV_KIND}\s+(?:visas|visades|syns|syntes)\b",
         "Mina sidor visar en annan kund"),
    Rule("sv: details about another", "sv",
         rf"\buppgifter(?:na)?\s+(?:om|for|till)\s+(?:en\s+annan|{_SV_SOMEONE}\s+annan|en\s+frammande)\b",
         "sidan visade uppgifter om en annan person", negatable=True),
    Rule("sv: it is not me", "sv", r"\bdet\s+ar\s+inte\s+jag\b", "det stod att jag var X. Det är inte jag."),
    Rule("sv: someone changed my data", "sv",
         rf"\b(?:{_SV_SOMEONE}(?:\s+annan)?|en\s+framling)\s+(?:har\s+|hade\s+)?(?:\S+\s+){{0,2}}?"
         rf"(?:{_SV_CHANGED}|varit\s+inne)\b",
         "någon har ändrat mitt telefonnummer"),
    Rule("sv: changed by someone else", "sv",
         rf"\b{_SV_CHANGED}\s+av\s+(?:{_SV_SOMEONE}|en\s+annan|en\s+framling)\b",
         "mina uppgifter är ändrade av någon annan"),
    Rule("sv: changed, and not by me", "sv",
         r"\b(?:andrats|bytts|andrad|andrade)\b.{0,80}?\b(?:inte\s+kanner\s+igen|(?:har\s+)?inte\s+(?:jag\s+)?gjort\s+det"
         r"|det\s+har\s+inte\s+jag\s+gjort|det\s+var\s+inte\s+jag)\b",
         "adressen har ändrats till något jag inte känner igen"),
    Rule("sv: other than mine", "sv",
         r"\b(?:ett\s+annat|en\s+annan|andra)\s+(?:\S+\s+){0,4}?an\s+(?:mitt|min|mina)\b",
         "ett annat namn än mitt"),
    Rule("sv: a foreign value on my profile", "sv",
         r"\b(?:en\s+|ett\s+)?(?:annan|annat|okand|okant|frammande)\s+(?:arbetsgivare|adress|e-?postadress|telefonnummer|namn|inkomst|lon)"
         r"\s+(?:pa|i)\s+(?:min|mitt|mina)\s+(?:profil|konto|sida|sidor)\b",
         "nu står en annan arbetsgivare på min profil"),
    Rule("en: another person's account or data", "en",
         rf"\b{_EN_OTHER}\s+(?:\S+\s+){{0,3}}?{_EN_THING}\b",
         "I saw someone else's details", negatable=True),
    Rule("en: wrong account", "en",
         r"\bwrong\s+(?:account|profile|(?:user|person|customer|member)(?:'?s|s')?)\b",
         "I was put in the wrong account", negatable=True, blocked_by=_MONEY),
    Rule("en: logged in as someone else", "en",
         r"\b(?:logged|signed)\s+in\s+as\s+(?:another|someone|somebody|a\s+different|a\s+stranger)\b",
         "I was logged in as another person"),
    Rule("en: account that is not mine", "en",
         r"\bnot\s+my\s+(?:account|profile|page|data|details)\b|\b(?:was|is)(?:\s+not|n'?t)\s+mine\b",
         "the account was not mine"),
    Rule("en: details of another", "en",
         r"\b(?:details|data|profile|page|pages|account|information|info)\s+of\s+(?:someone|somebody|another|a\s+different|a\s+stranger)\b",
         "it showed the details of somebody else", negatable=True),
    Rule("en: instead of mine", "en", r"\binstead\s+of\s+(?:mine|my\s+own)\b", "the name X instead of mine"),
    Rule("en: it was not me", "en",
         r"\b(?:that'?s|thats|it'?s|its|it\s+is|that\s+is)\s+not\s+me\b|\bit\s+was(?:\s+not|n'?t)\s+me\b",
         "it said I was X?? that's not me"),
    Rule("en: someone changed my data", "en",
         rf"\b(?:{_EN_SOME}|anyone|anybody)(?:\s+else|\s+other\s+than\s+me)?\s+(?:has\s+|had\s+|must\s+have\s+)?"
         rf"(?:{_EN_CHANGED}|been\s+(?:in|into|inside))\b"
         rf"|\bdid\s+(?:{_EN_SOME}|anyone|anybody)(?:\s+else)?\s+(?:change|edit|modify|update|alter)\b",
         "someone changed my phone number"),
    Rule("en: it was someone else's", "en",
         rf"\b(?:was|were|is|are)\s+(?:{_EN_SOME}|anyone|anybody)\s+else'?s\b",
         "the profile page was someone else's"),
    Rule("en: different than mine", "en", r"\bdifferent\s+(?:\S+\s+){0,4}?(?:than|from)\s+mine\b",
         "a different name than mine"),
    Rule("en: changed, and not by me", "en",
         r"\b(?:changed|edited|updated|modified|replaced)\b.{0,80}?\b(?:i\s+did\s+not\s+do\s+(?:it|that|this)"
         r"|i\s+didn'?t\s+do\s+(?:it|that|this)|it\s+was(?:n'?t|\s+not)\s+me|not\s+by\s+me)\b",
         "my employer was changed and I did not do it"),
    Rule("en: data of a person I do not know", "en",
         r"\b(?:data|details|information|info|name|account|profile|page)\s+(?:of|about|for|belonging\s+to)\s+(?:a|an|some)\s+"
         r"(?:person|woman|man|people|customer|user)\s+(?:that\s+|who\s+|whom\s+)?i\s+(?:do\s+not|don'?t|did\s+not|didn'?t"
         r"|have\s+never|never)\s+(?:know|heard\s+of|met|recogni[sz]e)\b",
         "name and address of a person I don't know"),
    Rule("en: belonged to another", "en",
         rf"\bbelong(?:s|ed)?\s+to\s+(?:another|{_EN_SOME}(?:\s+else)?|a\s+different|a\s+stranger)\b",
         "the page belonged to a different customer"),
    Rule("en: a foreign value on my profile", "en",
         r"\b(?:a|an)\s+(?:different|unknown|strange)\s+(?:employer|address|e-?mail(?:\s+address)?|phone(?:\s+number)?|name)"
         r"\s+(?:on|in)\s+my\s+(?:profile|account|page)\b",
         "there is a different address on my profile"),
)

RULES_SHA256 = hashlib.sha256(
    json.dumps([[r.name, r.pattern, r.negatable, r.blocked_by] for r in RULES]).encode()
).hexdigest()
"""Fingerprint of the rule set: a validation record applies to the rules with this hash."""

# A negation within a few words before a match, in the same sentence, cancels a negatable rule.
_NEGATION = re.compile(
    r"\b(?:inte|aldrig|ej|ingen|inga|inget|not|never|no|didn'?t|don'?t|doesn'?t|haven'?t|hasn'?t|wasn'?t|cannot|can'?t)\b"
    r"[^.!?\n,;:–-]{0,25}$"
)

# A question about what could happen is not a report of what did.
_HYPOTHETICAL = re.compile(
    r"(?:kan|kunde|skulle|gar\s+det|ar\s+det\s+mojligt|could|can|would|might|may|is\s+it\s+possible|will)\b"
)


def _extra_rules(phrases: Iterable[str]) -> list[Rule]:
    rules = []
    for phrase in phrases:
        if not isinstance(phrase, str) or not phrase.strip():
            raise WorkbenchError(
                f"extra report phrases must be non-empty strings, got {phrase!r}; e.g. ['fick se en annans sida']"
            )
        words = normalise(phrase.strip()).split()
        pattern = r"\b" + r"\s+".join(re.escape(w) for w in words) + r"\b"
        rules.append(Rule(f"extra: {phrase.strip()}", "any", pattern, phrase.strip()))
    return rules


def _sentence(folded: str, start: int, end: int) -> tuple[str, str]:
    """The sentence around ``folded[start:end]`` and the character that ends it ('' at the end)."""
    begin = max(folded.rfind(c, 0, start) for c in ".!?\n") + 1
    stops = [i for i in (folded.find(c, end) for c in ".!?\n") if i >= 0]
    stop = min(stops) if stops else len(folded)
    return folded[begin:stop].strip(), folded[stop: stop + 1]


def _first_match(text: str, compiled: Sequence[tuple[Rule, re.Pattern, re.Pattern | None]]) -> tuple[str, str] | None:
    """(rule name, matched original text) of the first rule that matches, in rule order."""
    folded = normalise(text)
    for rule, pattern, blocker in compiled:
        for m in pattern.finditer(folded):
            sentence, stop = _sentence(folded, m.start(), m.end())
            if rule.negatable and (
                _NEGATION.search(folded[max(0, m.start() - 40): m.start()])
                or (stop == "?" and _HYPOTHETICAL.match(sentence))
            ):
                continue
            if blocker is not None and blocker.search(sentence):
                continue
            return rule.name, text[m.start(): m.end()]
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
        (r, r.compiled(), re.compile(r.blocked_by) if r.blocked_by else None)
        for r in (*RULES, *_extra_rules(extra_phrases))
    ]
    texts = (pl.col("subject").fill_null("") + "\n" + pl.col("body").fill_null("")).alias("_text")
    found = [_first_match(t, compiled) for t in messages.select(texts)["_text"].to_list()]
    return messages.with_columns(
        is_report=pl.Series([f is not None for f in found], dtype=pl.Boolean),
        rule=pl.Series([f[0] if f else None for f in found], dtype=pl.String),
        matched_text=pl.Series([f[1] if f else None for f in found], dtype=pl.String),
    )


def rules_table(extra_phrases: Iterable[str] = ()) -> pl.DataFrame:
    """The rule set as a table: rule, lang, example, negatable, pattern."""
    rules = (*RULES, *_extra_rules(extra_phrases))
    return pl.DataFrame(
        {
            "rule": [r.name for r in rules],
            "lang": [r.lang for r in rules],
            "example": [r.example for r in rules],
            "negatable": [r.negatable for r in rules],
            "pattern": [r.pattern for r in rules],
        }
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


_CORPUS_SCHEMA = {"id": pl.String, "lang": pl.String, "label": pl.Int64, "subject": pl.String,
                  "body": pl.String, "note": pl.String}


def handwritten_corpus(part: str = "test") -> pl.DataFrame:
    """Labelled messages written by hand (not by the generator): id, lang, label, subject, body, note.

    ``part="test"`` is the held-out corpus: written before the rules were last changed and
    never used to change them. ``part="development"`` holds two earlier rounds, each
    written before a revision of the rules and then used for it (column ``round``).
    ``label`` is 1 for a report of the fault.
    """
    names = {"test": "fault_reports_handwritten.csv", "development": "fault_reports_handwritten_dev.csv"}
    if part not in names:
        raise WorkbenchError(f"unknown corpus part {part!r}; allowed: {', '.join(names)}")
    schema = dict(_CORPUS_SCHEMA) if part == "test" else {"id": pl.String, "round": pl.Int64, **{
        k: v for k, v in _CORPUS_SCHEMA.items() if k != "id"}}
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

"""Evidence from the case beside the text model: what the web log says about a message's sender.

An investigator reading a support message checks it against the case; so does the triage.
For each message whose sender the case knows (by customer number, else by e-mail address):

- **bound**: a session of the sender showed another member's account before the message,
  within the window: which account, when, and how long before the message;
- **names the account**: the message names the holder, the street, the employer, the phone,
  the income or the customer number of the account the sender's session showed;
- **names another member**: it names the full name or the street address of a member other
  than the sender (and the sender's co-applicant) among those the window's sessions could show;
- **changed field**: someone else's session changed a field of the sender's own account
  before the message, and the message mentions that field or its new value.

Each found item adds a fitted weight in log-odds (:mod:`.triage_weights`) to the message's
ranking score, ``score = sigmoid(logit(probability) + Σ weight)`` (``evidence_weight`` is the
sum), and a sentence to ``evidence`` ("sender's session showed account 1026984 at Fri 13 Dec
19:29, 14 h 31 min before the message; the message names that account's holder"). The
evidence counts toward the ranking only: it never
makes a session bound (that is the web log's alone), and the first-report time is still the
earliest message that reports the fault, never the session it points to.

>>> found = case_evidence(case, inbox, start, end)                          # doctest: +SKIP
>>> ranked = rank_window(with_case_evidence(triage(inbox), found), start, end)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from ..i18n import translate
from ..queries import run
from ..settings import DISPLAY_TZ
from .triage import RULE_BAR, THRESHOLD, model_text
from .triage_weights import CaseWeights, evidence_logit, logit, shipped_case_weights

__all__ = [
    "EVIDENCE_SCHEMA",
    "FIELD_WORDS",
    "case_evidence",
    "evidence_in_language",
    "evidence_text",
    "rescore",
    "with_case_evidence",
]

FIELD_WORDS: dict[str, str] = {
    "name": r"namn\w*|name",
    "address": r"adress\w*|address\w*|gata|gatan|street",
    "postal_code": r"postnummer|post ?nr|postcode|postal code|zip",
    "city": r"ort|orten|stad|city|town",
    "email": r"e-?post\w*|mejl\w*|e-?mail\w*|mail\w*",
    "phone": r"telefon\w*|tel|tfn|mobil\w*|phone\w*|mobile|nummer",
    "employer": r"arbetsgivare\w*|jobb\w*|arbete\w*|employer|job|work\w*",
    "annual_income": r"inkomst\w*|lon|lonen|salary|income|wage\w*|pay",
    "co_applicant_name": r"medsokande\w*|co-?applicant\w*|sambo\w*|partner\w*",
    "co_applicant_personnummer": r"medsokande\w*|co-?applicant\w*|sambo\w*|partner\w*|personnummer",
}
"""Words (on folded, lower-case text, whole words) by which a message mentions a profile field."""

EVIDENCE_SCHEMA = pl.Schema(
    {
        "message_id": pl.String(),
        "sender_id": pl.Int64(),
        "bound_account_id": pl.Int64(),
        "bound_at": pl.Datetime("us", "UTC"),
        "bound_minutes_before": pl.Int64(),
        "names_account": pl.Boolean(),
        "names_member": pl.Boolean(),
        "changed_field": pl.String(),
        "evidence_weight": pl.Float64(),
        "evidence": pl.String(),
        "evidence_parts": pl.String(),
    }
)
"""One row per message: what the case says about its sender, the log-odds it adds and the sentence shown."""

_WORD = r"[\w'-]+"


def _fold(values: pl.Series) -> pl.Series:
    return model_text(
        pl.DataFrame({"subject": [None] * len(values), "body": values}, schema_overrides={"subject": pl.String})
    ).str.strip_chars()


def _digits(text: str) -> str:
    """``text`` with the spaces, dots and dashes inside numbers removed, so "070-222 22 22" reads 0702222222."""
    return re.sub(r"(?<=\d)[\s.\-](?=\d)", "", text)


def _senders(inbox: pl.DataFrame, members: pl.DataFrame) -> pl.Series:
    """The customer number of each message's sender: as the mailbox gives it, else by e-mail address."""
    by_mail = (
        members.filter(pl.col("email").is_not_null())
        .select(_mail=pl.col("email").str.to_lowercase(), _by_mail="applicant_id")
        .unique("_mail", keep="first")
    )
    joined = inbox.select("sender_applicant_id", _mail=pl.col("sender_address").str.to_lowercase()).join(
        by_mail, on="_mail", how="left", maintain_order="left"
    )
    return joined.select(pl.coalesce("sender_applicant_id", "_by_mail").cast(pl.Int64))["sender_applicant_id"]


def _member_phrases(members: pl.DataFrame) -> pl.DataFrame:
    """Each member's full name and street address as folded text (phrase, applicant_id, what)."""
    parts = [
        members.select("applicant_id", phrase=_fold(members["name"].fill_null("")), what=pl.lit("name")),
        members.select("applicant_id", phrase=_fold(members["address"].fill_null("")), what=pl.lit("street address")),
    ]
    out = pl.concat(parts).filter(pl.col("phrase").str.len_chars() >= 5)
    return out.with_columns(words=pl.col("phrase").str.count_matches(_WORD)).filter(pl.col("words").is_between(2, 4))


def _grams(texts: pl.Series, n: int) -> pl.DataFrame:
    """(doc, phrase) for every run of ``n`` words in each text."""
    words = (
        pl.DataFrame({"text": texts})
        .with_row_index("doc")
        .select("doc", word=pl.col("text").str.extract_all(_WORD))
        .explode("word")
        .drop_nulls("word")
    )
    phrase = pl.col("word")
    for k in range(1, n):
        phrase = phrase + " " + pl.col("word").shift(-k).over("doc")
    return words.select("doc", phrase=phrase).drop_nulls()


def _named_members(texts: pl.Series, members: pl.DataFrame) -> pl.DataFrame:
    """(doc, applicant_id, what): a message that names a member's full name or street address."""
    phrases = _member_phrases(members)
    found = [
        _grams(texts, n)
        .join(phrases.filter(pl.col("words") == n), on="phrase", how="inner")
        .select("doc", "applicant_id", "what")
        for n in sorted(set(phrases["words"]))
    ]
    schema = {"doc": pl.UInt32, "applicant_id": pl.Int64, "what": pl.String}
    # sorted: which named member a message's note cites first must not vary between runs
    return pl.concat(found).unique().sort("doc", "applicant_id", "what") if found else pl.DataFrame(schema=schema)


def _account_terms(row: dict[str, Any]) -> list[tuple[str, str]]:
    """(folded term, what it is) of one member that a message could name: holder, street, employer, figures."""
    terms: list[tuple[str, str]] = []
    name = _fold(pl.Series([row.get("name") or ""]))[0]
    if name:
        terms.append((name, "holder"))
        last = name.split()[-1]
        if len(last) >= 4 and last != name:
            terms.append((last, "holder"))
    street = re.sub(r"\s*\d.*$", "", _fold(pl.Series([row.get("address") or ""]))[0])
    if len(street) >= 4:
        terms.append((street, "street"))
    employer = _fold(pl.Series([row.get("employer") or ""]))[0]
    if len(employer) >= 4:
        terms.append((employer, "employer"))
    co = _fold(pl.Series([row.get("co_applicant_name") or ""]))[0]
    if co:
        terms.append((co, "co-applicant"))
    for column, what in (("annual_income", "income"), ("phone", "phone number"), ("applicant_id", "customer number")):
        digits = re.sub(r"\D", "", str(row.get(column) or ""))
        if len(digits) >= 5:
            terms.append((digits, what))
    return terms


def _names(text: str, terms: list[tuple[str, str]]) -> list[str]:
    """What of ``terms`` the folded ``text`` names, as whole words (numbers read without their spaces)."""
    plain = _digits(text)
    said = []
    for term, what in terms:
        haystack = plain if term.isdigit() else text
        if re.search(rf"(?<![\w]){re.escape(term)}(?![\w])", haystack) and what not in said:
            said.append(what)
    return said


def _when(t: datetime, timezone: str) -> str:
    from zoneinfo import ZoneInfo

    from babel.dates import format_datetime

    from ..wording import say

    # "Sat 14 Dec 14:09", "lör 14 dec. 14.09": in the report's language
    return format_datetime(t.astimezone(ZoneInfo(timezone)), say("short_when"), locale=say("locale"))


def _and(things: list[str]) -> str:
    """What a message names, joined: "holder and street", "innehavare och gata"."""
    return translate(" and ").join(translate(t) for t in things)


def _gap(minutes: int) -> str:
    hours, rest = divmod(max(minutes, 0), 60)
    return f"{hours} h {rest} min" if hours else f"{rest} min"


def case_evidence(
    case: Any,
    inbox: pl.DataFrame,
    start: datetime,
    end: datetime,
    *,
    timezone: str = DISPLAY_TZ,
    weights: CaseWeights | None = None,
) -> pl.DataFrame:
    """What the case says about each message of ``inbox``, one row per message (:data:`EVIDENCE_SCHEMA`).

    ``inbox`` is the classified inbox (message_id, reported_at on the web clock,
    sender_applicant_id, sender_address, subject, body); [start, end) the incident window,
    whose sessions and profile changes are read. ``timezone`` is for the times in ``evidence``;
    ``weights`` give ``evidence_weight`` (default: :func:`~.triage_weights.shipped_case_weights`).
    """
    if inbox.is_empty():
        return pl.DataFrame(schema=EVIDENCE_SCHEMA)
    members = run("triage_members", case, start=start, end=end)
    bound = run("mismatched_sessions", case).filter(
        (pl.col("first_rendered_at") >= start) & (pl.col("first_rendered_at") < end)
    )
    changes = run("profile_change_log", case, start=start, end=end).filter(pl.col("actor_type") == "other")
    senders = _senders(inbox, members)
    texts = model_text(inbox)
    by_id = {r["applicant_id"]: r for r in members.iter_rows(named=True)}
    ids = members["applicant_id"].to_list()
    folded_name = dict(zip(ids, _fold(members["name"].fill_null("")).to_list(), strict=True))
    folded_co = dict(zip(ids, _fold(members["co_applicant_name"].fill_null("")).to_list(), strict=True))
    named = _named_members(texts, members)
    named_by_doc: dict[int, list[tuple[int, str]]] = {}
    for doc, who, what in named.iter_rows():
        named_by_doc.setdefault(doc, []).append((who, what))
    bound_of: dict[int, list[dict]] = {}
    for r in bound.sort("first_rendered_at").iter_rows(named=True):
        bound_of.setdefault(r["applicant_id"], []).append(r)
    changed_of: dict[int, list[dict]] = {}
    for r in changes.sort("time").iter_rows(named=True):
        changed_of.setdefault(r["account_id"], []).append(r)
    field_words = {f: re.compile(rf"(?<![\w-])(?:{w})(?![\w-])") for f, w in FIELD_WORDS.items()}

    rows = []
    for i, (message_id, at, sender) in enumerate(
        zip(inbox["message_id"].cast(pl.String), inbox["reported_at"], senders, strict=True)
    ):
        row: dict[str, Any] = {"message_id": message_id, "sender_id": sender}
        said: list[list[tuple[str, dict[str, Any]]]] = []
        text = texts[i]
        shown = [r for r in bound_of.get(sender, ()) if r["first_rendered_at"] < at] if sender is not None else []
        if shown:
            last = shown[-1]
            minutes = int((at - last["first_rendered_at"]).total_seconds() // 60)
            row.update(
                bound_account_id=last["account_id"], bound_at=last["first_rendered_at"], bound_minutes_before=minutes
            )
            # English pieces and their values, no words: evidence_text writes them in the report's language
            sentence: list[tuple[str, dict[str, Any]]] = [
                (
                    "sender's session showed account {account} at {when}, {gap} before the message",
                    {
                        "account": last["account_id"],
                        "when": last["first_rendered_at"].isoformat(),
                        "gap": _gap(minutes),
                    },
                )
            ]
            mentioned: list[str] = []
            for r in reversed(shown):
                account = by_id.get(r["account_id"])
                what = _names(text, _account_terms(account)) if account else []
                if what:
                    mentioned = what
                    if r is not last:
                        sentence.append((" (and account {account} earlier)", {"account": r["account_id"]}))
                    break
            if mentioned:
                row["names_account"] = True
                sentence.append(("; the message names that account's {what}", {"what": mentioned}))
            said.append(sentence)
        mine = {folded_name.get(sender), folded_co.get(sender)} - {None, ""}
        others = [
            (who, what)
            for who, what in named_by_doc.get(i, ())
            if who != sender and who != row.get("bound_account_id") and folded_name.get(who) not in mine
        ]
        if others and not row.get("names_account"):
            who = others[0][0]
            whats = sorted({what for w, what in others if w == who})
            row["names_member"] = True
            said.append(
                [("the message names the {what} of member {member}, not the sender", {"what": whats, "member": who})]
            )
        for r in changed_of.get(sender, ()) if sender is not None else ():
            if r["time"] >= at:
                break
            new = _fold(pl.Series([r["new_value"] or ""]))[0]
            hit = field_words[r["field"]].search(text) if r["field"] in field_words else None
            if hit or (len(new) >= 4 and new in text):
                row["changed_field"] = r["field"]
                said.append(
                    [
                        (
                            "the session of member {member} changed the {field} of the sender's account at {when}; "
                            "the message mentions {what}",
                            {
                                "member": r["actor_applicant_id"],
                                "field": r["field"],
                                "when": r["time"].isoformat(),
                                "what": ["it" if hit else "the new value"],
                            },
                        )
                    ]
                )
                break
        row["evidence_parts"] = json.dumps(said, ensure_ascii=False) if said else None
        row["evidence"] = evidence_text(row["evidence_parts"], timezone, "en")
        rows.append(row)
    found = pl.DataFrame(rows, schema=EVIDENCE_SCHEMA).with_columns(
        pl.col("names_account").fill_null(False), pl.col("names_member").fill_null(False)
    )
    added = evidence_logit(found, shipped_case_weights() if weights is None else weights)
    return found.with_columns(evidence_weight=pl.Series(added.round(4), dtype=pl.Float64))


def evidence_text(parts: str | None, timezone: str = DISPLAY_TZ, language: str | None = None) -> str | None:
    """The sentence of ``evidence_parts`` (:func:`case_evidence`) in ``language`` (default: the report's).

    "sender's session showed account 1012884 at Sat 14 Dec 13:06, 1 h 36 min before the
    message", "avsändarens session visade konto 1012884 lör 14 dec. kl. 13.06, …": the analysis
    keeps the pieces, so one run of several copies writes each in its own language.
    """
    if parts is None:
        return None
    from ..i18n import current_language, using

    def shown(key: str, value: Any) -> Any:
        if key == "when":
            return _when(datetime.fromisoformat(value), timezone)
        return _and(value) if isinstance(value, list) else value

    with using(language or current_language()):
        return "; ".join(
            "".join(translate(template).format(**{k: shown(k, v) for k, v in values.items()}) for template, values in s)
            for s in json.loads(parts)
        )


def evidence_in_language(frame: pl.DataFrame, timezone: str = DISPLAY_TZ) -> pl.DataFrame:
    """``frame`` (ranked messages) with ``evidence`` written in the report's language from its ``evidence_parts``."""
    if "evidence_parts" not in frame.columns:
        return frame
    texts = [evidence_text(p, timezone) for p in frame["evidence_parts"].to_list()]
    return frame.with_columns(evidence=pl.Series(texts, dtype=pl.String))


def with_case_evidence(
    scored: pl.DataFrame,
    evidence: pl.DataFrame,
    *,
    threshold: float = THRESHOLD,
    weights: CaseWeights | None = None,
) -> pl.DataFrame:
    """``scored`` (:func:`~workbench.incident.triage.triage`) with the case evidence joined and ``score`` added.

    ``score`` = sigmoid(logit(probability) + evidence_weight); ``candidate`` becomes a score at
    least ``threshold``, or a matched rule with a score at least :data:`~.triage.RULE_BAR`. The rules' verdict (``is_report``) is left alone.
    """
    joined = scored.with_columns(pl.col("message_id").cast(pl.String)).join(
        evidence, on="message_id", how="left", maintain_order="left"
    )
    return rescore(joined, threshold=threshold, weights=weights)


def rescore(scored: pl.DataFrame, *, threshold: float = THRESHOLD, weights: CaseWeights | None = None) -> pl.DataFrame:
    """``evidence_weight``, ``score`` and ``candidate`` of a frame with ``probability``, ``is_report`` and the evidence.

    ``evidence_weight`` is the log-odds the evidence adds with ``weights`` (default: the shipped
    fit); a message the case says nothing about keeps its probability as its score.
    """
    added = evidence_logit(scored, shipped_case_weights() if weights is None else weights)
    z = logit(scored["probability"].to_numpy()) + added
    return scored.with_columns(
        evidence_weight=pl.Series(added.round(4), dtype=pl.Float64),
        score=pl.Series((1 / (1 + np.exp(-z))).round(4), dtype=pl.Float64),
    ).with_columns(candidate=(pl.col("is_report") & (pl.col("score") >= RULE_BAR)) | (pl.col("score") >= threshold))

"""The audience layer: make a frame fit for investigators, auditors or the public.

Everything is driven by the personal-data tags on the evidence declarations (DESIGN §5):

- ``investigator``: the frame unchanged.
- ``auditor``: every row; direct identifiers become keyed pseudonyms such as
  ``"P-3f9a2c1b7d04"`` (HMAC-SHA256 with ``WORKBENCH_PSEUDONYM_KEY``), free text is withheld,
  quasi-identifiers are kept.
- ``public``: aggregates only. Counts are shown exactly, except in a breakdown by district,
  kind, year, caseworker, protected identity or a quasi-identifier
  (:func:`workbench.suppression.is_breakdown`; ``docs/disclosure.md``): there a count of 1–4
  shows as ``"1–4"``, with complementary suppression, and a true zero as ``0``.

A column's tag comes from, in order: ``columns=``; the query's declared output tags
(``query=``); ``table=``; being a count column (tag none); the evidence column of the same
name (the most restrictive tag if tables disagree); a name ending in ``applicant_id``,
``account_id``, ``handler_id``, ``personnummer``, ``session_id`` or ``message_id`` (direct).
A column with no tag is refused for auditors and the public: an unknown column may hold anything.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import os
import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

import polars as pl

from .errors import UnknownNameError, WorkbenchError
from .evidence import PII, metadata
from .suppression import THRESHOLD, is_breakdown, suppress

__all__ = [
    "KEY_ENV",
    "WITHHELD",
    "Audience",
    "AudienceError",
    "count_columns",
    "fit",
    "pseudonym",
    "pseudonym_key",
    "tags",
]

KEY_ENV = "WORKBENCH_PSEUDONYM_KEY"
WITHHELD = "[withheld]"
_MIN_KEY_LENGTH = 16
# A key of few different bytes (16 spaces, 'aaaaaaaaaaaaaaaa') is guessed as fast as a short one.
_MIN_KEY_DISTINCT = 10
_MAKE_KEY = f"export {KEY_ENV}=$(openssl rand -hex 32)"


class Audience(enum.StrEnum):
    """Who a frame is made fit for; its properties say what that audience sees.

    ==================  ============  =======  ======
    property            investigator  auditor  public
    ==================  ============  =======  ======
    sees_rows           yes           yes      no
    sees_identifiers    yes           no       no
    sees_free_text      yes           no       no
    sees_sql            yes           yes      no
    pseudonymised       no            yes      no
    ==================  ============  =======  ======
    """

    INVESTIGATOR = "investigator"
    AUDITOR = "auditor"
    PUBLIC = "public"

    @classmethod
    def parse(cls, value: str | Audience) -> Audience:
        """``value`` as an Audience: an Audience, or its name such as ``"auditor"``.

        Any other value is an :class:`~workbench.errors.UnknownNameError` that suggests the
        close name (``"auditors"``: did you mean ``'auditor'``?) and lists the known ones.
        """
        try:
            return cls(value)
        except ValueError:
            raise UnknownNameError("audience", value, [a.value for a in cls]) from None

    @property
    def sees_rows(self) -> bool:
        """Per-person rows (pseudonymised for auditors); the public sees aggregates only."""
        return self in (Audience.INVESTIGATOR, Audience.AUDITOR)

    @property
    def sees_identifiers(self) -> bool:
        """Direct identifiers (customer numbers, names, handler ids) in clear."""
        return self is Audience.INVESTIGATOR

    @property
    def sees_free_text(self) -> bool:
        """Free text (mail bodies, notes) unredacted; auditors see it withheld."""
        return self is Audience.INVESTIGATOR

    @property
    def sees_sql(self) -> bool:
        """The SQL behind each figure, in the report's provenance section."""
        return self in (Audience.INVESTIGATOR, Audience.AUDITOR)

    @property
    def pseudonymised(self) -> bool:
        """Direct identifiers become keyed pseudonyms (needs the pseudonym key)."""
        return self is Audience.AUDITOR


class AudienceError(WorkbenchError, ValueError):
    """A frame that cannot be made fit for the audience asked for, or a missing key."""


# Pseudonym kinds: columns that denote the same kind of thing share a prefix and a keyed
# hash, so a person's customer number gets one pseudonym in every column and notebook.
_KINDS: dict[str, str] = {
    "applicant_id": "P",
    "account_id": "P",
    "sender_applicant_id": "P",
    "authenticated_applicant_id": "P",
    "actor_applicant_id": "P",
    "owner_account_id": "P",
    "bound_account_id": "P",
    "handler_id": "H",
    "created_by_handler_id": "H",
    "personnummer": "N",
    "co_applicant_personnummer": "N",
    "name": "M",
    "co_applicant_name": "M",
    "address": "A",
    "email": "E",
    "sender_address": "E",
    "phone": "T",
    "ip": "I",
    # A session cookie can authenticate; a Message-ID often embeds the sender's address (B: brev).
    "session_id": "S",
    "message_id": "B",
}
_KIND_SUFFIXES = (
    ("applicant_id", "P"),
    ("account_id", "P"),
    ("handler_id", "H"),
    ("personnummer", "N"),
    ("session_id", "S"),
    ("message_id", "B"),
)
_RESTRICTIVENESS = {PII.NONE: 0, PII.QUASI: 1, PII.DIRECT: 2, PII.FREE_TEXT: 3}
_COUNT_NAME = re.compile(r"^(n|count|n_.+|.+_count)$")


def _kind(column: str) -> str:
    if column in _KINDS:
        return _KINDS[column]
    for suffix, kind in _KIND_SUFFIXES:
        if column.endswith(suffix):
            return kind
    return "X"


@cache
def _tags_by_name() -> dict[str, PII]:
    """Evidence (and case bookkeeping) column name -> its most restrictive tag across tables."""
    tables = list(metadata.tables.values())
    try:
        from .case import case_metadata
    except ImportError:
        pass
    else:
        tables += [t for name, t in case_metadata.tables.items() if name not in metadata.tables]
    found: dict[str, PII] = {}
    for t in tables:
        for c in t.columns:
            tag, known = c.info.get("pii"), found.get(c.name)
            if tag is not None and (known is None or _RESTRICTIVENESS[tag] >= _RESTRICTIVENESS[known]):
                found[c.name] = tag
    return found


def count_columns(frame: pl.DataFrame, counts: Iterable[str] | None = None) -> list[str]:
    """The count columns of ``frame``: ``counts`` when given, else integer columns named like counts.

    A count is named ``n``, ``count``, ``n_*`` (``n_logins``) or ``*_count``.
    """
    if counts is not None:
        counts = list(counts)
        missing = [c for c in counts if c not in frame.columns]
        if missing:
            raise AudienceError(f"counts {missing} are not columns of the frame; columns: {frame.columns}")
        return counts
    return [c for c in frame.columns if _COUNT_NAME.match(c) and frame[c].dtype.is_integer()]


def tags(
    frame: pl.DataFrame,
    *,
    table: str | None = None,
    columns: Mapping[str, PII] | None = None,
    query: str | None = None,
    counts: Iterable[str] = (),
) -> dict[str, PII | None]:
    """The personal-data tag of each column of ``frame`` (None when untagged); see the module doc."""
    declared: dict[str, PII] = {}
    if query is not None:
        from .queries import column_tags

        declared.update(column_tags(query))
    declared.update(columns or {})
    table_tags = {}
    if table is not None:
        if table not in metadata.tables:
            raise UnknownNameError("table", table, metadata.tables)
        table_tags = {c.name: c.info["pii"] for c in metadata.tables[table].columns}
    counts = set(counts)
    by_name = _tags_by_name()
    result: dict[str, PII | None] = {}
    for col in frame.columns:
        if col in declared:
            result[col] = PII(declared[col])
        elif col in table_tags:
            result[col] = table_tags[col]
        elif col in counts:
            result[col] = PII.NONE
        elif col in by_name:
            result[col] = by_name[col]
        elif _kind(col) != "X":
            result[col] = PII.DIRECT
        else:
            result[col] = None
    return result


def pseudonym_key(key: str | bytes | None = None) -> bytes:
    """The pseudonym key: ``key`` if given, else the environment variable WORKBENCH_PSEUDONYM_KEY.

    A key must have at least 16 bytes of which at least 10 differ, e.g. the 64 hex digits
    of ``openssl rand -hex 32``; a weaker one is refused, as the pseudonyms could be reversed.
    """
    if key is None:
        key = os.environ.get(KEY_ENV)
    if not key:
        raise AudienceError(
            f"the auditor audience needs a pseudonym key, and {KEY_ENV} is not set. Set it to a "
            f"secret kept for this case (the same key gives the same pseudonyms in every report), "
            f"e.g. {_MAKE_KEY}"
        )
    raw = key.encode() if isinstance(key, str) else bytes(key)
    if len(raw) < _MIN_KEY_LENGTH:
        raise AudienceError(
            f"the pseudonym key is {len(raw)} bytes; use at least {_MIN_KEY_LENGTH} "
            f"(a short key can be guessed and the pseudonyms reversed); make one with: {_MAKE_KEY}"
        )
    distinct = len(set(raw))
    if distinct < _MIN_KEY_DISTINCT:
        raise AudienceError(
            f"the pseudonym key has only {distinct} different byte value(s) in {len(raw)} bytes; use a random key "
            f"with at least {_MIN_KEY_DISTINCT} (a key such as 16 spaces or 'aaaaaaaaaaaaaaaa' can be guessed and "
            f"the pseudonyms reversed); make one with: {_MAKE_KEY}"
        )
    return raw


def _canonical(kind: str, value: Any) -> str:
    text = str(value).strip()
    return text.lower() if kind == "E" else text  # e-mail addresses are case-insensitive


def pseudonym(value: Any, column: str, key: str | bytes | None = None) -> str:
    """The pseudonym of ``value`` in a column named ``column``, e.g. ``pseudonym(1048213, "account_id")``."""
    kind = _kind(column)
    return _pseudonym(kind, _canonical(kind, value), pseudonym_key(key))


def _pseudonym(kind: str, text: str, key: bytes | hmac.HMAC) -> str:
    # 12 hex digits (48 bits): collisions stay unlikely even for ~700,000 members.
    mac = key.copy() if isinstance(key, hmac.HMAC) else hmac.new(key, digestmod=hashlib.sha256)
    mac.update(f"{kind}\x1f{text}".encode())
    return f"{kind}-{mac.hexdigest()[:12]}"


def _pseudonymise(series: pl.Series, key: bytes) -> pl.Series:
    kind = _kind(series.name)
    if series.dtype.is_float():  # an id column read with nulls as float: 1048213.0 is 1048213
        series = series.cast(pl.Int64)
    text = series.cast(pl.String)
    distinct = text.drop_nulls().unique().to_list()
    keyed = hmac.new(key, digestmod=hashlib.sha256)  # copied per value: the key is set up once
    mapping = {v: _pseudonym(kind, _canonical(kind, v), keyed) for v in distinct}
    return text.replace_strict(mapping, default=None, return_dtype=pl.String)


def _refuse_untagged(found: Mapping[str, PII | None], audience: Audience) -> None:
    untagged = [c for c, tag in found.items() if tag is None]
    if untagged:
        raise AudienceError(
            f"cannot make a frame fit for {audience.value}: column(s) {untagged} have no personal-data "
            f"tag and might hold anything. Declare them, e.g. columns={{{untagged[0]!r}: PII.NONE}}, "
            f"pass query= or table=, or name counts n_* / declare counts=[...]"
        )


def fit(
    frame: pl.DataFrame,
    audience: str | Audience,
    *,
    table: str | None = None,
    columns: Mapping[str, PII] | None = None,
    query: str | None = None,
    counts: Iterable[str] | None = None,
    totals: Iterable[str | Mapping[str, Any]] | None = None,
    key: str | bytes | None = None,
    threshold: int = THRESHOLD,
    measures: Iterable[str] | None = None,
    breakdown: bool | None = None,
    hidden: pl.Series | None = None,
) -> pl.DataFrame:
    """``frame`` made fit for ``audience`` ("investigator", "auditor" or "public").

    Parameters
    ----------
    table, columns, query
        Where column tags come from: an evidence table name (``"logins"``), explicit tags
        for derived columns (``{"victim": PII.DIRECT}``), or a registered query name.
    counts
        Count columns for public suppression (default: integer columns named ``n``,
        ``count``, ``n_*`` or ``*_count``).
    totals
        Public only: row-total count columns and/or ``{key column: label}`` of total rows.
    measures
        Public only: columns that are neither counts nor keys (default: float columns);
        blanked beside a hidden count.
    breakdown
        Public only: whether the counts are a breakdown of small groups (suppressed); default
        decided by the disclosure policy from the key columns (:func:`~workbench.suppression.is_breakdown`).
    hidden
        Public only: rows whose counts are hidden whatever their size (a boolean per row), e.g.
        the groups another table of the same page hides; the others protect them as usual.
    key
        Auditor only: the pseudonym key (default: environment variable WORKBENCH_PSEUDONYM_KEY).
    """
    audience = Audience.parse(audience)
    if audience is Audience.INVESTIGATOR:
        return frame
    count_cols = count_columns(frame, counts)
    found = tags(frame, table=table, columns=columns, query=query, counts=count_cols)
    _refuse_untagged(found, audience)
    if audience.pseudonymised:
        secret = pseudonym_key(key)
        return frame.with_columns(
            [_pseudonymise(frame[c], secret) for c, tag in found.items() if tag is PII.DIRECT]
            + [
                pl.when(pl.col(c).is_null()).then(None).otherwise(pl.lit(WITHHELD)).alias(c)
                for c, tag in found.items()
                if tag is PII.FREE_TEXT
            ]
        )
    return _fit_public(frame, found, count_cols, totals, threshold, measures, breakdown, hidden)


def _fit_public(frame, found, count_cols, totals, threshold, measures, breakdown, hidden) -> pl.DataFrame:
    personal = {c: tag.value for c, tag in found.items() if tag in (PII.DIRECT, PII.FREE_TEXT)}
    if personal:
        raise AudienceError(
            f"the public audience sees aggregates only, but the frame has per-person column(s) {personal}. "
            "Aggregate first, e.g. frame.group_by(<non-personal keys>).agg(pl.len().alias('n')), "
            "and pass the aggregate"
        )
    quasi = [c for c, tag in found.items() if tag is PII.QUASI]
    if quasi and not count_cols:
        raise AudienceError(
            f"quasi-identifier column(s) {quasi} may only reach the public as group keys of counts; "
            "the frame has no count column (name them n_* or pass counts=[...])"
        )
    if not count_cols:
        return frame
    if measures is None:
        measures = [c for c in frame.columns if c not in count_cols and frame[c].dtype.is_float()]
    measures = list(measures)
    keys = [c for c in frame.columns if c not in count_cols and c not in measures]
    if breakdown is None:
        breakdown = is_breakdown(keys, quasi)
    if not breakdown:  # an incident-wide figure: no small group to point at (docs/disclosure.md)
        return frame
    protected = None if hidden is None else hidden.cast(pl.Boolean).fill_null(False)
    if "protected_identity" in frame.columns:
        # Never single out persons with protected identity: their groups' counts are hidden.
        shielded = frame["protected_identity"].cast(pl.Boolean).fill_null(False)
        protected = shielded if protected is None else protected | shielded
    shown = suppress(frame, count_cols, threshold=threshold, totals=totals, protected=protected, measures=measures)
    _ledger(frame, shown, count_cols, keys, measures, threshold)
    return shown


def _ledger(frame, shown, counts, keys, measures, threshold) -> None:
    """Append the breakdown, true and shown, to the ledger the disclosure audit reads, when one is set.

    Set only for audits (``WORKBENCH_DISCLOSURE_LEDGER``, a file outside the report set): the
    true values must never be published.
    """
    from .settings import LEDGER_ENV

    path = os.environ.get(LEDGER_ENV)
    if not path:
        return
    import json

    entry = {
        "counts": counts,
        "keys": keys,
        "measures": measures,
        "threshold": threshold,
        "true": frame.select(counts).rows(),
        "key_values": [[str(v) for v in row] for row in frame.select(keys).rows()],
        "shown": shown.select(counts).rows(),
        "shown_measures": shown.select(measures).rows(),
    }
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, default=str) + "\n")

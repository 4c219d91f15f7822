"""Degraded evidence: remove what real logs lose, so analyses can be tested on their bounds.

Modes (``--degrade``, repeatable):

- ``missing-account-id=0.3``: ``account_id`` is blanked on that share of page views.
- ``log-gap=2013-12-14T10:00/PT1H``: page views in that interval are removed. A time
  without a zone is UTC, like the evidence; write ``+01:00`` for Stockholm winter time.

Truth is never degraded: it keeps the full picture.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from ..errors import GeneratorError
from .pageviews import PageViewRows

__all__ = ["MODES", "Degradation", "apply_degradations", "parse_degrade"]

MODES = {
    "missing-account-id": "missing-account-id=SHARE, SHARE between 0 and 1 (e.g. 0.3)",
    "log-gap": "log-gap=START/DURATION, e.g. 2013-12-14T10:00/PT1H (ISO 8601; no zone means UTC)",
}
_DURATION = re.compile(r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?$")


@dataclass(frozen=True)
class Degradation:
    """One parsed ``--degrade`` option."""

    mode: str
    share: float | None = None
    start: datetime | None = None
    end: datetime | None = None

    def spec(self) -> str:
        if self.mode == "missing-account-id":
            return f"missing-account-id={self.share}"
        assert self.start is not None and self.end is not None  # parse_degrade sets both for a log gap
        return f"log-gap={self.start.isoformat()}/{self.end.isoformat()}"


def _bad(text: str, why: str) -> GeneratorError:
    allowed = "; ".join(MODES.values())
    return GeneratorError(f"--degrade {text!r}: {why}. Allowed: {allowed}.")


def parse_degrade(text: str) -> Degradation:
    """Parse ``MODE=VALUE`` as given on the command line."""
    mode, sep, value = text.partition("=")
    if not sep or mode not in MODES:
        raise _bad(text, f"unknown mode {mode!r}")
    if mode == "missing-account-id":
        try:
            share = float(value)
        except ValueError:
            raise _bad(text, f"share {value!r} is not a number") from None
        if not 0 <= share <= 1:
            raise _bad(text, f"share {share} is outside 0..1")
        return Degradation(mode, share=share)
    start_text, sep, dur_text = value.partition("/")
    try:
        start = datetime.fromisoformat(start_text)
    except ValueError:
        raise _bad(text, f"start {start_text!r} is not an ISO 8601 time") from None
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    m = _DURATION.match(dur_text) if sep else None
    if not m or not any(m.groupdict().values()):
        raise _bad(text, f"duration {dur_text!r} is not an ISO 8601 duration like PT1H")
    g = {k: int(v or 0) for k, v in m.groupdict().items()}
    span = timedelta(days=g["d"], hours=g["h"], minutes=g["m"], seconds=g["s"])
    start = start.astimezone(UTC)
    return Degradation(mode, start=start, end=start + span)


def apply_degradations(
    tables: dict[str, pl.DataFrame], degradations, rng: np.random.Generator, page_views: PageViewRows | None = None
) -> None:
    """Degrade the evidence tables in place, in the order given.

    ``page_views``: the generator's streamed page views, degraded in place instead of
    ``tables["page_views"]``, with the same draws in the same row order.
    """
    for d in degradations:
        if page_views is not None:
            if d.mode == "missing-account-id":
                page_views.drop_account_ids(rng.random(page_views.height) < d.share)
            else:
                assert d.start is not None and d.end is not None  # parse_degrade sets both for a log gap
                page_views.drop_between(d.start, d.end)
            continue
        pv = tables["page_views"]
        if d.mode == "missing-account-id":
            drop = pl.Series(rng.random(pv.height) < d.share)
            tables["page_views"] = pv.with_columns(account_id=pl.when(drop).then(None).otherwise(pl.col("account_id")))
        else:
            inside = (pl.col("time") >= d.start) & (pl.col("time") < d.end)
            tables["page_views"] = pv.filter(~inside)

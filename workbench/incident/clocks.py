"""Clock offsets of the evidence sources, estimated from events that two sources both record.

The web servers' clock is the reference. An offset is how far a source's clock runs ahead
of it: a source time minus the offset is web time. Each estimate comes with the interval
its pairs allow and the number of pairs behind it:

- ``mail``: web-form messages against the contact-form request in the sender's session.
  The mail server stamps a message after the form is posted, so each difference is the
  offset plus a short delivery delay; the median is the estimate and the spread of the
  central 90 % of the pairs its uncertainty.
- ``back office``: interests registered on the web, as the queue system records them,
  against the request that registered them.
- ``incident log``: the fix as the incident log and the deployment log record it. With a
  single pair there is no spread; the interval is what the pause in web logins allows
  ("login disabled" cannot be later than the last login before the pause, nor "login
  enabled" earlier than the first login after it).

A clock without pairs cannot be estimated: its offset, interval and uncertainty are null
(:func:`why_unknown` says why, naming the missing evidence). Its times are then left on the
source's own clock (:func:`offset_of` gives 0), and every time that depends on them has an
unknown uncertainty, never 0.

Example::

    offsets = estimate_offsets(case)
    corrected = correct(reports, "received_at", offsets, "mail")
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, cast

import polars as pl

from ..errors import WorkbenchError
from ..i18n import translate
from ..queries import run

if TYPE_CHECKING:
    from ..case import Case

__all__ = [
    "REFERENCE",
    "SCHEMA",
    "correct",
    "estimate_offsets",
    "offset_of",
    "resolve_pairs",
    "summarise",
    "why_unknown",
    "why_unknown_text",
]

REFERENCE = "web"
SCHEMA = pl.Schema(
    {
        "source": pl.String(),
        "reference": pl.String(),
        "offset_seconds": pl.Int64(),
        "uncertainty_seconds": pl.Int64(),
        "low_seconds": pl.Int64(),
        "high_seconds": pl.Int64(),
        "pairs": pl.Int64(),
        "method": pl.String(),
    }
)
_OUTLIER_SECONDS = 60  # a pair this far from the first median is a different event


def resolve_pairs(pairs: pl.DataFrame, key: str | list[str]) -> pl.DataFrame:
    """One pair per event: the candidate closest to the median of the closest candidates.

    ``pairs`` has a ``difference_seconds`` column and several candidates per ``key`` (e.g.
    a message sent while the sender had two contact-form requests within half an hour).
    Pairs further than a minute from that median are dropped as different events.
    """
    if pairs.is_empty():
        return pairs
    nearest = pairs.sort(pl.col("difference_seconds").abs()).unique(key, keep="first")
    centre = nearest["difference_seconds"].median()
    closest = (
        pairs.with_columns(_gap=(pl.col("difference_seconds") - centre).abs()).sort("_gap").unique(key, keep="first")
    )
    return closest.filter(pl.col("_gap") <= _OUTLIER_SECONDS).drop("_gap")


def summarise(differences: pl.Series) -> dict[str, Any]:
    """Estimate (median), interval (5th to 95th percentile) and uncertainty of differences in seconds."""
    d = differences.drop_nulls()
    if d.is_empty():
        return {
            "offset_seconds": None,
            "uncertainty_seconds": None,
            "low_seconds": None,
            "high_seconds": None,
            "pairs": 0,
        }
    # Not empty, so none of these is null.
    median = cast(float, d.median())
    low, high = cast(float, d.quantile(0.05, "lower")), cast(float, d.quantile(0.95, "higher"))
    estimate = int(round(median))
    return {
        "offset_seconds": estimate,
        "uncertainty_seconds": int(math.ceil(max(estimate - low, high - estimate, 0))),
        "low_seconds": int(math.floor(low)),
        "high_seconds": int(math.ceil(high)),
        "pairs": d.len(),
    }


def _incident_log(case: Case) -> dict[str, Any]:
    fix = run("fix_deployment_pairs", case)
    window = run("incident_window", case)
    out: dict[str, Any] = {
        "offset_seconds": None,
        "uncertainty_seconds": None,
        "low_seconds": None,
        "high_seconds": None,
        "pairs": fix.height,
    }
    # The release that opened the incident is not its fix: when the deployment log lacks the
    # fix, pairing the logged fix with that release would read hours of gap as clock offset.
    opened = window["deployed_at"][0]
    if opened is not None:
        fix = fix.filter(pl.col("deployed_at") > opened)
    out["pairs"] = fix.height
    if fix.height:
        nearest = fix.sort(pl.col("difference_seconds").abs()).row(0, named=True)
        out["offset_seconds"] = int(round(nearest["difference_seconds"]))
    disabled, enabled = window["login_disabled_at"][0], window["login_enabled_at"][0]
    # Without both in the incident log there is no pause to look for (and login_pause's window has no default).
    pause = run("login_pause", case) if disabled is not None and enabled is not None else None
    if pause is not None and pause.height and disabled is not None and enabled is not None:
        p = pause.row(0, named=True)
        low = int(math.floor((enabled - p["resumed_at"]).total_seconds()))
        high = int(math.ceil((disabled - p["paused_at"]).total_seconds()))
        # A longest pause that brackets no shutdown (logins never resumed after it) allows no
        # offset at all: low > high. Then the pause says nothing, rather than an empty interval.
        if low <= high:
            out["low_seconds"], out["high_seconds"] = low, high
        if out["offset_seconds"] is not None and low <= high:
            out["uncertainty_seconds"] = max(
                out["offset_seconds"] - out["low_seconds"], out["high_seconds"] - out["offset_seconds"], 0
            )
    return out


def estimate_offsets(case: Case) -> pl.DataFrame:
    """One row per source: its offset against the web clock, the interval and how it was estimated.

    ``case`` is an open case (``workbench.open_case``) or anything ``queries.run`` accepts.
    """
    mail = summarise(resolve_pairs(run("contact_form_pairs", case), "message_id")["difference_seconds"])
    interests = run("web_interest_pairs", case)
    office = summarise(resolve_pairs(interests, ["listing_id", "applicant_id"])["difference_seconds"])
    rows = [
        {
            "source": REFERENCE,
            "offset_seconds": 0,
            "uncertainty_seconds": 0,
            "low_seconds": 0,
            "high_seconds": 0,
            "pairs": None,
            "method": "reference clock: web server logs (logins, page views, logouts, profile changes)",
        },
        {
            "source": "mail",
            **mail,
            "method": "web-form messages (received_at) against the contact-form request in the sender's session; "
            "median, interval 5th-95th percentile (includes the delivery delay)",
        },
        {
            "source": "back office",
            **office,
            "method": "interests registered on the web (queue system) against the request that registered them",
        },
        {
            "source": "incident log",
            **_incident_log(case),
            "method": "the fix in the incident log against the deployment log; interval from the pause in web logins",
        },
    ]
    return pl.DataFrame([{**r, "reference": REFERENCE} for r in rows], schema=SCHEMA)


# Why a clock cannot be estimated, by source and by what is missing: (offset, uncertainty).
_WHY = {
    "mail": (
        "no web-form message could be paired with the contact-form request in its sender's session, so the mail "
        "server's clock cannot be estimated and support-mail times stay on that clock",
    )
    * 2,
    "back office": (
        "no interest registered on the web could be paired with the request that registered it, so the queue "
        "system's clock cannot be estimated",
    )
    * 2,
    "incident log": (
        "the fix is not in both the incident log and the deployment log, so the incident log's clock cannot be "
        "estimated and its times stay on that clock",
        "no pause in web logins around login disabled and re-enabled bounds the incident log's clock, so its "
        "uncertainty cannot be estimated",
    ),
}


def why_unknown_text(source: str, column: str = "offset_seconds") -> str:
    """Why ``source``'s clock ``column`` cannot be estimated when it has no pairs, in plain words."""
    offset_why, uncertainty_why = _WHY.get(source, (f"the {source} clock cannot be estimated",) * 2)
    return translate(offset_why if column == "offset_seconds" else uncertainty_why)  # in the report's language


def why_unknown(offsets: pl.DataFrame, source: str, column: str = "offset_seconds") -> str | None:
    """Why ``source``'s clock ``column`` (``offset_seconds`` or ``uncertainty_seconds``) is unknown; None when it is known."""
    row = offsets.filter(pl.col("source") == source)
    if row.is_empty():
        raise WorkbenchError(f"no clock offset for source {source!r}; sources: {offsets['source'].to_list()}")
    if row[column][0] is not None:
        return None
    if column == "uncertainty_seconds" and row["offset_seconds"][0] is None:
        column = "offset_seconds"  # the uncertainty of an offset that is itself unknown: say why the offset is
    return why_unknown_text(source, column)


def offset_of(offsets: pl.DataFrame, source: str) -> int:
    """The estimated offset of ``source`` in seconds; 0 when it could not be estimated (see :func:`why_unknown`).

    With 0 the source's times stay on its own clock; their uncertainty is unknown, not 0.
    """
    row = offsets.filter(pl.col("source") == source)
    if row.is_empty():
        raise WorkbenchError(f"no clock offset for source {source!r}; sources: {offsets['source'].to_list()}")
    value = row["offset_seconds"][0]
    return int(value) if value is not None else 0


def correct(
    frame: pl.DataFrame, column: str, offsets: pl.DataFrame, source: str, *, into: str | None = None
) -> pl.DataFrame:
    """``frame`` with ``column`` (e.g. ``"received_at"``) moved onto the web clock, as ``into`` (default: in place)."""
    shift = pl.duration(seconds=offset_of(offsets, source))
    return frame.with_columns((pl.col(column) - shift).alias(into or column))

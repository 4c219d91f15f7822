"""The incident step's web interest events, folded into one interest per listing and member.

The incident step leaves ``world.scratch["web_interests"]``: listing_id, applicant_id,
time, session_id and event (``"register"`` or ``"withdraw"``), including events made by
sessions bound to another member's account. The allocation turns them into ``interests``
rows that take part in the ranking like any other.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ..errors import GeneratorError

__all__ = ["fold_web_interests", "index_of"]


def index_of(ids: np.ndarray, wanted: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """Row of each wanted id in an id column (every wanted id must be there).

    ``order`` is ``np.argsort(ids)`` if the caller has it already.
    """
    order = np.argsort(ids) if order is None else order
    return order[np.searchsorted(ids, wanted, sorter=order)]


def fold_web_interests(
    events: pl.DataFrame | None,
    listing_ids: np.ndarray,
    member_ids: np.ndarray,
    member_order: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """One row per (listing, member) pair, reflecting its last episode.

    If the last event is a registration: registered by the first registration since the
    last withdrawal (its time and session; a repeated registration is a no-op), not
    withdrawn. Otherwise: withdrawn at the last withdrawal, registered by the first
    registration since the withdrawal before it; when there is none, ``reg`` is -1 and the
    allocation supplies an earlier interest made elsewhere (no session).

    Returns numpy columns ``l`` and ``m`` (rows in the sorted ``listing_ids`` and in
    ``member_ids``), ``reg`` and ``wd`` (µs, -1 for none) and ``session``. ``member_order``
    is ``np.argsort(member_ids)`` if the caller has it already.
    """
    if events is None or events.height == 0:
        return {
            "l": np.zeros(0, np.int64),
            "m": np.zeros(0, np.int64),
            "reg": np.zeros(0, np.int64),
            "wd": np.zeros(0, np.int64),
            "session": np.zeros(0, object),
        }
    ev = events.select("listing_id", "applicant_id", "session_id", "event", t=pl.col("time").dt.epoch("us"))
    bad = ev.filter(
        ~pl.col("listing_id").is_in(pl.Series(listing_ids).implode())
        | ~pl.col("applicant_id").is_in(pl.Series(member_ids).implode())
        | ~pl.col("event").is_in(["register", "withdraw"])
    )
    if bad.height:
        raise GeneratorError(
            f"{bad.height} web interest events name an unknown listing, applicant or event, "
            f"e.g. {bad.row(0, named=True)}; use ids from the world's tables and "
            "event 'register' or 'withdraw'"
        )
    pair = ["listing_id", "applicant_id"]
    w = (
        ev.filter(pl.col("event") == "withdraw")
        .group_by(pair)
        .agg(last_w=pl.col("t").max(), prev_w=pl.col("t").sort(descending=True).slice(1, 1).first())
    )
    regs = ev.filter(pl.col("event") == "register")
    p = (
        ev.select(pair)
        .unique()
        .join(w, on=pair, how="left")
        .join(regs.group_by(pair).agg(last_r=pl.col("t").max()), on=pair, how="left")
    )
    p = p.with_columns(
        ends_w=pl.col("last_w").is_not_null() & (pl.col("last_r").is_null() | (pl.col("last_w") > pl.col("last_r")))
    )
    # the episode's registrations lie strictly between these two times
    p = p.with_columns(
        lo=pl.when("ends_w").then(pl.col("prev_w")).otherwise(pl.col("last_w")).fill_null(-1),
        hi=pl.when("ends_w").then(pl.col("last_w")).otherwise(pl.lit(2**62)),
    )
    first = regs.join(p.select(*pair, "lo", "hi"), on=pair).filter(
        (pl.col("t") > pl.col("lo")) & (pl.col("t") < pl.col("hi"))
    )
    first = first.sort(*pair, "t").unique(pair, keep="first", maintain_order=True)
    p = p.join(first.select(*pair, "t", "session_id"), on=pair, how="left").sort(pair)
    return {
        "l": np.searchsorted(listing_ids, p["listing_id"].to_numpy()),
        "m": index_of(member_ids, p["applicant_id"].to_numpy(), member_order),
        "reg": p["t"].fill_null(-1).to_numpy(),
        "wd": p.select(wd=pl.when("ends_w").then("last_w").fill_null(-1))["wd"].to_numpy(),
        "session": p["session_id"].to_numpy(),
    }

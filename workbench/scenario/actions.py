"""What members do inside their sessions: profile edits and interest registrations/withdrawals.

A session's activity pages after the landing page form pairs (pages 2m+1 and 2m+2): the
first page of a pair leads to an action (the profile page, a listing, the interest list),
the second performs it (the saved profile, ``/lagenhet/{id}/intresse``,
``/mina-sidor/intressen/{id}/ta-bort``). Giving each action its own pair keeps the
timing of a session untouched, so planning actions cannot move a session's end and thereby
change which sessions were open when the fault bound a login.

A swapped session acts on the account it is bound to, believing it is the member's own.
A session swapped in mid-session acts only in the pairs after its swap (it never acts on
the member's own account before it), so every action of a swapped session is on the bound
account.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from .web import OpenListings, Page, Sessions, as_datetime, seconds
from .world import WEB_PERIOD, World

__all__ = ["OWN_EDIT_RATE", "RESTORE_SHARE", "SWAPPED_EDIT_RATE", "ActionPlan", "plan_actions"]

# Calibrated so that at stockholm about 674 distinct people change profile data between the
# deployment and the shutdown (DESIGN §1); people in a stranger's account "correct" it far
# more often than owners edit their own profile.
OWN_EDIT_RATE = 0.02
SWAPPED_EDIT_RATE = 0.2
# Share of strangers' edits that the owner puts back at their next session, which gives the
# restore list real conflicts to flag.
RESTORE_SHARE = 0.3
_REGISTER_RATE = (0.22, 0.15)  # (own account, someone else's account)
_WITHDRAW_RATE = (0.03, 0.08)  # strangers remove interests they do not recognise
_FORCED = 3  # swapped sessions made to register and to withdraw when chance gave too few
_CHANGE, _WITHDRAW, _REGISTER = 0, 1, 2


@dataclass
class ActionPlan:
    """Planned actions: page overrides, web interest events and profile edits.

    ``overrides``: page (index into the session page arrays), code, listing.
    ``interests``: listing_id, applicant_id (the account acted on), time, session_id,
    event ("register"/"withdraw"), swapped.
    ``edits``: sid, time (seconds; when the profile was saved), restores (the swapped
    sessions whose edits this owner's save puts back; empty for ordinary edits).
    """

    overrides: pl.DataFrame
    interests: pl.DataFrame
    edits: pl.DataFrame


def _force(rng, wanted: np.ndarray, candidates: np.ndarray, count: int) -> np.ndarray:
    """Indexes to switch on so at least ``count`` candidates want the action (if possible)."""
    missing = count - int((wanted & candidates).sum())
    pool = np.flatnonzero(candidates & ~wanted)
    if missing <= 0 or not pool.size:
        return np.array([], dtype=np.int64)
    return rng.choice(pool, min(missing, pool.size), replace=False)


def _restorers(rng, f: pl.DataFrame, strangers_edit: np.ndarray, pairs: np.ndarray) -> pl.DataFrame:
    """Owners' next sessions that undo a stranger's edits: sid, restores (list of sids)."""
    edits = f.filter(pl.Series(strangers_edit)).select("sid", "account", after=pl.col("end") + 1).sort("after", "sid")
    own = f.filter(pl.Series(pairs >= 1) & ~pl.col("swapped")).select(own_sid="sid", account="member", after="start")
    found = edits.join_asof(own, on="after", by="account", strategy="forward", check_sortedness=False).drop_nulls(
        "own_sid"
    )
    chosen = rng.random(found.height) < RESTORE_SHARE
    if found.height and not chosen.any():  # keep at least one conflict for the restore list
        chosen[0] = True
    found = found.filter(pl.Series(chosen))
    return found.group_by("own_sid").agg(restores=pl.col("sid").sort()).rename({"own_sid": "sid"}).sort("sid")


def _allowed_kinds(applicants: pl.DataFrame, account: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Which listing kinds each account may apply for at each time (student, youth, senior)."""
    t = pl.col("t")
    b = pl.col("_birth_date")
    # month and day come as small ints; widen before combining them
    birthday_ahead = (t.dt.month().cast(pl.Int64) * 100 + t.dt.day()) < (b.dt.month().cast(pl.Int64) * 100 + b.dt.day())
    q = (
        pl.DataFrame({"applicant_id": account, "t": as_datetime(times)})
        .join(
            applicants.select("applicant_id", "student", "_birth_date"),
            on="applicant_id",
            how="left",
            maintain_order="left",
        )
        .select("student", age=t.dt.year().cast(pl.Int64) - b.dt.year().cast(pl.Int64) - birthday_ahead.cast(pl.Int64))
    )
    age, student = q["age"].to_numpy(), q["student"].to_numpy()
    rules = {"student": student, "youth": (age >= 18) & (age <= 25), "senior": age >= 65}
    yes = np.ones(len(account), dtype=bool)
    return np.column_stack([rules.get(kind, yes) for kind in OpenListings.KINDS])


def _dedupe_interests(ev: pl.DataFrame) -> pl.DataFrame:
    """Keep a sequence allocation can honour: one register, then at most one withdraw."""
    key = ["listing_id", "applicant_id"]
    ev = ev.sort("time", "session_id", "event")
    first_wd = pl.col("time").filter(pl.col("event") == "withdraw").min().over(key)
    first_of_kind = pl.int_range(pl.len()).over([*key, "event"]) == 0
    ok_register = (pl.col("event") == "register") & (first_wd.is_null() | (pl.col("time") < first_wd))
    return ev.filter(first_of_kind & (ok_register | (pl.col("event") == "withdraw")))


def plan_actions(world: World, sessions: Sessions, listings: OpenListings) -> ActionPlan:
    """Decide who edits, registers or withdraws, in which page pair, and on which listing."""
    rng = world.rng("incident/actions")
    f = sessions.frame
    n = f.height
    swapped = f["swapped"].to_numpy()
    # Pairs left after a mid-session swap (page s): pair m spans pages 2m+1 and 2m+2.
    first_pair = np.maximum(f["swap_page"].to_numpy(), 0) // 2
    pairs = (f["pages"].to_numpy() - 1) // 2 - first_pair
    edit = (rng.random(n) < np.where(swapped, SWAPPED_EDIT_RATE, OWN_EDIT_RATE)) & (pairs >= 1)
    n_reg = np.where(rng.random(n) < np.where(swapped, _REGISTER_RATE[1], _REGISTER_RATE[0]), rng.geometric(0.55, n), 0)
    n_wd = (rng.random(n) < np.where(swapped, _WITHDRAW_RATE[1], _WITHDRAW_RATE[0])).astype(np.int64)
    # Tiny cases must still show a stranger's edit, registration and withdrawal.
    roomy = swapped & (pairs >= 3)
    if not roomy.any():
        roomy = swapped & (pairs >= 1)
    edit[_force(rng, edit, roomy, 1)] = True
    n_reg[_force(rng, n_reg > 0, roomy, _FORCED)] = 1
    n_wd[_force(rng, n_wd > 0, roomy, _FORCED)] = 1

    restorers = _restorers(rng, f, edit & swapped, pairs)
    restorer = np.zeros(n, dtype=bool)
    restorer[restorers["sid"].to_numpy()] = True
    edit |= restorer
    edit_n = edit.astype(np.int64)
    total = np.minimum(edit_n + n_wd + n_reg, pairs)

    # Give each session's actions distinct random pairs: rank the pairs by a random key.
    acting = np.flatnonzero(total > 0)
    pair_sid = np.repeat(acting, pairs[acting])
    offset = np.cumsum(pairs[acting]) - pairs[acting]
    m = np.arange(len(pair_sid)) - np.repeat(offset, pairs[acting])
    order = np.lexsort((rng.random(len(pair_sid)), pair_sid))
    rank = np.empty(len(pair_sid), dtype=np.int64)
    rank[order] = m  # m runs 0.. within each session in sorted order as well
    keep = rank < total[pair_sid]
    sid, m, rank = pair_sid[keep], m[keep], rank[keep]
    kind = np.where(rank < edit_n[sid], _CHANGE, np.where(rank < edit_n[sid] + n_wd[sid], _WITHDRAW, _REGISTER))
    m = m + first_pair[sid]
    view = sessions.first[sid] + 2 * m + 1
    act = view + 1
    act_time = sessions.page_time[act]
    inside = act_time < seconds(WEB_PERIOD[1])
    sid, kind, view, act, act_time = (a[inside] for a in (sid, kind, view, act, act_time))

    # Interests: an open listing of a kind the bound account may apply for.
    is_int = kind != _CHANGE
    account = f["account"].to_numpy()[sid[is_int]]
    allowed = _allowed_kinds(world.tables["applicants"], account, act_time[is_int])
    picked = listings.pick(rng, act_time[is_int], allowed)
    got = picked >= 0
    events = pl.DataFrame(
        {
            "listing_id": listings.ids[picked[got]],
            "applicant_id": account[got],
            "time": act_time[is_int][got],
            "sid": sid[is_int][got],
            "event": np.where(kind[is_int][got] == _REGISTER, "register", "withdraw"),
            "view": view[is_int][got],
            "act": act[is_int][got],
        }
    ).join(f.select("sid", "session_id", "swapped"), on="sid")
    events = _dedupe_interests(events)

    reg = events["event"].to_numpy() == "register"
    ids = events["listing_id"].to_numpy()
    is_edit = kind == _CHANGE
    overrides = pl.DataFrame(
        {
            "page": np.concatenate([view[is_edit], act[is_edit], events["view"].to_numpy(), events["act"].to_numpy()]),
            "code": np.concatenate(
                [
                    np.full(2 * is_edit.sum(), Page.PROFILE),
                    np.where(reg, Page.LISTING, Page.INTERESTS),
                    np.where(reg, Page.REGISTER, Page.WITHDRAW),
                ]
            ),
            "listing": np.concatenate([np.full(2 * is_edit.sum(), -1), np.where(reg, ids, -1), ids]),
        }
    )
    edits = (
        pl.DataFrame({"sid": sid[is_edit], "time": act_time[is_edit]})
        .join(restorers, on="sid", how="left")
        .with_columns(pl.col("restores").fill_null(pl.lit([], dtype=pl.List(pl.Int64))))
        .sort("sid")
    )
    interests = events.select("listing_id", "applicant_id", "time", "session_id", "event", "swapped")
    return ActionPlan(overrides, interests, edits)

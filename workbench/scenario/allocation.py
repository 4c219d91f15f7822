"""Allocation over the allocation years: interests, offers in queue order, contracts, audit log.

Listings are processed in monthly batches of publication. Within a batch everything is
vectorised over numpy columns: interests are drawn for all listings at once, each queue is
ranked and walked (:mod:`.queue_rules`), and the winners' contracts are signed after every
listing of the batch has closed. So a member who wins is known to later batches: their
interests in listings still open when they sign are withdrawn (``withdrawn_at =
signed_at``), and a queue that closed before they signed records their decline.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from . import fraud
from .inorder import InOrder
from .interest_draws import (
    ACTIVITY_SHAPE,
    HOUR,
    INNER_PULL,
    OUTER_DECAY,
    InterestDraws,
    Rows,
    argsort_unique,
    positions,
    starts,
)
from .listings import DAY_US, US, WorkClock, handler_ips, make_handlers, make_listings
from .queue_rules import KIND_CODES, Outcome, walk
from .records import Records
from .web_interests import fold_web_interests, index_of
from .world import World

__all__ = ["allocate", "plan_listings", "prepare_allocation"]

ACCEPT_P = {"inner": 0.62, "outer": 0.5, "suburb": 0.45}
ACCEPT_KIND = {"short_term": -0.15, "new_build": -0.05}
NO_ANSWER_P = 0.1
LANDLORD_SKIP_P = 0.008
PRIORITY_SHARE = 0.015
PRIORITY_REACH = 60  # a priority holder is someone within this many places below the first
SPECIAL = {"priority": 0, "sale": 1, "fake": 2}


def plan_listings(world: World) -> None:
    """Add ``handlers`` and ``listings``; each listing's caseworker goes to scratch."""
    rng = world.rng("listings")
    handlers = make_handlers(world, rng)
    listings = make_listings(world, rng, handlers)
    world.tables["handlers"] = handlers
    world.tables["listings"] = listings.drop("_handler_id", "_class")
    world.scratch["listing_plan"] = listings.select("listing_id", "_handler_id", "_class")


def allocate(world: World, sim: _Simulation | None = None) -> None:
    """Add interests, offers, contracts and handler_actions; plant fraud; record truth.

    ``sim`` is the set-up :func:`prepare_allocation` made beside the incident; without one it
    is made here.
    """
    sim = sim or prepare_allocation(world, world.tables["applicants"])
    sim.after_incident()
    try:
        for rows in sim.batches():
            sim.run_batch(rows)
        sim.finish()
    finally:
        sim.records.close()


def prepare_allocation(world: World, applicants: pl.DataFrame) -> _Simulation:
    """The allocation's set-up that reads nothing the incident makes, so it can run beside it.

    ``applicants`` may be the snapshot from before the incident's profile changes: of it only
    columns no profile change touches are read here (ids, dates, student, lapses), and the
    fraud plan's fakes take its schema, which the changes keep. It plans the fraud (the fake
    profiles' fees make ``fees`` final), and draws what the allocation's stream draws before
    its first batch. :meth:`_Simulation.after_incident` adds the rest.
    """
    return _Simulation(world, applicants)


class _Simulation(InterestDraws):
    """State carried from one monthly batch to the next: members' contracts and queue dates."""

    def __init__(self, world: World, applicants: pl.DataFrame):
        self.world, s = world, world.scale
        self.rng, self.frng = world.rng("allocation"), world.rng("fraud")
        self.clock = WorkClock(date(s.first_year - 1, 1, 1), world.export_at.date() + timedelta(days=120))
        self.export_us = int(world.export_at.timestamp()) * US
        lst = world.tables["listings"].join(world.scratch["listing_plan"], on="listing_id").sort("listing_id")
        self.plan = fraud.plan_fraud(world, self.frng, lst, world.tables["handlers"], applicants, self.clock)
        apps = applicants
        if self.plan.fakes is not None:
            apps = pl.concat([apps, self.plan.fakes])
        if self.plan.fake_fees is not None:  # set with the fakes
            world.tables["fees"] = pl.concat(
                [world.tables["fees"], self.plan.fake_fees.cast(world.tables["fees"].schema)]
            )
        world.final("fees")  # the fake profiles' fees were the last
        self.listings = lst
        self.L = Rows(
            id=lst["listing_id"].to_numpy(),
            pub=lst["published_at"].dt.epoch("us").to_numpy(),
            close=lst["closes_at"].dt.epoch("us").to_numpy(),
            year=lst["published_at"].dt.year().to_numpy().astype(np.int64),
            close_y=lst["closes_at"].dt.year().to_numpy().astype(np.int64),
            close_md=(lst["closes_at"].dt.month().cast(pl.Int64) * 100 + lst["closes_at"].dt.day()).to_numpy(),
            kind=lst["kind"].to_numpy().astype(str),
            rent=lst["rent"].to_numpy(),
            cls=lst["_class"].to_numpy().astype(str),
            k=lst["income_rule"]
            .replace_strict({"none": 0, "2x_rent": 2, "3x_rent": 3}, return_dtype=pl.Int64)
            .to_numpy(),
            handler=lst["_handler_id"].to_numpy(),
            rooms=lst["rooms"].to_numpy(),
            kind_code=lst["kind"].replace_strict(KIND_CODES, return_dtype=pl.Int8).to_numpy(),
            p_accept=(
                lst["_class"].replace_strict(ACCEPT_P) + lst["kind"].replace_strict(ACCEPT_KIND, default=0.0)
            ).to_numpy(),
        )
        # which listing a member who would win several keeps: the one closing first
        self.L["close_rank"] = np.argsort(np.lexsort((self.L.id, self.L.close)))
        months = np.arange(12 * 80) / 12
        self.pull = {"inner": (1 + months / 3) ** INNER_PULL, "other": np.exp(-months / OUTER_DECAY)}
        birth = apps["_birth_date"]
        self.M = Rows(
            id=apps["applicant_id"].to_numpy(),
            reg=apps["registered_at"].dt.epoch("us").to_numpy(),
            student=apps["student"].to_numpy(),
            lapsed=apps["_lapsed_year"].fill_null(9999).to_numpy(),
            fake=apps["created_by_handler_id"].is_not_null().to_numpy(),
            birth_day=birth.cast(pl.Int64).to_numpy(),
            birth_y=birth.dt.year().to_numpy().astype(np.int64),
            birth_md=(birth.dt.month().cast(pl.Int64) * 100 + birth.dt.day()).to_numpy(),
        )
        n = apps.height
        self.queue_day = apps["queue_start"].cast(pl.Int64).to_numpy().copy()
        # tie-break of equal queue dates, fixed for good: registration time, then customer number
        # each member's rank: the inverse of the sorting permutation (its argsort), in one pass
        by_rank = np.lexsort((self.M.id, self.M.reg))
        self.member_rank = np.empty_like(by_rank)
        self.member_rank[by_rank] = np.arange(len(by_rank))
        self.signed = np.full(n, -1, dtype=np.int64)
        self.activity = self.rng.gamma(ACTIVITY_SHAPE, 1.0, n)
        self.n_draw = self._interest_counts()
        self.priority = self._pick_priority_listings()
        self.member_order = np.argsort(self.M.id)  # for looking members up by id
        self.fake = Rows(l=np.zeros(0, np.int64), m=np.zeros(0, np.int64), reg=np.zeros(0, np.int64))
        if self.plan.fake_targets.height:
            ft = self.plan.fake_targets
            self.fake = Rows(
                l=np.searchsorted(self.L.id, ft["listing_id"].to_numpy()),
                m=index_of(self.M.id, ft["applicant_id"].to_numpy(), self.member_order),
                reg=ft["registered_us"].to_numpy(),
            )

    def after_incident(self) -> None:
        """The set-up that reads the incident's results: the applicants after its profile
        changes (their incomes, and the snapshot the allocation updates) and the web interests."""
        world = self.world
        apps = world.tables["applicants"]
        if self.plan.fakes is not None:
            apps = pl.concat([apps, self.plan.fakes])
        if apps.height != len(self.M.id):
            raise AssertionError("generator bug: the incident added or removed applicants")
        self.apps = apps
        self.M["income"] = apps["annual_income"].to_numpy()
        web = fold_web_interests(world.scratch.get("web_interests"), self.L.id, self.M.id, self.member_order)
        self.web = Rows(web)
        self.rec = Records(world, self.clock, handler_ips(world.tables["handlers"]), self.plan, self.web_sessions())
        # What a batch hands to the records is never read back by the simulation: it is recorded
        # on the second core, in order, while the next batch is drawn (.inorder).
        self.records = InOrder("records")

    def batches(self):
        """Listing rows per month of publication, in time order."""
        month = self.listings.select(m=pl.col("published_at").dt.year() * 12 + pl.col("published_at").dt.month())[
            "m"
        ].to_numpy()
        for m in np.unique(month):
            yield np.flatnonzero(month == m)

    def _pick_priority_listings(self) -> np.ndarray:
        """Listings where a member with a priority decision will be placed first."""
        ok = np.isin(self.L.kind, ["regular", "senior", "new_build"]) & ~self.plan.sell & (self.n_draw >= 8)
        if self.plan.fake_targets.height:
            ok &= ~np.isin(self.L.id, self.plan.fake_targets["listing_id"].to_numpy())
        k = min(int(ok.sum()), max(2, round(PRIORITY_SHARE * len(ok))))
        flag = np.zeros(len(ok), bool)
        flag[self.rng.choice(np.flatnonzero(ok), k, replace=False)] = True
        return flag

    # ---- the walk -------------------------------------------------------------------

    def run_batch(self, lrows: np.ndarray) -> None:
        """Draw interests, then rank, walk and sign every listing of one month."""
        r = self._settle(self._add_web_and_fakes(self._sample(lrows), lrows))
        snapshot = (r.reg <= r.close) & ((r.wd < 0) | (r.wd > r.close))
        q = Rows({k: r[k][snapshot] for k in ("l", "m", "src", "close", "why", "income_ok", "signed")})
        n = len(q.l)
        q.update(
            pending=(q.signed >= 0) & (q.signed >= q.close),
            mrank=self.member_rank[q.m],
            app=self.M.id[q.m],
            queue=self.queue_day[q.m],
            prio=np.ones(n, np.int8),
            special=np.full(n, -1, np.int8),
            manual=np.zeros(n, bool),
        )
        q["landlord_skip"] = (self.rng.random(n) < LANDLORD_SKIP_P) & (q.why == 0)
        q["clean"] = (q.why == 0) & q.income_ok & ~q.pending & ~q.landlord_skip
        if (q.src == 2).any():
            r, q = self._drop_hopeless_fakes(r, q)
        self.records.submit(self.rec.add_interests, self.L.id[r.l], self.M.id[r.m], r.reg, r.wd)
        q = _rank(q)
        q = self._choose_specials(q, lrows)
        self._walk(_rank(q), lrows)

    def _drop_hopeless_fakes(self, r: Rows, q: Rows) -> tuple[Rows, Rows]:
        """A fake applies only where a clean member queued since before the fake's creation.

        Otherwise, counting the fake's queue time from its registration, it would be the
        rightful recipient and the planted fraud would not be out of order.
        """
        fakes = np.flatnonzero(q.src == 2)
        created = self.M.reg[q.m[fakes]] // DAY_US
        earliest = np.full(len(self.L.id), np.iinfo(np.int64).max)
        clean = np.flatnonzero(q.clean & (q.src != 2))
        np.minimum.at(earliest, q.l[clean], q.queue[clean])
        hopeless = fakes[earliest[q.l[fakes]] >= created]
        if not hopeless.size:
            return r, q
        gone = np.isin(r.l * len(self.M.id) + r.m, q.l[hopeless] * len(self.M.id) + q.m[hopeless])
        keep = np.ones(len(q.l), bool)
        keep[hopeless] = False
        return r.take(~gone), q.take(keep)

    def _below_first(self, q: Rows, listings: np.ndarray, reach: int) -> np.ndarray:
        """Clean rows of the given listings ranked below the first clean member, within reach."""
        rows = np.flatnonzero(q.clean & listings[q.l])
        first = np.full(len(self.L.id), -1)
        f = rows[starts(q.l[rows])] if rows.size else rows
        first[q.l[f]] = q.pos[f]
        return rows[(q.pos[rows] > first[q.l[rows]]) & (q.pos[rows] <= first[q.l[rows]] + reach)]

    def _choose_specials(self, q: Rows, lrows: np.ndarray) -> Rows:
        """Priority members, buyers and fakes of this batch: one special listing per member."""
        cand = self._below_first(q, self.priority, PRIORITY_REACH)
        u = self.rng.random(cand.size)
        o = np.lexsort((u, q.l[cand]))
        prio = cand[o][starts(q.l[cand][o])]
        buyers, backdate, manual = fraud.choose_buyers(
            self.frng, q.l, self._below_first(q, self.plan.sell, fraud.BUYER_REACH)
        )
        fakes = np.flatnonzero(q.src == 2)
        rows = np.concatenate([prio, buyers, fakes])
        kind = np.repeat(np.array([0, 1, 2], np.int8), [prio.size, buyers.size, fakes.size])
        bd = np.concatenate([np.zeros(prio.size, bool), backdate, np.zeros(fakes.size, bool)])
        man = np.concatenate([np.zeros(prio.size, bool), manual, q.pos[fakes] > 0])
        o = np.lexsort((q.l[rows], q.m[rows]))  # one special listing per member: the earliest listing
        one = o[starts(q.m[rows][o])]
        rows, kind, bd, man = rows[one], kind[one], bd[one], man[one]
        q.special[rows], q.manual[rows] = kind, man
        q.prio[rows[kind == SPECIAL["priority"]]] = 0
        return self._backdate(q, rows[(kind == SPECIAL["sale"]) & bd])

    def _backdate(self, q: Rows, rows: np.ndarray) -> Rows:
        """Move each backdated buyer's queue date before everyone in the listing's queue."""
        if not rows.size:
            return q
        rng, clock = self.frng, self.clock
        first = np.flatnonzero(starts(q.l))
        low = np.minimum.reduceat(q.queue, first)[np.cumsum(starts(q.l)) - 1]
        m, pub, close = q.m[rows], self.L.pub[q.l[rows]], q.close[rows]
        old, new = self.queue_day[m].copy(), low[rows] - rng.integers(60, 900, rows.size)
        day = pub + (rng.random(rows.size) * (close - pub - DAY_US)).astype(np.int64)
        t = np.where(
            rng.random(rows.size) < fraud.OFF_HOURS["act"],
            clock.evening(rng, day),
            clock.office(rng, day, day + 4 * HOUR),
        )
        t = np.minimum(t, close - HOUR)
        self.queue_day[m] = new
        self.records.submit(
            self.rec.queue_date_changes, self.L.handler[q.l[rows]], q.app[rows], self.L.id[q.l[rows]], t, old, new
        )
        order = np.argsort(m)
        at = np.minimum(np.searchsorted(m[order], q.m), m.size - 1)
        hit = (m[order][at] == q.m) & (q.close >= t[order][at])
        q["queue"] = np.where(hit, new[order][at], q.queue)
        return q

    def _walk(self, q: Rows, lrows: np.ndarray) -> None:
        """Outcomes down each ranking, winners, offer timing and contracts."""
        n = len(q.l)
        p_acc = self.L.p_accept[q.l]
        u = self.rng.random(n)
        out = np.where(u < p_acc, Outcome.ACCEPT, np.where(u < p_acc + NO_ANSWER_P, Outcome.NO_ANSWER, Outcome.DECLINE))
        out = np.where(q.pending, Outcome.DECLINE_OTHER, out)
        out = np.where(~q.income_ok, Outcome.DISQUALIFIED, out)
        out = np.where((q.why > 0) | q.landlord_skip, Outcome.SKIP, out)
        special_row = q.special >= 0
        special_listing = np.zeros(len(self.L.id), bool)
        special_listing[q.l[special_row]] = True
        special_listing = special_listing[q.l]
        out[special_row] = Outcome.ACCEPT
        accepts = np.where(special_listing, special_row, out == Outcome.ACCEPT)
        keep = (~special_row).astype(np.int64) << 40 | self.L.close_rank[q.l]
        winner, forced = walk(q.l, q.m, accepts, keep)
        out[forced] = Outcome.DECLINE_OTHER
        has = winner[q.l] >= 0
        wpos = np.where(has, q.pos[np.maximum(winner[q.l], 0)], np.iinfo(np.int64).max)
        q["outcome"], q["winner"] = out, has & (winner[q.l] == np.arange(n))
        r = q.take(np.where(special_listing, special_row, q.pos <= wpos))
        r.update(self._timing(r, lrows))
        self.records.submit(self.rec.walked, r, self.L, self.M)
        self.signed[r.m[r.winner]] = r.signed_us[r.winner]

    def _timing(self, r: Rows, lrows: np.ndarray) -> dict[str, np.ndarray]:
        """Offer and response times in office time, chained down each listing's walk."""
        rng, clock, n, out = self.rng, self.clock, len(r.l), r.outcome
        resp = np.select(
            [out == Outcome.NO_ANSWER, out == Outcome.DISQUALIFIED, out == Outcome.SKIP, out == Outcome.DECLINE_OTHER],
            [
                np.full(n, 24 * HOUR),
                rng.integers(HOUR // 6, 2 * HOUR, n),
                np.zeros(n, np.int64),
                rng.integers(HOUR // 2, 8 * HOUR, n),
            ],
            rng.integers(HOUR, 16 * HOUR, n),
        )
        step = resp + np.where(
            out == Outcome.SKIP, rng.integers(60 * US, 600 * US, n), rng.integers(HOUR // 6, 2 * HOUR, n)
        )
        first = starts(r.l)
        grp = np.cumsum(first) - 1
        before = np.cumsum(step) - step
        before -= before[first][grp]
        start = clock.to_work(r.close[first]) + (rng.uniform(0.3, 1.5, first.sum()) * clock.SHIFT).astype(np.int64)
        offered_w = start[grp] + before
        offered = clock.to_wall(offered_w)
        late = r.manual & (rng.random(n) < fraud.OFF_HOURS["act"])
        offered = clock.evening(rng, offered, only=late)
        offered_w = np.where(late, clock.to_work(offered), offered_w)
        floor = clock.to_work(self.L.close[lrows].max(keepdims=True))[0] + clock.SHIFT // 2
        signed = clock.to_wall(
            np.maximum(
                offered_w + resp + rng.integers(2, 9, n) * clock.SHIFT,
                floor + (rng.random(n) * 6 * clock.SHIFT).astype(np.int64),
            )
        )
        corrupt = np.isin(self.L.handler[r.l], self.plan.corrupt)
        late_sign = rng.random(n) < np.where(corrupt, fraud.OFF_HOURS["corrupt"], fraud.OFF_HOURS["honest"])
        signed = np.minimum(clock.evening(rng, signed, only=late_sign), self.export_us - DAY_US)
        return {
            "offered_us": offered,
            "responded_us": clock.to_wall(offered_w + resp),
            "signed_us": np.where(r.winner, signed, -1),
        }

    def finish(self) -> None:
        """Assemble the tables and truth, and update the applicants snapshot."""
        self.records.join()
        self.rec.finish(self.apps, self.queue_day, self.signed)

    def web_sessions(self) -> pl.DataFrame:
        """Session of each web-made interest, keyed like ``interests``."""
        return pl.DataFrame(
            {
                "listing_id": self.L.id[self.web.l],
                "applicant_id": self.M.id[self.web.m],
                "session_id": pl.Series(self.web.session.tolist(), dtype=pl.String),
            }
        )


def _rank(q: Rows) -> Rows:
    """Sort each listing's queue (priority, queue date, registration, id) and number it from 0.

    The keys are packed into one int64 (listing, priority, queue day, member rank), which
    sorts much faster than a lexsort over them.
    """
    if not len(q.l):
        return Rows(q, pos=np.zeros(0, np.int64))
    day = q.queue - q.queue.min()
    bits = [int(x).bit_length() for x in (q.l.max(), 1, day.max(), q.mrank.max())]
    if sum(bits) > 63:
        order = np.lexsort((q.mrank, q.queue, q.prio, q.l))
    else:
        key = q.l.astype(np.int64)
        for part, b in zip((q.prio, day, q.mrank), bits[1:], strict=True):
            key = key << b | part.astype(np.int64)
        order = argsort_unique(key)  # a member is in a listing's queue once: no key repeats
    q = q.take(order)
    q["pos"] = positions(q.l)
    return q

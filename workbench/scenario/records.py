"""What the allocation leaves behind: offers, contracts, the audit log, truth, and the snapshot.

:class:`Records` collects per-batch frames while the allocation runs (times as int64 µs)
and assembles the evidence tables and truth once at the end.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from .. import evidence
from . import fraud
from .listings import DAY_US, US, WorkClock
from .queue_rules import LANDLORD_SKIPS, REASONS, WHY, Outcome, income_reason
from .spool import SpooledTable
from .world import World

__all__ = ["Records"]

EDIT_SHARE = 0.05  # profile edits on request, per allocation
ACTION_COLUMNS = {
    "time_us": pl.Int64,
    "handler_id": pl.Int64,
    "action": pl.String,
    "applicant_id": pl.Int64,
    "listing_id": pl.Int64,
    "old_value": pl.String,
    "new_value": pl.String,
}


def _iso(days: np.ndarray) -> pl.Series:
    return pl.Series(np.asarray(days, np.int64).astype("datetime64[D]").astype(str))


class Records:
    """Accumulates the allocation's evidence and truth, batch by batch."""

    def __init__(
        self, world: World, clock: WorkClock, ips: pl.DataFrame, plan: fraud.FraudPlan, sessions: pl.DataFrame
    ):
        self.world, self.clock, self.ips, self.plan = world, clock, ips, plan
        # interests go to disk batch by batch; the web sessions to scatter in, in key order
        self.interests = SpooledTable("interests", world.spool_path("interests"))
        skey = sessions["listing_id"].to_numpy() << 32 | sessions["applicant_id"].to_numpy()
        order = np.argsort(skey, kind="stable")
        self.session_key, self.session_id = skey[order], sessions["session_id"].gather(order)
        self.sessions_found = 0
        self.last_key = -1
        self.offers: list[pl.DataFrame] = []
        self.contracts: list[pl.DataFrame] = []
        self.actions: list[pl.DataFrame] = list(plan.actions)
        self.priority: list[pl.DataFrame] = []
        self.fraud: list[pl.DataFrame] = []
        self.sales: list[pl.DataFrame] = []
        self.decisions: dict[int, int] = {}
        self.rng = world.rng("allocation/records")

    def _act(self, frame: pl.DataFrame, **cols) -> None:
        self.actions.append(frame.select(**cols).cast({k: v for k, v in ACTION_COLUMNS.items() if k in cols}))

    def queue_date_changes(self, handler, applicant, listing, time_us, old, new) -> None:
        """The backdating: one ``queue_date_change`` per buyer, old and new dates in ISO form."""
        frame = pl.DataFrame(
            {"time_us": time_us, "handler_id": handler, "applicant_id": applicant, "listing_id": listing}
        )
        self._act(
            frame,
            time_us="time_us",
            handler_id="handler_id",
            action=pl.lit("queue_date_change"),
            applicant_id="applicant_id",
            listing_id="listing_id",
            old_value=_iso(old),
            new_value=_iso(new),
        )

    def walked(self, r, L, M) -> None:
        """Record a batch's walk: ``r`` holds the reached candidates with outcomes and times."""
        why = {i: REASONS[name] for i, name in enumerate(WHY) if name}
        r = pl.DataFrame(
            {
                "listing_id": L.id[r.l],
                "applicant_id": r.app,
                "handler_id": L.handler[r.l],
                "outcome": r.outcome,
                "winner": r.winner,
                "special": r.special,
                "manual": r.manual,
                "why": r.why,
                "annual_income": M.income[r.m],
                "rent": L.rent[r.l],
                "k": L.k[r.l],
                "offered_us": r.offered_us,
                "responded_us": r.responded_us,
                "signed_us": r.signed_us,
                "pub_us": L.pub[r.l],
                "close_us": r.close,
                "midx": r.m,
            }
        )
        win = r.filter("winner")
        refs = self._decisions(win.filter(pl.col("special") == 0))
        reason = (
            pl.when(pl.col("outcome") == Outcome.DISQUALIFIED)
            .then(income_reason(pl.col("annual_income"), pl.col("rent"), pl.col("k")))
            .when(pl.col("outcome") == Outcome.NO_ANSWER)
            .then(pl.lit(REASONS["no_answer"]))
            .when(pl.col("outcome") == Outcome.DECLINE_OTHER)
            .then(pl.lit(REASONS["other"]))
        )
        offers = r.filter(pl.col("outcome") != Outcome.SKIP).join(refs, on=["listing_id", "applicant_id"], how="left")
        offers = offers.with_columns(
            reason=pl.when(pl.col("ref").is_not_null()).then(pl.format("Förtur: {}", "ref")).otherwise(reason)
        )
        self.offers.append(
            offers.select(
                "listing_id",
                "applicant_id",
                "offered_us",
                "handler_id",
                "responded_us",
                "reason",
                response=pl.col("outcome").replace_strict(Outcome.RESPONSE, return_dtype=pl.String),
            )
        )
        self._act(
            offers,
            time_us="offered_us",
            handler_id="handler_id",
            action=pl.lit("offer_sent"),
            applicant_id="applicant_id",
            listing_id="listing_id",
        )
        skips = r.filter(pl.col("outcome") == Outcome.SKIP)
        landlord = pl.Series(np.array(LANDLORD_SKIPS)[self.rng.integers(0, len(LANDLORD_SKIPS), skips.height)])
        self._act(
            skips,
            time_us="offered_us",
            handler_id="handler_id",
            action=pl.lit("skip"),
            applicant_id="applicant_id",
            listing_id="listing_id",
            new_value=pl.col("why").replace_strict(why, default=None, return_dtype=pl.String).fill_null(landlord),
        )
        self._act(
            r.filter("manual"),
            time_us="offered_us",
            handler_id="handler_id",
            action=pl.lit("manual_offer"),
            applicant_id="applicant_id",
            listing_id="listing_id",
        )
        self.contracts.append(win.select("listing_id", "applicant_id", "signed_us", "handler_id"))
        self._act(
            win,
            time_us="signed_us",
            handler_id="handler_id",
            action=pl.lit("contract_signed"),
            applicant_id="applicant_id",
            listing_id="listing_id",
        )
        self.priority.append(refs.select("listing_id", "applicant_id"))
        bought = win.filter(pl.col("special").is_in([1, 2]))
        self.fraud.append(bought.select("listing_id", "applicant_id", "handler_id"))
        self.sales.append(
            bought.filter(pl.col("special") == 1).select(
                "listing_id", "applicant_id", "handler_id", "offered_us", "midx"
            )
        )

    def _decisions(self, prio: pl.DataFrame) -> pl.DataFrame:
        """Priority decisions, e.g. 'Beslut 2014-0312 medicinsk förtur', granted while the listing is open."""
        if not prio.height:
            return pl.DataFrame(schema={"listing_id": pl.Int64, "applicant_id": pl.Int64, "ref": pl.String})
        prio = prio.sort("listing_id")
        year = int(np.datetime64(int(prio["pub_us"][0]), "us").astype("datetime64[Y]").astype(np.int64) + 1970)
        seq = self.decisions.get(year, 0) + np.cumsum(self.rng.integers(1, 25, prio.height))
        self.decisions[year] = int(seq[-1])
        ground = np.where(self.rng.random(prio.height) < 0.7, "medicinsk", "social")
        pub, close = prio["pub_us"].to_numpy(), prio["close_us"].to_numpy()
        t = self.clock.office(self.rng, pub, close - 2 * 3600 * US)
        prio = prio.with_columns(
            ref=pl.Series([f"Beslut {year}-{s:04d} {g} förtur" for s, g in zip(seq, ground, strict=True)]),
            time_us=pl.Series(np.minimum(t, close - 3600 * US)),
        )
        self._act(
            prio,
            time_us="time_us",
            handler_id="handler_id",
            action=pl.lit("priority_grant"),
            applicant_id="applicant_id",
            listing_id="listing_id",
            new_value="ref",
        )
        return prio.select("listing_id", "applicant_id", "ref")

    def _profile_edits(self, apps: pl.DataFrame, handlers: pl.DataFrame, n_edits: int) -> None:
        """Ordinary address or phone changes made on a member's request, and the buyers' edits."""
        rng, clock = self.rng, self.clock
        s = self.world.scale
        ids = apps["applicant_id"].to_numpy()
        changed = self.world.tables.get("profile_changes")
        sales = (
            pl.concat(self.sales)
            if self.sales
            else pl.DataFrame({"applicant_id": []}, schema={"applicant_id": pl.Int64})
        )
        # one edit per member, and none where another source already says what the value became;
        # a lookup table over the id range: numpy's default sorts every id (seconds at national)
        ok = apps["created_by_handler_id"].is_null().to_numpy()
        ok &= ~np.isin(ids, sales["applicant_id"].to_numpy(), kind="table")
        if changed is not None and changed.height:
            ok &= ~np.isin(ids, changed["account_id"].to_numpy(), kind="table")
        a0 = int(np.datetime64(f"{s.first_year}-01-01", "us").astype(np.int64))
        a1 = int(np.datetime64(f"{s.last_year}-12-15", "us").astype(np.int64))
        n_edits = min(n_edits, int(ok.sum()))
        who = rng.choice(np.flatnonzero(ok), n_edits, replace=False)
        reg = apps["registered_at"].dt.epoch("us").to_numpy()[who]
        lo = np.maximum(reg + DAY_US, a0)
        day = lo + (rng.random(n_edits) * np.maximum(a1 - lo, 0)).astype(np.int64)
        handler = _active_handler(rng, handlers, day)
        corrupt = np.isin(handler, self.plan.corrupt)
        late = rng.random(n_edits) < np.where(corrupt, fraud.OFF_HOURS["corrupt"], fraud.OFF_HOURS["honest"])
        t = np.where(late, clock.evening(rng, day), clock.office(rng, day, day + DAY_US))
        other = rng.integers(0, len(ids), n_edits)
        field = np.where(rng.random(n_edits) < 0.7, "address", "phone")
        edits = pl.DataFrame({"time_us": t, "handler_id": handler, "applicant_id": ids[who], "field": field})
        buyers = pl.DataFrame()
        if sales.height:
            other_b = rng.integers(0, len(ids), sales.height)
            sales = sales.with_columns(
                address=apps["address"].gather(sales["midx"]),
                phone=apps["phone"].gather(sales["midx"]),
                old_address=apps["address"].gather(other_b),
                old_phone=apps["phone"].gather(other_b),
                offer_us="offered_us",
            )
            buyers = fraud.buyer_actions(self.world.rng("fraud/edits"), clock, sales)
        self._act(
            edits.with_columns(
                old=pl.when(pl.col("field") == "address")
                .then(apps["address"].gather(other))
                .otherwise(apps["phone"].gather(other)),
                new=pl.when(pl.col("field") == "address")
                .then(apps["address"].gather(who))
                .otherwise(apps["phone"].gather(who)),
            ),
            time_us="time_us",
            handler_id="handler_id",
            action=pl.lit("profile_edit"),
            applicant_id="applicant_id",
            old_value="old",
            new_value="new",
        )
        if buyers.height:
            self._act(buyers, **{c: c for c in buyers.columns})

    def add_interests(self, lid: np.ndarray, aid: np.ndarray, reg: np.ndarray, wd: np.ndarray) -> None:
        """Write one batch's interests (µs times), already in key order, with its web sessions scattered in."""
        if not len(lid):
            return
        key = lid << 32 | aid  # ids fit in 32 bits each; batches come in listing order
        if not ((key[1:] > key[:-1]).all() and key[0] > self.last_key):
            raise AssertionError("generator bug: interests are not in key order")
        self.last_key = int(key[-1])
        lo = int(np.searchsorted(self.session_key, key[0], side="left"))
        hi = int(np.searchsorted(self.session_key, key[-1], side="right"))
        skey = self.session_key[lo:hi]
        at = np.searchsorted(key, skey)
        if not (key[np.minimum(at, len(key) - 1)] == skey).all():
            raise AssertionError("generator bug: a web interest was lost")
        self.sessions_found += len(skey)
        which = np.full(len(key), -1, dtype=np.int64)
        which[at] = np.arange(lo, hi)
        session = self.session_id.gather(pl.Series(which).replace(-1, None))
        utc = lambda us: pl.Series(us).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")  # noqa: E731
        withdrawn = utc(wd)
        withdrawn[np.flatnonzero(wd < 0)] = None
        self.interests.append(
            pl.DataFrame(
                {
                    "listing_id": lid,
                    "applicant_id": aid,
                    "registered_at": utc(reg),
                    "withdrawn_at": withdrawn,
                    "session_id": session,
                }
            )
        )

    def finish(self, apps: pl.DataFrame, queue_day: np.ndarray, signed: np.ndarray) -> None:
        """Write every allocation table, the snapshot changes and truth into the world."""
        w = self.world
        contracts = pl.concat(self.contracts)
        if self.sessions_found != len(self.session_key):
            raise AssertionError("generator bug: a web interest was lost")
        w.streams["interests"] = self.interests.close()
        self._profile_edits(apps, w.tables["handlers"], max(1, round(EDIT_SHARE * contracts.height)))
        w.tables["applicants"] = apps.with_columns(
            queue_start=pl.Series(queue_day).cast(pl.Date),
            status=pl.when(pl.Series(signed >= 0)).then(pl.lit("housed")).otherwise("status"),
        )
        w.tables["offers"] = (
            _timestamps(pl.concat(self.offers), {"offered_us": "offered_at", "responded_us": "responded_at"})
            .with_columns(response_session_id=pl.lit(None, pl.String))
            .sort("listing_id", "offered_at", "applicant_id")
        )
        w.tables["contracts"] = _timestamps(contracts, {"signed_us": "signed_at"}).sort("listing_id")
        acts = pl.concat(
            [a.cast({k: v for k, v in ACTION_COLUMNS.items() if k in a.columns}) for a in self.actions if a.height],
            how="diagonal",
        ).select(list(ACTION_COLUMNS))
        acts = acts.join(self.ips, on="handler_id", how="left").sort(
            "time_us", "handler_id", "action", "applicant_id", "listing_id", nulls_last=True, maintain_order=True
        )
        w.tables["handler_actions"] = _timestamps(acts, {"time_us": "time"}).with_columns(
            action_id=pl.int_range(1, acts.height + 1, dtype=pl.Int64)
        )
        for name in ("offers", "contracts", "handler_actions"):
            w.tables[name] = w.tables[name].select(evidence.polars_schema(name).names())
        truth = {
            "corrupt_handlers": pl.DataFrame({"handler_id": self.plan.corrupt}),
            "fraudulent_allocations": pl.concat(self.fraud).sort("listing_id"),
            "fake_profiles": (
                self.plan.fakes.select("applicant_id", handler_id="created_by_handler_id")
                if self.plan.fakes is not None
                else None
            ),
            "priority_allocations": pl.concat(self.priority).sort("listing_id"),
        }
        for name, frame in truth.items():
            schema = evidence.TRUTH_TABLES[name]
            w.truth[name] = (
                pl.DataFrame(schema=schema) if frame is None else frame.select(list(schema)).cast(pl.Schema(schema))
            ).sort(next(iter(schema)))


def _timestamps(frame: pl.DataFrame, names: dict[str, str]) -> pl.DataFrame:
    """Replace int64 µs columns by UTC datetimes under their evidence names."""
    return frame.with_columns(
        [pl.col(us).cast(pl.Datetime("us")).dt.replace_time_zone("UTC").alias(name) for us, name in names.items()]
    ).drop(list(names))


def _active_handler(rng: np.random.Generator, handlers: pl.DataFrame, t_us: np.ndarray) -> np.ndarray:
    """A caseworker employed on each day, any team: customer service takes edits for all."""
    day = (t_us // DAY_US).astype(np.int64)
    h_id = handlers["handler_id"].to_numpy()
    h_from = handlers["active_from"].cast(pl.Int64).to_numpy()
    h_to = handlers["active_to"].cast(pl.Int64).fill_null(10**9).to_numpy()
    active = (h_from[None, :] <= day[:, None]) & (day[:, None] <= h_to[None, :])
    return h_id[np.argmax(np.where(active, rng.random(active.shape), -1.0), axis=1)]

"""Interests: how many each listing draws, who draws them, and which a member could make.

The first half of each monthly batch of :mod:`.allocation`: members' interests are drawn for
all listings of the batch at once (per kind group and district class), web-made interests and
fake profiles' interests replace or join them, and draws a member could not have made are
dropped. Also the numpy column helpers both halves use.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from .listings import DAY_US, US
from .queue_rules import WHY, age_years, income_ok, ineligibility
from .world import World

__all__ = [
    "ACTIVITY_SHAPE",
    "CLASSES",
    "GROUPS",
    "HOUR",
    "INNER_PULL",
    "OUTER_DECAY",
    "InterestDraws",
    "Rows",
    "argsort_unique",
    "positions",
    "sorted_values",
    "starts",
]

HOUR = 3600 * US

# Expected interest per listing, relative: the inner city draws hundreds, suburbs tens.
POP_CLASS = {"inner": 3.2, "outer": 0.75, "suburb": 0.5}
POP_KIND = {"regular": 1.0, "new_build": 0.8, "student": 0.6, "youth": 0.7, "senior": 0.4, "short_term": 0.45}
POP_ROOMS = np.array([1.2, 1.1, 0.9, 0.75, 0.6])
OVERDRAW = 1.3  # draws lost to duplicates and to members who know they fail the income rule
INNER_PULL = 1.6  # members queued long favour the inner city: weight (1 + years/3)^pull
OUTER_DECAY = 6.0  # ... and apply less elsewhere: weight exp(-years/decay)
ACTIVITY_SHAPE = 0.6  # heavy-tailed: most members apply rarely, a few very often
EARLY = 1.8  # interests cluster early in the open period: fraction u**EARLY of it
WITHDRAW_P = 0.04
SELF_SELECT_P = 0.65  # members failing the income rule who do not apply anyway
CLASSES = ("inner", "outer", "suburb")
GROUPS = (
    ("general", ("regular", "new_build", "short_term")),
    ("student", ("student",)),
    ("youth", ("youth",)),
    ("senior", ("senior",)),
)


class Rows(dict):
    """Equal-length numpy columns; :meth:`take` selects the same rows from all of them."""

    def take(self, idx) -> Rows:
        if isinstance(idx, np.ndarray) and idx.dtype == bool:
            idx = np.flatnonzero(idx)  # a mask applied column after column is several times slower
        return Rows({k: np.take(v, idx, axis=0) for k, v in self.items()})

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def sorted_values(values: np.ndarray) -> np.ndarray:
    """``np.sort(values)`` for numbers without NaN, by polars: the same values, about half the CPU."""
    return pl.Series(values).sort().to_numpy()


def argsort_unique(key: np.ndarray) -> np.ndarray:
    """``np.argsort(key)``, by polars when no key repeats (then the order is the only one).

    Polars takes about 60 % of numpy's CPU; with a repeat, numpy's own order as before.
    """
    order = pl.Series(key).arg_sort().to_numpy()
    ranked = np.take(key, order)
    return order if (ranked[1:] > ranked[:-1]).all() else np.argsort(key)


def starts(group: np.ndarray) -> np.ndarray:
    """True where a new group begins in a sorted group column."""
    return np.r_[True, group[1:] != group[:-1]][: len(group)]


def positions(group: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each run of a sorted group column."""
    first = starts(group)
    return np.arange(len(group)) - np.flatnonzero(first)[np.cumsum(first) - 1]


class InterestDraws:
    """The interest-drawing half of the allocation's simulation (mixed into it)."""

    world: World
    rng: np.random.Generator
    L: Rows  # listings, by row
    M: Rows  # members, by row
    signed: np.ndarray  # µs a member signed a contract, -1 if not (yet)
    queue_day: np.ndarray
    pull: dict[str, np.ndarray]
    activity: np.ndarray
    n_draw: np.ndarray
    web: Rows
    fake: Rows
    _member_scratch: tuple[np.ndarray, np.ndarray] | None = None  # months queued and age, see _sample

    def _interest_counts(self) -> np.ndarray:
        """Interests to draw per listing: popularity times a gamma-Poisson scatter."""
        L = self.L
        pop = (
            pl.Series(L.cls).replace_strict(POP_CLASS).to_numpy()
            * pl.Series(L.kind).replace_strict(POP_KIND).to_numpy()
            * POP_ROOMS[L.rooms - 1]
        )
        lam = pop / pop.mean() * self.world.scale.interests_per_listing * OVERDRAW
        return self.rng.poisson(lam * self.rng.gamma(2.0, 0.5, len(lam)))

    # ---- interests -------------------------------------------------------------------

    def _sample(self, lrows: np.ndarray) -> Rows:
        """Members' interests in a batch, drawn per kind group and district class at once."""
        rng, L, M = self.rng, self.L, self.M
        t0, year = int(L.pub[lrows[0]]), int(L.year[lrows[0]])
        day0 = t0 // DAY_US
        pool = (M.reg < t0) & ((self.signed < 0) | (self.signed >= t0)) & (M.lapsed > year) & ~M.fake
        # Computed in place into arrays kept from batch to batch: at national a member-sized
        # array is 36 MB, above glibc's largest mmap threshold, so fresh ones would be mapped
        # and page-faulted anew in each of 140 batches (system time).
        if self._member_scratch is None or len(self._member_scratch[0]) != len(M.id):
            self._member_scratch = (np.empty(len(M.id), np.int64), np.empty(len(M.id), np.float64))
        months, age = self._member_scratch
        np.divide(np.subtract(day0, M.birth_day, out=months), 365.25, out=age)  # (day0 - birth) / 365.25
        np.subtract(day0, self.queue_day, out=months)  # clip((day0 - queue) * 12 // 365, 0, 959)
        months *= 12
        months //= 365
        np.clip(months, 0, 12 * 80 - 1, out=months)
        cond = {
            "general": pool,
            "student": pool & M.student,
            "youth": pool & (age > 17.9) & (age < 26.1),
            "senior": pool & (age > 64.9),
        }
        parts_l, parts_m = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        for group, kinds in GROUPS:
            idx = np.flatnonzero(cond[group])
            cdfs: dict[str, np.ndarray] = {}  # outer and suburb share the pull, so their cdf
            for c in CLASSES:
                ls = lrows[np.isin(L.kind[lrows], kinds) & (L.cls[lrows] == c)]
                total = int(self.n_draw[ls].sum())
                if not idx.size or not total:
                    continue
                which = "inner" if c == "inner" else "other"
                if which not in cdfs:
                    cdfs[which] = np.cumsum(self.activity[idx] * self.pull[which][months[idx]])
                cdf = cdfs[which]
                # sorted queries make the search cache-friendly; the shuffle undoes the order
                picks = idx[np.minimum(np.searchsorted(cdf, sorted_values(rng.random(total)) * cdf[-1]), idx.size - 1)]
                rng.shuffle(picks)
                parts_m.append(picks)
                parts_l.append(np.repeat(ls, self.n_draw[ls]))
        n_m = len(M.id)
        key = sorted_values(np.concatenate(parts_l) * n_m + np.concatenate(parts_m))
        key = key[starts(key)]
        li, m = key // n_m, key % n_m
        pub, close = L.pub[li], L.close[li]
        reg = pub + (rng.random(key.size) ** EARLY * (close - pub)).astype(np.int64)
        wd = np.where(
            rng.random(key.size) < WITHDRAW_P, reg + (rng.random(key.size) * (close - reg)).astype(np.int64), -1
        )
        return Rows(l=li, m=m, reg=reg, wd=wd, src=np.zeros(key.size, np.int8))

    def _add_web_and_fakes(self, r: Rows, lrows: np.ndarray) -> Rows:
        """Web interest episodes replace drawn ones; a bare withdrawal gets an earlier interest."""
        n_m = len(self.M.id)
        w = self.web.take(np.isin(self.web.l, lrows))
        parts = [r]
        if len(w.l):
            key, wkey = r.l * n_m + r.m, w.l * n_m + w.m
            at = np.minimum(np.searchsorted(key, wkey), max(len(key) - 1, 0))
            hit = (at < len(key)) & (key[at] == wkey) if len(key) else np.zeros(len(wkey), bool)
            drawn = np.where(hit, r.reg[at] if len(key) else -1, -1)
            synth = np.maximum(self.L.pub[w.l], w.wd - self.rng.integers(HOUR, 48 * HOUR, len(w.l)))
            synth = np.where(synth >= w.wd, w.wd - 60 * US, synth)
            earlier = np.where(hit & (drawn < w.wd), drawn, synth)
            reg = np.where(w.reg >= 0, w.reg, earlier)
            keep = np.ones(len(key), bool)
            keep[at[hit]] = False
            parts = [r.take(keep), Rows(l=w.l, m=w.m, reg=reg, wd=w.wd, src=np.ones(len(w.l), np.int8))]
        f = self.fake.take(np.isin(self.fake.l, lrows))
        parts.append(Rows(l=f.l, m=f.m, reg=f.reg, wd=np.full(len(f.l), -1), src=np.full(len(f.l), 2, np.int8)))
        out = Rows({k: np.concatenate([p[k] for p in parts]) for k in r})
        key = out.l.astype(np.int64) << 32 | self.M.id[out.m]  # the order of the interests table
        return out if (key[1:] > key[:-1]).all() else out.take(argsort_unique(key))

    def _settle(self, r: Rows) -> Rows:
        """Attach attributes; drop draws a member could not have made; withdraw on signing."""
        L, M = self.L, self.M
        r.update(
            close=np.take(L.close, r.l),
            kind=np.take(L.kind_code, r.l),
            rent=np.take(L.rent, r.l),
            k=np.take(L.k, r.l),
            income=np.take(M.income, r.m),
            signed=np.take(self.signed, r.m),
        )
        r["why"] = ineligibility(
            dict(
                member_registered_us=np.take(M.reg, r.m),
                registered_us=r.reg,
                lapsed_year=np.take(M.lapsed, r.m),
                publish_year=np.take(L.year, r.l),
                kind=r.kind,
                student=np.take(M.student, r.m),
                signed_us=r.signed,
                close_us=r.close,
                age=age_years(
                    np.take(M.birth_y, r.m), np.take(M.birth_md, r.m), np.take(L.close_y, r.l), np.take(L.close_md, r.l)
                ),
            )
        )
        r["income_ok"] = income_ok(r.income, r.rent, r.k)
        drawn = r.src == 0
        drop = drawn & (((r.why > 0) & (WHY.index("housed") != r.why)) | ((r.signed >= 0) & (r.reg >= r.signed)))
        drop |= drawn & ~r.income_ok & (self.rng.random(len(drawn)) < SELF_SELECT_P)
        r = r.take(~drop)
        signs = (r.signed >= 0) & (r.reg < r.signed) & (r.close > r.signed)
        r["wd"] = np.where(signs, np.where(r.wd >= 0, np.minimum(r.wd, r.signed), r.signed), r.wd)
        return r

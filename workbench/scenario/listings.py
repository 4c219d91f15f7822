"""Caseworkers, their office clock, and the listings they mediate over the allocation years.

Times are int64 microseconds since the epoch (UTC) in numpy until a table is assembled.
Office hours are Stockholm local time, so the clock converts through the real time zone
(daylight saving included) once per day, never per row.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from ..settings import LOCAL_TZ
from .world import WEB_PERIOD, World

__all__ = [
    "DAY_US",
    "DISTRICTS",
    "KINDS",
    "TEAMS",
    "US",
    "WorkClock",
    "handler_ips",
    "make_handlers",
    "make_listings",
    "to_datetime",
]

US = 1_000_000
DAY_US = 86_400 * US
ZONE = LOCAL_TZ

# name, team (district group), popularity class, share of listings. The inner city is
# popular but has little turnover, so it has fewer listings than its draw suggests.
DISTRICTS: tuple[tuple[str, str, str, float], ...] = (
    ("Södermalm", "Innerstaden", "inner", 0.07),
    ("Kungsholmen", "Innerstaden", "inner", 0.05),
    ("Vasastan", "Innerstaden", "inner", 0.05),
    ("Östermalm", "Innerstaden", "inner", 0.04),
    ("Norrmalm", "Innerstaden", "inner", 0.02),
    ("Hägersten-Liljeholmen", "Söderort", "outer", 0.07),
    ("Enskede-Årsta-Vantör", "Söderort", "outer", 0.06),
    ("Farsta", "Söderort", "outer", 0.05),
    ("Skärholmen", "Söderort", "outer", 0.04),
    ("Älvsjö", "Söderort", "outer", 0.03),
    ("Bromma", "Västerort", "outer", 0.05),
    ("Hässelby-Vällingby", "Västerort", "outer", 0.06),
    ("Rinkeby-Kista", "Västerort", "outer", 0.05),
    ("Spånga-Tensta", "Västerort", "outer", 0.04),
    ("Solna", "Kranskommuner", "suburb", 0.05),
    ("Sundbyberg", "Kranskommuner", "suburb", 0.04),
    ("Huddinge", "Kranskommuner", "suburb", 0.05),
    ("Nacka", "Kranskommuner", "suburb", 0.04),
    ("Järfälla", "Kranskommuner", "suburb", 0.04),
    ("Botkyrka", "Kranskommuner", "suburb", 0.04),
    ("Södertälje", "Kranskommuner", "suburb", 0.06),
)
TEAMS = ("Innerstaden", "Söderort", "Västerort", "Kranskommuner")
TEAM_SHARE = np.array([0.25, 0.25, 0.2, 0.3])
CLASSES = ("inner", "outer", "suburb")
# Municipal landlord of each suburb (Nacka has none); the city's three serve Stockholm.
LOCAL_PUBLIC = {
    "Solna": "Signalisten",
    "Sundbyberg": "Förvaltaren",
    "Huddinge": "Huddingehem",
    "Järfälla": "Järfällahus",
    "Botkyrka": "Botkyrkabyggen",
    "Södertälje": "Telge Bostäder",
}
CITY_PUBLIC = ("Stockholmshem", "Svenska Bostäder", "Familjebostäder")
PRIVATE = (
    "Akelius",
    "Heimstaden",
    "Wallenstam",
    "Einar Mattsson",
    "John Mattson",
    "Stena Fastigheter",
    "Victoriahem",
    "Rikshem",
)

KINDS = ("regular", "new_build", "student", "youth", "senior", "short_term")
KIND_SHARE = np.array([0.62, 0.14, 0.08, 0.07, 0.06, 0.03])
# Room-count distributions (1..5 rooms) by kind.
ROOMS_P = {
    "student": [0.9, 0.1, 0, 0, 0],
    "youth": [0.6, 0.4, 0, 0, 0],
    "senior": [0.45, 0.45, 0.1, 0, 0],
}
ROOMS_P_DEFAULT = [0.24, 0.36, 0.25, 0.11, 0.04]
RENT_BY_ROOMS = np.array([4900, 6500, 8200, 10100, 12200])
RENT_CLASS = {"inner": 1.12, "outer": 1.0, "suburb": 0.96}
RENT_KIND = {"regular": 1.0, "new_build": 1.38, "student": 0.62, "youth": 0.85, "senior": 0.95, "short_term": 1.1}
# P(none, 2x, 3x) income rule, by landlord type; student/youth/senior listings rarely set one.
INCOME_RULES = ("none", "2x_rent", "3x_rent")
RULE_P_PUBLIC = [0.45, 0.4, 0.15]
RULE_P_PRIVATE = [0.1, 0.35, 0.55]
RULE_P_SPECIAL = [0.75, 0.25, 0.0]

OFFICE_OPEN_H = 8  # local office hours 08–16 on weekdays
OFFICE_HOURS = 8
MIN_OPEN_IN_WEB_PERIOD = 6  # the incident needs listings taking interest in Dec 2013


def to_datetime(us: np.ndarray, name: str) -> pl.Series:
    """int64 microseconds (UTC) as a ``Datetime("us", "UTC")`` series; negative = null."""
    s = pl.Series(name, np.asarray(us, dtype=np.int64))
    return (
        pl.select(pl.when(s >= 0).then(s)).to_series().cast(pl.Datetime("us")).dt.replace_time_zone("UTC").alias(name)
    )


def _local_to_utc_us(days: np.ndarray, seconds: np.ndarray | int) -> np.ndarray:
    """Local Stockholm wall time (day as datetime64[D] plus seconds of day) to UTC µs."""
    naive = days.astype("datetime64[D]").astype("datetime64[us]").astype(np.int64) + np.asarray(seconds, np.int64) * US
    s = pl.Series(naive).cast(pl.Datetime("us")).dt.replace_time_zone(ZONE, ambiguous="earliest", non_existent="null")
    return s.dt.convert_time_zone("UTC").dt.replace_time_zone(None).cast(pl.Int64).to_numpy()


def _local_day(us: np.ndarray) -> np.ndarray:
    """Stockholm local calendar day (datetime64[D]) of UTC µs."""
    s = pl.Series(np.asarray(us, np.int64)).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    return s.dt.convert_time_zone(ZONE).dt.date().to_numpy().astype("datetime64[D]")


class WorkClock:
    """Office time: a clock that only runs 08–16 local on weekdays.

    Durations of casework (an offer waiting for an answer, a contract being drawn up) are
    added in office time and mapped back to wall time, so chained events stay ordered and
    land in office hours without a loop over events.
    """

    SHIFT = OFFICE_HOURS * 3600 * US

    def __init__(self, first: date, last: date):
        days = np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)
        weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
        self.days = days[weekday < 5]
        self.start = _local_to_utc_us(self.days, OFFICE_OPEN_H * 3600)

    def to_work(self, wall_us: np.ndarray) -> np.ndarray:
        """Office-time µs of wall times; a time out of hours maps to the next opening."""
        wall_us = np.asarray(wall_us, np.int64)
        i = np.searchsorted(self.start, wall_us, side="right") - 1
        inside = np.clip(wall_us - self.start[np.maximum(i, 0)], 0, self.SHIFT)
        return np.where(i < 0, 0, i * self.SHIFT + inside)

    def to_wall(self, work_us: np.ndarray) -> np.ndarray:
        """Wall-time µs (UTC) of office-time µs."""
        work_us = np.asarray(work_us, np.int64)
        i = np.minimum(work_us // self.SHIFT, len(self.start) - 1)
        return self.start[i] + (work_us - i * self.SHIFT)

    def office(self, rng: np.random.Generator, lo_us: np.ndarray, hi_us: np.ndarray) -> np.ndarray:
        """A uniform office-hours time between two wall times (the later bound wins if empty)."""
        a, b = self.to_work(lo_us), self.to_work(hi_us)
        return self.to_wall(a + (rng.random(len(a)) * np.maximum(b - a, 0)).astype(np.int64))

    def evening(self, rng: np.random.Generator, us: np.ndarray, only: np.ndarray | None = None) -> np.ndarray:
        """A time on the evening (18–23 local) of the same local day: outside office hours.

        ``only`` (one bool per time): move only those, keep the others as they are. The draws
        are the same either way (one per time), so ``np.where(only, evening(us), us)`` equals
        ``evening(us, only)``; the time zone work is done for the moved times alone.
        """
        second = rng.integers(18 * 3600, 23 * 3600 + 1800, len(us))
        if only is None:
            return _local_to_utc_us(_local_day(us), second)
        out = np.array(us, dtype=np.int64)
        at = np.flatnonzero(only)
        out[at] = _local_to_utc_us(_local_day(out[at]), second[at])
        return out


def make_handlers(world: World, rng: np.random.Generator) -> pl.DataFrame:
    """Caseworkers in teams by district group; a few leave or join during the allocation years.

    The first caseworker of each team stays throughout, so every team can always mediate.
    """
    from faker.providers.person.sv_SE import Provider as Person

    n = world.scale.handlers
    counts = np.maximum(1, np.floor(TEAM_SHARE * n).astype(int))
    while counts.sum() < n:
        counts[np.argmax(TEAM_SHARE * n - counts)] += 1
    while counts.sum() > n:
        counts[np.argmax(counts)] -= 1
    team = np.repeat(np.arange(len(TEAMS)), counts)
    first_in_team = np.r_[True, team[1:] != team[:-1]]

    female = rng.random(n) < 0.65  # customer service is mostly staffed by women
    firsts = {k: np.array(list(getattr(Person, f"first_names_{k}"))) for k in ("female", "male")}
    lasts = np.array(list(Person.last_names))
    first = np.where(female, rng.choice(firsts["female"], n), rng.choice(firsts["male"], n))
    last = rng.choice(lasts, n, replace=False)

    a0, a1 = np.datetime64(world.allocation_start, "D"), np.datetime64(world.allocation_end, "D")
    active_from = np.datetime64("1996-01-01") + rng.integers(0, (a0 - np.datetime64("1996-01-01")).astype(int) - 30, n)
    active_to = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    movers = np.flatnonzero(~first_in_team)
    k = int(round(0.1 * n))
    if movers.size >= 2 and k:
        picked = rng.permutation(movers)[: 2 * k]
        span = (a1 - a0).astype(int)
        leave, join = picked[: len(picked) // 2], picked[len(picked) // 2 :]
        active_to[leave] = a0 + rng.integers(span // 4, 3 * span // 4 + 1, leave.size)
        active_from[join] = a0 + rng.integers(span // 4, 3 * span // 4 + 1, join.size)
    return pl.DataFrame(
        {
            "handler_id": np.arange(1, n + 1, dtype=np.int64),
            "name": pl.Series(first) + " " + pl.Series(last),
            "team": np.array(TEAMS)[team],
            "active_from": active_from,
            "active_to": active_to,
        }
    ).with_columns(pl.col("active_from", "active_to").cast(pl.Date))


def handler_ips(handlers: pl.DataFrame) -> pl.DataFrame:
    """Each caseworker's workstation address, on the team's office subnet."""
    team_no = handlers["team"].replace_strict({t: i + 1 for i, t in enumerate(TEAMS)}, return_dtype=pl.Int64)
    return handlers.select("handler_id", ip=pl.format("10.20.{}.{}", team_no, pl.col("handler_id") + 20))


def _publish_days(rng: np.random.Generator, year: int, n: int, last_year: bool) -> np.ndarray:
    """Weekdays of a year on which listings open; the last year stops early so all close in time."""
    days = np.arange(np.datetime64(f"{year}-01-02"), np.datetime64(f"{year}-11-20" if last_year else f"{year}-12-20"))
    days = days[(days.astype(np.int64) + 3) % 7 < 5]
    return np.sort(rng.choice(days, n))


def _landlords(
    rng: np.random.Generator, district: np.ndarray, cls: np.ndarray, kind: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Landlord per listing and whether it is municipal (which sets its usual income rule)."""
    n = len(district)
    local = pl.Series(district).replace_strict(LOCAL_PUBLIC, default="").to_numpy()
    city_public = rng.choice(np.array(CITY_PUBLIC), n)
    public_name = np.where(cls == "suburb", local, city_public)
    public = (rng.random(n) < 0.55) & (public_name != "")
    name = np.where(public, public_name, rng.choice(np.array(PRIVATE), n))
    name = np.where((kind == "student") & (rng.random(n) < 0.7), "Stockholms Studentbostäder", name)
    name = np.where((kind == "senior") & (cls != "suburb") & (rng.random(n) < 0.7), "Micasa Fastigheter", name)
    return name, public


def make_listings(world: World, rng: np.random.Generator, handlers: pl.DataFrame) -> pl.DataFrame:
    """Listings of every allocation year, each with the caseworker who mediates it (``_handler_id``)."""
    s = world.scale
    d_names = np.array([d[0] for d in DISTRICTS])
    d_team = np.array([d[1] for d in DISTRICTS])
    d_cls = np.array([d[2] for d in DISTRICTS])
    d_p = np.array([d[3] for d in DISTRICTS])
    days = np.concatenate(
        [_publish_days(rng, y, s.listings_per_year, y == s.last_year) for y in range(s.first_year, s.last_year + 1)]
    )
    n = len(days)
    days = _ensure_open_in_web_period(rng, days)
    di = rng.choice(len(DISTRICTS), n, p=d_p / d_p.sum())
    cls = d_cls[di]
    kind = np.array(KINDS)[rng.choice(len(KINDS), n, p=KIND_SHARE)]
    rooms = np.ones(n, dtype=np.int64)
    for k in KINDS:
        m = kind == k
        rooms[m] = 1 + rng.choice(5, m.sum(), p=ROOMS_P.get(k, ROOMS_P_DEFAULT))
    year = days.astype("datetime64[Y]").astype(np.int64) + 1970
    rent = (
        RENT_BY_ROOMS[rooms - 1]
        * pl.Series(cls).replace_strict(RENT_CLASS).to_numpy()
        * pl.Series(kind).replace_strict(RENT_KIND).to_numpy()
        * 1.02 ** (year - 2013)
        * rng.lognormal(0, 0.09, n)
    )
    rent = (np.round(rent / 10) * 10).astype(np.int64)
    landlord, public = _landlords(rng, d_names[di], cls, kind)
    special = np.isin(kind, ["student", "youth", "senior"])
    u = rng.random(n)
    rule_p = np.where(special[:, None], RULE_P_SPECIAL, np.where(public[:, None], RULE_P_PUBLIC, RULE_P_PRIVATE))
    rule = np.array(INCOME_RULES)[(u[:, None] > np.cumsum(rule_p, axis=1)).sum(axis=1)]

    published = _local_to_utc_us(days, rng.integers(8 * 3600, 10 * 3600, n))
    closes = _local_to_utc_us(days + rng.integers(7, 15, n), 23 * 3600 + 59 * 60)
    handler = _assign_handlers(rng, d_team[di], days, handlers)

    order = np.lexsort((rng.random(n), published))
    seq = np.zeros(n, dtype=np.int64)
    y_sorted = year[order]
    seq[order] = np.arange(n) - np.searchsorted(y_sorted, y_sorted) + 1
    # YYNNNNN: two digits of year, then the number within the year, in five digits or as many
    # as a year needs (national publishes 125,000 a year; five would run into the next year).
    width = 10 ** max(5, len(str(int(seq.max(initial=0)))))
    return pl.DataFrame(
        {
            "listing_id": (year % 100) * width + seq,
            "landlord": landlord,
            "district": d_names[di],
            "rooms": rooms,
            "rent": rent,
            "kind": kind,
            "published_at": to_datetime(published, "published_at"),
            "closes_at": to_datetime(closes, "closes_at"),
            "income_rule": rule,
            "_handler_id": handler,
            "_class": cls,
        }
    ).sort("listing_id")


def _ensure_open_in_web_period(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    """Move a few 2013 listings into early December if too few would take web interest."""
    lo, hi = (np.datetime64(t.date(), "D") for t in WEB_PERIOD)
    window = (days >= lo - 10) & (days < hi)
    short = MIN_OPEN_IN_WEB_PERIOD - int(window.sum())
    movable = np.flatnonzero((days.astype("datetime64[Y]") == np.datetime64("2013", "Y")) & ~window)
    if short > 0 and movable.size:
        pick = rng.choice(movable, min(short, movable.size), replace=False)
        days = days.copy()
        days[pick] = np.datetime64("2013-12-09") + rng.integers(0, 5, pick.size)
        days.sort()
    return days


HANDOVER_DAYS = 120  # a leaver takes no new listings in their last months, so all they start ends in time


def _assign_handlers(
    rng: np.random.Generator, team: np.ndarray, days: np.ndarray, handlers: pl.DataFrame
) -> np.ndarray:
    """A caseworker of the listing's team, employed from the day it opens until it is settled."""
    h_team = handlers["team"].to_numpy()
    h_from = handlers["active_from"].to_numpy().astype("datetime64[D]")
    h_to = handlers["active_to"].fill_null(date.max - timedelta(days=1)).to_numpy().astype("datetime64[D]")
    h_id = handlers["handler_id"].to_numpy()
    out = np.zeros(len(days), dtype=np.int64)
    for t in TEAMS:
        rows = np.flatnonzero(team == t)
        cols = np.flatnonzero(h_team == t)
        active = (h_from[cols][None, :] <= days[rows, None]) & (days[rows, None] + HANDOVER_DAYS <= h_to[cols][None, :])
        score = np.where(active, rng.random(active.shape), -1.0)
        out[rows] = h_id[cols[np.argmax(score, axis=1)]]
    return out

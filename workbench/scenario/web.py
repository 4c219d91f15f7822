"""Web sessions of the logged period: logins, page timing, logouts and the session-binding fault.

Times are handled as integer seconds since the epoch (UTC) in numpy and only turned into
``Datetime("us", "UTC")`` columns when a table is assembled. Stockholm is UTC+1 for the
whole of December, so local time is a fixed offset here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl
import pyarrow as pa

from .. import evidence
from .world import INCIDENT, SWAP_MODES, WEB_PERIOD, World

__all__ = [
    "IDLE_TIMEOUT",
    "LOCAL_OFFSET",
    "OpenListings",
    "Page",
    "Sessions",
    "as_datetime",
    "local_hour",
    "local_weekday",
    "seconds",
    "simulate_sessions",
]

LOCAL_OFFSET = 3600  # CET, no daylight saving in December
IDLE_TIMEOUT = 20 * 60  # a session without activity ends 20 minutes after its last page


def seconds(t: datetime) -> int:
    """Whole seconds since the epoch of an aware datetime."""
    return int(t.timestamp())


def as_datetime(secs, name: str = "time") -> pl.Series:
    """Seconds since the epoch (array-like) as a ``Datetime("us", "UTC")`` series."""
    us = np.asarray(secs, dtype=np.int64) * 1_000_000
    return pl.Series(name, us).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def local_weekday(secs) -> np.ndarray:
    """Local weekday, Monday = 0 (1970-01-01 was a Thursday)."""
    return ((np.asarray(secs) + LOCAL_OFFSET) // 86400 + 3) % 7


def local_hour(secs) -> np.ndarray:
    """Local hour of day, 0–23."""
    return ((np.asarray(secs) + LOCAL_OFFSET) // 3600) % 24


# Relative login rates per local hour: night low, peaks at morning, lunch and evening.
_WEEKDAY = np.array(
    [
        0.25,
        0.12,
        0.07,
        0.05,
        0.05,
        0.12,
        0.45,
        1.0,
        1.5,
        1.6,
        1.5,
        1.5,
        1.9,
        1.6,
        1.4,
        1.4,
        1.4,
        1.4,
        1.6,
        1.9,
        2.0,
        1.8,
        1.2,
        0.6,
    ]
)
_WEEKEND = np.array(
    [
        0.4,
        0.2,
        0.1,
        0.06,
        0.05,
        0.07,
        0.15,
        0.35,
        0.7,
        1.1,
        1.4,
        1.5,
        1.5,
        1.5,
        1.4,
        1.4,
        1.3,
        1.3,
        1.4,
        1.7,
        1.8,
        1.6,
        1.1,
        0.7,
    ]
)
_DAY = np.array([1.1, 1.05, 1.0, 1.0, 0.85, 0.8, 1.0])  # Monday..Sunday
# People who could not log in during the shutdown come back once login reopens.
_REOPEN_SURGE, _REOPEN_DECAY = 1.0, 6 * 3600

_DESKTOP_AGENTS = np.array(
    [
        "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/31.0.1650.63 Safari/537.36",
        "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:26.0) Gecko/20100101 Firefox/26.0",
        "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
        "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; WOW64; Trident/6.0)",
        "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0)",
        "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.73.11 (KHTML, like Gecko) Version/7.0.1 Safari/537.73.11",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_8_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/31.0.1650.63 Safari/537.36",
        "Mozilla/5.0 (Windows NT 6.2; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/31.0.1650.63 Safari/537.36",
        "Mozilla/5.0 (Windows NT 6.3; WOW64; Trident/7.0; rv:11.0) like Gecko",
        "Mozilla/5.0 (Windows NT 5.1; rv:25.0) Gecko/20100101 Firefox/25.0",
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:26.0) Gecko/20100101 Firefox/26.0",
        "Opera/9.80 (Windows NT 6.1; WOW64) Presto/2.12.388 Version/12.16",
    ]
)
_DESKTOP_WEIGHTS = np.array([22, 14, 8, 9, 8, 5, 7, 4, 5, 4, 3, 2, 2], dtype=float)
_MOBILE_AGENTS = np.array(
    [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 7_0_4 like Mac OS X) AppleWebKit/537.51.1 (KHTML, like Gecko) Version/7.0 Mobile/11B554a Safari/9537.53",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 6_1_4 like Mac OS X) AppleWebKit/536.26 (KHTML, like Gecko) Version/6.0 Mobile/10B350 Safari/8536.25",
        "Mozilla/5.0 (iPad; CPU OS 7_0_4 like Mac OS X) AppleWebKit/537.51.1 (KHTML, like Gecko) Version/7.0 Mobile/11B554a Safari/9537.53",
        "Mozilla/5.0 (Linux; Android 4.3; GT-I9300 Build/JSS15J) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/31.0.1650.59 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; U; Android 4.1.2; sv-se; GT-I9100 Build/JZO54K) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
        "Mozilla/5.0 (Linux; Android 4.2.2; C6603 Build/10.3.A.0.423) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/31.0.1650.59 Mobile Safari/537.36",
        "Mozilla/5.0 (compatible; MSIE 10.0; Windows Phone 8.0; Trident/6.0; IEMobile/10.0; ARM; Touch; NOKIA; Lumia 920)",
    ]
)
_MOBILE_WEIGHTS = np.array([30, 10, 10, 20, 12, 10, 8], dtype=float)
_MOBILE_NETS = np.array(["90.224", "90.225", "95.192", "95.193", "46.194", "37.123", "78.67"])


class Page:
    """Page codes of the web site; ``PATHS[code]`` is the path, ``{id}`` a listing id."""

    LOGIN, HOME, SEARCH, SEARCH_AREA, LISTING, HELP, RULES, CONTACT = range(8)
    MINE, PROFILE, QUEUE, INTERESTS, OFFERS, REGISTER, WITHDRAW, LOGOUT = range(8, 16)
    PATHS = (
        "/logga-in",
        "/",
        "/sok",
        "/sok?omrade=",
        "/lagenhet/{id}",
        "/hjalp",
        "/ko-regler",
        "/kundtjanst/kontakt",
        "/mina-sidor",
        "/mina-sidor/profil",
        "/mina-sidor/ko",
        "/mina-sidor/intressen",
        "/mina-sidor/erbjudanden",
        "/lagenhet/{id}/intresse",
        "/mina-sidor/intressen/{id}/ta-bort",
        "/logga-ut",
    )
    # Pages that render the bound account's data when served with status 200.
    RENDERS = np.array([False] * 8 + [True] * 7 + [False])
    # What an ordinary click lands on after the landing page, and how often.
    BROWSE = np.array([HOME, SEARCH, SEARCH_AREA, LISTING, HELP, RULES, MINE, PROFILE, QUEUE, INTERESTS, OFFERS])
    BROWSE_WEIGHTS = np.array([5, 8, 8, 28, 2, 2, 8, 9, 12, 13, 5], dtype=float)


@dataclass
class Sessions:
    """All web sessions in start order, and their activity pages in session order.

    ``frame`` has one row per session: sid (row number), session_id, member (the
    authenticated applicant), account (the account the session is bound to), swapped,
    start, end (seconds), reason, pages, method, ip, user_agent, swap_page. The page arrays
    hold every activity page (the landing page first); ``first[sid]`` indexes a session's
    first page. ``swap_page`` is the index of the first activity page served with the bound
    account: 0 when the swap came with the login, 1 or more when it came in mid-session
    after the member's own pages, -1 for a session that was not swapped.
    """

    frame: pl.DataFrame
    first: np.ndarray
    page_sid: np.ndarray
    page_time: np.ndarray


class OpenListings:
    """Listings that take interest during the web period, for picking one open at a time."""

    KINDS = evidence.ENUMS["listing_kind"]  # column order of the ``allowed`` matrix in pick()

    def __init__(self, listings: pl.DataFrame):
        lo, hi = WEB_PERIOD
        live = listings.filter((pl.col("closes_at") > lo) & (pl.col("published_at") < hi)).sort("listing_id")
        self.ids = live["listing_id"].to_numpy()
        self.opens = live["published_at"].dt.epoch("s").to_numpy()
        self.closes = live["closes_at"].dt.epoch("s").to_numpy()
        self.kind = live["kind"].replace_strict({k: i for i, k in enumerate(self.KINDS)}).to_numpy()
        self.district = live["district"].to_numpy()

    def pick(self, rng: np.random.Generator, times: np.ndarray, allowed: np.ndarray | None = None, rounds: int = 80):
        """Row index into the listings open at each time (and of an allowed kind), -1 if none.

        ``allowed`` is a bool matrix (len(times) × kinds); rejection sampling keeps the
        draw uniform over the qualifying listings without materialising them per time.
        """
        out = np.full(len(times), -1)
        if not len(self.ids):
            return out
        todo = np.arange(len(times))
        for _ in range(rounds):
            if not todo.size:
                break
            c = rng.integers(0, len(self.ids), todo.size)
            t = times[todo]
            ok = (self.opens[c] <= t) & (t < self.closes[c])
            if allowed is not None:
                ok &= allowed[todo, self.kind[c]]
            out[todo[ok]] = c[ok]
            todo = todo[~ok]
        return out


def _login_times(rng: np.random.Generator, per_day: float) -> np.ndarray:
    """Login seconds over the web period with a daily rhythm and no logins in the shutdown."""
    lo, hi = (seconds(t) for t in WEB_PERIOD)
    hours = np.arange(lo, hi, 3600)
    dow, hod = local_weekday(hours), local_hour(hours)
    w = np.where(dow >= 5, _WEEKEND[hod], _WEEKDAY[hod]) * _DAY[dow]
    rate = per_day * len(hours) / 24 * w / w.sum()
    enabled = seconds(INCIDENT.login_enabled_at)
    after = hours >= enabled - 3600
    rate[after] *= 1 + _REOPEN_SURGE * np.exp(-np.clip(hours[after] - enabled, 0, None) / _REOPEN_DECAY)
    counts = rng.poisson(rate)
    t = np.repeat(hours, counts) + rng.integers(0, 3600, counts.sum())
    shut = (t >= seconds(INCIDENT.login_disabled_at)) & (t < enabled)
    return t[~shut]


def _web_members(applicants: pl.DataFrame) -> pl.DataFrame:
    """Members who use the web in the period: active, and in the queue before it starts."""
    start = WEB_PERIOD[0]
    return (
        applicants.filter(
            (pl.col("status") == "active") & (pl.col("registered_at") < start) & (pl.col("queue_start") <= start.date())
        )
        .select("applicant_id", "_home_ip")
        .sort("applicant_id")
    )


def _session_ids(rng: np.random.Generator, n: int) -> pl.Series:
    """Random 32-hex session cookies, as polars text straight from the hex (no numpy strings)."""
    data = pa.py_buffer(rng.bytes(16 * n).hex().encode())
    offsets = pa.py_buffer(np.arange(0, 32 * n + 1, 32, dtype=np.int64).tobytes())
    return pl.Series(pa.LargeStringArray.from_buffers(n, offsets, data))


def _text(values: tuple[str, str], which: np.ndarray) -> pl.Series:
    """``np.where(which, values[1], values[0])`` as polars text, without a numpy string array."""
    return pl.Series(values, dtype=pl.String).gather(which.astype(np.int64))


def _ips(rng: np.random.Generator, mobile: np.ndarray, home_ip: pl.Series) -> pl.Series:
    """The login's IP: a drawn mobile address where ``mobile``, else the member's home IP.

    Every login draws its mobile parts (the same draws as before); only the mobile ones are
    made text, written over a copy of the home IPs.
    """
    n = len(mobile)
    net, c, d = rng.choice(len(_MOBILE_NETS), n), rng.integers(0, 255, n), rng.integers(1, 255, n)
    at = np.flatnonzero(mobile)
    text = (
        pl.Series(_MOBILE_NETS.tolist(), dtype=pl.String).gather(net[at])
        + "."
        + pl.Series(c[at]).cast(pl.String)
        + "."
        + pl.Series(d[at]).cast(pl.String)
    )
    return home_ip.clone().scatter(at, text)


def _find_open_session(start, end, member, pending) -> np.ndarray:
    """For each pending login, the most recently started other member's session still open.

    Sessions are in start order, so walk back one step at a time over all pending logins at
    once; a login drops out when it finds a hit or when no earlier session can still be open.
    """
    hit_of = np.full(len(start), -1)
    horizon = int((end - start).max()) if len(start) else 0
    d = 1
    while pending.size:
        i = pending - d
        alive = i >= 0
        pending, i = pending[alive], i[alive]
        alive = start[i] > start[pending] - horizon
        pending, i = pending[alive], i[alive]
        hit = (start[i] < start[pending]) & (end[i] > start[pending]) & (member[i] != member[pending])
        hit_of[pending[hit]] = i[hit]
        pending = pending[~hit]
        d += 1
    return hit_of


def _swap_pages(world: World, swapped: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which sessions are swapped, and from which activity page, under ``world.swap_mode``.

    ``login`` keeps every swap at the landing page and draws nothing, so its cases are the
    ones made before swap modes existed. ``midsession`` moves every swap to a page after
    one or more of the member's own pages (a session of one page cannot be swapped that
    way and stays the member's own); ``mixed`` does that for about half the swaps. The
    account is still the one the fault picked at login: the other member's session opened
    last among those open then.
    """
    if world.swap_mode not in SWAP_MODES:
        raise ValueError(f"swap mode {world.swap_mode!r} is not one of {', '.join(SWAP_MODES)}")
    page = np.where(swapped, 0, -1)
    if world.swap_mode == "login":
        return swapped, page
    rng = world.rng("incident/swap-mode")
    n = len(swapped)
    late = swapped & (k >= 2) & (rng.random(n) < (0.5 if world.swap_mode == "mixed" else 1.0))
    page[late] = 1 + (rng.random(n) * (k - 1)).astype(np.int64)[late]  # uniform over pages 1 .. k-1
    if world.swap_mode == "midsession":
        swapped = late
        page[~late] = -1
    return swapped, page


def simulate_sessions(world: World) -> Sessions:
    """Logins, page timing and session ends for the web period, with the fault applied."""
    rng = world.rng("incident/sessions")
    s = world.scale
    pool = _web_members(world.tables["applicants"])
    m = pool.height
    # Heavy-tailed propensity: most members log in once or not at all, a few many times.
    propensity = rng.gamma(0.7, 1.0, m)
    pref_agent = rng.choice(len(_DESKTOP_AGENTS), m, p=_DESKTOP_WEIGHTS / _DESKTOP_WEIGHTS.sum())
    pref_bankid = rng.random(m) < 0.6

    start = _login_times(rng, s.logins_per_day)
    n = len(start)
    who = rng.choice(m, n, p=propensity / propensity.sum())
    order = np.lexsort((rng.random(n), start))
    start, who = start[order], who[order]
    member = pool["applicant_id"].to_numpy()[who]

    # Activity pages: the landing page right after login, then clicks with think time.
    k = rng.geometric(1 / s.pages_per_session, n)
    first = np.cumsum(k) - k
    page_sid = np.repeat(np.arange(n), k)
    slow = rng.random(len(page_sid)) < 0.25
    gap = np.where(slow, 10 + rng.exponential(120, len(page_sid)), 3 + rng.exponential(25, len(page_sid)))
    gap = np.minimum(gap, 900).astype(np.int64)
    gap[first] = rng.integers(1, 4, n)
    csum = np.cumsum(gap)
    # start + (csum - csum before the session): the session's offset repeated per page rather
    # than two gathers over every page (integers, so the same values)
    page_time = csum + np.repeat(start - (csum[first] - gap[first]), k)
    last = page_time[first + k - 1]
    by_user = rng.random(n) < 0.35
    end = np.where(by_user, last + 2 + rng.exponential(15, n).astype(np.int64), last + IDLE_TIMEOUT)

    fault = (start >= seconds(INCIDENT.deployed_at)) & (start < seconds(INCIDENT.login_disabled_at))
    other = _find_open_session(start, end, member, np.flatnonzero(fault))
    swapped = (other >= 0) & (rng.random(n) < s.swap_probability)
    swapped, swap_page = _swap_pages(world, swapped, k)
    account = np.where(swapped, member[np.maximum(other, 0)], member)

    mobile = rng.random(n) < 0.18
    stray = rng.random(n) < 0.1
    desktop = np.where(stray, rng.choice(len(_DESKTOP_AGENTS), n), pref_agent[who])
    handset = rng.choice(
        len(_MOBILE_AGENTS), n, p=_MOBILE_WEIGHTS / _MOBILE_WEIGHTS.sum()
    )  # the draws of choice(_MOBILE_AGENTS)
    # Codes into both lists, made text by polars: a numpy string array costs ~500 bytes a login.
    agents = pl.Series([*_DESKTOP_AGENTS.tolist(), *_MOBILE_AGENTS.tolist()], dtype=pl.String)
    agent = agents.gather(np.where(mobile, len(_DESKTOP_AGENTS) + handset, desktop))
    bankid = np.where(rng.random(n) < 0.92, pref_bankid[who], ~pref_bankid[who])
    home_ip = pool["_home_ip"].gather(pl.Series(who))
    ip = _ips(rng, mobile, home_ip)

    frame = pl.DataFrame(
        {
            "sid": np.arange(n),
            "session_id": _session_ids(rng, n),
            "member": member,
            "account": account,
            "swapped": swapped,
            "start": start,
            "end": end,
            "reason": _text(("timeout", "user"), by_user),
            "pages": k,
            "method": _text(("password", "bankid"), bankid),
            "ip": ip,
            "user_agent": agent,
            "swap_page": swap_page,
        }
    )
    return Sessions(frame, first, page_sid, page_time)

"""Support messages of the web period: everyday questions, and the reports of the fault.

Texts are built by template filling over whole columns (no per-row calls): each message
draws a template index from the catalog in :mod:`workbench.scenario.message_texts`, then
every placeholder is replaced column-wise. The mail server's clock runs a few minutes off,
so ``received_at`` = true time + offset; web-form messages also leave a page view in the
sender's session at the true time, which lets analysts estimate that offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import polars as pl

from . import message_texts as texts
from .web import LOCAL_OFFSET, OpenListings, Page, Sessions, as_datetime, local_hour, local_weekday, seconds
from .world import INCIDENT, WEB_PERIOD, World

__all__ = ["Messages", "report_time", "simulate_messages"]

_EN_SHARE = 0.15
_WEB_FORM_SHARE = 0.3
_UNKNOWN_SENDER = 0.12  # written from an address support cannot tie to a customer
_REPORT_SHARE = 0.012  # of the people put into someone else's account who write in
_OWNER_REPORT_SHARE = 0.1  # of the owners whose data a stranger changed
_LOGIN_SURGE = 3.0  # "can't log in" mail during the shutdown, relative to normal volume
# E-mail to support by local hour: office hours, and evenings at home.
_HOURS = np.array(
    [
        0.2,
        0.1,
        0.05,
        0.05,
        0.05,
        0.1,
        0.4,
        0.9,
        1.6,
        1.8,
        1.7,
        1.5,
        1.4,
        1.5,
        1.5,
        1.4,
        1.2,
        1.0,
        1.0,
        1.1,
        1.2,
        1.0,
        0.7,
        0.4,
    ]
)
_DOMAINS = np.array(["example.com", "example.net", "mail.example", "post.example"])
# Fault reports arrive Saturday to Monday: from Saturday morning until Monday evening.
_FIRST_REPORT = seconds(INCIDENT.deployed_at.replace(hour=6, minute=30) + timedelta(days=1))  # Sat 07:30 local
_LAST_REPORT = seconds(INCIDENT.login_disabled_at.replace(hour=21, minute=0))  # Mon 22:00 local


@dataclass
class Messages:
    """The support_messages table, the fault-report ids, contact-form page views and the offset."""

    table: pl.DataFrame
    fault_reports: pl.DataFrame
    form_views: pl.DataFrame  # sid, time, code
    offset: int


def report_time(rng: np.random.Generator, discovery: np.ndarray) -> np.ndarray:
    """When someone who noticed the fault at ``discovery`` writes: at once, or next morning.

    Friday-evening and night discoveries are written up the following morning, so the
    first report arrives on Saturday morning; nothing arrives after Monday evening.
    """
    local = discovery + LOCAL_OFFSET
    hour, dow = local_hour(discovery), local_weekday(discovery)
    overnight = (dow == 4) | (hour >= 22) | (hour < 7)
    day = (local // 86400 + (hour >= 7)) * 86400 - LOCAL_OFFSET
    morning = day + 7 * 3600 + 1800 + np.minimum(rng.exponential(5400, len(discovery)), 4 * 3600).astype(np.int64)
    soon = discovery + 600 + rng.exponential(5400, len(discovery)).astype(np.int64)
    t = np.where(overnight, morning, soon)
    return np.clip(t, np.maximum(_FIRST_REPORT, discovery + 60), _LAST_REPORT)


def _catalog() -> pl.DataFrame:
    """Every template as (category, lang, part, idx, text, count)."""
    rows = []
    for lang in ("sv", "en"):
        groups = {
            ("fault", "body"): texts.FAULT[lang],
            ("fault", "subject"): texts.FAULT_SUBJECTS[lang],
            ("owner", "body"): texts.OWNER[lang],
            ("owner", "subject"): texts.OWNER_SUBJECTS[lang],
            ("any", "greeting"): texts.GREETINGS[lang],
            ("any", "signoff"): texts.SIGNOFFS[lang],
        }
        for cat, (_, _, sv_subj, sv_body, en_subj, en_body) in texts.UNRELATED.items():
            groups[(cat, "subject")] = sv_subj if lang == "sv" else en_subj
            groups[(cat, "body")] = sv_body if lang == "sv" else en_body
        for (cat, part), items in groups.items():
            rows += [(cat, lang, part, i, text, len(items)) for i, text in enumerate(items)]
    return pl.DataFrame(rows, schema=["category", "lang", "part", "idx", "text", "count"], orient="row")


def _pick_text(rng, frame: pl.DataFrame, catalog: pl.DataFrame, part: str, category: str | pl.Expr) -> pl.Series:
    """One template of ``part`` per row, uniform over its category and language."""
    keys = frame.select(category=category if isinstance(category, pl.Expr) else pl.lit(category), lang="lang")
    cat = catalog.filter(pl.col("part") == part)
    key = ["category", "lang"]
    counts = keys.join(cat.select(*key, "count").unique(), on=key, how="left", maintain_order="left")
    idx = (pl.Series(rng.random(frame.height)) * counts["count"]).floor().cast(pl.Int64)
    texts_ = cat.select(*key, "idx", "text")
    return keys.with_columns(idx=idx).join(texts_, on=[*key, "idx"], how="left", maintain_order="left")["text"]


def _when(lang: pl.Series, login: np.ndarray, sent: np.ndarray, rng) -> pl.Series:
    """'igår kl 21.14' / 'on Friday at 21:14': the login as the sender would describe it."""
    days = (sent + LOCAL_OFFSET) // 86400 - (login + LOCAL_OFFSET) // 86400
    hm = (
        pl.Series(local_hour(login)).cast(pl.String).str.zfill(2),
        pl.Series((login // 60) % 60).cast(pl.String).str.zfill(2),
    )
    out = pl.repeat("", len(login), eager=True)
    for code, w in texts.WHEN_WORDS.items():
        day = np.where(
            days == 0, w["today"], np.where(days == 1, w["yesterday"], np.array(w["weekday"])[local_weekday(login)])
        )
        stated = pl.Series(rng.random(len(login)) < 0.6)
        clock = pl.select(
            pl.when(stated).then(pl.lit(w["at"]) + hm[0] + w["sep"] + hm[1]).otherwise(pl.lit(""))
        ).to_series()
        text = pl.Series(day) + clock
        out = pl.select(pl.when(lang == code).then(text).otherwise(out)).to_series()
    return out


def _unknown_address(rng, names: pl.Series) -> pl.Series:
    """A private address support cannot match to a customer, from the person's first name."""
    first = names.str.split(" ").list.first().str.to_lowercase()
    for a, b in (("å", "a"), ("ä", "a"), ("ö", "o"), ("é", "e"), ("ü", "u")):
        first = first.str.replace_all(a, b, literal=True)
    digits = pl.Series(rng.integers(1, 99, len(names))).cast(pl.String)
    return first + digits + "@" + pl.Series(rng.choice(_DOMAINS, len(names)))


def _typos(rng, body: pl.Series, lang: pl.Series) -> pl.Series:
    """Lower-case some, strip Swedish letters from some, drop a character from some."""
    n = len(body)
    u = pl.Series(rng.random(n))
    body = pl.select(pl.when(u < 0.1).then(body.str.to_lowercase()).otherwise(body)).to_series()
    folded = body
    for a, b in (("å", "a"), ("ä", "a"), ("ö", "o")):
        folded = folded.str.replace_all(a, b, literal=True)
    body = pl.select(pl.when((u >= 0.1) & (u < 0.18) & (lang == "sv")).then(folded).otherwise(body)).to_series()
    pos = (pl.Series(rng.random(n)) * body.str.len_chars()).floor().cast(pl.Int64)
    dropped = body.str.slice(0, pos) + body.str.slice(pos + 1)
    return pl.select(pl.when((u >= 0.18) & (u < 0.24)).then(dropped).otherwise(body)).to_series()


def _everyday(rng, world: World, sessions: Sessions) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Unrelated messages (e-mail and web form) and the contact-form page views."""
    per_day = world.scale.support_messages_per_day
    lo, hi = (seconds(t) for t in WEB_PERIOD)
    hours = np.arange(lo, hi, 3600)
    w = _HOURS[local_hour(hours)] * np.where(local_weekday(hours) >= 5, 0.6, 1.0)
    rate = per_day * (1 - _WEB_FORM_SHARE) * len(hours) / 24 * w / w.sum()
    off, on = seconds(INCIDENT.login_disabled_at), seconds(INCIDENT.login_enabled_at)
    surge = np.where((hours >= off) & (hours < on), _LOGIN_SURGE * rate, 0.0)
    # The surge is part of the scale's daily average, not on top of it.
    scale_to = rate.sum() / (rate.sum() + surge.sum())
    rate, surge = rate * scale_to, surge * scale_to
    cats = list(texts.UNRELATED)
    weights = np.array([texts.UNRELATED[c][0] for c in cats], dtype=float)
    counts, extra = rng.poisson(rate), rng.poisson(surge)
    t_mail = np.concatenate([np.repeat(hours, counts), np.repeat(hours, extra)])
    t_mail = t_mail + rng.integers(0, 3600, len(t_mail))
    c_mail = np.concatenate(
        [rng.choice(len(cats), counts.sum(), p=weights / weights.sum()), np.full(extra.sum(), cats.index("login"))]
    )

    # Web-form messages are sent from inside a session, between two of its clicks.
    f = sessions.frame
    usable = np.flatnonzero(~f["swapped"].to_numpy() & (f["pages"].to_numpy() >= 2))
    n_form = min(rng.poisson(per_day * (hi - lo) / 86400 * _WEB_FORM_SHARE), len(usable))
    sid = np.sort(rng.choice(usable, n_form, replace=False))
    j = (rng.random(n_form) * (f["pages"].to_numpy()[sid] - 1)).astype(np.int64)
    page = sessions.first[sid] + j
    t_form = (sessions.page_time[page] + sessions.page_time[page + 1]) // 2
    web_ok = np.array([texts.UNRELATED[c][1] for c in cats])
    wf = weights * web_ok
    c_form = rng.choice(len(cats), n_form, p=wf / wf.sum())

    members = (
        world.tables["applicants"]
        .filter((pl.col("status") == "active") & (pl.col("registered_at") < WEB_PERIOD[0]))["applicant_id"]
        .to_numpy()
    )
    n_mail = len(t_mail)
    n = n_mail + n_form
    frame = pl.DataFrame(
        {
            "true_time": np.concatenate([t_mail, t_form]),
            "channel": np.repeat(["email", "web_form"], [n_mail, n_form]),
            "person": np.concatenate([members[rng.integers(0, len(members), n_mail)], f["member"].to_numpy()[sid]]),
            "known": np.concatenate([rng.random(n_mail) >= _UNKNOWN_SENDER, np.ones(n_form, dtype=bool)]),
            "category": np.array(cats)[np.concatenate([c_mail, c_form])],
            "fault": False,
            "seen": pl.repeat(None, n, dtype=pl.Int64, eager=True),
            "login": np.zeros(n, dtype=np.int64),
            "field": pl.repeat(None, n, dtype=pl.String, eager=True),
            "new_value": pl.repeat(None, n, dtype=pl.String, eager=True),
        }
    )
    views = pl.DataFrame({"sid": sid, "time": t_form, "code": np.full(n_form, Page.CONTACT)})
    return frame, views


def _fault_reports(rng, sessions: Sessions, changes: pl.DataFrame) -> pl.DataFrame:
    """Reports by people who were put into another account, and by owners who saw changes."""
    sw = sessions.frame.filter("swapped").select("sid", "member", "account", "start", "end")
    empty = (
        sw.head(0)
        .select(person="member", true_time="end", seen="account", login="start")
        .with_columns(category=pl.lit("fault"), field=pl.lit(None, pl.String), new_value=pl.lit(None, pl.String))
    )
    if not sw.height:
        return empty
    shuffled = sw[rng.permutation(sw.height)].unique("member", keep="first", maintain_order=True)
    friday = pl.Series(local_weekday(shuffled["start"].to_numpy()) == 4)
    # Someone swapped on Friday evening writes first, on Saturday morning.
    shuffled = pl.concat([shuffled.filter(friday).head(1), shuffled.filter(~friday), shuffled.filter(friday).slice(1)])
    n = min(shuffled.height, int(np.clip(round(_REPORT_SHARE * sw.height), 2, 40)))
    actors = shuffled.head(n)
    actors = actors.select(
        person="member", true_time=pl.Series(report_time(rng, actors["end"].to_numpy())), seen="account", login="start"
    ).with_columns(category=pl.lit("fault"), field=pl.lit(None, pl.String), new_value=pl.lit(None, pl.String))

    by_stranger = changes.filter("swapped").sort("change_id").unique("account_id", keep="first", maintain_order=True)
    k = min(by_stranger.height, int(np.clip(round(_OWNER_REPORT_SHARE * by_stranger.height), 1, 15)))
    owners = by_stranger[np.sort(rng.choice(by_stranger.height, k, replace=False))] if k else by_stranger
    noticed = owners["time"].dt.epoch("s").to_numpy() + 3600 + rng.exponential(8 * 3600, owners.height).astype(np.int64)
    owners = owners.select(
        person="account_id",
        true_time=pl.Series(report_time(rng, noticed)),
        seen=pl.lit(None, pl.Int64),
        login=pl.lit(0, pl.Int64),
        category=pl.lit("owner"),
        field="field",
        new_value="new_value",
    )
    return pl.concat([actors, owners], how="vertical_relaxed")


def simulate_messages(world: World, sessions: Sessions, listings: OpenListings, changes: pl.DataFrame) -> Messages:
    """Support messages over the web period, including the fault reports, with the mail clock offset."""
    rng = world.rng("incident/messages")
    offset = int(rng.choice([-1, 1]) * rng.integers(120, 541))
    everyday, views = _everyday(rng, world, sessions)
    reports = _fault_reports(rng, sessions, changes)
    reports = reports.with_columns(
        channel=pl.lit("email"), known=pl.Series(rng.random(reports.height) >= _UNKNOWN_SENDER), fault=pl.lit(True)
    )
    m = pl.concat([everyday, reports.select(everyday.columns)], how="vertical_relaxed")
    m = m.sort("true_time", "person", maintain_order=True)
    n = m.height

    people = world.tables["applicants"].select("applicant_id", "name", "email")
    m = (
        m.join(
            people.rename({"applicant_id": "person", "name": "own_name"}),
            on="person",
            how="left",
            maintain_order="left",
        )
        .join(people.select(seen="applicant_id", seen_name="name"), on="seen", how="left", maintain_order="left")
        .with_columns(lang=pl.Series(np.where(rng.random(n) < _EN_SHARE, "en", "sv")))
    )
    catalog = _catalog()
    phrases = {(lang, f): p for lang, d in texts.FIELD_PHRASES.items() for f, p in d.items()}
    listing = rng.integers(0, max(len(listings.ids), 1), n)
    has_listings = len(listings.ids) > 0
    m = m.with_columns(
        subject=_pick_text(rng, m, catalog, "subject", pl.col("category")),
        body=_pick_text(rng, m, catalog, "greeting", "any")
        + _pick_text(rng, m, catalog, "body", pl.col("category"))
        + _pick_text(rng, m, catalog, "signoff", "any"),
        when=_when(m["lang"], m["login"].to_numpy(), m["true_time"].to_numpy(), rng),
        field_phrase=pl.concat_str("lang", "field", separator="|").replace_strict(
            {f"{k[0]}|{k[1]}": v for k, v in phrases.items()}, default=None, return_dtype=pl.String
        ),
        listing=pl.Series(listings.ids[listing] if has_listings else np.full(n, 210345)).cast(pl.String),
        district=pl.Series(listings.district[listing] if has_listings else np.full(n, "Södermalm")),
        year=pl.lit("2014"),
        address=pl.when(pl.col("known")).then(pl.col("email")).otherwise(_unknown_address(rng, m["own_name"])),
    )
    fills = {
        "{own_name}": "own_name",
        "{own_id}": "person",
        "{seen_name}": "seen_name",
        "{seen_id}": "seen",
        "{when}": "when",
        "{field}": "field_phrase",
        "{new_value}": "new_value",
        "{listing}": "listing",
        "{district}": "district",
        "{year}": "year",
    }
    for part in ("subject", "body"):  # one pass per placeholder, over all rows at once
        for token, col in fills.items():
            m = m.with_columns(
                pl.col(part).str.replace_all(token, pl.col(col).cast(pl.String).fill_null(""), literal=True)
            )
    m = m.with_columns(body=_typos(rng, m["body"], m["lang"]))

    received = (
        m["true_time"].to_numpy()
        + offset
        + np.where(m["channel"].to_numpy() == "web_form", rng.integers(0, 3, n), rng.integers(1, 45, n))
    )
    m = m.with_columns(received_at=as_datetime(received), _base=pl.Series(rng.integers(1000, 9000, n)))
    stamp = pl.col("received_at").dt.strftime("%Y%m%d%H%M%S")
    serial = pl.col("_base").first().over("received_at") + pl.int_range(pl.len()).over(
        "received_at"
    )  # unique per second
    m = m.with_columns(message_id="<" + stamp + "." + serial.cast(pl.String) + "@mail.bostad.example>")
    m = m.sort("received_at", "message_id")
    table = m.select(
        "message_id",
        "received_at",
        "channel",
        sender_applicant_id=pl.when(pl.col("known")).then(pl.col("person")),
        sender_address="address",
        subject="subject",
        body="body",
    )
    return Messages(table, m.filter("fault").select("message_id"), views, offset)

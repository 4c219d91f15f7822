"""Planted wrongdoing: corrupt caseworkers who sell contracts, and their fake profiles.

How it shows in the evidence (and nowhere else but truth):

* A sold contract goes to a *buyer* who is in the listing's queue but below at least one
  eligible member with no recorded decline, disqualification, skip or priority decision.
  The caseworker either backdates the buyer's ``queue_start`` before the listing closes
  (``queue_date_change``, old and new ISO dates; the applicants snapshot shows the new
  date), so the buyer tops the queue; or makes a ``manual_offer`` to the buyer; or both.
  With the queue date as it was before the change, the buyer is not the expected recipient.
* Fake profiles (the Malmö 2017 pattern) are created by the caseworker
  (``created_by_handler_id``, a ``profile_created`` action), with a ``queue_start`` years
  before ``registered_at``, fees only from the registration year, and one e-mail address,
  phone number and home IP shared by all fakes of a caseworker. About half get an
  apartment from their creator; counting queue time from ``registered_at`` they are out
  of order.
* Corrupt caseworkers act off-hours more often and meet their buyers repeatedly
  (``profile_edit`` shortly before the offer, then the queue-date change and the offer).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from .listings import DAY_US, US, WorkClock, to_datetime
from .world import FEE_AMOUNT, World

__all__ = ["OFF_HOURS", "FraudPlan", "buyer_actions", "choose_buyers", "plan_fraud"]

# Share of actions done in the evening: ordinary work, ordinary work of a corrupt
# caseworker, and the corrupt acts themselves.
OFF_HOURS = {"honest": 0.02, "corrupt": 0.15, "act": 0.6}
FAKES_HOUSED = 28 / 60  # Malmö 2017: 60 fake profiles, 28 apartments
VARIANT_P = (0.4, 0.3, 0.3)  # backdate only, manual offer only, both
BUYER_REACH = 40  # a buyer is chosen among the first this many below the rightful winner


@dataclass
class FraudPlan:
    """What the corrupt caseworkers intend before the allocation years are simulated."""

    corrupt: np.ndarray  # handler ids
    sell: np.ndarray  # per listing row: its caseworker means to sell it
    fakes: pl.DataFrame | None = None  # applicant rows, with internal columns
    fake_fees: pl.DataFrame | None = None
    fake_targets: pl.DataFrame = field(default_factory=pl.DataFrame)  # listing_id, applicant_id, registered_us
    actions: list[pl.DataFrame] = field(default_factory=list)


def plan_fraud(
    world: World,
    rng: np.random.Generator,
    listings: pl.DataFrame,
    handlers: pl.DataFrame,
    applicants: pl.DataFrame,
    clock: WorkClock,
) -> FraudPlan:
    """Choose the corrupt caseworkers, the listings they will sell, and create their fakes."""
    n = listings.height
    s = world.scale
    if not world.fraud or s.corrupt_handlers == 0:
        return FraudPlan(np.zeros(0, np.int64), np.zeros(n, bool))
    start = np.datetime64(world.allocation_start, "D")
    steady = handlers.filter(
        (pl.col("active_from").cast(pl.Int64) < int(start.astype(np.int64))) & pl.col("active_to").is_null()
    )
    pool = steady if steady.height >= s.corrupt_handlers else handlers
    w = np.where(pool["team"].to_numpy() == "Innerstaden", 2.0, 1.0)
    corrupt = np.sort(rng.choice(pool["handler_id"].to_numpy(), s.corrupt_handlers, replace=False, p=w / w.sum()))

    handler = listings["_handler_id"].to_numpy()
    ordinary = np.isin(listings["kind"].to_numpy(), ["regular", "new_build", "senior", "short_term"])
    sell = np.isin(handler, corrupt) & ordinary & (rng.random(n) < s.fraud_share)
    plan = FraudPlan(corrupt, sell)
    if s.fake_profiles:
        _make_fakes(world, rng, plan, listings, handlers, applicants, clock)
    return plan


def _make_fakes(
    world: World,
    rng: np.random.Generator,
    plan: FraudPlan,
    listings: pl.DataFrame,
    handlers: pl.DataFrame,
    applicants: pl.DataFrame,
    clock: WorkClock,
) -> None:
    """Fake profiles for the corrupt caseworkers: at least two each, so contacts are shared."""
    from faker.providers.address.sv_SE import Provider as Address
    from faker.providers.person.sv_SE import Provider as Person

    from .people import personnummer

    s = world.scale
    k = s.fake_profiles
    makers = plan.corrupt[: max(1, min(len(plan.corrupt), k // 2))]
    owner = np.sort(makers[np.arange(k) % len(makers)])
    housed = np.zeros(k, bool)
    housed[rng.permutation(k)[: max(1, round(FAKES_HOUSED * k))]] = True

    # Targets: an inner-city-leaning regular listing of the creator that is not already sold.
    lid = listings["listing_id"].to_numpy()
    l_handler = listings["_handler_id"].to_numpy()
    l_pub = listings["published_at"].dt.epoch("us").to_numpy()
    target = np.full(k, -1)
    taken = plan.sell.copy()
    kinds_ok = np.isin(listings["kind"].to_numpy(), ["regular", "new_build"])
    inner = listings["_class"].to_numpy() == "inner"
    for i in np.flatnonzero(housed):
        ok = (l_handler == owner[i]) & kinds_ok & ~taken & (l_pub > l_pub.min() + 45 * DAY_US)
        if ok.any():
            w = np.where(inner, 3.0, 1.0) * ok
            target[i] = rng.choice(len(lid), p=w / w.sum())
            taken[target[i]] = True
    housed &= target >= 0

    t0, t1 = l_pub.min(), int(np.datetime64(world.export_at.replace(tzinfo=None), "us").astype(np.int64)) - 60 * DAY_US
    reg_day = np.where(
        housed, l_pub[np.maximum(target, 0)] - rng.integers(30, 240, k) * DAY_US, rng.integers(t0, t1, k)
    )
    hired = handlers.filter(pl.col("handler_id").is_in(owner.tolist())).select("handler_id", "active_from")
    hired_us = (
        pl.DataFrame({"handler_id": owner})
        .join(hired, on="handler_id", how="left", maintain_order="left")["active_from"]
        .cast(pl.Datetime("us"))
        .dt.epoch("us")
        .to_numpy()
    )
    reg_day = np.maximum(reg_day, hired_us + 30 * DAY_US)  # nobody creates profiles before being hired
    evening = rng.random(k) < OFF_HOURS["act"]
    registered = np.where(evening, clock.evening(rng, reg_day), clock.office(rng, reg_day, reg_day + DAY_US))
    reg_date = registered // DAY_US
    queue_start = reg_date - rng.integers(7 * 365, 16 * 365, k)
    birth = reg_date - rng.integers(24 * 365, 50 * 365, k)
    rents = listings["rent"].to_numpy()[np.maximum(target, 0)]
    income = np.maximum(rng.integers(420, 640, k) * 1000, (rents * 36 * 1.1 // 1000 + 1) * 1000)

    male = rng.random(k) < 0.5
    first = np.where(male, rng.choice(list(Person.first_names_male), k), rng.choice(list(Person.first_names_female), k))
    last = rng.choice(list(Person.last_names), k)
    street = rng.choice(list(Address.street_prefixes), k).astype(object) + rng.choice(list(Address.street_suffixes), k)
    ids = _unused_ids(rng, applicants["applicant_id"].to_numpy(), k)
    contact = _shared_contacts(rng, makers)
    shared = pl.DataFrame({"owner": owner}).join(contact, on="owner", how="left", maintain_order="left")
    pnr = personnummer(birth.astype("datetime64[D]"), rng.integers(0, 1000, k))

    fakes = pl.DataFrame(
        {
            "applicant_id": ids,
            "personnummer": pnr,
            "name": pl.Series(first) + " " + pl.Series(last),
            "address": pl.Series(street.astype(str)) + " " + pl.Series(rng.integers(1, 90, k)).cast(pl.String),
            "postal_code": [
                f"1{a} {b:02d}" for a, b in zip(rng.integers(10, 80, k), rng.integers(0, 100, k), strict=True)
            ],
            "city": pl.Series(["Stockholm"] * k),
            "email": shared["email"],
            "phone": shared["phone"],
            "employer": pl.Series(last).str.to_uppercase().str.slice(0, 3) + " Bygg & Städ AB",
            "annual_income": income.astype(np.int64),
            "co_applicant_name": pl.Series([None] * k, dtype=pl.String),
            "co_applicant_personnummer": pl.Series([None] * k, dtype=pl.String),
            "student": np.zeros(k, bool),
            "protected_identity": np.zeros(k, bool),
            "queue_start": queue_start.astype("datetime64[D]"),
            "registered_at": to_datetime(registered, "registered_at"),
            "status": pl.Series(["active"] * k),
            "created_by_handler_id": owner.astype(np.int64),
            "_birth_date": birth.astype("datetime64[D]"),
            "_home_ip": shared["ip"],
            "_lapsed_year": pl.Series([None] * k, dtype=pl.Int64),
        }
    )
    plan.fakes = (
        fakes.with_columns(pl.col("queue_start", "_birth_date").cast(pl.Date))
        .cast({c: t for c, t in applicants.schema.items() if c in fakes.columns})
        .select(applicants.columns)
    )
    plan.fake_fees = _fake_fees(rng, ids, registered, world.scale.last_year)
    h = np.flatnonzero(housed)
    plan.fake_targets = pl.DataFrame(
        {
            "listing_id": lid[target[h]],
            "applicant_id": ids[h],
            "registered_us": l_pub[target[h]] + rng.integers(2 * 3600, 4 * 86400, h.size) * US,
        }
    )
    plan.actions.append(
        pl.DataFrame({"time_us": registered, "handler_id": owner, "action": "profile_created", "applicant_id": ids})
    )


def _unused_ids(rng: np.random.Generator, existing: np.ndarray, k: int) -> np.ndarray:
    """Customer numbers inside the used range but unused, so fakes do not stand out by id."""
    lo, hi = int(existing.min()), int(existing.max())
    cand = np.unique(rng.integers(lo, hi, 4 * k + 20))
    # a lookup table over [lo, hi]: numpy's default here hashes every existing id (seconds at national)
    cand = cand[~np.isin(cand, existing, kind="table")]
    return rng.permutation(cand)[:k].astype(np.int64)


def _shared_contacts(rng: np.random.Generator, makers: np.ndarray) -> pl.DataFrame:
    """One e-mail address, phone number and home IP per corrupt caseworker, for all their fakes."""
    m = len(makers)
    word = rng.choice(np.array(["bostad", "hyra", "lagenhet", "kontakt", "info"]), m)
    num = rng.integers(10, 99, m)
    phone = rng.integers(1_000_000, 9_999_999, m).astype(str)
    return pl.DataFrame(
        {
            "owner": makers,
            "email": [f"{w}.stockholm{n}@example.net" for w, n in zip(word, num, strict=True)],
            "phone": [f"073-{p[:3]} {p[3:5]} {p[5:]}" for p in phone],
            "ip": [f"90.{a}.{b}.{c}" for a, b, c in rng.integers(1, 255, (m, 3))],
        }
    )


def _fake_fees(rng: np.random.Generator, ids: np.ndarray, registered: np.ndarray, last_year: int) -> pl.DataFrame:
    """Fees from the registration year on: a fake has no history before it was created."""
    reg_year = registered.astype("datetime64[us]").astype("datetime64[Y]").astype(np.int64) + 1970
    base = pl.DataFrame({"applicant_id": ids, "first": reg_year, "reg": registered})
    fees = base.select("applicant_id", "reg", year=pl.int_ranges("first", last_year + 1)).explode("year")
    jan = pl.datetime(pl.col("year"), 1, 1, time_zone="UTC").dt.epoch("us")
    dec = pl.datetime(pl.col("year"), 12, 31, 12, time_zone="UTC").dt.epoch("us")
    pay = pl.Series(rng.integers(2, 85, fees.height) * DAY_US)
    return fees.with_columns(
        amount=pl.lit(FEE_AMOUNT, dtype=pl.Int64),
        paid_us=pl.min_horizontal(pl.max_horizontal(jan + pay, pl.col("reg") + 3 * DAY_US), dec),
    ).select(
        "applicant_id",
        pl.col("year").cast(pl.Int64),
        "amount",
        paid_at=pl.col("paid_us").cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
    )


def choose_buyers(
    rng: np.random.Generator, listing: np.ndarray, candidates: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One buyer per listing to sell, and how the sale is hidden (backdate, manual offer).

    ``candidates`` are rows of the batch's ranked queue (``listing`` per row) that are
    clean (eligible, pass the income rule, hold no other offer) and ranked below the first
    clean member of their listing. So at least one clean member stays above the buyer, and
    the sale is out of order whatever a replay assumes about the buyer's queue date.
    """
    u = rng.random(candidates.size)
    o = np.lexsort((u, listing[candidates]))
    ls = listing[candidates][o]
    pick = candidates[o][np.r_[True, ls[1:] != ls[:-1]][: ls.size]]
    v = rng.choice(3, pick.size, p=VARIANT_P)
    return pick, v != 1, v != 0


def buyer_actions(rng: np.random.Generator, clock: WorkClock, sales: pl.DataFrame) -> pl.DataFrame:
    """Profile edits a corrupt caseworker makes on a buyer in the month before the offer.

    ``sales`` has ``handler_id``, ``applicant_id``, ``listing_id``, ``offer_us``,
    ``address``, ``phone`` and ``old_address``, ``old_phone`` (values before the edit).
    """
    n = sales.height
    if not n:
        return pl.DataFrame()
    k = 1 + (rng.random(n) < 0.5)
    rows = sales.with_columns(k=pl.Series(k)).select(pl.all().repeat_by("k").explode()).drop("k")
    m = rows.height
    first = np.r_[True, rows["listing_id"].to_numpy()[1:] != rows["listing_id"].to_numpy()[:-1]]
    offer = rows["offer_us"].to_numpy()
    day = offer - rng.integers(2, 30, m) * DAY_US
    evening = rng.random(m) < OFF_HOURS["act"]
    t = np.where(evening, clock.evening(rng, day), clock.office(rng, day, day + DAY_US))
    address = first  # the first edit changes the address, a second one the phone
    return rows.select(
        time_us=pl.Series(np.minimum(t, offer - 3600 * US)),
        handler_id="handler_id",
        action=pl.lit("profile_edit"),
        applicant_id="applicant_id",
        old_value=pl.when(pl.Series(address)).then("old_address").otherwise("old_phone"),
        new_value=pl.when(pl.Series(address)).then("address").otherwise("phone"),
    )

"""Queue members and their yearly fees, sampled in bulk from faker's sv_SE lists.

No faker call is made per row: the name, street and city lists are read once from the
pinned faker version and sampled with numpy, so the same seed gives the same people.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl

from .world import FEE_AMOUNT, FEE_FIRST_YEAR, World

__all__ = ["luhn_check_digit", "personnummer", "simulate_people"]

STOCKHOLM_AREA = (
    ("Stockholm", "1", 0.55),
    ("Solna", "16", 0.05),
    ("Sundbyberg", "17", 0.04),
    ("Nacka", "13", 0.04),
    ("Huddinge", "14", 0.04),
    ("Järfälla", "17", 0.03),
    ("Botkyrka", "14", 0.03),
    ("Täby", "18", 0.02),
)
EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example", "post.example")
MOBILE_PREFIXES = ("070", "072", "073", "076", "079")
IP_FIRST_OCTETS = np.array([78, 81, 83, 84, 85, 90, 94, 95, 213, 217])
PUBLIC_EMPLOYERS = (
    "Stockholms stad",
    "Region Stockholm",
    "Solna stad",
    "Nacka kommun",
    "Huddinge kommun",
    "Försäkringskassan",
    "Skatteverket",
    "Polismyndigheten",
    "Stockholms universitet",
    "KTH",
)
FOLD = str.maketrans("åäöéüÅÄÖÉÜ", "aaoeuAAOEU")


def _faker_lists():
    """Name, street and city lists from the pinned faker (weights kept where faker has them)."""
    from faker.providers.address.sv_SE import Provider as Address
    from faker.providers.person.sv_SE import Provider as Person

    def weighted(d):
        names = np.array(list(d.keys()))
        w = np.array(list(d.values()), dtype=float)
        return names, w / w.sum()

    return {
        "male": weighted(Person.first_names_male),
        "female": weighted(Person.first_names_female),
        "last": weighted(Person.last_names),
        "street_prefixes": np.array(sorted(set(Address.street_prefixes))),
        "street_suffixes": np.array(sorted(set(Address.street_suffixes))),
        "cities": np.array([c for c in Address.cities if c not in {c for c, _, _ in STOCKHOLM_AREA}]),
    }


def luhn_check_digit(nine_digits: np.ndarray) -> np.ndarray:
    """Check digit of Swedish personnummer for integers YYMMDDNNN (vectorised Luhn)."""
    rest = np.asarray(nine_digits, dtype=np.int64)
    total = np.zeros(rest.shape, dtype=np.int64)
    for place in range(9):  # from the last digit: weights 2, 1, 2, ... (the first digit's is 2)
        rest, digit = np.divmod(rest, 10)
        weighted = digit * (2 if place % 2 == 0 else 1)
        total = total + weighted // 10 + weighted % 10
    return (10 - total % 10) % 10


def personnummer(birth: np.ndarray, serial: np.ndarray) -> pl.Series:
    """Format 'YYYYMMDD-NNNC' from birth dates (datetime64[D]) and serials 0–999."""
    s = pl.Series(birth.astype("datetime64[D]")).dt.strftime("%Y%m%d")  # 'YYYYMMDD', formatted in polars
    yymmdd = s.str.slice(2, 6).cast(pl.Int64).to_numpy()
    check = luhn_check_digit(yymmdd * 1000 + serial)
    tail = pl.Series(serial * 10 + check).cast(pl.String).str.zfill(4)
    return (s + "-" + tail).alias("personnummer")


def _unique_serials(rng, birth: np.ndarray, male: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Serials unique per birth date and sex; the last serial digit's parity gives the sex."""
    frame = pl.DataFrame({"b": birth.astype("datetime64[D]").astype(np.int64), "m": male})
    rank = frame.select(pl.int_range(pl.len()).over(["b", "m"])).to_series().to_numpy()
    width = hi - lo
    start = rng.integers(0, width, len(birth))  # a random start per row, shared by key below
    start = (
        pl.DataFrame({"b": frame["b"], "m": frame["m"], "s": start})
        .select(pl.col("s").first().over(["b", "m"]))
        .to_series()
        .to_numpy()
    )
    k = lo + (start + rank * 7) % width  # 7 is coprime to the widths used, so no repeats
    return k * 2 + male.astype(np.int64)


def _dates(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]")


def simulate_people(world: World, defer_fees: bool = False) -> Callable[[], None] | None:
    """Add ``applicants`` (with internal columns) and ``fees`` to the world.

    The draws are made here, in order; the text made from them (personnummer, postal codes,
    streets, e-mails, phones, names, IP addresses) draws nothing, so it is made in a thread
    beside the next draws (polars and numpy release the GIL): the same values, on both cores.

    With ``defer_fees`` the fees are left to the function returned, which adds them: they
    take the people stream's last draws and nothing else reads that stream, so it may be
    called later and on another thread (the generator makes them beside the incident).
    """
    with ThreadPoolExecutor(1, thread_name_prefix="people-text") as text:
        make_fees = _simulate_people(world, text)
    if defer_fees:
        return make_fees
    make_fees()
    return None


def _simulate_people(world: World, text: ThreadPoolExecutor) -> Callable[[], None]:
    rng = world.rng("people")
    s = world.scale
    n = s.members
    lists = _faker_lists()
    ref = np.datetime64(world.allocation_end, "D")

    ids = 1_000_000 + np.cumsum(rng.integers(1, 20, n))

    # Queue time is roughly exponential: most members joined recently, a few decades ago.
    queue_days = np.minimum(rng.exponential(s.queue_time_mean_years * 365.25, n), 45 * 365).astype(np.int64)
    queue_start = ref - queue_days
    age_group = rng.choice(4, n, p=[0.35, 0.35, 0.20, 0.10])
    lo = np.array([18, 22, 35, 55])[age_group]
    hi = np.array([22, 35, 55, 78])[age_group]
    age_at_start_days = (rng.uniform(lo, hi) * 365.25).astype(np.int64)
    birth = queue_start - age_at_start_days
    male = rng.random(n) < 0.5
    serial = _unique_serials(rng, birth, male, 0, 400)
    pnr = text.submit(personnummer, birth, serial)

    # Names and cities are kept as codes into their lists (8 bytes a member, not a numpy string
    # each) and made text once, in polars. Drawing a code takes the same draws as drawing the name.
    n_male, last_names = len(lists["male"][0]), lists["last"][0]
    first_names = pl.Series(np.concatenate([lists["male"][0], lists["female"][0]]))
    first_m = rng.choice(n_male, n, p=lists["male"][1])
    first_f = rng.choice(len(lists["female"][0]), n, p=lists["female"][1])
    first = np.where(male, first_m, n_male + first_f)
    del first_m, first_f
    last = rng.choice(len(last_names), n, p=lists["last"][1])

    area = rng.random(n) < 0.84
    sthlm_names = np.array([c for c, _, _ in STOCKHOLM_AREA])
    sthlm_p = np.array([p for _, _, p in STOCKHOLM_AREA])
    sthlm_idx = rng.choice(len(sthlm_names), n, p=sthlm_p / sthlm_p.sum())
    cities = pl.Series(np.concatenate([sthlm_names, lists["cities"]]))
    city = cities.gather(np.where(area, sthlm_idx, len(sthlm_names) + rng.choice(len(lists["cities"]), n)))
    # Text is made in polars from codes; a draw of a code is the draw of its text (rng.choice of a list
    # draws an index into it), so the same seed gives the same people.
    prefix_draw = rng.integers(2, 10, n)
    postal = text.submit(_postal_codes, area, sthlm_idx, prefix_draw, rng.integers(0, 100_000, n))
    street_parts = (_pick(rng, lists["street_prefixes"], n), _pick(rng, lists["street_suffixes"], n))
    street = text.submit(_street, *street_parts, rng.integers(1, 120, n))

    # Ascii-folded e-mail local parts; the id suffix keeps addresses unique per member.
    email = text.submit(_email, first_names, last_names, first, last, ids, _pick(rng, EMAIL_DOMAINS, n))
    phone_num = rng.choice(10_000_000, n, replace=False)
    phone = text.submit(_phone, _pick(rng, MOBILE_PREFIXES, n), phone_num)

    age_2013 = (np.datetime64("2013-12-01") - birth).astype(np.int64) / 365.25
    student = (age_2013 >= 18) & (age_2013 < 30) & (rng.random(n) < 0.35)
    companies = np.array(
        [
            f"{a} {suffix}"
            for a, suffix in zip(
                rng.choice(lists["last"][0], 1500), rng.choice(["AB", "HB", "& Co AB"], 1500), strict=True
            )
        ]
        + list(PUBLIC_EMPLOYERS)
    )
    employed = ~student & (rng.random(n) < 0.88)
    employer = _null_where(~employed, _pick(rng, companies, n))
    income = np.where(
        student,
        rng.normal(110_000, 30_000, n),
        np.where(employed, rng.lognormal(np.log(330_000), 0.38, n), rng.normal(140_000, 40_000, n)),
    )
    income = (np.clip(income, 0, None) // 1000 * 1000).astype(np.int64)

    has_co = rng.random(n) < 0.2
    co_male = ~male
    co_first = np.where(
        co_male,
        rng.choice(n_male, n, p=lists["male"][1]),
        n_male + rng.choice(len(lists["female"][0]), n, p=lists["female"][1]),
    )
    co_last = np.where(rng.random(n) < 0.6, last, rng.choice(len(last_names), n, p=lists["last"][1]))
    co_birth = birth + rng.integers(-5 * 365, 5 * 365, n)
    co_pnr = text.submit(personnummer, co_birth, _unique_serials(rng, co_birth, co_male, 400, 500))
    name = text.submit(_names, first_names, last_names, first, last)
    co_name = text.submit(_names, first_names, last_names, co_first, co_last)

    # Fees: yearly from FEE_FIRST_YEAR (or joining); a member who stops paying lapses.
    join_year = queue_start.astype("datetime64[Y]").astype(np.int64) + 1970
    first_fee = np.maximum(join_year, FEE_FIRST_YEAR)
    years_on = np.clip(s.last_year - first_fee + 1, 0, None)
    lapse_after = rng.geometric(0.025, n)  # years paid before stopping
    lapsed = lapse_after < years_on
    lapsed_year = np.where(lapsed, first_fee + lapse_after, -1)
    paid_years = np.where(lapsed, lapse_after, years_on)

    reg_seconds = rng.integers(7 * 3600, 22 * 3600, n)
    registered_at = (queue_start.astype("datetime64[s]") + reg_seconds - 3600).astype(
        "datetime64[us]"
    )  # local → UTC (CET)
    protected = rng.random(n) < 0.005
    home_ip = text.submit(_ips, *_ip_draws(rng, n))

    applicants = pl.DataFrame(
        {
            "applicant_id": ids,
            "personnummer": pnr.result(),
            "name": name.result(),
            "address": street.result(),
            "postal_code": postal.result(),
            "city": city,
            "email": email.result(),
            "phone": phone.result(),
            "employer": employer,
            "annual_income": income,
            "co_applicant_name": _null_where(~has_co, co_name.result()),
            "co_applicant_personnummer": _null_where(~has_co, co_pnr.result()),
            "student": student,
            "protected_identity": protected,
            "queue_start": queue_start,
            "registered_at": pl.Series(registered_at).dt.replace_time_zone("UTC").dt.cast_time_unit("us"),
            "status": pl.Series(["active", "lapsed"]).gather(lapsed.astype(np.int64)),
            "created_by_handler_id": pl.Series([None] * n, dtype=pl.Int64),
            "_birth_date": birth,
            "_home_ip": home_ip.result(),
            "_lapsed_year": _null_where(~lapsed, pl.Series(lapsed_year)),
        }
    )
    world.tables["applicants"] = applicants.with_columns(pl.col("queue_start", "_birth_date").cast(pl.Date))

    def make_fees() -> None:
        world.tables["fees"] = _fees(rng, ids, first_fee, paid_years)

    return make_fees


def _postal_codes(area: np.ndarray, sthlm_idx: np.ndarray, prefix: np.ndarray, digits: np.ndarray) -> pl.Series:
    """'NNN NN' postal codes: a Stockholm-area prefix or a drawn digit, then five drawn digits."""
    postal_prefix = _where(
        area, pl.Series([p for _, p, _ in STOCKHOLM_AREA]).gather(sthlm_idx), pl.Series(prefix).cast(pl.String)
    )
    postal_digits = postal_prefix + pl.Series(digits).cast(pl.String).str.zfill(5)
    del postal_prefix
    return postal_digits.str.slice(0, 3) + " " + postal_digits.str.slice(3, 2)


def _street(prefix: pl.Series, suffix: pl.Series, number: np.ndarray) -> pl.Series:
    return prefix + suffix + " " + pl.Series(number).cast(pl.String)


def _email(first_names: pl.Series, last_names: np.ndarray, first, last, ids, domain: pl.Series) -> pl.Series:
    fold = np.vectorize(lambda x: x.translate(FOLD).lower().replace(" ", ""), otypes=[object])
    first_ascii = pl.Series(fold(first_names.to_numpy()), dtype=pl.String)
    last_ascii = pl.Series(fold(last_names), dtype=pl.String)
    return (
        first_ascii.gather(first)
        + "."
        + last_ascii.gather(last)
        + "."
        + pl.Series(ids % 1_000_000).cast(pl.String).str.zfill(6)
        + "@"
        + domain
    )


def _phone(prefix: pl.Series, phone_num: np.ndarray) -> pl.Series:
    ph = pl.Series(phone_num).cast(pl.String).str.zfill(7)
    return prefix + "-" + ph.str.slice(0, 3) + " " + ph.str.slice(3, 2) + " " + ph.str.slice(5, 2)


def _names(first_names: pl.Series, last_names: np.ndarray, first: np.ndarray, last: np.ndarray) -> pl.Series:
    return first_names.gather(first) + " " + pl.Series(last_names).gather(last)


def _pick(rng: np.random.Generator, values, n: int) -> pl.Series:
    """``rng.choice(values, n)`` as a polars Series: the same draws, no numpy string array."""
    return pl.Series(list(values), dtype=pl.String).gather(rng.choice(len(values), n))


def _where(mask: np.ndarray, yes: pl.Series, no: pl.Series) -> pl.Series:
    return pl.select(pl.when(pl.lit(pl.Series(mask))).then(pl.lit(yes)).otherwise(pl.lit(no))).to_series()


def _null_where(mask: np.ndarray, values: pl.Series) -> pl.Series:
    return pl.select(pl.when(pl.lit(pl.Series(mask))).then(None).otherwise(pl.lit(values))).to_series()


def _ip_draws(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """The draws of home IP addresses, in order: the first octet, then the other three."""
    return (rng.choice(IP_FIRST_OCTETS, n), rng.integers(0, 256, n), rng.integers(0, 256, n), rng.integers(1, 255, n))


def _ips(*octets: np.ndarray) -> pl.Series:
    parts = [pl.Series(o).cast(pl.String) for o in octets]
    return parts[0] + "." + parts[1] + "." + parts[2] + "." + parts[3]


def _fees(rng: np.random.Generator, ids, first_fee, paid_years) -> pl.DataFrame:
    """One row per paid year; payments land in January–March of that year."""
    base = pl.DataFrame({"applicant_id": ids, "first": first_fee, "k": paid_years}).filter(pl.col("k") > 0)
    fees = base.select(
        "applicant_id", pl.int_ranges(pl.col("first"), pl.col("first") + pl.col("k")).alias("year")
    ).explode("year")
    m = fees.height
    offset = pl.Series(rng.integers(2 * 86400, 85 * 86400, m) * 1_000_000).cast(pl.Duration("us"))
    jan1 = pl.datetime(pl.col("year"), 1, 1, time_zone="UTC")
    return fees.with_columns(
        amount=pl.lit(FEE_AMOUNT, dtype=pl.Int64),
        paid_at=jan1 + offset,
    ).with_columns(pl.col("year").cast(pl.Int64))

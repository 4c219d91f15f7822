"""Profile changes saved on the web, and the applicant snapshot that results from them.

An owner edits their own profile with fresh values (a new phone, a move, a new job). A
member in someone else's account believes the page is theirs and mostly "corrects" it to
their own phone, e-mail, address, employer or income. Some owners later put back what a
stranger changed. Old values are never drawn: each change's old value is the value left by
the previous change of the same account and field (or the registered value), so the log
replays exactly onto the export snapshot.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from .. import evidence
from .web import Sessions, as_datetime
from .world import World

__all__ = ["FIELDS", "replay_changes", "simulate_changes"]

FIELDS: tuple[str, ...] = evidence.ENUMS["profile_field"]
# What one save changes together, and how often owners and people in a stranger's account
# make each kind of edit. A stranger cannot see a protected address, so never moves it.
_EDITS: tuple[tuple[str, ...], ...] = (
    ("phone",),
    ("email",),
    ("address", "postal_code", "city"),
    ("employer",),
    ("annual_income",),
    ("employer", "annual_income"),
    ("co_applicant_name", "co_applicant_personnummer"),
    ("name",),
)
_OWN_WEIGHTS = np.array([28, 20, 14, 12, 14, 6, 5, 1], dtype=float)
_STRANGER_WEIGHTS = np.array([30, 22, 12, 12, 14, 8, 2, 0], dtype=float)
_MOVE, _PHONE = 2, 0
_OWN_VALUES_SHARE = 0.75  # strangers who type in their own data rather than something new
_CHANGE_ID_BASE = 250_000  # the change log did not start with the web period
_MOBILE = np.array(["070", "072", "073", "076", "079"])
_DOMAINS = np.array(["example.com", "example.net", "example.org", "mail.example", "post.example"])


def _fresh_phone(rng, n: int) -> pl.Series:
    d = pl.Series(rng.integers(0, 10_000_000, n)).cast(pl.String).str.zfill(7)
    return (
        pl.Series(rng.choice(_MOBILE, n)) + "-" + d.str.slice(0, 3) + " " + d.str.slice(3, 2) + " " + d.str.slice(5, 2)
    )


def _fresh_values(rng, rows: pl.DataFrame, people: pl.DataFrame) -> pl.Series:
    """A new value per row (field, base, donor) that does not come from the row's base person.

    ``base`` is whose data is being edited from (the owner, or the stranger typing a variant of
    their own), ``donor`` a random other member whose address, employer or name is borrowed.
    """
    n = rows.height
    base = rows.select("base").join(people, left_on="base", right_on="applicant_id", how="left", maintain_order="left")
    donor = rows.select("donor").join(
        people, left_on="donor", right_on="applicant_id", how="left", maintain_order="left"
    )
    local = base["email"].str.split("@").list.first().str.replace(r"\.\d+$", "")
    income = (base["annual_income"].fill_null(250_000).to_numpy() * rng.lognormal(0.04, 0.12, n)) // 1000 * 1000
    first_name = base["name"].str.split(" ").list.first()
    last_name = donor["name"].str.split(" ").list.last()
    remove_co = pl.Series(rng.random(n) < 0.5) & base["co_applicant_name"].is_not_null()
    by_field = {
        "phone": _fresh_phone(rng, n),
        "email": local
        + "."
        + pl.Series(rng.integers(10, 100, n)).cast(pl.String)
        + "@"
        + pl.Series(rng.choice(_DOMAINS, n)),
        "address": donor["address"],
        "postal_code": donor["postal_code"],
        "city": donor["city"],
        "employer": donor["employer"].fill_null(base["employer"]),
        "annual_income": pl.Series(income.astype(np.int64)).cast(pl.String),
        "co_applicant_name": pl.select(pl.when(remove_co).then(None).otherwise(donor["name"])).to_series(),
        "co_applicant_personnummer": pl.select(
            pl.when(remove_co).then(None).otherwise(donor["personnummer"])
        ).to_series(),
        "name": first_name + " " + last_name,
    }
    field = rows["field"]
    out = pl.repeat(None, n, dtype=pl.String, eager=True)
    for name, values in by_field.items():  # one pass per field, vectorised over rows
        out = pl.select(pl.when(field == name).then(values).otherwise(out)).to_series()
    return out


def _chain(rows: pl.DataFrame, original: pl.DataFrame) -> pl.DataFrame:
    """Fill old_value from the previous change of the same account and field; drop no-ops."""
    key = ["account_id", "field"]
    for _ in range(2):  # dropping a no-op leaves the next change's old value unchanged
        rows = (
            rows.drop("old_value", strict=False)
            .sort("account_id", "field", "time", "session_id")
            .join(original, on=key, how="left", maintain_order="left")
            .with_columns(old_value=pl.col("new_value").shift(1).over(key))
            .with_columns(
                old_value=pl.when(pl.int_range(pl.len()).over(key) == 0)
                .then(pl.col("registered"))
                .otherwise("old_value")
            )
            .drop("registered")
            .filter(~pl.col("old_value").eq_missing(pl.col("new_value")))
        )
    return rows


def simulate_changes(world: World, sessions: Sessions, edits: pl.DataFrame) -> pl.DataFrame:
    """The profile change log: evidence columns plus ``actor`` and ``swapped`` for truth.

    ``edits`` comes from :func:`workbench.scenario.actions.plan_actions` (sid, time, restores).
    """
    rng = world.rng("incident/changes")
    apps = world.tables["applicants"]
    e = edits.join(sessions.frame.select("sid", "session_id", "member", "account", "swapped"), on="sid", how="left")
    ids = apps["applicant_id"].to_numpy()
    e = e.with_columns(donor=pl.Series(ids[rng.integers(0, len(ids), e.height)]))
    # Only the few people involved are looked up, not the whole queue.
    involved = pl.concat([e["member"], e["account"], e["donor"]]).unique().implode()
    people = apps.filter(pl.col("applicant_id").is_in(involved)).select(
        "applicant_id", "personnummer", "protected_identity", *[pl.col(c).cast(pl.String) for c in FIELDS]
    )
    registered = people.unpivot(index="applicant_id", on=list(FIELDS), variable_name="field", value_name="registered")
    people = people.with_columns(pl.col("annual_income").cast(pl.Int64))
    e = e.join(
        people.select("applicant_id", "protected_identity"), left_on="account", right_on="applicant_id", how="left"
    )
    fresh_edits = e.filter(pl.col("restores").list.len() == 0)
    n = fresh_edits.height
    stranger = fresh_edits["swapped"].to_numpy()
    kind = np.where(
        stranger,
        rng.choice(len(_EDITS), n, p=_STRANGER_WEIGHTS / _STRANGER_WEIGHTS.sum()),
        rng.choice(len(_EDITS), n, p=_OWN_WEIGHTS / _OWN_WEIGHTS.sum()),
    )
    kind = np.where(stranger & (kind == _MOVE) & fresh_edits["protected_identity"].to_numpy(), _PHONE, kind)
    own_values = stranger & (rng.random(n) < _OWN_VALUES_SHARE)
    kinds = pl.DataFrame({"kind": np.arange(len(_EDITS)), "field": [list(k) for k in _EDITS]}).explode("field")
    rows = (
        fresh_edits.select("sid", "session_id", "time", "member", "account", "swapped", "donor")
        .with_columns(
            kind=pl.Series(kind),
            own=pl.Series(own_values),
            base=pl.when(pl.col("swapped")).then("member").otherwise("account"),
        )
        .join(kinds, on="kind", how="left", maintain_order="left")
    )
    stated = rows.select("member", "field").join(
        registered, left_on=["member", "field"], right_on=["applicant_id", "field"], how="left", maintain_order="left"
    )["registered"]
    rows = rows.with_columns(
        new_value=pl.when(pl.col("own")).then(stated).otherwise(_fresh_values(rng, rows, people))
    ).select(
        "sid",
        "session_id",
        "time",
        "swapped",
        actor="member",
        account_id="account",
        field="field",
        new_value="new_value",
    )
    registered = registered.rename({"applicant_id": "account_id"})
    rows = _chain(rows, registered)

    # Owners putting back a stranger's edit restore the value from before that edit.
    restores = e.filter(pl.col("restores").list.len() > 0).select("sid", "session_id", "time", "member", "restores")
    undo = (
        restores.explode("restores")
        .join(rows.select(restores="sid", field="field", back="old_value", at="time"), on="restores", how="inner")
        .sort("at", "field", maintain_order=True)
        .group_by("sid", "field", maintain_order=True)
        .agg(pl.col("session_id", "time", "member", "back").first())
        .select(
            "sid",
            "session_id",
            "time",
            swapped=pl.lit(False),
            actor="member",
            account_id="member",
            field="field",
            new_value="back",
        )
    )
    rows = _chain(pl.concat([rows.drop("old_value"), undo]), registered)
    field_order = pl.col("field").replace_strict({f: i for i, f in enumerate(FIELDS)}, return_dtype=pl.Int64)
    rows = rows.sort(pl.col("time"), pl.col("session_id"), field_order)
    return rows.select(
        change_id=pl.int_range(pl.len(), dtype=pl.Int64) + _CHANGE_ID_BASE + 1,
        time=as_datetime(rows["time"]),
        session_id="session_id",
        account_id="account_id",
        field="field",
        old_value="old_value",
        new_value="new_value",
        actor="actor",
        swapped="swapped",
    )


def replay_changes(applicants: pl.DataFrame, changes: pl.DataFrame) -> pl.DataFrame:
    """The applicant snapshot after applying ``changes`` in time order (dtypes kept).

    Only the changed cells are written: each field's column gets the last new value of every
    account that changed it, scattered into a copy of the column at the account's row. (A
    join of the whole snapshot per field, as before, copied every column ten times: seconds
    at national on the incident's one core.)
    """
    last = changes.sort("change_id").group_by("account_id", "field").agg(pl.col("new_value").last())
    rows = applicants.select(account_id="applicant_id").with_row_index("_row")
    last = last.join(rows, on="account_id", how="inner").sort("_row")
    replaced = []
    for field in FIELDS:
        latest = last.filter(pl.col("field") == field)
        if latest.height:
            column = applicants[field]
            replaced.append(column.clone().scatter(latest["_row"], latest["new_value"].cast(column.dtype)))
    return applicants.with_columns(replaced)

"""Hand-built allocation cases for the replay tests: a few members, listings and decisions.

The frames have the columns and dtypes of the fairness queries, so the replay runs on
them exactly as on a case::

    case = HandCase()
    case.member(1, queue="2001-01-01"); case.member(2, queue="2005-01-01")
    case.listing(100, tenant=2, interested=[1, 2])
    case.decision(100, 1, "declined")
    replay_allocations(case.evidence())
"""

from __future__ import annotations

from datetime import UTC as _UTC_ZONE, date, datetime, timedelta

import polars as pl

from workbench.fairness import AllocationEvidence

UTC = pl.Datetime("us", "UTC")
SCHEMAS = {
    "listings": {
        "listing_id": pl.Int64,
        "landlord": pl.String,
        "district": pl.String,
        "rooms": pl.Int64,
        "rent": pl.Int64,
        "kind": pl.String,
        "published_at": UTC,
        "closes_at": UTC,
        "income_rule": pl.String,
        "applicant_id": pl.Int64,
        "handler_id": pl.Int64,
        "signed_at": UTC,
    },
    "queues": {"listing_id": pl.Int64, "applicant_id": pl.Int64, "registered_at": UTC},
    "members": {
        "applicant_id": pl.Int64,
        "birth_digits": pl.String,
        "student": pl.Boolean,
        "annual_income": pl.Int64,
        "queue_start": pl.Date,
        "registered_at": UTC,
        "created_by_handler_id": pl.Int64,
        "email": pl.String,
        "phone": pl.String,
    },
    "fees": {
        "applicant_id": pl.Int64,
        "first_paid_year": pl.Int64,
        "paid_through_year": pl.Int64,
        "n_years_paid": pl.Int64,
    },
    "decisions": {
        "listing_id": pl.Int64,
        "applicant_id": pl.Int64,
        "decision": pl.String,
        "handler_id": pl.Int64,
        "time": UTC,
        "reason": pl.String,
    },
    "actions": {
        "action_id": pl.Int64,
        "time": UTC,
        "handler_id": pl.Int64,
        "action": pl.String,
        "applicant_id": pl.Int64,
        "listing_id": pl.Int64,
        "old_value": pl.String,
        "new_value": pl.String,
    },
}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=_UTC_ZONE)


class HandCase:
    """A hand-built allocation case; listings close on 2013-03-14 unless told otherwise."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict]] = {name: [] for name in SCHEMAS}

    def member(
        self,
        applicant_id: int,
        queue: str = "2005-01-01",
        *,
        income: int = 400_000,
        student: bool = False,
        birth: str = "19800101",
        created_by: int | None = None,
        registered: datetime | None = None,
        fees: tuple[int, int] | None = (2008, 2015),
        email: str | None = None,
    ) -> None:
        start = date.fromisoformat(queue)
        self.rows["members"].append(
            {
                "applicant_id": applicant_id,
                "birth_digits": birth,
                "student": student,
                "annual_income": income,
                "queue_start": start,
                "registered_at": registered or datetime(start.year, start.month, start.day, 9, tzinfo=_UTC_ZONE),
                "created_by_handler_id": created_by,
                "email": email or f"m{applicant_id}@example.com",
                "phone": f"070-{applicant_id}",
            }
        )
        if fees is not None:
            self.rows["fees"].append(
                {
                    "applicant_id": applicant_id,
                    "first_paid_year": fees[0],
                    "paid_through_year": fees[1],
                    "n_years_paid": fees[1] - fees[0] + 1,
                }
            )

    def listing(
        self,
        listing_id: int,
        *,
        tenant: int | None,
        interested: list[int],
        handler: int = 1,
        kind: str = "regular",
        rent: int = 6000,
        income_rule: str = "none",
        district: str = "Farsta",
        closes: datetime = utc(2013, 3, 14, 23),
    ) -> None:
        published = closes - timedelta(days=12)
        if tenant is not None:
            self.rows["listings"].append(
                {
                    "listing_id": listing_id,
                    "landlord": "Stockholmshem",
                    "district": district,
                    "rooms": 2,
                    "rent": rent,
                    "kind": kind,
                    "published_at": published,
                    "closes_at": closes,
                    "income_rule": income_rule,
                    "applicant_id": tenant,
                    "handler_id": handler,
                    "signed_at": closes + timedelta(days=20),
                }
            )
        for who in interested:
            self.rows["queues"].append(
                {"listing_id": listing_id, "applicant_id": who, "registered_at": published + timedelta(days=1)}
            )

    def decision(
        self, listing_id: int, applicant_id: int, decision: str, reason: str | None = None, handler: int = 1
    ) -> None:
        self.rows["decisions"].append(
            {
                "listing_id": listing_id,
                "applicant_id": applicant_id,
                "decision": decision,
                "handler_id": handler,
                "time": utc(2013, 3, 16, 10),
                "reason": reason,
            }
        )

    def action(
        self,
        action: str,
        applicant_id: int,
        *,
        handler: int = 1,
        listing_id: int | None = None,
        old: str | None = None,
        new: str | None = None,
        time: datetime = utc(2013, 3, 5, 10),
    ) -> None:
        self.rows["actions"].append(
            {
                "action_id": len(self.rows["actions"]) + 1,
                "time": time,
                "handler_id": handler,
                "action": action,
                "applicant_id": applicant_id,
                "listing_id": listing_id,
                "old_value": old,
                "new_value": new,
            }
        )

    def evidence(self, **kw) -> AllocationEvidence:
        frames = {name: pl.DataFrame(rows, schema=SCHEMAS[name], orient="row") for name, rows in self.rows.items()}
        return AllocationEvidence(**frames, **kw)


def allocate(case: HandCase, listing_id: int, handler: int, *, in_order: bool, district: str = "Farsta") -> None:
    """One contract signed by ``handler``: to the first in queue order, or (``in_order=False``) to a
    member behind someone eligible who was passed over with nothing recorded. Each listing has its
    own members, ids ``10 * listing_id`` (the tenant) and ``10 * listing_id + 1`` (the one passed over)."""
    tenant, passed = 10 * listing_id, 10 * listing_id + 1
    case.member(tenant, queue="2005-01-01")
    if in_order:
        case.listing(listing_id, tenant=tenant, interested=[tenant], handler=handler, district=district)
        return
    case.member(passed, queue="2001-01-01")
    case.listing(listing_id, tenant=tenant, interested=[passed, tenant], handler=handler, district=district)


def team(case: HandCase, handlers: dict[int, tuple[int, int]], *, district: str = "Farsta", first: int = 1) -> int:
    """Allocations per caseworker, ``{handler: (allocations, out of queue order)}``, in one district and
    year; listing ids from ``first`` on. Returns the next free listing id."""
    listing = first
    for handler, (n, out_of_order) in handlers.items():
        for i in range(n):
            allocate(case, listing, handler, in_order=i >= out_of_order, district=district)
            listing += 1
    return listing


def outcomes(rows: list[tuple[int, str, int, int, int]]) -> pl.DataFrame:
    """Replayed allocations from counts: (handler, district, year, allocations, unexplained) -> one row per allocation."""
    out = []
    for handler, district, year, n, x in rows:
        out += [(handler, district, year, "unexplained" if i < x else "in_order") for i in range(n)]
    return pl.DataFrame(out, schema=["handler_id", "district", "year", "outcome"], orient="row")


def replay_world(world) -> pl.DataFrame:
    """Replay a generated world's evidence through the fairness queries, on an in-memory DuckDB."""
    import sqlalchemy as sa

    from workbench.case import create_case_engine
    from workbench.fairness import load_allocation_evidence, replay_allocations

    engine = create_case_engine(sa.make_url("duckdb:///:memory:"), read_only=False)
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        for name, frame in {**world.tables, "interests": world.table("interests")}.items():
            raw.register(f"{name}_frame", frame.to_arrow())
            raw.execute(f"CREATE VIEW {name} AS SELECT * FROM {name}_frame")
        allocations = replay_allocations(load_allocation_evidence(conn)).allocations
    engine.dispose()
    return allocations

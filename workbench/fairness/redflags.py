"""Red flags in the caseworkers' audit log, each with the evidence rows behind it.

Each function returns one row per flag with the ``action_id`` (audit-log row) or offer it
rests on, so every flag can be checked against the evidence:

* :func:`queue_date_changes`: every change of a member's queue date; ``backdated`` when it
  moved the date earlier, and ``then_contract`` when the same caseworker later signed a
  lease with that member, the pattern of a sold contract.
* :func:`manual_offers`: offers made by hand outside the queue walk, with the replay's
  outcome of the listing.
* :func:`repeated_pairs`: a caseworker who acts on the same member again and again
  (``min_touches`` or more non-routine actions: edits, queue-date changes, manual offers,
  priority grants, profile creation, a signed lease).
* :func:`off_hours`: actions and offers outside office hours (before 07:00 or from 18:00
  Stockholm time, or at a weekend).
* :func:`edits_before_offers`: a profile edit by a caseworker on a member shortly (within
  ``days``) before the same caseworker made them an offer.

:func:`red_flags` puts them on one timeline (``time``, ``handler_id``, ``flag``, ...), with what
each flag's sentence needs (``detail_parts``) but no words: a run of several copies computes it
once for every language. :func:`with_details` writes each flag's ``detail`` in the report's
language where it is shown.
"""

from __future__ import annotations

import polars as pl

from ..evidence import PII
from ..i18n import singular_after_one, translate
from ..settings import LOCAL_TZ
from .queue_model import written_date

__all__ = [
    "COLUMNS",
    "FLAGS",
    "OFFICE_HOURS",
    "TOUCHES",
    "edits_before_offers",
    "flag_counts",
    "manual_offers",
    "off_hours",
    "queue_date_changes",
    "red_flags",
    "repeated_pairs",
    "with_details",
]

OFFICE_HOURS: tuple[int, int] = (7, 18)
"""Local (Europe/Stockholm) hours counted as office time on weekdays, [start, end)."""
TOUCHES: tuple[str, ...] = (
    "profile_edit",
    "queue_date_change",
    "manual_offer",
    "priority_grant",
    "profile_created",
    "contract_signed",
)
"""Non-routine actions counted towards a repeated caseworker–member pair."""
FLAGS: tuple[str, ...] = (
    "backdating then lease",
    "backdating",
    "manual offer",
    "repeated pair",
    "edit before offer",
    "off-hours",
)
"""Red-flag kinds on the timeline, most serious first."""
ZONE = LOCAL_TZ
COLUMNS: dict[str, PII] = {
    "flag": PII.NONE,
    "detail": PII.NONE,
    "detail_parts": PII.NONE,
    "days_moved": PII.NONE,
    "backdated": PII.NONE,
    "then_contract": PII.NONE,
    "contract_listing_id": PII.NONE,
    "contract_signed_at": PII.NONE,
    "became_tenant": PII.NONE,
    "outcome": PII.NONE,
    "n_touches": PII.NONE,
    "actions": PII.NONE,
    "action_ids": PII.NONE,
    "first_at": PII.NONE,
    "last_at": PII.NONE,
    "local_time": PII.NONE,
    "source": PII.NONE,
    "edit_action_id": PII.NONE,
    "edited_at": PII.NONE,
    "offered_at": PII.NONE,
    "days_before": PII.NONE,
    "n_flags": PII.NONE,
    "time": PII.NONE,
}
"""Personal-data tags of the derived columns of red-flag frames."""


def queue_date_changes(actions: pl.DataFrame, contracts: pl.DataFrame) -> pl.DataFrame:
    """Every ``queue_date_change`` with how far it moved the date and the lease that followed.

    ``contracts`` has ``listing_id``, ``applicant_id``, ``handler_id`` and ``signed_at``.
    ``days_moved`` is old minus new date (positive: backdated).
    """
    changes = actions.filter(pl.col("action") == "queue_date_change").select(
        "action_id",
        "time",
        "handler_id",
        "applicant_id",
        "listing_id",
        "old_value",
        "new_value",
        days_moved=(written_date(pl.col("old_value")) - written_date(pl.col("new_value"))).dt.total_days(),
    )
    later = (
        changes.select("action_id", "time", "handler_id", "applicant_id")
        .join(
            contracts.select(
                "applicant_id",
                contract_listing_id="listing_id",
                contract_handler_id="handler_id",
                contract_signed_at="signed_at",
            ),
            on="applicant_id",
        )
        .filter(
            (pl.col("contract_handler_id") == pl.col("handler_id")) & (pl.col("contract_signed_at") > pl.col("time"))
        )
        .group_by("action_id")
        .agg(pl.col("contract_listing_id", "contract_signed_at").sort_by("contract_signed_at").first())
    )
    return (
        changes.join(later, on="action_id", how="left")
        .with_columns(
            backdated=(pl.col("days_moved") > 0).fill_null(False),
            then_contract=pl.col("contract_listing_id").is_not_null(),
        )
        .sort("time", "action_id")
    )


def manual_offers(actions: pl.DataFrame, allocations: pl.DataFrame) -> pl.DataFrame:
    """Every ``manual_offer`` with the listing's replay outcome and whether its member became the tenant."""
    listing = allocations.select("listing_id", "outcome", tenant="applicant_id")
    return (
        actions.filter(pl.col("action") == "manual_offer")
        .select("action_id", "time", "handler_id", "applicant_id", "listing_id")
        .join(listing, on="listing_id", how="left")
        .with_columns(became_tenant=(pl.col("tenant") == pl.col("applicant_id")).fill_null(False))
        .drop("tenant")
        .sort("time", "action_id")
    )


def repeated_pairs(actions: pl.DataFrame, min_touches: int = 3) -> pl.DataFrame:
    """Caseworker–member pairs with at least ``min_touches`` non-routine actions (:data:`TOUCHES`)."""
    return (
        actions.filter(pl.col("action").is_in(TOUCHES) & pl.col("applicant_id").is_not_null())
        .sort("time", "action_id")
        .group_by("handler_id", "applicant_id")
        .agg(
            n_touches=pl.len(),
            actions=pl.col("action").unique(maintain_order=True).str.join(", "),
            action_ids=pl.col("action_id"),
            first_at=pl.col("time").min(),
            last_at=pl.col("time").max(),
        )
        .filter(pl.col("n_touches") >= min_touches)
        .sort("handler_id", "first_at", "applicant_id")
    )


def off_hours(actions: pl.DataFrame, offers: pl.DataFrame) -> pl.DataFrame:
    """Audit-log actions and offers outside :data:`OFFICE_HOURS` or at a weekend, Stockholm time.

    ``offers`` has ``listing_id``, ``applicant_id``, ``handler_id`` and ``time`` (offered at);
    its rows have no ``action_id`` and ``source`` "offer".
    """
    rows = pl.concat(
        [
            actions.select(
                "action_id", "time", "handler_id", "action", "applicant_id", "listing_id", source=pl.lit("audit log")
            ),
            offers.select(
                pl.lit(None, pl.Int64).alias("action_id"),
                "time",
                "handler_id",
                pl.lit("offer").alias("action"),
                "applicant_id",
                "listing_id",
                source=pl.lit("offer"),
            ),
        ]
    )
    local = pl.col("time").dt.convert_time_zone(ZONE)
    start, end = OFFICE_HOURS
    outside = (local.dt.hour() < start) | (local.dt.hour() >= end) | (local.dt.weekday() >= 6)
    return rows.filter(outside).with_columns(local_time=_weekday_time(local)).sort("time", "action_id", nulls_last=True)


def _weekday_time(local: pl.Expr) -> pl.Expr:
    """ "Mon 18:38", "mån 18.38": a local time's weekday and clock time in the report's language."""
    from babel.dates import get_day_names

    from ..wording import say

    days = get_day_names("abbreviated", locale=say("locale"))  # 0 = Monday
    names = {i + 1: str(days[i]).rstrip(".") for i in range(7)}
    return pl.format(
        "{} {}", local.dt.weekday().replace_strict(names, return_dtype=pl.String), local.dt.strftime(say("clock"))
    )


def edits_before_offers(actions: pl.DataFrame, offers: pl.DataFrame, days: int = 30) -> pl.DataFrame:
    """Profile edits by a caseworker on a member within ``days`` before the same caseworker offered them a listing."""
    edits = actions.filter(pl.col("action") == "profile_edit").select(
        "handler_id", "applicant_id", edit_action_id="action_id", edited_at="time"
    )
    return (
        edits.join(
            offers.select("handler_id", "applicant_id", "listing_id", offered_at="time"),
            on=["handler_id", "applicant_id"],
        )
        .filter(
            (pl.col("offered_at") > pl.col("edited_at"))
            & (pl.col("offered_at") <= pl.col("edited_at") + pl.duration(days=days))
        )
        .with_columns(days_before=(pl.col("offered_at") - pl.col("edited_at")).dt.total_days())
        .sort("edited_at", "edit_action_id", "listing_id")
    )


def red_flags(
    actions: pl.DataFrame,
    offers: pl.DataFrame,
    contracts: pl.DataFrame,
    allocations: pl.DataFrame,
    *,
    min_touches: int = 3,
    days: int = 30,
) -> pl.DataFrame:
    """Every red flag as one timeline: ``time``, ``handler_id``, ``flag``, ``applicant_id``, ``listing_id``, ``action_id``, ``detail``."""
    qdc = queue_date_changes(actions, contracts)

    def parts(n: pl.Expr | None = None, text: pl.Expr | None = None, yes: pl.Expr | None = None) -> pl.Expr:
        return pl.struct(
            n=pl.lit(None, pl.Int64) if n is None else n.cast(pl.Int64),
            text=pl.lit(None, pl.String) if text is None else text.cast(pl.String),
            yes=pl.lit(None, pl.Boolean) if yes is None else yes.cast(pl.Boolean),
        )

    flagged_changes = qdc.filter("backdated").select(
        "time",
        "handler_id",
        "applicant_id",
        "listing_id",
        "action_id",
        flag=pl.when("then_contract").then(pl.lit(FLAGS[0])).otherwise(pl.lit(FLAGS[1])),
        detail_parts=parts(n=pl.col("days_moved")),
    )
    manual = manual_offers(actions, allocations).select(
        "time",
        "handler_id",
        "applicant_id",
        "listing_id",
        "action_id",
        flag=pl.lit(FLAGS[2]),
        detail_parts=parts(yes=pl.col("became_tenant")),
    )
    pairs = repeated_pairs(actions, min_touches).select(
        time="last_at",
        handler_id="handler_id",
        applicant_id="applicant_id",
        listing_id=pl.lit(None, pl.Int64),
        action_id=pl.col("action_ids").list.last(),
        flag=pl.lit(FLAGS[3]),
        detail_parts=parts(n=pl.col("n_touches"), text=pl.col("actions")),
    )
    edits = edits_before_offers(actions, offers, days).select(
        time="edited_at",
        handler_id="handler_id",
        applicant_id="applicant_id",
        listing_id="listing_id",
        action_id="edit_action_id",
        flag=pl.lit(FLAGS[4]),
        detail_parts=parts(n=pl.col("days_before")),
    )
    late = off_hours(actions, offers).select(
        "time",
        "handler_id",
        "applicant_id",
        "listing_id",
        "action_id",
        flag=pl.lit(FLAGS[5]),
        detail_parts=parts(text=pl.col("action")),  # the local weekday and time: from "time", when shown
    )
    frames = [flagged_changes, manual, pairs, edits, late]
    schema = pl.Schema(
        {
            "time": pl.Datetime("us", "UTC"),
            "handler_id": pl.Int64(),
            "applicant_id": pl.Int64(),
            "listing_id": pl.Int64(),
            "action_id": pl.Int64(),
            "flag": pl.String(),
            "detail_parts": pl.Struct({"n": pl.Int64(), "text": pl.String(), "yes": pl.Boolean()}),
        }
    )
    return pl.concat([f.cast(schema) for f in frames]).sort("time", "handler_id", "flag")


def with_details(flags: pl.DataFrame) -> pl.DataFrame:
    """``flags`` (:func:`red_flags`) with each flag's ``detail`` in the report's language, in place of ``detail_parts``.

    "queue date moved 11 days earlier", "erbjudande 11 dagar efter ändringen", "profile_edit,
    ons 22.25": called where the flags are shown, in the language of the copy shown.
    """
    if "detail_parts" not in flags.columns:
        return flags
    n, text, yes = (pl.col("detail_parts").struct.field(f) for f in ("n", "text", "yes"))
    flag = pl.col("flag")
    detail = (
        pl.when(flag.is_in(FLAGS[:2]))
        .then(_counted("queue date moved {} days earlier", n))
        .when(flag == FLAGS[2])
        .then(
            pl.when(yes)
            .then(pl.lit(translate("became the tenant")))
            .otherwise(pl.lit(translate("did not become the tenant")))
        )
        .when(flag == FLAGS[3])
        .then(_counted("{} actions: {}", n, text))
        .when(flag == FLAGS[4])
        .then(_counted("offer {} days after the edit", n))
        .when(flag == FLAGS[5])
        .then(pl.format(translate("{} at {}"), text, _weekday_time(pl.col("time").dt.convert_time_zone(ZONE))))
    )
    at = flags.columns.index("detail_parts")
    out = flags.with_columns(detail=detail.cast(pl.String)).drop("detail_parts")
    order = [*out.columns[:at], "detail", *[c for c in out.columns[at:] if c != "detail"]]
    return out.select(order)


def _counted(english: str, n: pl.Expr, *more: pl.Expr) -> pl.Expr:
    """``english`` (its first ``{}`` the count ``n``) in the report's language, its noun in the singular when ``n`` is 1.

    "queue date moved 1 day earlier", "1 dag bakåt": the catalogue's plural text with the 1
    put in and read by :func:`workbench.i18n.singular_after_one`, as ``t()`` reads a message.
    """
    template = translate(english)
    one = singular_after_one(template.replace("{}", "1", 1))
    singular = pl.format(one, *more) if more else pl.lit(one)
    return pl.when(n == 1).then(singular).otherwise(pl.format(template, n, *more))


def flag_counts(flags: pl.DataFrame) -> pl.DataFrame:
    """Red flags per caseworker and kind, one column per kind in :data:`FLAGS` (``n_`` prefixed)."""
    wide = {f"n_{f.replace(' ', '_').replace('-', '_')}": (pl.col("flag") == f).sum().cast(pl.Int64) for f in FLAGS}
    return flags.group_by("handler_id").agg(**wide).sort("handler_id")

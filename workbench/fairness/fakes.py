"""Suspected fake profiles: the Malmö 2017 pattern, each signal with its evidence.

Four signals per member profile:

* ``created_by_caseworker``: the profile was created by a caseworker, not by the member
  (``created_by_handler_id``, with the ``profile_created`` audit-log row);
* ``queue_date_before_registration``: its queue date, as it was before any caseworker
  changed it, is earlier than the day it was registered (``days_before_registration``); a
  member whose date was moved later is a backdating case, flagged as such elsewhere;
* ``shared_contact``: its e-mail address, phone number or a login IP address is shared
  with another profile (``n_sharing``: how many other profiles share one of them);
* ``fees_start_late``: no fee history before the queue date: the first fee year paid is
  later than both the queue date's year and the first year fees exist in the case.

A profile is **suspected** with at least :data:`MIN_SIGNALS` of the four.
"""

from __future__ import annotations

import polars as pl

from ..evidence import PII
from .queue_model import written_date

__all__ = ["COLUMNS", "MIN_SIGNALS", "SIGNALS", "fake_profiles"]

SIGNALS: tuple[str, ...] = (
    "created_by_caseworker",
    "queue_date_before_registration",
    "shared_contact",
    "fees_start_late",
)
MIN_SIGNALS = 3
COLUMNS: dict[str, PII] = {
    **{s: PII.NONE for s in SIGNALS},
    "n_signals": PII.NONE,
    "suspected": PII.NONE,
    "days_before_registration": PII.NONE,
    "n_sharing": PII.NONE,
    "profile_created_action_id": PII.NONE,
    "contract_listing_id": PII.NONE,
    "contract_handler_id": PII.DIRECT,
    "housed_by_creator": PII.NONE,
    "first_paid_year": PII.NONE,
}
"""Personal-data tags of the derived columns of :func:`fake_profiles`."""


def _sharing(members: pl.DataFrame, login_ips: pl.DataFrame) -> pl.DataFrame:
    """Per member: how many other profiles share their e-mail, phone or a login IP."""
    digits = pl.col("phone").str.replace_all(r"\D", "")
    kinds = (
        (members, pl.col("email").str.to_lowercase().str.strip_chars()),
        (members, digits),
        (login_ips, pl.col("ip")),
    )
    pairs = []
    for frame, key in kinds:  # one kind of contact at a time, each key compared only with keys of its kind
        keys = frame.select("applicant_id", key=key).drop_nulls("key").unique()
        # A key held by one profile alone pairs it only with itself, which does not count: only keys
        # held by two or more are joined (at national a few thousand of 10 million), so the join
        # and the frames it makes stay small; the pairs found are the same.
        held = keys.group_by("key").agg(pl.len()).filter(pl.col("len") > 1).select("key")
        keys = keys.join(held, on="key", how="semi")
        pairs.append(
            keys.join(keys.rename({"applicant_id": "other"}), on="key")
            .filter(pl.col("other") != pl.col("applicant_id"))
            .select("applicant_id", "other")
        )
    return pl.concat(pairs).group_by("applicant_id").agg(n_sharing=pl.col("other").n_unique().cast(pl.Int64))


def fake_profiles(
    members: pl.DataFrame,
    fees: pl.DataFrame,
    login_ips: pl.DataFrame,
    actions: pl.DataFrame,
    contracts: pl.DataFrame,
    *,
    min_signals: int = MIN_SIGNALS,
) -> pl.DataFrame:
    """Profiles with at least one signal, with the signals, their evidence and ``suspected``.

    ``members`` as from the ``queue_members`` query, ``fees`` from ``fee_standing``,
    ``login_ips`` from ``login_ips``, ``actions`` from ``caseworker_actions`` and
    ``contracts`` with ``listing_id``, ``applicant_id``, ``handler_id``. Each row keeps
    the evidence: the creating caseworker and audit-log row, the dates, the number of
    profiles sharing a contact, the first fee year, and any lease and who signed it.
    """
    fee_start = fees["first_paid_year"].min()
    created = (
        actions.filter(pl.col("action") == "profile_created")
        .group_by("applicant_id")
        .agg(profile_created_action_id=pl.col("action_id").min())
    )
    lease = contracts.group_by("applicant_id").agg(
        contract_listing_id=pl.col("listing_id").first(), contract_handler_id=pl.col("handler_id").first()
    )
    registered = pl.col("registered_at").dt.date()
    queue_year = pl.col("queue_start").dt.year().cast(pl.Int64)
    before_change = (
        actions.filter(pl.col("action") == "queue_date_change")
        .sort("time")
        .group_by("applicant_id")
        .agg(_before=written_date(pl.col("old_value").first()))
    )
    out = (
        members.select("applicant_id", "created_by_handler_id", "queue_start", "registered_at")
        .join(before_change, on="applicant_id", how="left")
        .with_columns(queue_start=pl.coalesce("_before", "queue_start"))
        .join(_sharing(members, login_ips), on="applicant_id", how="left")
        .join(fees.select("applicant_id", "first_paid_year"), on="applicant_id", how="left")
        .join(created, on="applicant_id", how="left")
        .join(lease, on="applicant_id", how="left")
        .with_columns(
            pl.col("n_sharing").fill_null(0),
            days_before_registration=(registered - pl.col("queue_start")).dt.total_days(),
            created_by_caseworker=pl.col("created_by_handler_id").is_not_null(),
            queue_date_before_registration=pl.col("queue_start") < registered,
            fees_start_late=(pl.col("first_paid_year") > pl.max_horizontal(queue_year, pl.lit(fee_start))).fill_null(
                False
            ),
        )
        .with_columns(shared_contact=pl.col("n_sharing") > 0)
        .with_columns(n_signals=pl.sum_horizontal(*(pl.col(s).cast(pl.Int64) for s in SIGNALS)))
        .filter(pl.col("n_signals") > 0)
        .with_columns(
            suspected=pl.col("n_signals") >= min_signals,
            housed_by_creator=(pl.col("contract_handler_id") == pl.col("created_by_handler_id")).fill_null(False),
        )
    )
    return out.select(
        "applicant_id",
        *SIGNALS,
        "n_signals",
        "suspected",
        "created_by_handler_id",
        "profile_created_action_id",
        "queue_start",
        "registered_at",
        "days_before_registration",
        "n_sharing",
        "first_paid_year",
        "contract_listing_id",
        "contract_handler_id",
        "housed_by_creator",
    ).sort(pl.col("n_signals"), "applicant_id", descending=[True, False])

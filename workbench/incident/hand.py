"""Fault reports set by hand: support messages an investigator tagged ``confirmed`` or ``false-positive``.

The rules (:mod:`workbench.incident.classify`) are a strong lead, not a census. A message
whose latest review annotation (see :mod:`workbench.notes.reviews`) is ``confirmed`` is a
fault report whatever the rules say; one tagged ``false-positive`` is not. Everything counted
from the reports (the first-report time, the response times, the counterfactual) follows.

>>> inbox = apply_hand_review(inbox, {"<m1@x>": "confirmed"})          # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from ..figures import Figure

__all__ = ["CONFIRMED_RULE", "HAND_FIGURES", "apply_hand_review", "hand_counts"]

CONFIRMED_RULE = "set by hand: confirmed"
"""The ``rule`` of a report the rules missed and an investigator confirmed."""


def apply_hand_review(inbox: pl.DataFrame, verdicts: Mapping[str, str]) -> pl.DataFrame:
    """``inbox`` (classified) with ``is_report`` set by hand where ``verdicts`` says so.

    Adds ``rules_say_report`` (the rules' own verdict) and ``set_by_hand`` ("confirmed",
    "false-positive" or null). A confirmed message the rules missed gets the rule
    :data:`CONFIRMED_RULE`; a dismissed one keeps the rule that matched, for the record.
    """
    ids = inbox["message_id"].cast(pl.String).to_list()
    hand = pl.Series("set_by_hand", [verdicts.get(i) for i in ids], dtype=pl.String)
    said = pl.col("set_by_hand")
    return (
        inbox.with_columns(hand, rules_say_report=pl.col("is_report"))
        .with_columns(
            is_report=pl.when(said == "confirmed")
            .then(True)
            .when(said == "false-positive")
            .then(False)
            .otherwise(pl.col("is_report")),
        )
        .with_columns(
            rule=pl.when((said == "confirmed") & pl.col("rule").is_null())
            .then(pl.lit(CONFIRMED_RULE))
            .otherwise(pl.col("rule"))
        )
    )


def hand_counts(inbox: pl.DataFrame) -> dict[str, int]:
    """How many messages were set by hand, and how many of them changed the rules' verdict, each way."""
    if "set_by_hand" not in inbox.columns:
        return {"set": 0, "added": 0, "removed": 0}
    said, rules = pl.col("set_by_hand"), pl.col("rules_say_report")
    row = inbox.select(
        set=said.is_not_null().sum(),
        added=((said == "confirmed") & ~rules).sum(),
        removed=((said == "false-positive") & rules).sum(),
    ).row(0, named=True)
    return {k: int(v or 0) for k, v in row.items()}


HAND_FIGURES: Sequence[Figure] = (
    Figure(
        "messages_set_by_hand",
        "set by hand",
        "Support messages an investigator tagged confirmed or false-positive (their verdict replaces the rules')",
        lambda i: hand_counts(i.inbox)["set"],
        "support_inbox",
        count=True,
    ),
    Figure(
        "reports_added_by_hand",
        "set by hand",
        "Fault reports the rules missed and an investigator confirmed",
        lambda i: hand_counts(i.inbox)["added"],
        "support_inbox",
        count=True,
    ),
    Figure(
        "reports_removed_by_hand",
        "set by hand",
        "Messages the rules classified as fault reports that an investigator tagged false-positive",
        lambda i: hand_counts(i.inbox)["removed"],
        "support_inbox",
        count=True,
    ),
)
"""Notebook 01's figures of the fault reports set by hand."""

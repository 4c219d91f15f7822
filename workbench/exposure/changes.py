"""Who changed what: every profile change attributed to an actor and an account, and the restore list.

The actor of a change is the member who authenticated the session that saved it; the
account is the one the change names. When they differ, another person changed the data
(believing it was their own). The restore list gives, for every field another person
changed, the value from before the change, and one action (:data:`RESTORE_ACTIONS`): restore
it; nothing, because the owner already put the old value back; or review it with the owner,
because the owner changed the field again later (never overwrite that).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl

from ..evidence import PII
from ..queries import run

if TYPE_CHECKING:
    from ..case import Case

__all__ = ["ACTOR_TYPES", "CHANGE_COLUMNS", "RESTORE_ACTIONS", "RESTORE_COLUMNS", "ChangeLog", "attribute_changes"]

ACTOR_TYPES = ("own", "other", "unknown")
"""own: the actor edited their own account; other: another person's; unknown: no login for the session."""

CHANGE_COLUMNS: dict[str, PII] = {
    "change_id": PII.NONE,
    "time": PII.NONE,
    "session_id": PII.DIRECT,
    "account_id": PII.DIRECT,
    "actor_applicant_id": PII.DIRECT,
    "actor_type": PII.NONE,
    "in_window": PII.NONE,
    "field": PII.NONE,
    "old_value": PII.FREE_TEXT,
    "new_value": PII.FREE_TEXT,
}
RESTORE_ACTIONS = ("restore", "none: owner already restored it", "review: owner changed the field later")
"""The ``action`` of a restore-list row: restore; nothing (the owner put the old value back); review with the owner.

Every row has exactly one; the restore figures of notebook 02 count the rows by it, so the
sentence and the table beside it say the same numbers.
"""

RESTORE_COLUMNS: dict[str, PII] = {
    "account_id": PII.DIRECT,
    "field": PII.NONE,
    "restore_value": PII.FREE_TEXT,
    "value_set_by_other": PII.FREE_TEXT,
    "changed_at": PII.NONE,
    "change_ids": PII.NONE,
    "actor_applicant_id": PII.DIRECT,
    "session_id": PII.DIRECT,
    "current_value": PII.FREE_TEXT,
    "conflict": PII.NONE,
    "owner_changed_at": PII.NONE,
    "owner_value": PII.FREE_TEXT,
    "owner_restored": PII.NONE,
    "action": PII.NONE,
}


@dataclass
class ChangeLog:
    """Profile changes from the window start on, attributed; counts and the restore list derive from it.

    ``changes`` is the ``profile_change_log`` query result: one row per change with
    ``actor_applicant_id``, ``actor_type`` (own / other / unknown) and ``in_window``.
    """

    start: datetime
    end: datetime
    changes: pl.DataFrame
    _restore: tuple[pl.DataFrame, pl.DataFrame] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def in_window(self) -> pl.DataFrame:
        """Changes saved in [start, end)."""
        return self.changes.filter("in_window")

    @property
    def by_others(self) -> pl.DataFrame:
        """Changes in the window made by someone other than the account's owner."""
        return self.in_window.filter(pl.col("actor_type") == "other")

    def counts(self) -> dict[str, int]:
        """The "made some change" figure and its split, each a number of distinct people or accounts.

        ``people_who_made_changes`` counts distinct actors of changes in the window;
        ``people_who_edited_own_data`` and ``people_who_changed_others_data`` may overlap
        (someone can do both); ``accounts_changed_by_others`` counts the victims.
        """
        w = self.in_window

        def actors(kind):
            return w.filter(pl.col("actor_type") == kind)["actor_applicant_id"].n_unique()

        return {
            "people_who_made_changes": w["actor_applicant_id"].drop_nulls().n_unique(),
            "people_who_edited_own_data": actors("own"),
            "people_who_changed_others_data": actors("other"),
            "accounts_changed_by_others": self.by_others["account_id"].n_unique(),
            "field_changes_by_others": self.by_others.height,
            "changes_with_unknown_actor": w.filter(pl.col("actor_type") == "unknown").height,
            "accounts_with_own_and_others_changes": w.filter(pl.col("actor_type") == "own")
            .join(self.by_others.select("account_id").unique(), on="account_id")["account_id"]
            .n_unique(),
        }

    def made_some_change(self) -> pl.DataFrame:
        """The "made some change" split as a frame: group, n (distinct people or accounts)."""
        c = self.counts()
        rows = [
            ("made some change (actors)", c["people_who_made_changes"]),
            ("edited their own data", c["people_who_edited_own_data"]),
            ("edited someone else's data without knowing", c["people_who_changed_others_data"]),
            ("accounts whose data another person edited", c["accounts_changed_by_others"]),
        ]
        return pl.DataFrame(rows, schema={"group": pl.String, "n": pl.Int64}, orient="row")

    def per_period(self, every: str = "1h") -> pl.DataFrame:
        """Changes in the window per UTC period and actor type: period, actor_type, n_changes.

        Every period and type is a row. ``every`` is a polars duration such as ``"1h"`` or
        ``"6h"``; periods start at whole hours.
        """
        first = self.start.replace(minute=0, second=0, microsecond=0)
        w = self.in_window.with_columns(hour=pl.col("time").dt.truncate(every))
        hours = pl.datetime_range(
            pl.Series([first]).dt.truncate(every).item(),
            self.end,
            every,
            closed="left",
            time_unit="us",
            time_zone="UTC",
            eager=True,
        ).alias("hour")
        grid = hours.to_frame().join(pl.DataFrame({"actor_type": list(ACTOR_TYPES)}), how="cross")
        counts = w.group_by("hour", "actor_type").agg(n_changes=pl.len())
        return (
            grid.join(counts, on=["hour", "actor_type"], how="left")
            .with_columns(pl.col("n_changes").fill_null(0).cast(pl.Int64))
            .sort("hour", "actor_type")
            .rename({"hour": "period"})
        )

    def restore_list(self) -> pl.DataFrame:
        """One row per run of consecutive changes by others to one field of one account.

        ``restore_value`` is the value before the run; ``conflict`` is true when the owner
        (or an unknown actor) changed the same field after the run, and ``owner_restored``
        when that later change put back the value before the run. ``action`` is one of
        :data:`RESTORE_ACTIONS`: restore (no later change), nothing (the owner restored it)
        or review rather than overwrite (the owner set another value). Made once per ``changes`` frame (the
        notification list and the review's restore figures both ask for it).
        """
        made = self._restore
        if made is None or made[0] is not self.changes:
            made = self._restore = (self.changes, self._restore_list())
        return made[1]

    def _restore_list(self) -> pl.DataFrame:
        restore, nothing, review = RESTORE_ACTIONS
        key = ["account_id", "field"]
        c = (
            self.changes.sort(*key, "time", "change_id")
            .with_columns(
                other=pl.col("actor_type") == "other",
            )
            .with_columns(
                run=(pl.col("other") != pl.col("other").shift(1).over(key)).fill_null(True).cum_sum().over(key),
                current_value=pl.col("new_value").last().over(key),
            )
        )
        runs = (
            c.filter("other")
            .group_by(*key, "run", maintain_order=True)
            .agg(
                restore_value=pl.col("old_value").first(),
                value_set_by_other=pl.col("new_value").last(),
                changed_at=pl.col("time").first(),
                end_at=pl.col("time").last(),
                change_ids=pl.col("change_id").cast(pl.String).str.join(" "),
                actor_applicant_id=pl.col("actor_applicant_id").first(),
                session_id=pl.col("session_id").first(),
                current_value=pl.col("current_value").first(),
            )
        )
        later = (
            c.filter(~pl.col("other"))
            .select(*key, later_at="time", later_value="new_value")
            .join(runs.select(*key, "run", "end_at"), on=key)
            .filter(pl.col("later_at") > pl.col("end_at"))
            .sort("later_at")
            .group_by(*key, "run")
            .agg(owner_changed_at=pl.col("later_at").last(), owner_value=pl.col("later_value").last())
        )
        out = (
            runs.join(later, on=[*key, "run"], how="left")
            .with_columns(
                conflict=pl.col("owner_changed_at").is_not_null(),
            )
            .with_columns(
                owner_restored=pl.col("conflict") & pl.col("owner_value").eq_missing(pl.col("restore_value")),
            )
            .with_columns(
                action=pl.when(~pl.col("conflict"))
                .then(pl.lit(restore))
                .when(pl.col("owner_restored"))
                .then(pl.lit(nothing))
                .otherwise(pl.lit(review)),
            )
        )
        return out.select(list(RESTORE_COLUMNS)).sort("changed_at", "account_id", "field")


def attribute_changes(case: Case, *, start: datetime | None = None, end: datetime | None = None) -> ChangeLog:
    """Every profile change from ``start`` on, with actor, account and actor type (``profile_change_log``)."""
    if start is None or end is None:
        window = run("incident_window", case)
        start = start or window["deployed_at"].item()
        end = end or window["fix_deployed_at"].item()
    return ChangeLog(start, end, run("profile_change_log", case, start=start, end=end))

"""``replay_changes`` on hand-written snapshots: the last change of each account and field wins,
by change id; other cells, rows, dtypes and the input frame stay as they were."""

from __future__ import annotations

import polars as pl

from workbench.scenario.profile import FIELDS, replay_changes


def _applicants() -> pl.DataFrame:
    n = 4
    base = {f: [f"{f}-{i}" for i in range(n)] for f in FIELDS if f != "annual_income"}
    return pl.DataFrame(
        {
            "applicant_id": [30, 10, 40, 20],  # not in id order: rows are found by id
            **base,
            "annual_income": [100_000, 200_000, 300_000, 400_000],
            "queue_start": pl.Series(["2001-01-01"] * n).str.to_date(),
        }
    )


def _changes(rows: list[tuple[int, int, str, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"change_id": pl.Int64, "account_id": pl.Int64, "field": pl.String, "new_value": pl.String},
        orient="row",
    )


def test_the_last_change_by_id_wins_and_nothing_else_moves():
    apps = _applicants()
    before = apps.clone()
    changes = _changes(
        [
            (5, 10, "phone", "070-2"),
            (3, 10, "phone", "070-1"),  # an earlier change listed later: id 5 still wins
            (4, 20, "annual_income", "555000"),
            (6, 40, "co_applicant_name", None),  # a co-applicant removed
            (7, 99, "email", "nobody@example.com"),  # not in the snapshot: ignored
            (8, 30, "address", "Ny gata 1"),
        ]
    )
    out = replay_changes(apps, changes)
    assert apps.equals(before)  # the input is not changed in place
    assert out.schema == apps.schema and out["applicant_id"].to_list() == [30, 10, 40, 20]
    want = before.to_dicts()
    want[1]["phone"] = "070-2"
    want[3]["annual_income"] = 555_000
    want[2]["co_applicant_name"] = None
    want[0]["address"] = "Ny gata 1"
    assert out.to_dicts() == want


def test_no_changes_give_the_snapshot():
    apps = _applicants()
    assert replay_changes(apps, _changes([])).equals(apps)

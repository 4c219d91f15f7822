"""AccountInspector driven headless, the exposure charts and the per-person list exports."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import pytest

from workbench.audience import pseudonym
from workbench.case import open_case
from workbench.errors import UnknownNameError, WorkbenchError
from workbench.exposure import RESTORE_COLUMNS, review_exposure
from workbench.i18n import t
from workbench.person_lists import export_csv, person_rows
from workbench.widgets import AccountInspector
from workbench.widgets.exposure_charts import (
    changes_over_time,
    fields_exposed_chart,
    tier_funnel,
)

KEY = "test-key-0123456789abcdef"


@pytest.fixture(scope="module")
def exposure(tiny_db):
    case = open_case(tiny_db)
    yield review_exposure(case).exposure
    case.close()


@pytest.fixture(scope="module")
def victim(tiny_case):
    """An account whose data another person changed: (account, change ids, actor)."""
    row = tiny_case.truth("unauthorized_changes").row(0, named=True)
    return row["owner_account_id"], row["change_id"], row["actor_applicant_id"]


def test_investigator_chooses_by_customer_number(exposure, victim):
    account, change_id, actor = victim
    inspector = AccountInspector(exposure, "investigator")
    assert inspector.value is None and inspector.selected_account is None
    assert str(account) in inspector.options
    inspector._w_account.value = str(account)  # what a click in the drop-down does
    assert inspector.selected_account == account
    assert actor in inspector.sessions["viewer_applicant_id"].to_list()
    assert change_id in inspector.changes["change_id"].to_list()
    assert (inspector.restore["account_id"] == account).all() and inspector.restore.height >= 1
    assert "name" in inspector.fields["field"].to_list()
    assert str(account) in inspector._w_summary.value and "Restore values" in inspector._w_restore.value


def test_auditor_chooses_by_pseudonym_and_sees_no_values(exposure, victim):
    account, change_id, actor = victim
    inspector = AccountInspector(exposure, "auditor", key=KEY)
    label = pseudonym(account, "account_id", KEY)
    assert label in inspector.options and str(account) not in inspector.options
    inspector.select(label)
    assert inspector.selected_account == label
    assert pseudonym(actor, "applicant_id", KEY) in inspector.sessions["viewer_applicant_id"].to_list()
    changes = inspector.changes
    assert change_id in changes["change_id"].to_list()
    assert set(changes["new_value"].drop_nulls()) <= {"[withheld]"}
    assert str(account) not in inspector._w_changes.value + inspector._w_sessions.value
    with pytest.raises(UnknownNameError, match="account in the exposure"):
        inspector.select(str(account))


def test_public_audience_has_nothing_to_inspect(exposure):
    inspector = AccountInspector(exposure, "public")
    assert inspector.options == [] and inspector.value is None
    assert "aggregates only" in inspector._w_summary.value


def _tiers() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "tier": ["1", "2a", "3c"],
            "label": ["logged in", "bound", "co-applicants"],
            "min": ["217", "48", "<5"],
            "likely": ["217", "52", "<5"],
            "max": ["217", "63", "[suppressed]"],
        }
    )


def test_tier_funnel_draws_suppressed_counts_as_gaps_and_keeps_its_input():
    frame = _tiers()
    before = frame.clone()
    spec = tier_funnel(frame).to_dict()
    assert frame.equals(before)
    (rows,) = spec["datasets"].values()
    by = {r["tier"]: r for r in rows}
    assert by["2a"]["min"] == 48 and by["2a"]["max"] == 63
    assert by["3c"]["likely"] is None


def test_fields_chart_and_changes_chart_from_audience_fit_frames(exposure):
    fields = exposure.fields()
    spec = fields_exposed_chart(fields).to_dict()
    (rows,) = spec["datasets"].values()
    assert {r["field"]: r["n_accounts"] for r in rows}["name"] == fields.filter(pl.col("field") == "name")[
        "n_accounts"
    ].item()
    per = exposure.changes.per_period("6h")
    spec = changes_over_time(per).to_dict()
    (rows,) = spec["datasets"].values()
    other = t("chart.actor_type.other")  # the legend's name for changes by another person
    assert sum(r["n_changes"] for r in rows if r["actor_type"] == other) == exposure.changes.by_others.height
    first = min(datetime.fromisoformat(r["period"]) for r in rows).replace(tzinfo=None)
    utc = per["period"][0].replace(tzinfo=None)
    assert first - utc == timedelta(hours=1)  # shown in Stockholm wall-clock time
    assert min(rows, key=lambda r: r["period"])["starts"] == first.strftime("%a %d %b %H:%M")


def test_person_lists_for_each_audience(exposure, tmp_path):
    restore = exposure.changes.restore_list()
    assert export_csv(restore, tmp_path, "restore.csv", "public") is None
    assert not list(tmp_path.iterdir())
    path = export_csv(restore, tmp_path, "restore.csv", "auditor", columns=RESTORE_COLUMNS, key=KEY)
    written = pl.read_csv(path, infer_schema_length=0)
    assert written.height == restore.height and written["account_id"].str.starts_with("P-").all()
    assert written["changed_at"][0].endswith("Z")
    with pytest.raises(WorkbenchError, match=r"plain file name ending in \.csv"):
        export_csv(restore, tmp_path, "../restore.csv", "investigator")
    counts = person_rows(restore, "public", columns=RESTORE_COLUMNS, by=["field"])
    # Counts per field are no breakdown by a quasi-identifier (docs/disclosure.md): shown exactly.
    assert counts.columns == ["field", "n"] and counts["n"].dtype == pl.Int64
    assert counts["n"].sum() == restore.height
    assert person_rows(restore, "investigator", columns=RESTORE_COLUMNS).equals(restore)
    protected = person_rows(exposure.protected(), "auditor", columns={}, rows_for=("investigator",), key=KEY)
    assert protected.columns == ["n"]

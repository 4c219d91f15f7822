"""The disclosure audit (workbench.reportset.disclosure_audit) on hand-built breakdowns and on a public set."""

from __future__ import annotations

import functools
import html
import json

import polars as pl
import pytest

import workbench.audience as audience_module
from workbench.audience import fit
from workbench.reportset.build import BANNERS
from workbench.reportset.disclosure_audit import audit, read_ledger
from workbench.settings import LEDGER_ENV
from workbench.suppression import suppress

# Allocations by district and kind: Farsta has 3 student contracts. Small-cell suppression
# alone publishes every other cell, so the district's total (or the kind's) gives 3 back.
BY_DISTRICT_AND_KIND = pl.DataFrame(
    {
        "district": ["Farsta", "Farsta", "Kista", "Kista", "Solna", "Solna"],
        "kind": ["regular", "student"] * 3,
        "n": [41, 3, 37, 12, 55, 20],
    }
)


@pytest.fixture
def ledger(tmp_path, monkeypatch):
    path = tmp_path / "ledger.jsonl"
    monkeypatch.setenv(LEDGER_ENV, str(path))
    return path


def test_the_audit_recovers_a_cell_when_complementary_suppression_is_off(ledger, monkeypatch):
    monkeypatch.setattr(audience_module, "suppress", functools.partial(suppress, complementary=False))
    shown = fit(BY_DISTRICT_AND_KIND, "public")
    assert shown["n"].to_list() == ["41", "1–4", "37", "12", "55", "20"]  # the policy done wrong
    result = audit(ledger)
    assert not result.passed
    assert any("Farsta, student" in p and "pinned to 3–3" in p for p in result.problems), result.problems


def test_the_audit_passes_the_same_breakdown_under_the_policy(ledger):
    shown = fit(BY_DISTRICT_AND_KIND, "public")
    assert shown["n"].to_list().count("1–4") == 1 and shown["n"].to_list().count("[suppressed]") >= 3
    result = audit(ledger)
    assert result.passed, result.problems
    assert (result.breakdowns, result.hidden_cells) == (1, 4)


def test_an_incident_wide_table_is_not_a_breakdown_and_never_reaches_the_ledger(ledger):
    frame = pl.DataFrame({"alternative": ["actual", "on call"], "n_sessions": [123, 3]})
    assert fit(frame, "public", columns={"alternative": "none"}).equals(frame)  # 3 shown: a counterfactual total
    assert read_ledger(ledger) == []


def test_a_share_left_beside_a_hidden_count_fails_the_audit():
    # The old group view: the share of a group of 3 shown, so out of order = n - share × n.
    entry = {
        "counts": ["n_allocations"],
        "keys": ["grouping", "group"],
        "measures": ["share_in_order"],
        "threshold": 5,
        "true": [[3], [40], [52]],
        "key_values": [["kind", "senior"], ["kind", "student"], ["kind", "regular"]],
        "shown": [["1–4"], ["[suppressed]"], ["52"]],
        "shown_measures": [[0.67], [None], [0.95]],
    }
    result = audit([entry])
    assert [p for p in result.problems if "share_in_order" in p], result.problems


def test_a_breakdown_figure_recorded_as_a_number_and_the_old_marker_fail_the_file_scan(tmp_path):
    (tmp_path / "02").mkdir()
    (tmp_path / "02" / "findings.json").write_text(
        json.dumps({"protected_identity_exposed": {"value": {"min": 0, "likely": 2, "max": 3}}}), encoding="utf-8"
    )
    (tmp_path / "02" / "report.html").write_text("<td>&lt;5</td>", encoding="utf-8")
    problems = audit([], tmp_path).problems
    assert any("protected_identity_exposed is a breakdown cell" in p for p in problems)
    assert any('holds "<5"' in p for p in problems)


def _audited_public_set(db, tmp_path_factory):
    """The public set of ``db`` and its ledger from the session's shared render (tests/reportkit.py), audited.

    The shared run renders all three audiences; only the public one's fits reach the ledger
    (:func:`workbench.audience.fit` suppresses, and records, for the public alone).
    """
    from reportkit import ledger as ledger_of, report_set

    out = report_set(tmp_path_factory, db, "public")
    result = audit(ledger_of(out), out)
    assert result.passed, result.problems
    assert result.breakdowns > 0 and result.hidden_cells > 0 and result.files_read > 0
    assert not any(ledger_of(out).name in p.name for p in out.rglob("*"))
    return out


def test_every_notebook_of_the_public_tiny_set_passes_the_audit(tiny_duckdb, tmp_path_factory):
    from reportkit import ledger as ledger_of

    from workbench.findings import load

    out = _audited_public_set(tiny_duckdb, tmp_path_factory)
    # Incident-wide figures are exact, so the sentence and the counterfactual table agree:
    # nothing of notebook 01 is hidden, and findings.json holds no label there.
    incident = next(p for p in out.rglob("findings.json") if "sessions_mismatched" in load(p.parent))
    values = {k: v["value"] for k, v in load(incident.parent).items()}
    for name in ("sessions_mismatched", "fault_reports", "sessions_avoidable_with_on_call", "exposures_actual"):
        assert isinstance(values[name], int), (name, values[name])
    page = next(incident.parent.glob("*.html")).read_text(encoding="utf-8")
    # The banner explains the 1–4 policy; the report under it must show no such cell.
    body = page.replace(html.escape(BANNERS["public"], quote=False), "")
    assert BANNERS["public"].split(";")[0] in page
    assert "[suppressed]" not in body and "1–4" not in body
    entries = read_ledger(ledger_of(out))
    # The "made some change" split counts the incident's actors, recorded exactly in
    # findings.json: the table shows the same numbers, it is no breakdown.
    assert not any("edited their own data" in row for e in entries for row in e["key_values"])
    # Red flags per month were all small: withheld, and the page says so (coarsen or withhold).
    assert not any("month" in e["keys"] for e in entries)
    fairness = next(out.glob("03_*/*.html")).read_text(encoding="utf-8")
    assert "withheld: too few to show by month" in fairness


@pytest.mark.slow
def test_every_notebook_of_the_public_small_set_passes_the_audit(small_db, tmp_path_factory):
    out = _audited_public_set(small_db, tmp_path_factory)
    assert (out / "index.html").exists()

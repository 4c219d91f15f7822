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


def test_a_swedish_breakdown_hides_with_the_swedish_marker_and_the_audit_reads_it(ledger):
    from workbench.i18n import using

    with using("sv"):
        shown = fit(BY_DISTRICT_AND_KIND, "public")
    labels = shown["n"].to_list()
    assert labels.count("[undertryckt]") >= 3 and "[suppressed]" not in labels and labels.count("1–4") == 1
    result = audit(ledger)
    assert result.passed, result.problems
    assert (result.breakdowns, result.hidden_cells) == (1, 4)  # the Swedish marker counted as hidden


def test_a_set_holding_another_languages_marker_fails_the_file_scan(tmp_path):
    (tmp_path / "report-set.json").write_text(json.dumps({"language": "sv"}), encoding="utf-8")
    (tmp_path / "03").mkdir()
    page = tmp_path / "03" / "report.html"
    page.write_text("<td>[undertryckt]</td><td>1–4</td>", encoding="utf-8")
    assert audit([], tmp_path).passed
    page.write_text("<td>[suppressed]</td>", encoding="utf-8")
    problems = audit([], tmp_path).problems
    assert problems == [
        "03/report.html: holds '[suppressed]', the hidden-cell marker of another language; this set's is '[undertryckt]'"
    ]


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


def _rates_page(rows: list[dict]) -> str:
    """A public page as notebook 03 wrote it before: the caseworkers' table and its chart's data."""
    cols = list(rows[0])
    head = "".join(f'<th data-col="{c}">{c}</th>' for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{r[c]}</td>" for c in cols) + "</tr>" for r in rows)
    return f"<html><body><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>"


def _chart_page(rows: list[dict]) -> str:
    spec = {"$schema": "https://vega.github.io/schema/vega-lite/v6.4.1.json", "title": "rates", "datasets": {"d": rows}}
    return f"<script>(function(spec, embedOpt){{}})({json.dumps(spec)}, {json.dumps({})});</script>"


def _wilson(k: int, n: int) -> tuple[float, float]:
    """The interval as notebook 03 computes it (the workbench's own expression, not the audit's copy)."""
    from workbench.fairness.caseworkers import wilson_interval

    low, high = wilson_interval(pl.lit(k), pl.lit(n))
    return pl.select(low=low, high=high).row(0)


def _public_folder(tmp_path, page: str, replayed: int = 151, unexplained: int = 7):
    folder = tmp_path / "public" / "03_queue_fairness"
    folder.mkdir(parents=True)
    (folder / "03_queue_fairness.html").write_text(page, encoding="utf-8")
    totals = {"allocations_replayed": replayed, "unexplained_deviations": unexplained}
    (folder / "findings.json").write_text(json.dumps({k: {"value": v} for k, v in totals.items()}), encoding="utf-8")
    return folder.parent


def test_a_rate_with_its_interval_gives_a_caseworkers_counts_back(tmp_path):
    # Hand-written: caseworker 1 had 7 of 42 allocations unexplained, caseworker 2 none of 37.
    truth = {"caseworker 1": (42, 7), "caseworker 2": (37, 0)}
    chart, table = [], []
    for name, (n, k) in truth.items():
        low, high = _wilson(k, n)
        chart.append({"caseworker": name, "rate": k / n, "rate_low": low, "rate_high": high, "flagged": "no"})
        table.append({"caseworker": name, "rate": f"{k / n:.1%}", "rate_low": f"{low:.1%}", "rate_high": f"{high:.1%}"})
    root = _public_folder(tmp_path, _rates_page(table) + _chart_page(chart))
    result = audit([], root)
    assert not result.passed and result.rate_rows == 4
    for name, (n, k) in truth.items():
        for where in ("table", "chart 'rates'"):
            assert any(f"{where}, {name}" in p and f"leaves n in {{{n}}}" in p for p in result.problems), (name, where)
            assert any(f"{where}, {name}" in p and f"leaves k in {{{k}}}" in p for p in result.problems), (name, where)
    assert any("publishes ['rate_high', 'rate_low']" in p for p in result.problems)


def test_a_rate_band_and_a_flag_leave_the_counts_open(tmp_path):
    rows = [
        {"caseworker": "caseworker 1", "rate_band": "10–20\u202f%", "flagged": "nej"},
        {"caseworker": "caseworker 2", "rate_band": "0–5%", "flagged": "no"},
    ]
    chart = [{"caseworker": "caseworker 1", "rate_from": 0.1, "rate_to": 0.2, "flagged": "no"}]
    result = audit([], _public_folder(tmp_path, _rates_page(rows) + _chart_page(chart)))
    assert result.passed, result.problems
    assert result.rate_rows == 3


def test_the_audits_interval_is_the_one_the_workbench_computes():
    from workbench.reportset.rate_audit import wilson

    for n in (1, 2, 5, 12, 37, 200):
        for k in {0, 1, n // 3, n - 1, n}:
            assert wilson(k, n) == pytest.approx(_wilson(k, n), abs=1e-12), (k, n)


def _audited_public_set(tmp_path_factory, db, language: str = "en"):
    """The public set of ``db`` rendered by reportkit (shared with the other report tests), audited with its ledger."""
    from reportkit import ledger as ledger_of, report_set

    out = report_set(tmp_path_factory, db, "public", language)
    ledger = ledger_of(out)  # outside the set: it holds the true values
    result = audit(ledger, out)
    assert result.passed, result.problems
    assert result.breakdowns > 0 and result.hidden_cells > 0 and result.files_read > 0
    assert result.rate_rows > 0  # the caseworkers' rates were read, and none gives n or k back
    assert not any(ledger.name in p.name for p in out.rglob("*"))
    return out, ledger


def test_every_notebook_of_the_public_tiny_set_passes_the_audit(tiny_duckdb, tmp_path_factory):
    from workbench.findings import load

    out, ledger = _audited_public_set(tmp_path_factory, tiny_duckdb)
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
    entries = read_ledger(ledger)
    # The "made some change" split counts the incident's actors, recorded exactly in
    # findings.json: the table shows the same numbers, it is no breakdown.
    assert not any("edited their own data" in row for e in entries for row in e["key_values"])
    # Red flags per month were all small: withheld, and the page says so (coarsen or withhold).
    assert not any("month" in e["keys"] for e in entries)
    fairness = next(out.glob("03_*/*.html")).read_text(encoding="utf-8")
    assert "withheld: too few to show by month" in fairness


def test_every_notebook_of_the_swedish_public_tiny_set_passes_the_audit(tiny_duckdb, tmp_path_factory):
    out, _ = _audited_public_set(tmp_path_factory, tiny_duckdb, "sv")
    fairness = next(out.glob("03_*/*.html")).read_text(encoding="utf-8")
    assert "[undertryckt]" in fairness  # the red flags by year hide cells, with the marker of the page's language


@pytest.mark.slow
def test_every_notebook_of_the_public_small_set_passes_the_audit(small_db, tmp_path_factory):
    out, _ = _audited_public_set(tmp_path_factory, small_db)
    assert (out / "index.html").exists()

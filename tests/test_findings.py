"""Findings: recorded by name into findings.json, in a format tests and reports can rely on."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from workbench import findings
from workbench.errors import UnknownNameError
from workbench.findings import Bounds, FindingError, Findings, Unknown


def _file(out_dir) -> dict:
    return json.loads((out_dir / "findings.json").read_text(encoding="utf-8"))


def test_record_writes_name_to_value_description_and_query(tmp_path):
    f = Findings(tmp_path)
    assert f.record("tables", 15, "Evidence tables in the case", query="table_counts") == 15
    f.record("share_swapped", 0.125, "Share of sessions bound to another account")
    assert _file(tmp_path) == {
        "tables": {"value": 15, "description": "Evidence tables in the case", "query": "table_counts"},
        "share_swapped": {"value": 0.125, "description": "Share of sessions bound to another account", "query": None},
    }
    assert findings.load(tmp_path) == f.load() == _file(tmp_path)


def test_recording_again_updates_in_place_and_keeps_the_others(tmp_path):
    f = Findings(tmp_path)
    f.record("a", 1, "First")
    f.record("b", 2, "Second")
    f.record("a", 3, "First, rerun")
    assert list(_file(tmp_path)) == ["a", "b"]
    assert _file(tmp_path)["a"]["value"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["findings.json", "findings.json.lock"]  # no temp file left


def test_times_are_iso_8601_in_utc_with_the_zone(tmp_path):
    stockholm = timezone(timedelta(hours=1))
    f = Findings(tmp_path)
    f.record("login_disabled_at", datetime(2013, 12, 16, 8, 30, tzinfo=stockholm), "Login disabled")
    f.record("first_day", date(2013, 12, 13), "First day of the fault")
    f.record("time_to_contain", timedelta(days=2, hours=14, minutes=30), "Deployment to login disabled")
    values = {k: v["value"] for k, v in _file(tmp_path).items()}
    assert values == {
        "login_disabled_at": "2013-12-16T07:30:00+00:00",
        "first_day": "2013-12-13",
        "time_to_contain": "P2DT14H30M",
    }
    assert datetime.fromisoformat(values["login_disabled_at"]) == datetime(2013, 12, 16, 7, 30, tzinfo=UTC)


def test_naive_datetimes_are_refused(tmp_path):
    with pytest.raises(FindingError, match=r"finding 'fix': the datetime 2013-12-18T09:00:00 has no time zone"):
        Findings(tmp_path).record("fix", datetime(2013, 12, 18, 9), "Fix deployed")
    assert not (tmp_path / "findings.json").exists()


def test_bounds_are_stored_as_min_likely_max(tmp_path):
    f = Findings(tmp_path)
    f.record("exposed", {"min": 640, "likely": 674, "max": 702}, "Accounts shown to another person")
    f.record("changed", Bounds(min=10, likely=12, max=15), "Accounts changed by another person")
    data = _file(tmp_path)
    assert data["exposed"]["value"] == {"min": 640, "likely": 674, "max": 702}
    assert data["changed"]["value"] == {"min": 10, "likely": 12, "max": 15}
    with pytest.raises(FindingError, match=r"min <= likely <= max, got min=9 likely=5 max=12"):
        f.record("bad", Bounds(9, 5, 12), "Out of order")
    with pytest.raises(FindingError, match=r"exactly the keys min, likely and max, got keys \['high', 'low'\]"):
        f.record("bad", {"low": 1, "high": 2}, "Wrong keys")


def test_lists_booleans_and_strings(tmp_path):
    f = Findings(tmp_path)
    f.record("versions", ["4.12.0", "4.12.1"], "Releases in the window")
    f.record("claim_holds", False, "Queue times unaffected")
    f.record("peak_hours", [datetime(2013, 12, 14, 9, tzinfo=UTC)], "Busiest hours")
    data = _file(tmp_path)
    assert data["versions"]["value"] == ["4.12.0", "4.12.1"]
    assert data["claim_holds"]["value"] is False
    assert data["peak_hours"]["value"] == ["2013-12-14T09:00:00+00:00"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), r"nan is not a finite number"),
        ({1, 2}, r"cannot record a set .*allowed: int, float, str, bool, datetime with zone"),
    ],
)
def test_values_json_cannot_hold_are_refused(tmp_path, value, message):
    with pytest.raises(FindingError, match=message):
        Findings(tmp_path).record("x", value, "Something")


def test_query_must_be_a_registered_name(tmp_path):
    with pytest.raises(UnknownNameError, match=r"unknown query 'incident_windows'\. Did you mean 'incident_window'"):
        Findings(tmp_path).record("x", 1, "Something", query="incident_windows")


def test_description_is_required(tmp_path):
    with pytest.raises(FindingError, match=r"finding 'x' needs a description"):
        Findings(tmp_path).record("x", 1, "")


def test_public_breakdown_counts_are_one_to_four_zeros_and_totals_exact(tmp_path):
    f = Findings(tmp_path, audience="public")
    f.record("protected_identity_exposed", Bounds(0, 3, 8), "Protected-identity members exposed", count=True)
    f.record("exposed", Bounds(3, 8, 20), "Accounts shown to another person", count=True)
    f.record("tables", 3, "Not a count of members")
    data = _file(tmp_path)
    # A cell of a breakdown (by protected identity): 0 stays 0, 3 is "1–4", never "<5".
    assert data["protected_identity_exposed"]["value"] == {"min": 0, "likely": "1–4", "max": 8}
    # An incident-wide total points at no small group: the policy shows it exactly.
    assert data["exposed"]["value"] == {"min": 3, "likely": 8, "max": 20}
    assert data["tables"]["value"] == 3
    Findings(tmp_path / "inv").record("protected_identity_exposed", 3, "Protected-identity members exposed", count=True)
    assert _file(tmp_path / "inv")["protected_identity_exposed"]["value"] == 3


def test_module_record_defaults_to_env_out_dir_then_cwd(tmp_path, monkeypatch):
    monkeypatch.setenv(findings.OUT_DIR_ENV, str(tmp_path / "env"))
    findings.record("a", 1, "Via env")
    assert _file(tmp_path / "env")["a"]["value"] == 1
    monkeypatch.delenv(findings.OUT_DIR_ENV)
    monkeypatch.chdir(tmp_path)
    findings.record("b", 2, "Via cwd")
    assert _file(tmp_path)["b"]["value"] == 2
    findings.record("c", 3, "Explicit", out_dir=tmp_path / "explicit")
    assert _file(tmp_path / "explicit")["c"]["value"] == 3


def test_a_failed_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    f = Findings(tmp_path)
    f.record("a", 1, "Kept")
    before = (tmp_path / "findings.json").read_bytes()

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        f.record("b", 2, "Lost")
    assert (tmp_path / "findings.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["findings.json", "findings.json.lock"]


def test_corrupt_file_is_reported_with_what_to_do(tmp_path):
    (tmp_path / "findings.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(FindingError, match=r"findings.json is not valid JSON .*delete it"):
        findings.load(tmp_path)


def test_record_displays_in_ipython(tmp_path, monkeypatch):
    shown = []
    import IPython
    import IPython.display

    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", lambda bundle, raw: shown.append(bundle))
    Findings(tmp_path).record("n", 12345, "Members <logged in>")
    assert shown == [
        {
            "text/plain": "Members <logged in>: 12\u202f345",
            "text/html": "<p><strong>Members &lt;logged in&gt;</strong>: 12\u202f345 <code>[n]</code></p>",
        }
    ]


def test_text_is_bound_to_recorded_figures(tmp_path):
    from workbench.findings import FindingError, Findings

    book = Findings(tmp_path)
    book.record("rows_read", 12345, "Rows read")
    book.record("rows_quarantined", 3, "Rows quarantined")
    assert (
        book.text("Read {rows_read} rows; quarantined {rows_quarantined}.") == "Read 12\u202f345 rows; quarantined 3."
    )
    with pytest.raises(
        FindingError,
        match=r"figure\(s\) \['rows_loaded'\] that were not recorded here; recorded: \['rows_quarantined', 'rows_read'\]",
    ):
        book.text("Loaded {rows_loaded}.")


def test_public_text_shows_suppressed_counts(tmp_path):
    from workbench.findings import Findings

    book = Findings(tmp_path, audience="public")
    book.record("protected_identity_exposed", 2, "Protected-identity members exposed", count=True)
    book.record("fault_reports", 3, "Support messages reporting the fault", count=True)
    assert book.text("{protected_identity_exposed} members") == "1–4 members"
    assert book.text("{fault_reports} reports") == "3 reports"  # a total, as the milestone table lists them


def test_a_finding_keeps_the_parameters_its_query_ran_with(tmp_path, tiny_db):
    from workbench.case import open_case
    from workbench.queries import run
    from workbench.reportset import provenance

    f = Findings(tmp_path)
    run("sessions", tiny_db, idle_timeout_minutes=45)
    f.record("sessions_45", 1, "Sessions with a 45-minute timeout", query="sessions")
    f.record(
        "sessions_10", 2, "Sessions with a 10-minute timeout", query="sessions", params={"idle_timeout_minutes": 10}
    )
    f.record("tables", 15, "Evidence tables", query="table_counts")
    saved = _file(tmp_path)
    assert saved["sessions_45"]["params"] == {"idle_timeout_minutes": 45}
    assert saved["sessions_10"]["params"] == {"idle_timeout_minutes": 10}
    assert "params" not in saved["tables"]
    with open_case(tiny_db) as case:
        shown = {
            (q["query"], q["params"].get("idle_timeout_minutes")): q for q in provenance._queries(saved, case, True)
        }
    assert "idle_timeout_minutes=45" in shown[("sessions", 45)]["sql"]
    assert "idle_timeout_minutes=10" in shown[("sessions", 10)]["sql"]
    assert shown[("sessions", 45)]["findings"] == ["sessions_45"]


def test_a_query_run_with_several_values_is_marked(tmp_path, tiny_db):
    from workbench.queries import run

    run("sessions", tiny_db, idle_timeout_minutes=30)
    run("sessions", tiny_db, idle_timeout_minutes=31)
    Findings(tmp_path).record("n", 1, "Sessions", query="sessions")
    assert _file(tmp_path)["n"]["params"] == {"idle_timeout_minutes": 31}
    assert _file(tmp_path)["n"]["params_varied"] is True


def test_params_without_a_query_are_refused(tmp_path):
    with pytest.raises(FindingError, match="need the query they were passed to"):
        Findings(tmp_path).record("n", 1, "Sessions", params={"idle_timeout_minutes": 5})


@pytest.mark.parametrize(
    "value",
    [
        12345,
        0.123456,
        True,
        Unknown("the case has no fees evidence: no file at ingest"),  # None is recorded as unknown too
        [3, 1],
        [],
        Bounds(1, 2, 3),
        datetime(2013, 12, 13, 17, 52, tzinfo=UTC),
        "plain text",
    ],
)
def test_a_figure_reads_the_same_from_python_and_from_findings_json(tmp_path, value):
    Findings(tmp_path).record("x", value, "A figure")
    assert findings.format_value(_file(tmp_path)["x"]["value"]) == findings.format_value(value)


def test_format_value_reads_like_the_report():
    assert findings.format_value(1234567) == "1\u202f234\u202f567"
    assert findings.format_value("2013-12-13T17:52:00+00:00") == "2013-12-13 18:52:00 CET"
    assert findings.format_value({"min": 1, "likely": 2, "max": 3}) == "2 (between 1 and 3)"
    assert findings.format_value([]) == "none"

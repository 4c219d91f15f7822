"""benchmarks/bench_truth.py: a finished investigator set's findings against truth, on a hand-written case.

The national end-to-end run (``benchmarks/run.py --scale national``) relies on it to say
whether every finding equals truth, so it must say UNEQUAL when one does not.
"""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _at(h: int, m: int = 0) -> datetime:
    return datetime(2013, 12, 13, h, m, tzinfo=UTC)


def _write(folder: Path, name: str, frame: pl.DataFrame) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(folder / f"{name}.parquet")


@pytest.fixture
def case(tmp_path):
    """Three swapped sessions (two accounts, two people), two unauthorized changes, one fault report."""
    ev, tr = tmp_path / "case" / "evidence", tmp_path / "case" / "truth"
    _write(
        ev,
        "logins",
        pl.DataFrame({"session_id": ["s1", "s2", "s3", "s4"], "time": [_at(18), _at(19), _at(21), _at(22)]}),
    )
    _write(ev, "support_messages", pl.DataFrame({"message_id": ["<m1>", "<m2>"], "received_at": [_at(20, 5), _at(23)]}))
    _write(ev, "contracts", pl.DataFrame({"listing_id": [1, 2, 3, 4, 5]}))
    _write(
        tr,
        "swapped_sessions",
        pl.DataFrame(
            {
                "session_id": ["s1", "s2", "s3"],
                "authenticated_applicant_id": [11, 12, 11],
                "bound_account_id": [21, 22, 22],
                "bound_at": [_at(18, 1), _at(19, 1), _at(21, 1)],
            }
        ),
    )
    _write(tr, "unauthorized_changes", pl.DataFrame({"actor_applicant_id": [11, 11], "owner_account_id": [21, 22]}))
    _write(tr, "clock_offsets", pl.DataFrame({"source": ["mail", "web"], "seconds": [300, 0]}))
    _write(tr, "fault_reports", pl.DataFrame({"message_id": ["<m1>"]}))
    _write(tr, "allocation_touched", pl.DataFrame({"key": ["1:21"]}))
    _write(tr, "fraudulent_allocations", pl.DataFrame({"listing_id": [4]}))
    _write(tr, "corrupt_handlers", pl.DataFrame({"handler_id": [7]}))
    _write(tr, "fake_profiles", pl.DataFrame({"applicant_id": [99]}))
    _write(tr, "priority_allocations", pl.DataFrame({"listing_id": [2]}))
    exact = lambda n: {"min": n, "likely": n, "max": n}  # noqa: E731
    found = {
        "01_incident_reconstruction": {
            "sessions_mismatched": 3,
            "onset_at": "2013-12-13T18:01:00+00:00",
            "fault_reports": 1,
            "first_report_at": "2013-12-13T20:00:00+00:00",  # received 20:05 on a mail clock 5 min fast
            "mail_clock_uncertainty_seconds": 60,
            "exposures_actual": 2,
            "exposures_avoidable_with_on_call": 0,
        },
        "02_exposure_and_changes": {
            "accounts_bound_to_others": exact(2),
            "people_put_into_others_accounts": exact(2),
            "accounts_exposed": exact(2),
            "people_who_changed_others_data": 1,
            "accounts_changed_by_others": 2,
            "field_changes_by_others": 2,
            "allocation_affected": 1,
            "sessions_bound": 3,
            "bindings_unexplained": 0,
            "sessions_unsettled": 0,
        },
        "03_queue_fairness": {
            "allocations_replayed": 5,
            "unexplained_deviations": 1,
            "caseworkers_flagged": [7],
            "fake_profiles_suspected": 1,
            "explained_deviations": 1,
        },
    }
    report = tmp_path / "reports" / "investigator"
    for stem, values in found.items():
        (report / stem).mkdir(parents=True)
        data = {k: {"value": v, "description": k, "query": "q"} for k, v in values.items()}
        (report / stem / "findings.json").write_text(json.dumps(data))
    return tmp_path / "case", report


def test_findings_equal_to_truth_are_reported_equal(case):
    result = _module("bench_truth").check_findings(*case)
    assert result["unequal"] == [] and result["all_equal"], result
    # the on-call counterfactual: login disabled at 21:00 (first report 20:00 web time + 1 h)
    # spares no account here, since both bound accounts were bound by logins before 21:00
    assert result["figures"]["01.exposures_avoidable_with_on_call"][1] == 0
    assert len(result["figures"]) == 21


def test_one_figure_off_by_one_and_a_missing_notebook_are_named(case):
    case_dir, report = case
    path = report / "02_exposure_and_changes" / "findings.json"
    data = json.loads(path.read_text())
    data["field_changes_by_others"]["value"] = 3
    path.write_text(json.dumps(data))
    (report / "03_queue_fairness" / "findings.json").unlink()
    result = _module("bench_truth").check_findings(case_dir, report)
    assert not result["all_equal"]
    assert result["unequal"] == ["02.field_changes_by_others"]
    assert result["figures"]["02.field_changes_by_others"] == [3, 2, False]
    assert result["notebooks_without_findings"] == ["03_queue_fairness"]


def test_the_end_to_end_verdict_never_hides_a_miss():
    spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    steps = {"generate": {"wall_s": 500.0, "cpu_s": 450.0}, "ingest": {"wall_s": 90.0, "cpu_s": 80.0}}
    r = {
        "steps": steps,
        "wall_s": 590.0 + 400.0,
        "cpu_s": 530.0,
        "peak_rss_gb": 7.2,
        "load_average_before": [1.0],
        "load_average_after": [2.0],
        "cpus": 2,
        "target_s": 120.0,
        "target_rss_gb": 4.0,
        "truth": {
            "figures": {"a": [1, 2, False]},
            "all_equal": False,
            "unequal": ["a"],
            "notebooks_without_findings": [],
        },
    }
    lines = run._verdict("end_to_end", "national", r)
    assert any("UNEQUAL ['a']" in line for line in lines)
    assert any("990.0 s vs target ≤ 600 s: MISSED" in line for line in lines)
    assert any("7.2 GB (largest process) vs target ≤ 8 GB: met" in line for line in lines)
    assert run.DEFAULT_STEPS["national"] == ["end_to_end"]

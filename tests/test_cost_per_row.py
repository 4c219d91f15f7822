"""benchmarks/cost_per_row.py: the cost-per-evidence-row table is computed from what the runs recorded, and a
step a run did not finish is shown as missing, never filled in."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import polars as pl

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _report(path: Path, scale: str, rows: int, steps: dict) -> Path:
    run = {"steps": steps, "wall_s": sum(s["wall_s"] for s in steps.values()), "evidence_rows": rows}
    path.write_text(json.dumps({"scale": scale, "results": {"end_to_end": run}}))
    return path


def test_cost_per_row_divides_each_steps_cpu_by_the_evidence_rows_and_leaves_unfinished_steps_out(tmp_path):
    cost = _module("cost_per_row")
    step = lambda cpu, gb, rc=0: {"wall_s": 2 * cpu, "cpu_s": cpu, "peak_rss_gb_so_far": gb, "rc": rc}  # noqa: E731
    small = _report(
        tmp_path / "s.json",
        "small",
        500_000,
        {"generate": step(2.0, 0.4), "ingest": step(1.0, 0.4), "reports": step(10.0, 0.9), "verify": step(0.5, 0.9)},
    )
    national = _report(
        tmp_path / "n.json",
        "national",
        4_000_000,
        {"generate": step(8.0, 6.0), "ingest": step(4.0, 3.0), "reports": step(20.0, 12.0, rc=-9)},
    )
    data = cost.rows([cost.load(national), cost.load(small)])
    assert [r["scale"] for r in data] == ["small", "national"]  # in scale order, whatever the order given
    s, n = data
    assert (s["generate"], s["ingest"], s["reports"]) == (4.0, 2.0, 20.0)  # µs per row: CPU s / rows
    assert s["all_cpu_us"] == 27.0 and s["wall_s"] == 27.0 and s["peak_rss_gb"] == 0.9
    assert (n["generate"], n["ingest"], n["reports"]) == (2.0, 1.0, None)  # the killed report is not a cost
    assert n["all_cpu_us"] is None and n["wall_s"] is None  # nor is a whole run that did not finish
    lines = cost.table(data).splitlines()
    assert "Swedish" not in lines[0]  # no run has the Swedish set's own run: no column for it
    assert lines[2].startswith("| small | 500,000 | 4.00 | 2.00 | 20.00 | 27.00 |")
    assert lines[3].startswith("| national | 4,000,000 | 2.00 | 1.00 | – | – |")
    assert lines[2].endswith("| 0.90 GB |")  # not sampled: the largest process only


def test_end_to_end_counts_the_evidence_rows_of_the_case_it_made(tmp_path):
    run = _module("run")
    evidence = tmp_path / "case" / "evidence"
    evidence.mkdir(parents=True)
    pl.DataFrame({"a": range(7)}).write_parquet(evidence / "logins.parquet")
    pl.DataFrame({"b": ["x,\n y", "z"]}).write_csv(evidence / "support_messages.csv")  # a quoted line break
    (evidence / "README.txt").write_text("not evidence\n")
    assert run.evidence_rows(tmp_path / "case") == 9


def test_a_run_that_sampled_its_processes_shows_both_peaks_and_an_old_run_keeps_its_swedish_column(tmp_path):
    cost = _module("cost_per_row")
    new = {"wall_s": 10.0, "cpu_s": 5.0, "peak_rss_gb_so_far": 1.2, "tree_peak_rss_gb": 2.5}
    old = {"wall_s": 4.0, "cpu_s": 2.0, "peak_rss_gb_so_far": 0.5}
    a = _report(tmp_path / "a.json", "stockholm", 1_000_000, {"generate": new, "reports": new})
    b = _report(tmp_path / "b.json", "tiny", 10_000, {"generate": old, "reports_public_sv": old})
    lines = cost.table(cost.rows([cost.load(a), cost.load(b)])).splitlines()
    assert "public report in Swedish" in lines[0]
    assert lines[2].startswith("| tiny | 10,000 | 200 | – | 200 | 400 |")  # no run has ingest: no column
    assert lines[3].endswith("| 1.20 GB; 2.50 GB |")

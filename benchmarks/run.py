"""Benchmarks, run on demand: wall time, throughput and peak memory of each pipeline step.

    .venv/bin/python benchmarks/run.py --scale stockholm [--json PATH] [--keep DIR]

Each step runs in its own child process so its peak RSS is its own (``ru_maxrss`` of the
child, or of the largest process it waited for). Targets are printed next to what was
measured; a missed target is reported as MISSED, never hidden. A step that needs the
generated case or an ingested database makes it first (untimed) when it is missing, so any
subset of ``--steps`` runs on its own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# step name -> (target seconds by scale, target peak RSS GB by scale)
TARGETS = {
    # national: issue 20 asks ≤ 8 GB for the whole pipeline there, so the generator alone must fit it
    "generate": ({"tiny": 5, "small": 20, "stockholm": 45}, {"stockholm": 4.0, "national": 8.0}),
    "ingest_duckdb": ({"stockholm": 30}, {"stockholm": 4.0}),
    "fairness": ({"stockholm": 60}, {"stockholm": 4.0}),
}


def _child(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it sets ``result``. Adds wall s and its own peak RSS.

    The peak is that of the child or of the largest process it ran and waited for (the
    access-log parse and notebook kernels run in processes of their own), or the one the
    step reported itself, whichever is largest.
    """
    footer = (
        "\nimport json as _j, resource as _r\n"
        "_kb = max(_r.getrusage(_r.RUSAGE_SELF).ru_maxrss, _r.getrusage(_r.RUSAGE_CHILDREN).ru_maxrss)\n"
        "result['peak_rss_gb'] = max(result.get('peak_rss_gb') or 0, round(_kb / 1024**2, 2))\n"
        "print(_j.dumps(result))\n"
    )
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code + footer], capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"benchmark step failed:\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = round(wall, 2)
    return result


# Files made from the generated evidence; a new generation makes them stale.
DERIVED = ("bench.duckdb", "bench.db", "case.duckdb", "exposure_bench.duckdb")


def bench_generate(scale: str, out: Path) -> dict:
    for name in DERIVED:
        (out / name).unlink(missing_ok=True)
    shutil.rmtree(out / "handover", ignore_errors=True)
    code = f"""
import json, os, resource, time
from workbench.scenario import generate
load_before = os.getloadavg()
t0, c0 = time.perf_counter(), time.process_time()
g = generate({str(out)!r}, scale={scale!r}, seed=1)
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
rows = sum(g.evidence_rows.values())
result = {{"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "rows": rows, "rows_per_s": round(rows / wall),
          "us_per_row_cpu": round(cpu / rows * 1e6, 2),
          "load_before": [round(x, 1) for x in load_before], "load_after": [round(x, 1) for x in os.getloadavg()],
          "steps_s": {{k: round(v, 2) for k, v in g.steps.items()}},
          "page_views": g.evidence_rows["page_views"], "interests": g.evidence_rows["interests"]}}
"""
    return _child(code)


def _bench_ingest(url: str, out: Path) -> dict:
    code = f"""
import time
from workbench.ingest import ingest
t0 = time.perf_counter()
report = ingest({str(out / "evidence")!r}, {url!r}, progress=False)
wall = time.perf_counter() - t0
rows = sum(f.rows_read for f in report.files)
result = {{"wall_s": round(wall, 2), "rows": rows, "rows_per_s": round(rows / wall),
          "quarantined": sum(f.rows_quarantined for f in report.files)}}
"""
    return _child(code)


def bench_ingest_duckdb(scale: str, out: Path) -> dict:
    (out / "bench.duckdb").unlink(missing_ok=True)
    return _bench_ingest(f"duckdb:///{out / 'bench.duckdb'}", out)


def bench_ingest_sqlite(scale: str, out: Path) -> dict:
    (out / "bench.db").unlink(missing_ok=True)
    return _bench_ingest(f"sqlite:///{out / 'bench.db'}", out)


def bench_ingest_postgresql(scale: str, out: Path) -> dict:
    """Into WORKBENCH_BENCH_PG_URL, or a throwaway cluster started for the run."""
    url = os.environ.get("WORKBENCH_BENCH_PG_URL")
    if url:
        return _bench_ingest(url, out)
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pgdir = Path(tempfile.mkdtemp(prefix="workbench-bench-pg."))
    script = ROOT / "scripts" / "pg-throwaway.sh"
    started = subprocess.run(
        ["bash", str(script), "start", str(pgdir), str(port)], capture_output=True, text=True, check=False
    )
    if started.returncode:
        return {"skipped": f"PostgreSQL could not be started: {started.stderr.strip()[:200]}"}
    try:
        return _bench_ingest(started.stdout.strip(), out)
    finally:
        subprocess.run(["bash", str(script), "stop", str(pgdir), str(port)], capture_output=True, check=False)


def _ensure_ingested(out: Path, name: str) -> None:
    """Ingest the evidence into ``out/name`` (``.duckdb`` or ``.db``, in a child, untimed) unless it exists."""
    if not (out / name).exists():
        _bench_ingest(f"{'duckdb' if name.endswith('.duckdb') else 'sqlite'}:///{out / name}", out)


def _call(module: str, function: str, *args, **kwargs) -> str:
    """Child code that calls ``benchmarks/<module>.py``'s ``function(*args, **kwargs)`` into ``result``."""
    params = ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
    return (
        f"import sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r})\n"
        f"from {module} import {function}\n"
        f"result = {function}({params})\n"
    )


def bench_access_log(scale: str, out: Path) -> dict:
    """Parse ``out/raw/access.log`` (``bench_raw``): lines per wall second and per CPU-second."""
    return _child(_call("bench_raw", "bench_access_log_parse", scale, str(out)))


def bench_incident(scale: str, out: Path) -> dict:
    """Notebook-01 queries on SQLite and DuckDB (``bench_incident``), and notebook 01 end to end."""
    _ensure_ingested(out, "bench.duckdb")
    _ensure_ingested(out, "bench.db")
    code = _call("bench_incident", "bench_incident_queries", scale, str(out))
    code += "result.pop('verdict'); result['wall_s'] = result['total']['duckdb_s']\n"  # run.py words its own
    return _child(code)


def bench_exposure(scale: str, out: Path) -> dict:
    """Notebook 02's analysis on DuckDB (``bench_exposure``), on the case ``ingest_duckdb`` wrote."""
    _ensure_ingested(out, "bench.duckdb")
    code = _call("bench_exposure", "bench_exposure_queries", scale, str(out), db=str(out / "bench.duckdb"))
    return _child(code + "result['wall_s'] = result['analysis_s']\n")


def bench_fairness(scale: str, out: Path) -> dict:
    """The notebook-03 replay on DuckDB against a hand-written DuckDB SQL reference."""
    if not (out / "case.duckdb").exists():
        _bench_ingest(f"duckdb:///{out / 'case.duckdb'}", out)
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r})\n"
        "from bench_fairness import bench_replay\n"
        f"result = bench_replay({scale!r}, {str(out)!r}); result['wall_s'] = result['replay_s']\n"
    )
    return _child(code)


def bench_journal(scale: str, out: Path) -> dict:
    """Per-query overhead of the journal (``bench_journal``), on the DuckDB case ``ingest_duckdb`` wrote."""
    _ensure_ingested(out, "bench.duckdb")
    return _child(_call("bench_journal", "bench_journal_overhead", scale, str(out), db=str(out / "bench.duckdb")))


def _verdict_journal(scale: str, r: dict) -> list[str]:
    ok = r["worst_overhead_ms"] <= r["target_ms"]
    worst = r["queries"][r["worst_query"]]
    return [
        f"journal overhead per query at most {r['worst_overhead_ms']} ms ({r['worst_query']}, {worst['rows']:,} rows; "
        f"median of {r['repeats']} paired runs) vs target ≤ {r['target_ms']} ms: {_met(ok)}",
        f"{r['journal_entries']} entries written; chain verifies: {r['chain_verifies']}",
    ] + (  # the journal's own work timed alone: what the end-to-end difference is made of, without the noise
        [f"journal's own work (hash and write) per query at most {r['worst_journal_ms']} ms"]
        if "worst_journal_ms" in r
        else []
    )


def bench_ingest_mapping(scale: str, out: Path, pairs: int = 3) -> dict:
    """Ingest the hand-over through its mapping and evidence/ into DuckDB (``bench_mapping``).

    The hand-over (``generate --handover``) is written from the generated evidence first,
    untimed, when it is missing. Every run is a fresh child of its own, in ``pairs`` pairs of
    alternating order; then the library floor under both is measured in one more child.
    CPU seconds are reported too, since wall time on a shared machine depends on its load.
    """
    if not (out / "handover" / "mapping.yaml").exists():
        _child(f"""
import numpy as np, polars as pl
from pathlib import Path
from workbench import evidence
from workbench.scenario.handover import write_handover
tables = {{t: pl.read_parquet(Path({str(out / "evidence")!r}) / f"{{t}}.parquet") for t in evidence.TABLES}}
write_handover(tables, Path({str(out / "handover")!r}), np.random.default_rng(1))
result = {{}}
""")
    bench = _beside("bench_mapping")
    load = [round(x, 2) for x in os.getloadavg()]
    runs = [(name, _child(_call("bench_mapping", "one_run", name, str(out)))) for name in bench.order(pairs)]
    result = bench.summarise(runs)
    load_after = [round(x, 2) for x in os.getloadavg()]
    one_thread = "import os; os.environ['POLARS_MAX_THREADS'] = '1'\n"  # before polars is imported
    floor = _child(one_thread + _call("bench_mapping", "library_floor", str(out)))
    mapped = [r for name, r in runs if name == "mapping"]
    result |= {
        "wall_s": result["mapping"]["wall_s"], "target_ratio": bench.MAPPING_TARGET_RATIO, "cpus": os.cpu_count(),
        "mapping_workers": mapped[0]["workers"], "floor": floor, "load_before": load, "load_after": load_after,
        "peak_rss_gb": max(r["peak_rss_gb"] for r in mapped),
    }  # fmt: skip
    return result


def bench_triage(scale: str, out: Path) -> dict:
    """Score 100,000 distinct messages with the fault-report model (``bench_triage``); needs no case."""
    return _child(_call("bench_triage", "bench_triage_scoring"))


def bench_review(scale: str, out: Path) -> dict:
    """The ranked review with the case evidence, and a reviewer of the top 20 labelling from truth (``bench_triage``)."""
    _ensure_ingested(out, "bench.duckdb")
    return _child(_call("bench_triage", "bench_triage_review", scale, str(out), str(out / "bench.duckdb")))


def bench_notebook_overhead(scale: str, out: Path) -> dict:
    """Fixed cost of a trivial notebook run and each report notebook's first-cell imports (``bench_overhead``); no case."""
    return _child(_call("bench_overhead", "bench_notebook_overhead"))


def _verdict_overhead(scale: str, r: dict) -> list[str]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_overhead

    return bench_overhead.verdict(r)


def _verdict_review(scale: str, r: dict) -> list[str]:
    return [
        f"ranking {r['messages_in_window']:,} messages of the window with the case evidence {r['wall_s']} s "
        f"(CPU {r['cpu_s']} s); truth's reports at ranks {r['truth_report_ranks']}",
        f"a reviewer labelling the top 20 from truth: first report {r['reviewed_first_report_at']} vs truth "
        f"{r['truth_first_report_at']}: {_met(r['first_report_equals_truth'])}",
    ]


def _verdict_triage(scale: str, r: dict) -> list[str]:
    return [
        f"model scoring of {r['messages']:,} messages ({r['distinct_bodies']:,} distinct) {r['wall_s']} s "
        f"(CPU {r['cpu_s']} s) vs target ≤ {r['target_s']} s on 2 cores: {_met(r['wall_s'] <= r['target_s'])} "
        f"(load average before: {r['load_average_before'][0]})",
        f"CPU {r['cpu_s']} s, all threads together, vs the same target: {_met(r['cpu_s'] <= r['target_s'])} (what an "
        "idle 2-core machine would take at most; on a loaded one the wall time waits for the other processes)",
        f"first-use training {r['train_wall_s']} s; the rules, not in the target: {r['rules_sample_wall_s']} s for "
        f"{r['rules_sample']:,} messages, about {r['rules_all_extrapolated_s']} s for all",
    ]


STEPS = {
    "generate": bench_generate,
    "ingest_duckdb": bench_ingest_duckdb,
    "ingest_sqlite": bench_ingest_sqlite,
    "ingest_postgresql": bench_ingest_postgresql,
    "fairness": bench_fairness,
    "access_log_parse": bench_access_log,
    "incident_queries": bench_incident,
    "exposure_queries": bench_exposure,
    "journal_overhead": bench_journal,
    "ingest_mapping": bench_ingest_mapping,
    "triage_scoring": bench_triage,
    "demo": lambda scale, out: _demo().bench_demo(scale, out),
    "triage_review": bench_review,
    "notebook_overhead": bench_notebook_overhead,
    "end_to_end": lambda scale, out: bench_end_to_end(scale, out),  # defined below, beside _demo
}
NO_CASE = {"demo", "triage_scoring", "notebook_overhead", "end_to_end"}
# At national only the end-to-end run is made unless --steps says otherwise: every step at
# that scale would take hours on the 2-core machine.
DEFAULT_STEPS = {"national": ["end_to_end"]}  # steps that make what they need, or need nothing


# national end to end (issue 20, point 2): generate + ingest (DuckDB) + every report notebook
END_TO_END_TARGET = {"national": (600.0, 8.0)}  # seconds wall, GB peak RSS of the largest process


def bench_end_to_end(scale: str, out: Path) -> dict:
    """``make demo`` at ``scale`` (``bench_demo``), then the investigator set's findings against truth.

    The steps run one after another, each in its own process, as a user runs them; the truth
    check reads the finished set and the case folder (``bench_truth``). Made for ``national``,
    where the test suite cannot go; it runs at any scale.
    """
    result = _demo().bench_demo(scale, out)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_truth

    demo = out / "demo"
    result["evidence_rows"] = evidence_rows(demo / "case")  # for the cost per row (cost_per_row.py)
    result["truth"] = bench_truth.check_findings(demo / "case", demo / "reports" / "investigator")
    return result


def evidence_rows(case: Path) -> int:
    """Rows in a generated case's ``evidence/`` (Parquet: from the files' footers; CSV: parsed)."""
    import polars as pl

    scan = {".parquet": pl.scan_parquet, ".csv": pl.scan_csv}
    files = sorted(f for f in (case / "evidence").iterdir() if f.suffix in scan)
    return sum(scan[f.suffix](f).select(pl.len()).collect().item() for f in files)


def _verdict_end_to_end(scale: str, r: dict) -> list[str]:
    lines = _demo().verdict(scale, r)
    t = r["truth"]
    lines.append(
        f"findings against truth: all {len(t['figures'])} compared figures equal"
        if t["all_equal"]
        else f"findings against truth: UNEQUAL {t['unequal']}; notebooks without findings {t['notebooks_without_findings']}"
    )
    if scale in END_TO_END_TARGET:
        secs, gb = END_TO_END_TARGET[scale]
        lines.append(f"end to end {r['wall_s']} s vs target ≤ {secs:g} s: {_met(r['wall_s'] <= secs)}")
        lines.append(
            f"peak RSS {r['peak_rss_gb']} GB (largest process) vs target ≤ {gb:g} GB: {_met(r['peak_rss_gb'] <= gb)}"
        )
        lines.append(_demo().tree_verdict(r, gb))
    return lines


def _beside(module: str):
    """benchmarks/<module>.py, imported from beside this script."""
    import importlib

    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    return importlib.import_module(module)


def _demo():
    return _beside("bench_demo")


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _verdict_access_log(scale: str, r: dict) -> list[str]:
    """Wall rate against the target, then what does not depend on the machine's load."""
    target, rate = r["target_lines_per_second"], r["lines_per_second"]
    out = [
        (
            f"parse {rate:,} lines/s (wall, best of {len(r['runs_s'])}; {r['lines']:,} lines) "
            f"vs target ≥ {target:,} on 2 cores: {_met(rate >= target)}"
        )
    ]
    free = r["lines_per_second_on_2_free_cores"]
    if free is not None:
        out.append(
            f"load-independent: {r['lines_per_cpu_second']:,} lines per CPU-second ({r['cores_busy']} cores "
            f"busy on average) → {free:,} lines/s on 2 free cores kept busy: "
            f"{'would meet' if free >= target else 'would miss'} the target"
        )
    one, five, fifteen = r["load_average_before"]
    others = (
        "" if r["other_cores_busy"] is None else f"; other processes kept {r['other_cores_busy']} cores busy during it"
    )
    out.append(
        f"machine: {r['cpus']} cores, load average {one} / {five} / {fifteen} (1 / 5 / 15 min) before the parse{others}"
    )
    if rate < target and free is not None:
        out.append(_why_missed(r, free >= target))
    return out


def _why_missed(r: dict, fits_2_free_cores: bool) -> str:
    """Whose the miss is: the parse's CPU cost, the other processes', or the parse's own parallelism."""
    if not fits_2_free_cores:
        return "why MISSED: the parse's own CPU cost; it would miss on 2 free cores too"
    others = r["other_cores_busy"]
    if others is None:
        return "why MISSED: unknown (no /proc/stat to see the rest of the machine); see the load average"
    if others >= 0.25:
        return (
            f"why MISSED: a loaded machine; other processes took {others} of its {r['cpus']} cores, "
            "and the CPU cost fits the target on 2 free cores (rerun on a quiet machine to confirm)"
        )
    return (
        f"why MISSED: not load (the rest of the machine was idle), but the parse kept only {r['cores_busy']} "
        "cores busy: its serial part (reading, gathering batches, start-up on a small log)"
    )


def _verdict_incident(scale: str, r: dict) -> list[str]:
    qs, t, target = r["queries"], r["total"], r["target_ratio"]
    differ = [name for name, q in qs.items() if not q["same_values"]]
    out = [
        f"frames DIFFER from the reference for {differ}" if differ else f"all {len(qs)} frames equal the reference's"
    ]
    out.append(
        f"DuckDB {t['duckdb_s']} s vs reference {t['reference_s']} s = {t['duckdb_ratio']}× "
        f"vs target ≤ {target}×: {_met(t['duckdb_ratio'] <= target)}"
    )
    worst = max(qs, key=lambda name: qs[name]["duckdb_ratio"] or 0)
    out.append(
        f"slowest against its reference: {worst} {qs[worst]['duckdb_ratio']}×; "
        f"SQLite {t['sqlite_s']} s = {t['sqlite_ratio']}× the reference (reported)"
    )
    if "notebook_s" in r:
        nb, limit = r["notebook_s"], r["notebook_target_s"]
        out.append(
            f"notebook 01 end to end on DuckDB {nb} s vs target ≤ {limit} s at stockholm: {_met(nb <= limit)}"
            if scale == "stockholm"
            else f"notebook 01 end to end on DuckDB {nb} s (target ≤ {limit} s is for stockholm; reported)"
        )
    return out


def _verdict_exposure(scale: str, r: dict) -> list[str]:
    def agree(part: dict, what: str) -> str:
        if part["figures_match_reference"] and part["headlines_match_focused"]:
            return f"{what}: all {len(part['figures'])} figures equal the full reference's, the four headlines the focused one's"
        differ = {**part["mismatched"], **part["focused_mismatched"]}
        return f"{what}: figures DIFFER from the references (ours, reference): {differ}"

    def judged(ratio: float, target: float) -> str:
        if scale == "stockholm":
            return f"vs target ≤ {target}× at stockholm: {_met(ratio <= target)}"
        return f"(target ≤ {target}× is for stockholm; reported)"

    lines = [agree(r, "clean evidence")]
    d = r.get("degraded")
    lines.append(agree(d, f"degraded evidence ({', '.join(d['degrade'])})") if d else "degraded evidence: not checked")
    lines.append(
        f"analysis {r['analysis_s']} s vs full reference {r['reference_s']} s = {r['ratio']}× "
        f"{judged(r['ratio'], r['target_ratio'])} (the registered queries, timed one by one: {r['queries_total_s']} s)"
    )
    lines.append(
        f"four headlines by exposure_headlines(case) {r['headlines_s']} s vs focused reference {r['focused_s']} s = "
        f"{r['headlines_ratio']}× {judged(r['headlines_ratio'], r['focused_target_ratio'])}; the whole analysis "
        f"against it: {r['focused_ratio']}× (reported)"
    )
    if "analysis_cpu_s" in r:  # walls on a shared machine depend on what else it ran
        lines.append(
            f"CPU: analysis {r['analysis_cpu_s']} s, full reference {r['reference_cpu_s']} s ({r['cpu_ratio']}×), "
            f"focused reference {r['focused_cpu_s']} s (analysis {r['focused_cpu_ratio']}×), exposure_headlines "
            f"{r['headlines_cpu_s']} s ({r['headlines_cpu_ratio']}×); load average {r['load_before'][0]} before, "
            f"{r['load_after'][0]} after"
        )
    return lines


def _verdict_mapping(scale: str, r: dict) -> list[str]:
    return _beside("bench_mapping").verdict(scale, r)


STEP_VERDICTS = {
    "triage_scoring": _verdict_triage,
    "triage_review": _verdict_review,
    "ingest_mapping": _verdict_mapping,
    "access_log_parse": _verdict_access_log,
    "incident_queries": _verdict_incident,
    "exposure_queries": _verdict_exposure,
    "journal_overhead": _verdict_journal,
    "notebook_overhead": _verdict_overhead,
    "end_to_end": _verdict_end_to_end,
}


def _verdict(step: str, scale: str, result: dict) -> list[str]:
    if step == "demo":
        return _demo().verdict(scale, result)
    if step == "end_to_end":
        return _verdict_end_to_end(scale, result)
    secs, rss = TARGETS.get(step, ({}, {}))
    out = STEP_VERDICTS[step](scale, result) if step in STEP_VERDICTS else []
    if scale in secs:
        out.append(f"time {result['wall_s']} s vs target ≤ {secs[scale]} s: {_met(result['wall_s'] <= secs[scale])}")
    if scale in rss and "replay_peak_rss_gb" in result:  # the reference query adds its own memory afterwards
        ok = result["replay_peak_rss_gb"] <= rss[scale]
        out.append(
            f"peak RSS of load and replay {result['replay_peak_rss_gb']} GB vs target ≤ {rss[scale]} GB: {_met(ok)} "
            f"(with the reference query after it in the same process: {result['peak_rss_gb']} GB)"
        )
    elif scale in rss:
        ok = result["peak_rss_gb"] <= rss[scale]
        out.append(f"peak RSS {result['peak_rss_gb']} GB vs target ≤ {rss[scale]} GB: {_met(ok)}")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="small", choices=["tiny", "small", "stockholm", "national"])
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--keep", help="generate into this folder and keep it (default: a temp folder)")
    parser.add_argument(
        "--steps", nargs="*", choices=list(STEPS), help="default: every step but end_to_end; at national, end_to_end"
    )
    parser.add_argument(
        "--pairs", type=int, default=3, help="ingest_mapping: pairs of runs (evidence/, mapping), alternating order"
    )
    args = parser.parse_args(argv)
    if args.steps is None:
        args.steps = DEFAULT_STEPS.get(args.scale, [s for s in STEPS if s != "end_to_end"])

    report = {
        "scale": args.scale,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "results": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep or tmp).resolve() / args.scale  # the children run in ROOT
        if "generate" not in args.steps and not set(args.steps) <= NO_CASE and not (out / "evidence").is_dir():
            print(f"no generated case in {out}: generating one first (untimed)")
            bench_generate(args.scale, out)
        for step in args.steps:
            extra = {"pairs": args.pairs} if step == "ingest_mapping" else {}
            result = STEPS[step](args.scale, out, **extra)
            result["verdict"] = [] if "skipped" in result else _verdict(step, args.scale, result)
            report["results"][step] = result
            print(f"{step} @ {args.scale}: {json.dumps(result)}")
            for line in result["verdict"]:
                print(f"  {line}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

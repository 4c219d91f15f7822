"""Benchmarks, run on demand: wall time, throughput and peak memory of each pipeline step.

    .venv/bin/python benchmarks/run.py --scale stockholm [--json PATH] [--keep DIR]

Each step runs in its own child process so its peak RSS is its own (``ru_maxrss`` of the
child). Targets are printed next to what was measured; a missed target is reported as
MISSED, never hidden. Later steps (ingest, notebook queries) add themselves to ``STEPS``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# step name -> (target seconds by scale, target peak RSS GB by scale)
TARGETS = {
    "generate": ({"tiny": 5, "small": 20, "stockholm": 45}, {"stockholm": 4.0}),
    "ingest_duckdb": ({"stockholm": 30}, {"stockholm": 4.0}),
    "fairness": ({"stockholm": 60}, {"stockholm": 4.0}),
}


def _child(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it sets ``result``. Adds wall s and its own peak RSS."""
    footer = (
        "\nimport json as _j, resource as _r\n"
        "result['peak_rss_gb'] = round(_r.getrusage(_r.RUSAGE_SELF).ru_maxrss / 1024**2, 2)\n"
        "print(_j.dumps(result))\n"
    )
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code + footer], capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"benchmark step failed:\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = round(wall, 2)
    return result


def bench_generate(scale: str, out: Path) -> dict:
    code = f"""
import json, time
from workbench.scenario import generate
t0 = time.perf_counter()
g = generate({str(out)!r}, scale={scale!r}, seed=1)
wall = time.perf_counter() - t0
rows = sum(g.evidence_rows.values())
result = {{"wall_s": round(wall, 2), "rows": rows, "rows_per_s": round(rows / wall),
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
    started = subprocess.run(["bash", str(script), "start", str(pgdir), str(port)], capture_output=True, text=True)
    if started.returncode:
        return {"skipped": f"PostgreSQL could not be started: {started.stderr.strip()[:200]}"}
    try:
        return _bench_ingest(started.stdout.strip(), out)
    finally:
        subprocess.run(["bash", str(script), "stop", str(pgdir), str(port)], capture_output=True)


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


STEPS = {
    "generate": bench_generate,
    "ingest_duckdb": bench_ingest_duckdb,
    "ingest_sqlite": bench_ingest_sqlite,
    "ingest_postgresql": bench_ingest_postgresql,
    "fairness": bench_fairness,
}


def _verdict(step: str, scale: str, result: dict) -> list[str]:
    secs, rss = TARGETS.get(step, ({}, {}))
    out = []
    if scale in secs:
        ok = result["wall_s"] <= secs[scale]
        out.append(f"time {result['wall_s']} s vs target ≤ {secs[scale]} s: {'met' if ok else 'MISSED'}")
    if scale in rss:
        ok = result["peak_rss_gb"] <= rss[scale]
        out.append(f"peak RSS {result['peak_rss_gb']} GB vs target ≤ {rss[scale]} GB: {'met' if ok else 'MISSED'}")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="small", choices=["tiny", "small", "stockholm"])
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--keep", help="generate into this folder and keep it (default: a temp folder)")
    parser.add_argument("--steps", nargs="*", default=list(STEPS), choices=list(STEPS))
    args = parser.parse_args(argv)

    report = {
        "scale": args.scale,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "results": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep or tmp) / args.scale
        for step in args.steps:
            result = STEPS[step](args.scale, out)
            result["verdict"] = _verdict(step, args.scale, result) if "wall_s" in result else []
            report["results"][step] = result
            print(f"{step} @ {args.scale}: {json.dumps(result)}")
            for line in result["verdict"]:
                print(f"  {line}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

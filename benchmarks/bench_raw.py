"""Benchmark the access-log parse: lines per second and memory, on an already generated case.

    .venv/bin/python benchmarks/bench_raw.py --case /tmp/stockholm [--scale stockholm] [--repeat 3]

:func:`bench_access_log_parse` is what ``benchmarks/run.py`` calls. The parse (reading
``DIR/raw/access.log`` into typed ``page_views`` batches, malformed lines separated, as
ingest does before its value checks and the load) runs in a child process, so the memory
measured is its own: the peak RSS delta is the peak during the parse over the RSS after
the imports. The target is at least one million lines a second on 2 cores; CPU seconds
are reported too, since wall time depends on what else the machine is doing: lines per
CPU-second of the parse, what that gives on 2 free cores, the load average before the parse
and the cores other processes kept busy during it (from ``/proc/stat``) say whether a missed
target is the parse's cost or the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["TARGET_LINES_PER_SECOND", "bench_access_log_parse"]

ROOT = Path(__file__).resolve().parents[1]
TARGET_LINES_PER_SECOND = 1_000_000

_CHILD = """
import json, os, resource, time
from pathlib import Path
from workbench.ingest.access_log import read_access_log

def _time(f):
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0

def busy_s():
    # Seconds of CPU the whole machine spent busy (or stolen) so far; None off Linux.
    try:
        with open("/proc/stat") as fh:
            f = [int(x) for x in fh.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = f
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")

def rss_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

path = Path({path!r})
before = rss_mb()
runs = []
for _ in range({repeat}):
    lines = quarantined = 0
    m0, c0, t0 = busy_s(), time.process_time(), time.perf_counter()
    for batch in read_access_log(path, "raw/access.log"):
        lines += batch.frame.height + batch.malformed.height
        quarantined += batch.malformed.height
    wall, cpu, m1 = time.perf_counter() - t0, time.process_time() - c0, busy_s()
    runs.append((wall, cpu, None if m0 is None or m1 is None else m1 - m0))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
# Reference, measured after the peak was taken: the same rows read from the Parquet evidence.
reference = None
if {parquet!r} is not None:
    import polars as pl
    reference = min(_time(lambda: pl.read_parquet({parquet!r})) for _ in range({repeat}))
print(json.dumps({{"lines": lines, "quarantined": quarantined, "runs": runs, "rss_before_mb": before, "peak_rss_mb": peak, "reference": reference}}))
"""


def bench_access_log_parse(scale: str, case_dir: Path, repeat: int = 3) -> dict:
    """Parse ``case_dir/raw/access.log`` ``repeat`` times in a child process; report the best run.

    Returns lines, quarantined, seconds (best wall, also as ``wall_s``), lines_per_second,
    cpu_seconds and cpu_us_per_line of that run, peak_rss_delta_mb, a reference (reading
    the same rows from ``evidence/page_views.parquet``, and the parse as a ratio to it), the
    machine's cores and load, and whether the target of 1 million lines a second was met.
    Load-independent: ``lines_per_cpu_second``, ``cores_busy`` (the parse's CPU over its wall
    time), ``lines_per_second_on_2_free_cores`` (lines per CPU-second times two: what the
    parse would do if it kept two otherwise idle cores busy), ``load_average_before`` (1, 5
    and 15 minutes, taken before the parse starts) and ``other_cores_busy`` (the cores the
    rest of the machine kept busy during the best run; None where ``/proc/stat`` is missing).
    """
    path = Path(case_dir) / "raw" / "access.log"
    if not path.is_file():
        raise SystemExit(
            f"no access log at {path}; generate the case first: workbench generate --scale {scale} --seed 1 --out {case_dir}"
        )
    parquet = Path(case_dir) / "evidence" / "page_views.parquet"
    load_before = os.getloadavg()
    code = _CHILD.format(path=str(path), repeat=repeat, parquet=str(parquet) if parquet.is_file() else None)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    if proc.returncode:
        raise SystemExit(f"access-log benchmark failed:\n{proc.stderr}")
    measured = json.loads(proc.stdout.strip().splitlines()[-1])
    wall, cpu, machine_busy = min(measured["runs"], key=lambda run: run[0])
    rate = measured["lines"] / wall
    per_cpu = measured["lines"] / cpu if cpu else None
    return {
        "scale": scale,
        "file_bytes": path.stat().st_size,
        "lines": measured["lines"],
        "quarantined": measured["quarantined"],
        "seconds": round(wall, 3),
        "wall_s": round(wall, 3),
        "runs_s": [round(w, 3) for w, _, _ in measured["runs"]],
        "lines_per_second": round(rate),
        "cpu_seconds": round(cpu, 3),
        "cpu_us_per_line": round(cpu / measured["lines"] * 1e6, 2),
        "peak_rss_delta_mb": round(measured["peak_rss_mb"] - measured["rss_before_mb"], 1),
        "peak_rss_gb": round(measured["peak_rss_mb"] / 1024, 2),
        "reference_parquet_read_s": None if measured["reference"] is None else round(measured["reference"], 3),
        "ratio_to_parquet_read": None if not measured["reference"] else round(wall / measured["reference"], 1),
        "lines_per_cpu_second": None if per_cpu is None else round(per_cpu),
        "cores_busy": round(cpu / wall, 2),
        "lines_per_second_on_2_free_cores": None if per_cpu is None else round(2 * per_cpu),
        "cpus": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2),
        "load_average_before": [round(x, 2) for x in load_before],
        "other_cores_busy": None if machine_busy is None else round(max(0.0, machine_busy - cpu) / wall, 2),
        "target_lines_per_second": TARGET_LINES_PER_SECOND,
        "target_met": rate >= TARGET_LINES_PER_SECOND,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", required=True, help="a generated case folder (holding raw/access.log)")
    parser.add_argument("--scale", default="stockholm", help="the scale it was generated at, for the report")
    parser.add_argument("--repeat", type=int, default=3, help="parses to run; the best is reported")
    args = parser.parse_args(argv)
    result = bench_access_log_parse(args.scale, Path(args.case), args.repeat)
    print(json.dumps(result, indent=2))
    verdict = "met" if result["target_met"] else "MISSED"
    print(
        f"access-log parse @ {args.scale}: {result['lines_per_second']:,} lines/s vs target ≥ {TARGET_LINES_PER_SECOND:,}: {verdict}"
    )
    if result["lines_per_cpu_second"]:
        print(
            f"  {result['lines_per_cpu_second']:,} lines per CPU-second: {result['lines_per_second_on_2_free_cores']:,} lines/s "
            f"on 2 free cores; load average before {result['load_average_before']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

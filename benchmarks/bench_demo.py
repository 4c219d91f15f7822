"""``make demo`` end to end, as a user runs it: generate, ingest, the four report sets, findings, verify.

The commands are those of the Makefile's ``demo`` target, in its order, run with this
interpreter (the target itself would first install the project): generate, ingest into
DuckDB, ``report --audience investigator,auditor,public,public:sv`` (one run of each notebook
for the three English sets and the Swedish public set, ``reports/public-sv``), then the
headline findings and ``verify`` of the public set (``tests/test_bench_demo.py`` holds the two
lists equal). Each runs in its own process; its wall
time, CPU time (its own and that of every process it waited for: workers and notebook
kernels) and peak RSS (of the largest single process) are recorded, and the machine's load
before and after, since the machine may be shared.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

TARGET_S = 120.0
TARGET_RSS_GB = 4.0
DEMO_KEY = "demo-only-pseudonym-key-not-secret"


def _timed(argv: list[str], cwd: Path, env: dict[str, str]) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"demo step {argv[3]} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return {"wall_s": round(wall, 2)}


def commands(scale: str, demo: Path, seed: int = 1) -> dict[str, list[str]]:
    """The Makefile's ``demo`` commands in its order, by step name, as argument lists for this interpreter."""
    case = f"duckdb:///{demo / 'case' / 'case.duckdb'}"
    cli = [sys.executable, "-m", "workbench.cli"]
    return {
        "generate": [*cli, "generate", "--scale", scale, "--seed", str(seed), "--out", str(demo / "case")],
        "ingest": [*cli, "ingest", str(demo / "case" / "evidence"), "--case", case],
        "reports": [
            *cli,
            "report",
            "--case",
            case,
            "--audience",
            "investigator,auditor,public,public:sv",
            "--out",
            str(demo / "reports"),
        ],
        "findings": [*cli, "findings", str(demo / "reports" / "investigator"), "--headlines"],
        "verify": [*cli, "verify", str(demo / "reports" / "public"), "--case", case],
    }


def bench_demo(scale: str, out: Path, seed: int = 1) -> dict:
    """Wall, CPU and peak RSS of each step of ``make demo SCALE=scale`` and of the whole."""
    import resource

    root = Path(__file__).resolve().parents[1]
    demo = out / "demo"
    shutil.rmtree(demo, ignore_errors=True)
    steps = commands(scale, demo, seed)
    env = {**os.environ, "WORKBENCH_PSEUDONYM_KEY": os.environ.get("WORKBENCH_PSEUDONYM_KEY", DEMO_KEY)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    result: dict = {"load_average_before": [round(x, 2) for x in os.getloadavg()], "steps": {}}
    for name, argv in steps.items():
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        step = _timed(argv, root, env)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        step["cpu_s"] = round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 2)
        # ru_maxrss of the children is the largest any of them reached so far: the steps run in order
        step["peak_rss_gb_so_far"] = round(after.ru_maxrss / 1024**2, 2)
        result["steps"][name] = step
    result["wall_s"] = round(sum(s["wall_s"] for s in result["steps"].values()), 2)
    result["cpu_s"] = round(sum(s["cpu_s"] for s in result["steps"].values()), 2)
    result["peak_rss_gb"] = max(s["peak_rss_gb_so_far"] for s in result["steps"].values())
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["cpus"] = os.cpu_count()
    result["target_s"], result["target_rss_gb"] = TARGET_S, TARGET_RSS_GB
    return result


def verdict(scale: str, r: dict) -> list[str]:
    steps = ", ".join(f"{k} {v['wall_s']} s (CPU {v['cpu_s']} s)" for k, v in r["steps"].items())
    lines = [
        f"make demo end to end {r['wall_s']} s wall, {r['cpu_s']} s CPU: {steps}",
        f"load average {r['load_average_before'][0]} before, {r['load_average_after'][0]} after, on {r['cpus']} cores "
        "(other work on the machine slows the wall time; the CPU time does not depend on it)",
    ]
    if scale == "stockholm":
        ok_t, ok_m = r["wall_s"] <= r["target_s"], r["peak_rss_gb"] <= r["target_rss_gb"]
        lines.append(f"time {r['wall_s']} s vs target ≤ {r['target_s']:g} s: {'met' if ok_t else 'MISSED'}")
        lines.append(
            f"peak RSS {r['peak_rss_gb']} GB (largest process) vs target ≤ {r['target_rss_gb']:g} GB: "
            f"{'met' if ok_m else 'MISSED'}"
        )
    return lines

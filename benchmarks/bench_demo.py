"""``make demo`` end to end, as a user runs it: generate, ingest, the four report sets, findings, verify.

The commands are those of the Makefile's ``demo`` target, in its order, run with this
interpreter (the target itself would first install the project): generate, ingest into
DuckDB, ``report --audience investigator,auditor,public,public:sv`` (one run of each notebook
for the three English sets and the Swedish public set, ``reports/public-sv``), then the
headline findings and ``verify`` of the public set (``tests/test_bench_demo.py`` holds the two
lists equal). Each runs in its own process; its wall
time, CPU time (its own and that of every process it waited for: workers and notebook
kernels) and peak RSS are recorded, the machine's load before and after, since the machine
may be shared. Peak RSS is given twice: of the largest single process (``ru_maxrss``), and of
the step's whole process tree at once (``tree_peak_rss_gb``: the report's own process and its
notebook kernels, sampled with psutil every ``SAMPLE_S``), which is what the machine must hold.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

TARGET_S = 120.0
TARGET_RSS_GB = 4.0
DEMO_KEY = "demo-only-pseudonym-key-not-secret"
SAMPLE_S = 0.25


def tree_rss(pid: int) -> int:
    """Bytes resident in process ``pid`` and all its descendants now (0 once it is gone)."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:  # ended between the listing and the reading
            pass
    return total


def timed(argv: list[str], cwd: Path, env: dict[str, str], sample_s: float = SAMPLE_S) -> dict:
    """Run ``argv``; its wall seconds and the largest resident size its process tree held at once."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(sample_s):
            peak[0] = max(peak[0], tree_rss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    peak[0] = tree_rss(proc.pid)
    sampler.start()
    _, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"demo step {' '.join(argv[3:4])} failed ({proc.returncode}):\n{stderr[-3000:]}")
    return {"wall_s": round(wall, 2), "tree_peak_rss_gb": round(peak[0] / 1024**3, 2)}


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
        step = timed(argv, root, env)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        step["cpu_s"] = round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 2)
        # ru_maxrss of the children is the largest any of them reached so far: the steps run in order
        step["peak_rss_gb_so_far"] = round(after.ru_maxrss / 1024**2, 2)
        result["steps"][name] = step
    result["wall_s"] = round(sum(s["wall_s"] for s in result["steps"].values()), 2)
    result["cpu_s"] = round(sum(s["cpu_s"] for s in result["steps"].values()), 2)
    result["peak_rss_gb"] = max(s["peak_rss_gb_so_far"] for s in result["steps"].values())
    result["tree_peak_rss_gb"] = max(s["tree_peak_rss_gb"] for s in result["steps"].values())
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
        lines.append(tree_verdict(r, r["target_rss_gb"]))
    return lines


def tree_verdict(r: dict, target_gb: float) -> str:
    """The memory verdict on all of a step's processes at once (a run recorded before it has no tree figure)."""
    tree = r.get("tree_peak_rss_gb")
    if tree is None:
        return "peak RSS of all processes at once: not measured"
    worst = max(r["steps"].items(), key=lambda kv: kv[1].get("tree_peak_rss_gb", 0))[0]
    return (
        f"peak RSS {tree} GB (all processes of one step at once, {worst}) vs target ≤ {target_gb:g} GB: "
        f"{'met' if tree <= target_gb else 'MISSED'}"
    )

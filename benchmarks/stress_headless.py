"""Stress headless runs, on demand: does a report notebook ever hang under plain papermill?

    .venv/bin/python benchmarks/stress_headless.py [--runs 50] [--notebooks 00 01 02 03]
        [--case URL] [--hang-after 300] [--load 2] [--json PATH]

Each report notebook runs ``--runs`` times with plain ``python -m papermill`` (the same
command a newsroom's scheduled render or an auditor's rerun would use, with papermill's
default settings) while ``--load`` busy processes keep the cores loaded. A run that has not
ended after ``--hang-after`` seconds counts as a hang: it is stopped, with its process group,
and the stacks it was waiting in are kept in the report when ``py-spy`` is on the machine.
Without ``--case``, the tiny case is generated and ingested into SQLite first.

It prints runs, hangs and failures per notebook and in all; the exit status is 1 when any
run hung. Not part of the test suite: 200 runs take about half an hour on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
BUSY = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"


def _case(folder: Path) -> str:
    """The tiny case, generated and ingested into SQLite under ``folder``."""
    from workbench.ingest import ingest
    from workbench.scenario import generate

    generate(folder / "case", scale="tiny", seed=1)
    url = f"sqlite:///{folder / 'case.db'}"
    ingest(folder / "case" / "evidence", url, progress=False)
    return url


def _stacks(pid: int) -> str | None:
    """What the hung client and its kernel were waiting in (py-spy), or None without it."""
    from shutil import which

    if not which("py-spy"):
        return None
    found = []
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    for p in [str(pid), *children]:
        dump = subprocess.run(["py-spy", "dump", "--pid", p], capture_output=True, text=True, timeout=60)
        found.append(dump.stdout or dump.stderr)
    return "\n".join(found)


def run_once(notebook: Path, case_url: str, folder: Path, hang_after: float) -> dict:
    """One plain papermill run: ``{"outcome": "ok" | "failed" | "hang", "seconds": ...}``."""
    out = folder / notebook.name
    command = [
        sys.executable,
        "-m",
        "papermill",
        str(notebook),
        str(out),
        "-p",
        "case_url",
        case_url,
        "-p",
        "audience",
        "investigator",
        "-p",
        "out_dir",
        str(folder),
        "--no-progress-bar",
    ]
    t0 = time.monotonic()
    proc = subprocess.Popen(
        command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        _, err = proc.communicate(timeout=hang_after)
    except subprocess.TimeoutExpired:
        stacks = _stacks(proc.pid)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"outcome": "hang", "seconds": round(time.monotonic() - t0, 1), "stacks": stacks}
    seconds = round(time.monotonic() - t0, 1)
    if proc.returncode:
        return {"outcome": "failed", "seconds": seconds, "stderr": err[-2000:]}
    return {"outcome": "ok", "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50, help="runs per notebook (default 50)")
    parser.add_argument(
        "--notebooks",
        nargs="*",
        default=["00", "01", "02", "03"],
        help="report notebooks by number (default: 00 01 02 03)",
    )
    parser.add_argument("--case", help="case URL (default: the tiny case, generated into SQLite)")
    parser.add_argument("--hang-after", type=float, default=300, help="seconds after which a run counts as hung")
    parser.add_argument("--load", type=int, default=os.cpu_count() or 2, help="busy processes beside the runs")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    notebooks = [next(NOTEBOOKS.glob(f"{n}_*.ipynb")) for n in args.notebooks]
    with tempfile.TemporaryDirectory(prefix="workbench-stress-") as tmp:
        scratch = Path(tmp)
        case_url = args.case or _case(scratch)
        budget = int(args.runs * len(notebooks) * args.hang_after) + 60
        load = [subprocess.Popen([sys.executable, "-c", BUSY.format(seconds=budget)]) for _ in range(args.load)]
        results: dict[str, list[dict]] = {}
        try:
            for nb in notebooks:
                results[nb.stem] = []
                for i in range(args.runs):
                    folder = scratch / f"{nb.stem}-{i}"
                    folder.mkdir()
                    result = run_once(nb, case_url, folder, args.hang_after)
                    results[nb.stem].append(result)
                    print(
                        f"{nb.stem} run {i + 1}/{args.runs}: {result['outcome']} in {result['seconds']} s", flush=True
                    )
        finally:
            for p in load:
                p.kill()
    summary = {}
    for name, runs in results.items():
        counts = {k: sum(r["outcome"] == k for r in runs) for k in ("ok", "failed", "hang")}
        summary[name] = {"runs": len(runs), **counts, "median_s": sorted(r["seconds"] for r in runs)[len(runs) // 2]}
        print(
            f"{name}: {len(runs)} runs, {counts['hang']} hangs, {counts['failed']} failures, "
            f"median {summary[name]['median_s']} s"
        )
    total = {k: sum(s[k] for s in summary.values()) for k in ("runs", "ok", "failed", "hang")}
    print(
        f"in all: {total['runs']} runs, {total['hang']} hangs, {total['failed']} failures "
        f"(load: {args.load} busy processes; hang after {args.hang_after:g} s)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "total": total, "runs": results}, indent=2))
    return 1 if total["hang"] else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Where a mapped ingest's time goes, thread by thread: a timeline of both cores.

    PYTHONPATH=. .venv/bin/python benchmarks/mapping_timeline.py CASE_DIR [--evidence] [--tick 0.25]

Ingests ``CASE_DIR/handover`` through its mapping (or ``CASE_DIR/evidence`` with
``--evidence``) into a temporary DuckDB file while a sampler thread reads, every tick, each
thread's CPU time from ``/proc/self/task`` and what each Python thread is doing (its
innermost frame in ``workbench``). It prints, a line a second, the CPU each thread used
and the Python threads' stages, then the CPU-s by thread and by stage. A measuring aid,
not part of the workbench; the sampler itself costs a little CPU (reported).
"""

from __future__ import annotations

import argparse
import collections
import itertools
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _task_cpu() -> dict[int, tuple[str, float]]:
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        out[int(tid)] = (comm, (int(fields[11]) + int(fields[12])) / TICK)
    return out


def _stage(frame) -> str:
    where = "?"
    while frame is not None:
        name = frame.f_code.co_filename
        if "/workbench/" in name:
            where = f"{Path(name).stem}.{frame.f_code.co_name}"
            break
        frame = frame.f_back
    return where


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("case", type=Path)
    parser.add_argument("--evidence", action="store_true")
    parser.add_argument("--tick", type=float, default=0.25)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    from workbench.ingest import ingest
    from workbench.mapping import ingest_mapped

    samples: list[tuple[float, dict[int, tuple[str, float]], dict[int, str]]] = []
    stop = threading.Event()

    def sample() -> None:
        me = threading.get_native_id()
        while not stop.wait(args.tick):
            names = {t.ident: (t.native_id, t.name) for t in threading.enumerate()}
            stages = {}
            for ident, frame in sys._current_frames().items():
                native, name = names.get(ident, (None, "?"))
                if native is not None and native != me:
                    stages[native] = f"{name}:{_stage(frame)}"
            samples.append((time.perf_counter(), _task_cpu(), stages))

    sampler = threading.Thread(target=sample, daemon=True, name="sampler")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "t.duckdb"
        t0, c0 = time.perf_counter(), time.process_time()
        samples.append((t0, _task_cpu(), {}))
        sampler.start()
        if args.evidence:
            ingest(args.case / "evidence", f"duckdb:///{db}", progress=False)
        else:
            h = args.case / "handover"
            ingest_mapped(h, h / "mapping.yaml", f"duckdb:///{db}", progress=False, workers=args.workers)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        stop.set()
        sampler.join()
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    by_thread: dict[str, float] = collections.Counter()
    by_stage: dict[str, float] = collections.Counter()
    print(f"{'t':>5} {'cpu':>5}  threads (cpu-s this second)  | python stages")
    second: dict[str, float] = collections.Counter()
    stages_second: dict[str, int] = collections.Counter()
    mark = t0 + 1
    for (_, before, _), (t, now, stages) in itertools.pairwise(samples):
        for tid, (comm, c) in now.items():
            d = c - before.get(tid, (comm, 0.0))[1]
            if d <= 0:
                continue
            stage = stages.get(tid)
            if stage is None and args.workers == 1:  # one Python thread: native pools work for it
                stage = next((s for s in stages.values() if s.startswith("MainThread:")), None)
            key = stage.split(":")[0] if stage else f"{comm}"
            by_thread[key] += d
            second[key] += d
            if stage:
                by_stage[stage.split(":", 1)[1]] += d
        for s in stages.values():
            if not s.endswith(("queue.get", "?")) and "_put" not in s and "_bootstrap" not in s:
                stages_second[s] += 1
        if t >= mark:
            total = sum(second.values())
            top = ", ".join(f"{k} {v:.2f}" for k, v in sorted(second.items(), key=lambda kv: -kv[1])[:5])
            st = ", ".join(f"{k}" for k, _ in stages_second.most_common(4))
            print(f"{mark - t0:5.0f} {total:5.2f}  {top}  | {st}")
            second.clear()
            stages_second.clear()
            mark += 1
    print(
        f"\nwall {wall:.2f} s, CPU {cpu:.2f} s (+ children {child.ru_utime + child.ru_stime:.2f}), load {os.getloadavg()}"
    )
    print("by thread:")
    for k, v in sorted(by_thread.items(), key=lambda kv: -kv[1]):
        if v >= 0.05:
            print(f"  {v:6.2f}  {k}")
    print("by python stage (that Python thread's CPU; with --workers 1, the native pools' too):")
    for k, v in sorted(by_stage.items(), key=lambda kv: -kv[1]):
        if v >= 0.05:
            print(f"  {v:6.2f}  {k}")


if __name__ == "__main__":
    main()

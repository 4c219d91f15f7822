"""Cost per evidence row from tiny to national: a table and a chart from recorded end-to-end runs.

    .venv/bin/python benchmarks/cost_per_row.py benchmarks/results/end_to_end/*.json --svg docs/cost_per_row.svg

Each file is a ``benchmarks/run.py --json`` report whose ``end_to_end`` (or ``demo``) result
holds each ``make demo`` step's CPU seconds, wall seconds and peak RSS, and ``evidence_rows``
(``run.py`` records it). Prints a Markdown table (CPU microseconds per evidence row by step,
and the whole run's wall, CPU and peak RSS) and writes the chart with vl-convert, offline.
A step a run did not finish is left out of that run's row ("–"), never guessed; a step no run
has (the Swedish public set's own run, before the four sets came from one report run) is not a
column. The peak RSS is the largest process's, and, for runs that sampled it, that of all the
processes of one step at once (``tree_peak_rss_gb``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

SCALES = ("tiny", "small", "stockholm", "national")
STEPS = {
    "generate": "generate",
    "ingest": "ingest (DuckDB)",
    "reports": "reports (every set of the run)",
    "reports_public_sv": "public report in Swedish",
}


def load(path: Path) -> dict:
    """One run: its scale, evidence rows, each step's figures and the whole run's, and where it came from."""
    report = json.loads(path.read_text())
    results = report["results"]
    run = results.get("end_to_end") or results.get("demo")
    if run is None or "evidence_rows" not in run:
        raise SystemExit(
            f"{path}: no end_to_end (or demo) result with evidence_rows; run.py --steps end_to_end writes one"
        )
    return {"scale": report["scale"], "file": path.name, **run}


def rows(runs: list[dict]) -> list[dict]:
    """Per run: CPU µs per evidence row of each step that finished, and of all of them."""
    out = []
    for r in sorted(runs, key=lambda r: SCALES.index(r["scale"]) if r["scale"] in SCALES else len(SCALES)):
        n = r["evidence_rows"]
        done = {k: v for k, v in r["steps"].items() if v.get("rc", 0) == 0 and "cpu_s" in v}
        row = {"scale": r["scale"], "evidence_rows": n, "file": r["file"]}
        row |= {step: round(done[step]["cpu_s"] / n * 1e6, 2) if step in done else None for step in STEPS}
        complete = all(step in done for step in r["steps"])
        row["all_cpu_us"] = round(sum(v["cpu_s"] for v in done.values()) / n * 1e6, 2) if complete else None
        row["wall_s"] = r.get("wall_s") if complete else None
        row["cpu_s"] = round(sum(v["cpu_s"] for v in done.values()), 1)
        row["peak_rss_gb"] = max((v.get("peak_rss_gb_so_far", 0) for v in done.values()), default=None)
        trees = [v["tree_peak_rss_gb"] for v in done.values() if "tree_peak_rss_gb" in v]
        row["tree_peak_rss_gb"] = max(trees) if trees and complete else None
        row["has"] = sorted(r["steps"])
        out.append(row)
    return out


def table(data: list[dict]) -> str:
    def cell(v: float | None) -> str:
        return "–" if v is None else f"{v:,.2f}" if v < 100 else f"{v:,.0f}"

    steps = present(data)
    head = ["scale", "evidence rows", *(f"{STEPS[s]} (µs/row)" for s in steps), "all steps (µs/row)"]
    head += ["CPU (finished steps)", "wall", "peak RSS (finished steps; largest process, all at once)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in data:
        cells = [r["scale"], f"{r['evidence_rows']:,}", *(cell(r[s]) for s in steps), cell(r["all_cpu_us"])]
        cells += [f"{r['cpu_s']:,.0f} s", "–" if r["wall_s"] is None else f"{r['wall_s']:,.0f} s"]
        gb = "–" if r["peak_rss_gb"] is None else f"{r['peak_rss_gb']:.2f} GB"
        tree = r.get("tree_peak_rss_gb")
        cells.append(gb if tree is None else f"{gb}; {tree:.2f} GB")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def present(data: list[dict]) -> list[str]:
    """The steps of :data:`STEPS` that at least one run has, finished or not."""
    return [s for s in STEPS if any(s in r.get("has", STEPS) for r in data)]


def chart(data: list[dict]):
    """CPU µs per evidence row against evidence rows, one line per step (both axes logarithmic)."""
    import altair as alt
    import polars as pl

    points = pl.DataFrame(
        [
            {"scale": r["scale"], "evidence rows": r["evidence_rows"], "step": label, "CPU µs per evidence row": r[key]}
            for r in data
            for key, label in [*((s, STEPS[s]) for s in present(data)), ("all_cpu_us", "all steps")]
            if r[key] is not None
        ]
    )
    return (
        alt.Chart(points, title="CPU cost per evidence row, tiny to national (seed 1, 2-core machine)")
        .mark_line(point=True)
        .encode(
            x=alt.X("evidence rows:Q", scale=alt.Scale(type="log")),
            y=alt.Y("CPU µs per evidence row:Q", scale=alt.Scale(type="log")),
            color=alt.Color("step:N", sort=[*(STEPS[s] for s in present(data)), "all steps"]),
            tooltip=["scale", "step", "evidence rows", "CPU µs per evidence row"],
        )
        .properties(width=520, height=300)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="+", type=Path, help="run.py --json reports with an end_to_end result")
    parser.add_argument("--svg", type=Path, help="write the chart here (vl-convert, offline)")
    args = parser.parse_args(argv)
    data = rows([load(p) for p in args.results])
    print(table(data))
    if args.svg:
        args.svg.parent.mkdir(parents=True, exist_ok=True)
        chart(data).save(str(args.svg))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

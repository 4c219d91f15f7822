"""What the journal adds to a query: the same queries run with and without a notes database, interleaved.

For each query the run is timed ``repeats`` times without a journal and with one (a fresh
``case.notes.sqlite``-style file configured for the process), alternately. The overhead is
the median of the paired differences (each journalled run less the plain run just before
it), so drift in the machine's load hits both alike; the target is at most 5 ms per query,
whatever the size of its result (the result is hashed as an uncompressed Arrow IPC file,
which grows with it: the largest query is reported apart). On a shared, loaded machine that
end-to-end difference is noisy, so the journal's own work (``record_query``: hash, one
transaction) is also timed alone, on the same result, as ``journal_ms``.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

TARGET_MS = 5.0
QUERIES = ("table_counts", "manifest", "caseworkers", "sessions")


def _timed(run, name: str, case) -> tuple[float, int]:
    t0 = time.perf_counter()
    frame = run(name, case)
    return time.perf_counter() - t0, frame.height


def bench_journal_overhead(scale: str, out: str, db: str | None = None, repeats: int = 31) -> dict:
    """Median wall ms per query without and with the journal, and the overhead, on the ingested case ``db``."""
    from workbench import open_case
    from workbench.notes import configure, journal_entries, verify_journal
    from workbench.notes.record import record_query
    from workbench.queries import run

    path = Path(db or Path(out) / "bench.duckdb")
    per_query = {}
    with tempfile.TemporaryDirectory() as tmp, open_case(path) as case:
        notes = Path(tmp) / "bench.notes.sqlite"
        for name in QUERIES:
            run(name, case)  # warm the engine and the caches
            configure(notes)
            run(name, case)  # creates the notes database once, untimed
            configure(None)
            plain, journalled = [], []
            rows = 0
            for _ in range(repeats):
                configure(None)
                plain.append(_timed(run, name, case)[0])
                configure(notes)
                seconds, rows = _timed(run, name, case)
                journalled.append(seconds)
            frame = run(name, case)  # journalled (still configured): the result the journal's work is timed on
            alone = []
            with case.connect() as conn:
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    record_query(conn, name, {}, frame)
                    alone.append(time.perf_counter() - t0)
            configure(None)
            without, with_ = statistics.median(plain) * 1000, statistics.median(journalled) * 1000
            paired = statistics.median(j - p for j, p in zip(journalled, plain, strict=True)) * 1000
            per_query[name] = {
                "rows": rows,
                "without_ms": round(without, 2),
                "with_ms": round(with_, 2),
                "overhead_ms": round(paired, 2),
                "journal_ms": round(statistics.median(alone) * 1000, 2),
            }
        entries = len(journal_entries(case, notes))
        chain, _ = verify_journal(case, notes)
    worst = max(per_query, key=lambda n: per_query[n]["overhead_ms"])
    return {
        "scale": scale,
        "repeats": repeats,
        "queries": per_query,
        "journal_entries": entries,
        "chain_verifies": chain.ok,
        "worst_query": worst,
        "worst_overhead_ms": per_query[worst]["overhead_ms"],
        "worst_journal_ms": max(q["journal_ms"] for q in per_query.values()),
        "target_ms": TARGET_MS,
        "wall_s": round(sum(q["with_ms"] for q in per_query.values()) / 1000, 3),
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(bench_journal_overhead("custom", str(Path(sys.argv[1]).parent), sys.argv[1]), indent=2))

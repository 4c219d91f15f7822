"""Benchmark: the queue-fairness replay on DuckDB against a hand-written DuckDB SQL reference.

    .venv/bin/python benchmarks/bench_fairness.py --scale stockholm --case-dir /tmp/stockholm6

``bench_replay(scale, case_dir)`` times the workbench replay (the fairness queries on the
DuckDB case ``case_dir/case.duckdb`` plus the polars replay) and one DuckDB SQL statement
that computes the same ranks and expected recipients straight from
``case_dir/evidence/*.parquet``. The ratio is replay / reference; the two must agree on
every contract's winner rank and expected recipient.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

__all__ = ["REFERENCE_SQL", "bench_replay", "reference_ranks"]

# The replay's rules in one statement (see workbench/queue.py for them in words).
REFERENCE_SQL = """
WITH
listings AS (SELECT * FROM read_parquet('{d}/listings.parquet')),
contracts AS (SELECT * FROM read_parquet('{d}/contracts.parquet')),
applicants AS (SELECT * FROM read_parquet('{d}/applicants.parquet')),
actions AS (SELECT * FROM read_parquet('{d}/handler_actions.parquet')),
offers AS (SELECT * FROM read_parquet('{d}/offers.parquet')),
first_change AS (
    SELECT applicant_id, arg_min(old_value, "time") AS before
    FROM actions WHERE action = 'queue_date_change' GROUP BY applicant_id
),
members AS (
    SELECT a.applicant_id, a.registered_at AS member_reg, a.student, a.annual_income,
           strptime(substr(a.personnummer, 1, 8), '%Y%m%d')::DATE AS birth,
           CASE WHEN a.created_by_handler_id IS NOT NULL AND a.queue_start < CAST(a.registered_at AS DATE)
                THEN CAST(a.registered_at AS DATE)
                ELSE coalesce(TRY_CAST(c.before AS DATE), a.queue_start) END AS queue_date
    FROM applicants a LEFT JOIN first_change c USING (applicant_id)
),
fee_runs AS (
    SELECT applicant_id, "year", "year" - row_number() OVER (PARTITION BY applicant_id ORDER BY "year") AS run
    FROM read_parquet('{d}/fees.parquet')
),
fees AS (
    SELECT applicant_id, min("year") AS first_paid, max("year") FILTER (WHERE run = first_run) AS paid_through
    FROM (SELECT *, min(run) OVER (PARTITION BY applicant_id) AS first_run FROM fee_runs) GROUP BY applicant_id
),
recorded AS (
    SELECT DISTINCT listing_id, applicant_id FROM offers WHERE response IN ('declined', 'no_answer', 'disqualified')
    UNION SELECT DISTINCT listing_id, applicant_id FROM actions WHERE action = 'skip'
),
priority AS (SELECT DISTINCT listing_id, applicant_id FROM actions WHERE action = 'priority_grant'),
candidates AS (
    SELECT i.listing_id, i.applicant_id, m.queue_date, m.member_reg,
           p.applicant_id IS NOT NULL AS has_priority,
           r.applicant_id IS NOT NULL AS has_record,
           (m.member_reg <= i.registered_at)
           AND coalesce(f.first_paid <= year(l.published_at) AND year(l.published_at) <= f.paid_through, false)
           AND NOT EXISTS (SELECT 1 FROM contracts k WHERE k.applicant_id = i.applicant_id
                           AND k.listing_id <> i.listing_id AND k.signed_at < l.closes_at)
           AND (l.kind <> 'student' OR m.student)
           AND coalesce(CASE l.kind
                WHEN 'youth' THEN age_years BETWEEN 18 AND 25
                WHEN 'senior' THEN age_years >= 65
                ELSE true END, false)
           AND coalesce(m.annual_income, 0) >= (CASE l.income_rule WHEN '3x_rent' THEN 3 WHEN '2x_rent' THEN 2 ELSE 0 END) * 12 * l.rent
           AS eligible
    FROM read_parquet('{d}/interests.parquet') i
    JOIN listings l USING (listing_id)
    SEMI JOIN contracts c ON c.listing_id = i.listing_id
    LEFT JOIN members m USING (applicant_id)
    LEFT JOIN fees f USING (applicant_id)
    LEFT JOIN priority p USING (listing_id, applicant_id)
    LEFT JOIN recorded r USING (listing_id, applicant_id)
    CROSS JOIN LATERAL (SELECT year(CAST(l.closes_at AS DATE)) - year(m.birth)
                        - CASE WHEN month(CAST(l.closes_at AS DATE)) * 100 + day(CAST(l.closes_at AS DATE))
                                    < month(m.birth) * 100 + day(m.birth) THEN 1 ELSE 0 END AS age_years)
    WHERE i.registered_at <= l.closes_at AND (i.withdrawn_at IS NULL OR i.withdrawn_at > l.closes_at)
),
ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY listing_id ORDER BY queue_date, member_reg, applicant_id) AS queue_rank,
           row_number() OVER (PARTITION BY listing_id ORDER BY NOT has_priority, queue_date, member_reg, applicant_id) AS "rank"
    FROM candidates
),
expected AS (
    SELECT listing_id, arg_min(applicant_id, "rank") AS expected_applicant_id
    FROM ranked WHERE eligible AND NOT has_record GROUP BY listing_id
)
SELECT c.listing_id, c.applicant_id, r.queue_rank AS winner_rank, e.expected_applicant_id
FROM contracts c
LEFT JOIN ranked r USING (listing_id, applicant_id)
LEFT JOIN expected e USING (listing_id)
ORDER BY c.listing_id
"""


def reference_ranks(evidence_dir: str | Path):
    """The reference: winner rank and expected recipient per contract, by DuckDB SQL over the Parquet evidence."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")  # dates of timestamps are UTC days, as in the replay
        return con.sql(REFERENCE_SQL.format(d=Path(evidence_dir).resolve().as_posix())).pl()
    finally:
        con.close()


def bench_replay(scale: str, case_dir: str | Path) -> dict:
    """Time the replay on ``case_dir/case.duckdb`` against :func:`reference_ranks` on ``case_dir/evidence``.

    The case is ingested first (untimed) if it does not exist yet.
    """
    import polars as pl

    from workbench.case import open_case
    from workbench.fairness import load_allocation_evidence, replay_allocations

    case_dir = Path(case_dir)
    database = case_dir / "case.duckdb"
    url = f"duckdb:///{database.resolve()}"
    if not database.exists():
        from workbench.ingest import ingest

        ingest(case_dir / "evidence", url, progress=False)
    t0 = time.perf_counter()
    with open_case(url) as case:
        evidence = load_allocation_evidence(case)
    t1 = time.perf_counter()
    result = replay_allocations(evidence)
    t2 = time.perf_counter()
    replay_peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # before the reference adds its own
    reference = reference_ranks(case_dir / "evidence")
    t3 = time.perf_counter()
    mine = result.allocations.select("listing_id", "applicant_id", "winner_rank", "expected_applicant_id").sort(
        "listing_id"
    )
    agree = mine.equals(reference.cast(mine.schema))
    replay_s, reference_s = t2 - t0, t3 - t2
    return {
        "scale": scale,
        "contracts": result.allocations.height,
        "unexplained": result.count("unexplained"),
        "load_s": round(t1 - t0, 2),
        "replay_s": round(replay_s, 2),
        "reference_s": round(reference_s, 2),
        "ratio": round(replay_s / reference_s, 2),
        "replay_peak_rss_gb": round(replay_peak_gb, 2),
        "agree": bool(agree),
        "disagreements": int(mine.join(reference.cast(mine.schema), on=mine.columns, how="anti").height),
        "polars": pl.__version__,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="small")
    parser.add_argument("--case-dir", required=True, help="folder with evidence/ (and case.duckdb, made if missing)")
    args = parser.parse_args(argv)
    print(json.dumps(bench_replay(args.scale, args.case_dir)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Notebook-02 queries on DuckDB, timed against a hand-written DuckDB SQL reference.

    .venv/bin/python benchmarks/bench_exposure.py DIR [--scale stockholm]

DIR is a generated case (``DIR/evidence/*.parquet``). The workbench side ingests it into
DuckDB once (timed apart), then runs what notebook 02 runs: the registered exposure
queries and the polars steps that turn them into tiers, bounds, the restore list, the
allocation check and the notification list. The reference is hand-written DuckDB SQL
straight over the Parquet files (three statements) that computes the same headline figures. Both are
timed warm (best of ``repeat``), their figures are compared, and the ratio is reported:
``analysis_s`` (everything the notebook computes, queries included) over ``reference_s``.
``queries_s`` times each registered query alone, for the breakdown. The target is a ratio
of at most ``TARGET_RATIO`` (1.5).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

__all__ = [
    "CANDIDATES_SQL",
    "NOTEBOOK_QUERIES",
    "REFERENCE_SQL",
    "TARGET_RATIO",
    "WINDOW_SQL",
    "bench_exposure_queries",
]

TARGET_RATIO = 1.5  # notebook 02's analysis on DuckDB, against the hand-written reference

NOTEBOOK_QUERIES = (
    "incident_window",
    "possibly_affected",
    "window_sessions",
    "binding_candidates",
    "page_log_gaps",
    "foreign_page_views",
    "exposure_subjects",
    "profile_change_log",
    "allocation_actions",
    "withdrawals_without_page",
)

# Step 1: the incident window; the later steps take it as parameters $t0 and $t1.
WINDOW_SQL = """
SELECT (SELECT max(time) FROM deployments WHERE time <= (SELECT min(time) FROM incident_actions)),
       (SELECT min(time) FROM incident_actions WHERE action = 'fix_deployed')
"""

# Step 2: the candidate of each window login, as a table. Kept out of the figures query on
# purpose: DuckDB materialises inputs used more than once in a statement, and a range join
# over a materialised input loses its fast plan (25 s instead of 0.5 s at stockholm).
CANDIDATES_SQL = """
CREATE OR REPLACE TEMP TABLE cand AS
WITH latest AS (
    SELECT l.session_id, l.applicant_id, l.time AS login_at, max(o.time) AS mx
    FROM logins l, logins o JOIN logouts e USING (session_id)
    WHERE l.time >= $t0 AND l.time < $t1
      AND o.time < l.time AND e.time > l.time AND o.applicant_id <> l.applicant_id
    GROUP BY ALL
)
SELECT latest.session_id, c.applicant_id AS account_id
FROM latest JOIN logins c ON c.time = latest.mx AND c.applicant_id <> latest.applicant_id
JOIN logouts e ON e.session_id = c.session_id AND e.time > latest.login_at
"""

# Step 3: the same figures as the notebook, written by hand for DuckDB over the Parquet evidence.
# The session end is the logout (every generated session has one). A session is bound when a
# page, change or interest names a foreign account (a withdrawal page that lost its account_id
# names it through the interest withdrawn at that instant). It is unsettled when another
# member's session was open at login and nothing names its account, or only its owner's up to
# a point after which pages without account_id (or a gap in the page log) could have shown
# another account: the README's "Swaps in mid-session".
REFERENCE_SQL = """
WITH
s AS (SELECT l.session_id, l.applicant_id, l.time AS login_at, o.time AS ended_at, o.reason
      FROM logins l JOIN logouts o USING (session_id)),
w AS (SELECT s.* FROM s WHERE s.login_at >= $t0 AND s.login_at < $t1),
pv AS (
    SELECT p.session_id, p.account_id, p.path, p.status, p.time,
           lag(p.time) OVER (PARTITION BY p.session_id ORDER BY p.time) AS prev,
           p.status = 200 AND (p.path IN ('/mina-sidor', '/mina-sidor/profil', '/mina-sidor/ko', '/mina-sidor/intressen',
                                          '/mina-sidor/erbjudanden')
                               OR p.path LIKE '/lagenhet/%/intresse' OR p.path LIKE '/mina-sidor/intressen/%/ta-bort') AS renders
    FROM page_views p JOIN w USING (session_id)
),
-- The log must hold each login page, each user logout page and the last page before a
-- timeout, and no pause inside a session can outlast the 20-minute idle timeout.
incomplete AS (
    SELECT w.session_id FROM w LEFT JOIN pv USING (session_id) GROUP BY w.session_id, w.reason, w.ended_at
    HAVING count(pv.session_id) = 0 OR NOT coalesce(bool_or(pv.path = '/logga-in'), false)
        OR (w.reason = 'user' AND NOT coalesce(bool_or(pv.path = '/logga-ut'), false))
        OR (w.reason = 'timeout' AND max(pv.time) FILTER (WHERE pv.path <> '/logga-ut') + INTERVAL 20 MINUTE < w.ended_at)
        OR coalesce(bool_or(pv.prev + INTERVAL 20 MINUTE < pv.time), false)
),
-- A missing expected page lies in a gap of the whole page log: from the page served before it
-- to the page served after it (null: open on that side).
expected AS (
    SELECT w.login_at AS at FROM w WHERE NOT EXISTS (SELECT 1 FROM pv WHERE pv.session_id = w.session_id AND pv.path = '/logga-in')
    UNION ALL
    SELECT w.ended_at FROM w WHERE w.reason = 'user'
        AND NOT EXISTS (SELECT 1 FROM pv WHERE pv.session_id = w.session_id AND pv.path = '/logga-ut')
    UNION ALL
    SELECT w.ended_at - INTERVAL 20 MINUTE FROM w WHERE w.reason <> 'user'
        AND NOT EXISTS (SELECT 1 FROM pv WHERE pv.session_id = w.session_id AND pv.time >= w.ended_at - INTERVAL 20 MINUTE)
),
pt AS (SELECT time FROM page_views),
gaps AS (
    SELECT coalesce(b.time, '-infinity'::TIMESTAMPTZ) AS lo, coalesce(a.time, 'infinity'::TIMESTAMPTZ) AS hi
    FROM expected ASOF LEFT JOIN pt b ON expected.at > b.time ASOF LEFT JOIN pt a ON expected.at < a.time
),
ev AS (
    SELECT session_id, account_id, time FROM pv WHERE account_id IS NOT NULL
    UNION ALL SELECT c.session_id, c.account_id, c.time FROM profile_changes c JOIN w USING (session_id)
    UNION ALL SELECT i.session_id, i.applicant_id, NULL::TIMESTAMPTZ FROM interests i JOIN w USING (session_id)
    UNION ALL SELECT pv.session_id, i.applicant_id, pv.time FROM pv JOIN interests i
        ON i.listing_id = CAST(regexp_extract(pv.path, '/(\\d+)/', 1) AS BIGINT) AND i.withdrawn_at = pv.time
        WHERE pv.account_id IS NULL AND pv.path LIKE '/mina-sidor/intressen/%/ta-bort'
),
seen AS (
    SELECT w.session_id, w.applicant_id, w.login_at, w.ended_at,
           min(ev.account_id) FILTER (WHERE ev.account_id <> w.applicant_id) AS foreign_account,
           min(ev.time) FILTER (WHERE ev.account_id <> w.applicant_id) AS first_foreign,
           max(ev.time) FILTER (WHERE ev.account_id <> w.applicant_id) AS last_foreign,
           coalesce(bool_or(ev.account_id = w.applicant_id), false) AS own,
           max(ev.time) FILTER (WHERE ev.account_id = w.applicant_id) AS last_own
    FROM w LEFT JOIN ev USING (session_id) GROUP BY ALL
),
-- An owner-only session stays open to a later swap when, after its last own page or change,
-- a rendering page lacks account_id, a log gap overlaps it, or pages are missing outside any gap.
late AS (
    SELECT seen.session_id FROM seen
    WHERE seen.own AND seen.foreign_account IS NULL AND (
        EXISTS (SELECT 1 FROM pv WHERE pv.session_id = seen.session_id AND pv.renders AND pv.account_id IS NULL
                AND (seen.last_own IS NULL OR pv.time > seen.last_own))
        OR EXISTS (SELECT 1 FROM gaps WHERE coalesce(seen.last_own, seen.login_at) < gaps.hi AND seen.ended_at > gaps.lo)
        OR (seen.session_id IN (SELECT session_id FROM incomplete)
            AND NOT EXISTS (SELECT 1 FROM gaps WHERE seen.login_at < gaps.hi AND seen.ended_at > gaps.lo))
    )
),
unsettled AS (
    SELECT seen.* FROM seen WHERE foreign_account IS NULL AND session_id IN (SELECT session_id FROM cand)
    AND (NOT own OR session_id IN (SELECT session_id FROM late))
),
rendered AS (SELECT DISTINCT session_id FROM pv WHERE renders),
-- A page without account_id is proven shown only between the first and last evidence of the
-- foreign account, with no own evidence after the first foreign.
shown AS (
    SELECT DISTINCT pv.session_id, pv.time, pv.path, seen.foreign_account AS account_id FROM pv JOIN seen USING (session_id)
    WHERE seen.foreign_account IS NOT NULL AND pv.renders
      AND (pv.account_id = seen.foreign_account
           OR (pv.account_id IS NULL AND pv.time BETWEEN seen.first_foreign AND seen.last_foreign
               AND (seen.last_own IS NULL OR seen.last_own < seen.first_foreign)))
),
-- The co-applicant a profile page showed: the latest change at or before the page, else the
-- old value of the next change, else the export; not one the viewer typed in that session.
cpn AS (SELECT account_id, time, session_id, old_value, new_value FROM profile_changes
        WHERE field = 'co_applicant_personnummer' AND time >= $t0),
prof AS (SELECT * FROM shown WHERE path = '/mina-sidor/profil'),
co AS (
    SELECT CASE WHEN b.time IS NOT NULL THEN b.new_value WHEN a.time IS NOT NULL THEN a.old_value
                ELSE ap.co_applicant_personnummer END AS personnummer,
           b.session_id AS set_by, prof.session_id
    FROM prof
    ASOF LEFT JOIN cpn b ON b.account_id = prof.account_id AND b.time <= prof.time
    ASOF LEFT JOIN cpn a ON a.account_id = prof.account_id AND a.time > prof.time
    JOIN applicants ap ON ap.applicant_id = prof.account_id
),
ch AS (
    SELECT c.*, l.applicant_id AS actor, c.time < $t1 AS in_window
    FROM profile_changes c LEFT JOIN logins l USING (session_id) WHERE c.time >= $t0
),
flagged AS (
    SELECT *, coalesce(actor <> account_id, false) AS other FROM ch
),
runs AS (
    SELECT *, sum(CASE WHEN other IS DISTINCT FROM prev THEN 1 ELSE 0 END) OVER (k ROWS UNBOUNDED PRECEDING) AS run
    FROM (SELECT *, lag(other) OVER k AS prev FROM flagged WINDOW k AS (PARTITION BY account_id, field ORDER BY time, change_id))
    WINDOW k AS (PARTITION BY account_id, field ORDER BY time, change_id)
),
restore AS (
    SELECT account_id, field, run, max(time) AS run_end FROM runs WHERE other GROUP BY ALL
),
acts AS (
    SELECT 'interest_registered' AS kind, i.listing_id, i.applicant_id AS account_id, i.session_id
    FROM interests i JOIN w USING (session_id)
    UNION ALL
    SELECT CASE WHEN pv.path LIKE '/lagenhet/%' THEN 'interest_registered' ELSE 'interest_withdrawn' END,
           CAST(regexp_extract(pv.path, '/(\\d+)/', 1) AS BIGINT), pv.account_id, pv.session_id
    FROM pv WHERE pv.status = 200 AND (pv.path LIKE '/lagenhet/%/intresse' OR pv.path LIKE '/mina-sidor/intressen/%/ta-bort')
    UNION ALL
    SELECT 'offer_answered', o.listing_id, o.applicant_id, o.response_session_id FROM offers o JOIN w ON w.session_id = o.response_session_id
),
-- An act whose page lost its account_id acted on the account its session was bound to: the
-- foreign one, the owner's when the session is settled as not bound, unknown otherwise.
resolved AS (
    SELECT acts.kind, acts.listing_id, acts.session_id, any_value(seen.applicant_id) AS owner,
           coalesce(min(acts.account_id), any_value(seen.foreign_account),
                    any_value(CASE WHEN acts.session_id NOT IN (SELECT session_id FROM unsettled) THEN seen.applicant_id END)) AS account_id
    FROM acts JOIN seen USING (session_id) GROUP BY acts.kind, acts.listing_id, acts.session_id
)
SELECT
    (SELECT count(DISTINCT applicant_id) FROM w) AS people_possibly_affected,
    (SELECT count(DISTINCT foreign_account) FROM seen) AS accounts_bound_min,
    (SELECT count(DISTINCT a) FROM (SELECT foreign_account AS a FROM seen WHERE foreign_account IS NOT NULL
                                    UNION SELECT account_id FROM cand WHERE session_id IN (SELECT session_id FROM unsettled))) AS accounts_bound_max,
    (SELECT count(DISTINCT applicant_id) FROM seen WHERE foreign_account IS NOT NULL) AS people_put_into_min,
    (SELECT count(DISTINCT foreign_account) FROM seen JOIN rendered USING (session_id)) AS accounts_exposed_min,
    (SELECT count(*) FROM unsettled) AS sessions_unsettled,
    (SELECT count(*) FROM incomplete) AS sessions_incomplete,
    (SELECT count(*) FROM shown) AS pages_shown_to_others,
    (SELECT count(DISTINCT shown.account_id) FROM shown JOIN applicants a ON a.applicant_id = shown.account_id
     WHERE a.protected_identity) AS protected_identity_exposed,
    (SELECT count(DISTINCT personnummer) FROM co WHERE set_by IS DISTINCT FROM session_id) AS co_applicants_exposed,
    (SELECT count(DISTINCT actor) FROM ch WHERE in_window) AS people_who_made_changes,
    (SELECT count(DISTINCT actor) FROM ch WHERE in_window AND actor <> account_id) AS people_who_changed_others_data,
    (SELECT count(DISTINCT account_id) FROM ch WHERE in_window AND actor <> account_id) AS accounts_changed_by_others,
    (SELECT count(*) FROM restore) AS field_changes_to_restore,
    (SELECT count(*) FROM restore r WHERE EXISTS (
        SELECT 1 FROM runs x WHERE x.account_id = r.account_id AND x.field = r.field AND NOT x.other AND x.time > r.run_end)
    ) AS restore_conflicts,
    (SELECT count(*) FROM resolved WHERE account_id <> owner) AS allocation_affected
"""


def _reference(evidence: Path) -> tuple[dict, float]:
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for path in sorted(evidence.glob("*.parquet")):
        con.execute(
            f"CREATE VIEW {path.stem} AS SELECT * FROM read_parquet('{path}')"
        )  # names from the format, not input
    try:
        t0 = time.perf_counter()
        start, end = con.execute(WINDOW_SQL).fetchone()
        con.execute(CANDIDATES_SQL, {"t0": start, "t1": end})
        cursor = con.execute(REFERENCE_SQL, {"t0": start, "t1": end})
        names = [d[0] for d in cursor.description]
        row = cursor.fetchone()
        elapsed = time.perf_counter() - t0
    finally:
        con.close()
    return dict(zip(names, row, strict=True)), elapsed


def _workbench(url: str) -> tuple[dict, dict[str, float], float]:
    from workbench.case import open_case
    from workbench.exposure import review_exposure
    from workbench.queries import run

    per_query = {}
    with open_case(url) as case:
        for name in NOTEBOOK_QUERIES:
            t0 = time.perf_counter()
            run(name, case)
            per_query[name] = round(time.perf_counter() - t0, 3)
        t0 = time.perf_counter()
        review = review_exposure(case)
        binding, changes, exposure, allocation = review.binding, review.changes, review.exposure, review.allocation
        restore = review.restore
        elapsed = time.perf_counter() - t0
        b, c = review.bounds, changes.counts()
        figures = {
            "people_possibly_affected": b["people_possibly_affected"].likely,
            "accounts_bound_min": b["accounts_bound_to_others"].min,
            "accounts_bound_max": b["accounts_bound_to_others"].max,
            "people_put_into_min": b["people_put_into_others_accounts"].min,
            "accounts_exposed_min": b["accounts_exposed"].min,
            "sessions_unsettled": int((binding.sessions["status"] == "unknown").sum()),
            "sessions_incomplete": int(binding.sessions["pages_incomplete"].sum()),
            "pages_shown_to_others": int(exposure.views["certain"].sum()),
            "protected_identity_exposed": b["protected_identity_exposed"].min,
            "co_applicants_exposed": b["co_applicants_exposed"].min,
            "people_who_made_changes": c["people_who_made_changes"],
            "people_who_changed_others_data": c["people_who_changed_others_data"],
            "accounts_changed_by_others": c["accounts_changed_by_others"],
            "field_changes_to_restore": restore.height,
            "restore_conflicts": int(restore["conflict"].sum()),
            "allocation_affected": allocation.counts()["allocation_affected"],
        }
    return figures, per_query, elapsed


def bench_exposure_queries(scale: str, case_dir: str | Path, repeat: int = 2, db: str | Path | None = None) -> dict:
    """Time notebook 02's analysis on DuckDB against the hand-written reference; returns the figures and the ratio.

    ``case_dir`` holds ``evidence/*.parquet`` (e.g. from ``workbench generate``); the DuckDB
    case is ``db`` (default: ``exposure_bench.duckdb`` beside it), ingested from the evidence
    (timed apart, as ``ingest_s``) unless it exists.
    """
    from workbench.ingest import ingest

    case_dir = Path(case_dir).resolve()
    db = Path(db).resolve() if db else case_dir / "exposure_bench.duckdb"
    url = f"duckdb:///{db}"
    ingest_s = None
    if not db.exists():
        t0 = time.perf_counter()
        ingest(case_dir / "evidence", url, progress=False)
        ingest_s = round(time.perf_counter() - t0, 2)
    runs = [_workbench(url) for _ in range(repeat)]
    refs = [_reference(case_dir / "evidence") for _ in range(repeat)]
    figures, per_query, _ = runs[-1]
    analysis_s = min(r[2] for r in runs)
    reference_s = min(r[1] for r in refs)
    expected = refs[-1][0]
    mismatched = {k: (figures[k], expected[k]) for k in expected if figures.get(k) != expected[k]}
    return {
        "scale": scale,
        "engine": "duckdb",
        "ingest_s": ingest_s,
        "queries_s": per_query,
        "queries_total_s": round(sum(per_query.values()), 2),
        "analysis_s": round(analysis_s, 3),
        "reference_s": round(reference_s, 3),
        "ratio": round(analysis_s / reference_s, 2),
        "target_ratio": TARGET_RATIO,
        "target_met": analysis_s / reference_s <= TARGET_RATIO,
        "figures": figures,
        "figures_match_reference": not mismatched,
        "mismatched": mismatched,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("case_dir", help="a generated case folder holding evidence/*.parquet")
    parser.add_argument("--scale", default="unknown", help="label for the report, e.g. stockholm")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    print(json.dumps(bench_exposure_queries(args.scale, args.case_dir, args.repeat), indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Does merging the exposure review's statements pay? Measured on a DuckDB case, step by step.

    PYTHONPATH=. .venv/bin/python benchmarks/exposure_merge.py runs/stockholm/bench.duckdb [--repeat 5]

Issue #20 point 3 asks for the exposure analysis within 3x the focused reference. Three of
its statements read the window's pages: ``window_sessions`` (a materialised CTE ``views`` of
them with their owner), ``foreign_page_views`` and ``exposure_subjects`` (the accounts the
pages name). Two ways to read those pages once are timed here against the statements as
registered, in CPU seconds of this process (DuckDB's threads included), least of ``repeat``:

- ``merged``: one statement giving the window sessions and the foreign pages together (a
  wider frame, split in polars by its ``part`` column), sharing the ``views`` CTE;
- ``temp_table``: the ``views`` rows made once into a temporary table, which the window
  sessions, the foreign pages and the subjects' named accounts then read.

Each variant's rows are checked equal to the registered statements' before it is timed
(``check``), so a faster variant that answers otherwise is never reported as a gain.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.sql import visitors

from workbench.queries.exposure import exposure_subjects, foreign_page_views, window_sessions
from workbench.queries.runner import dialect

__all__ = ["merged_select", "statements", "time_variants"]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _cte(stmt: sa.Select, name: str) -> sa.CTE:
    for element in visitors.iterate(stmt):
        if isinstance(element, sa.CTE) and element.name == name:
            return element
    raise LookupError(f"no CTE {name!r} in the statement")


def merged_select(start: datetime, end: datetime, idle_timeout_minutes: int) -> sa.CompoundSelect:
    """Window sessions and foreign pages in one statement sharing the ``views`` CTE; ``part`` says which.

    The foreign pages are what ``foreign_page_views`` returns: rendering pages not naming
    the session's owner (``views.renders`` is the same test).
    """
    stmt = window_sessions(start, end, idle_timeout_minutes)
    views = _cte(stmt, "views")
    ws = stmt.subquery("ws")
    fp = (
        sa.select(
            views.c.session_id.label("page_session_id"),
            views.c.time.label("page_time"),
            views.c.path.label("page_path"),
            views.c.account_id.label("page_account_id"),
            views.c.owner.label("owner_applicant_id"),
        )
        .where(views.c.renders, sa.or_(views.c.account_id.is_(None), views.c.account_id != views.c.owner))
        .subquery("fp")
    )

    def pad(cols):
        return [sa.cast(sa.null(), c.type).label(c.name) for c in cols]

    return sa.union_all(
        sa.select(sa.literal("session").label("part"), *ws.c, *pad(fp.c)),
        sa.select(sa.literal("page").label("part"), *pad(ws.c), *fp.c),
    )


def split(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The merged frame as (window sessions, foreign pages), columns named as the registered queries name them."""
    pages = [c for c in frame.columns if c.startswith("page_")] + ["owner_applicant_id"]
    sessions = frame.filter(pl.col("part") == "session").drop("part", *pages)
    fp = frame.filter(pl.col("part") == "page").select(pages)
    return sessions, fp.rename({c: c.removeprefix("page_") for c in pages})


def _sql(stmt: Any) -> str:
    return str(stmt.compile(dialect=dialect("duckdb"), compile_kwargs={"literal_binds": True}))


def _parenthesised(sql: str, opening: str) -> str:
    """The text inside the parenthesis ``opening`` ends with, up to its matching close (no parenthesis in a literal)."""
    if not sql.startswith(opening):
        raise LookupError(f"the statement does not start with {opening!r}")
    depth, at = 1, len(opening)
    for i in range(at, len(sql)):
        depth += {"(": 1, ")": -1}.get(sql[i], 0)
        if depth == 0:
            return sql[at:i]
    raise LookupError("unbalanced parentheses")


def statements(start: datetime, end: datetime, idle_timeout_minutes: int) -> dict[str, Any]:
    """The registered statements and the two variants' statements, as DuckDB SQL."""
    ws_stmt = window_sessions(start, end, idle_timeout_minutes)
    ws, fp, es = _sql(ws_stmt), _sql(foreign_page_views(start, end)), _sql(exposure_subjects(start, end))
    views_sql = _parenthesised(ws, "WITH views AS MATERIALIZED \n(")
    shared = f"views AS MATERIALIZED \n({views_sql})"
    # The subjects' accounts named by pages: the one branch of its union that reads the page log.
    head, rest = es.split(" UNION SELECT page_views.account_id", 1)
    rest = rest[rest.index(" UNION SELECT profile_changes") :]
    return {
        "registered": {"window_sessions": ws, "foreign_page_views": fp, "exposure_subjects": es},
        "merged": {"merged": _sql(merged_select(start, end, idle_timeout_minutes)), "exposure_subjects": es},
        "temp_table": {
            "create": "CREATE OR REPLACE TEMP TABLE window_views AS " + views_sql,
            "window_sessions": ws.replace(shared, "views AS (SELECT * FROM window_views)"),
            "foreign_page_views": "SELECT session_id, time, path, account_id, owner AS owner_applicant_id "
            "FROM window_views WHERE renders AND (account_id IS NULL OR account_id != owner)",
            "exposure_subjects": head
            + " UNION SELECT account_id FROM window_views WHERE account_id IS NOT NULL"
            + rest,
        },
    }


def _frame(con, sql: str) -> pl.DataFrame:
    return pl.from_arrow(con.sql(sql).to_arrow_table())


def _same(a: pl.DataFrame, b: pl.DataFrame) -> bool:
    return a.select(sorted(a.columns)).sort(pl.all()).equals(b.select(sorted(b.columns)).sort(pl.all()))


def check(con, sql: dict[str, Any]) -> dict[str, bool]:
    """Whether each variant gives the registered statements' rows."""
    reg = {name: _frame(con, s) for name, s in sql["registered"].items()}
    sessions, pages = split(_frame(con, sql["merged"]["merged"]))
    con.execute(sql["temp_table"]["create"])
    temp = {name: _frame(con, s) for name, s in sql["temp_table"].items() if name != "create"}
    return {
        "merged": _same(sessions, reg["window_sessions"]) and _same(pages, reg["foreign_page_views"]),
        "temp_table": all(_same(temp[name], reg[name]) for name in reg),
    }


def time_variants(con, start: datetime, end: datetime, idle_timeout_minutes: int = 20, repeat: int = 5) -> dict:
    """Least CPU seconds of each statement of each design, alternated ``repeat`` times; totals per design."""
    sql = statements(start, end, idle_timeout_minutes)
    agree = check(con, sql)
    best: dict[str, dict[str, float]] = {design: {} for design in sql}
    for _ in range(repeat):
        for design, parts in sql.items():
            for name, s in parts.items():
                c0 = _cpu()
                if s.startswith("CREATE"):
                    con.execute(s)
                else:
                    con.sql(s).to_arrow_table()
                spent = _cpu() - c0
                best[design][name] = min(best[design].get(name, spent), spent)
    totals = {design: round(sum(parts.values()), 3) for design, parts in best.items()}
    return {
        "agree": agree,
        "cpu_s": {d: {k: round(v, 3) for k, v in parts.items()} for d, parts in best.items()},
        "total_cpu_s": totals,
        "load": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv=None) -> int:
    import duckdb

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("db", help="a case ingested into DuckDB (e.g. bench.duckdb of run.py --keep)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--idle-timeout", type=int, default=20)
    args = parser.parse_args(argv)
    from workbench.case import open_case
    from workbench.queries import run

    with open_case(f"duckdb:///{args.db}") as case:
        start, end = run("incident_window", case).select("deployed_at", "fix_deployed_at").row(0)
    con = duckdb.connect(args.db, read_only=True)  # the temporary table lives in memory only
    con.execute("SET TimeZone = 'UTC'")
    try:
        print(json.dumps(time_variants(con, start, end, args.idle_timeout, args.repeat), indent=2))
    finally:
        con.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

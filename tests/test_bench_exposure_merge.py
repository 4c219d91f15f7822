"""benchmarks/exposure_merge.py compares like with like: each merged design gives the registered statements' rows."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest

from workbench.case import open_case
from workbench.queries import run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import exposure_merge


@pytest.fixture
def con(tiny_duckdb):
    with open_case(tiny_duckdb) as case:
        window = run("incident_window", case).select("deployed_at", "fix_deployed_at").row(0)
    c = duckdb.connect(tiny_duckdb.removeprefix("duckdb:///"), read_only=True)
    c.execute("SET TimeZone = 'UTC'")
    yield c, window
    c.close()


def test_variants_agree_with_the_registered_statements(con):
    c, (start, end) = con
    sql = exposure_merge.statements(start, end, 20)
    assert exposure_merge.check(c, sql) == {"merged": True, "temp_table": True}
    sessions, pages = exposure_merge.split(exposure_merge._frame(c, sql["merged"]["merged"]))
    assert sessions.height > 0 and pages.height > 0  # the tiny case has foreign pages: the check is not vacuous
    assert set(pages.columns) == {"session_id", "time", "path", "account_id", "owner_applicant_id"}


def test_check_notices_a_variant_that_answers_otherwise(con):
    c, (start, end) = con
    sql = exposure_merge.statements(start, end, 20)
    sql["temp_table"]["foreign_page_views"] += " AND path <> '/mina-sidor'"  # drops some foreign pages
    assert exposure_merge.check(c, sql)["temp_table"] is False


def test_timing_reports_every_statement(con):
    c, (start, end) = con
    out = exposure_merge.time_variants(c, start, end, repeat=1)
    assert out["agree"] == {"merged": True, "temp_table": True}
    assert set(out["cpu_s"]["temp_table"]) == {"create", "window_sessions", "foreign_page_views", "exposure_subjects"}
    assert out["total_cpu_s"]["merged"] == pytest.approx(sum(out["cpu_s"]["merged"].values()), abs=0.002)

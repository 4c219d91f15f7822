"""Every registered query runs on the generated tiny case, with identical frames on
SQLite, DuckDB and PostgreSQL (the last when a server is available; required under CI)."""

from __future__ import annotations

import pytest
from pg import pg_url, reader_url  # noqa: F401 - fixture

from workbench.case import open_case
from workbench.ingest import ingest
from workbench.queries import names, run


@pytest.fixture(scope="module")
def frames_on_sqlite(tiny_db):
    case = open_case(tiny_db)
    return {name: run(name, case) for name in names()}


@pytest.mark.parametrize("name", names())
def test_query_runs_on_the_tiny_case(frames_on_sqlite, name):
    frame = frames_on_sqlite[name]
    assert frame.width > 0


def test_overview_queries_return_rows_on_the_tiny_case(frames_on_sqlite):
    for name in ("table_counts", "manifest", "incident_window", "activity_per_hour"):
        assert frames_on_sqlite[name].height > 0, name


def test_duckdb_gives_identical_frames(frames_on_sqlite, tiny_duckdb):
    case = open_case(tiny_duckdb)
    for name, expected in frames_on_sqlite.items():
        got = run(name, case)
        if name == "manifest":  # ingested_at differs between the two ingests by design
            got, expected = got.drop("ingested_at"), expected.drop("ingested_at")
        assert got.equals(expected), name


@pytest.mark.postgres
def test_postgresql_gives_identical_frames(frames_on_sqlite, tiny_case, pg_url):  # noqa: F811
    ingest(tiny_case.evidence_dir, pg_url, progress=False)
    case = open_case(reader_url(pg_url))
    for name, expected in frames_on_sqlite.items():
        got = run(name, case)
        if name == "manifest":
            got, expected = got.drop("ingested_at"), expected.drop("ingested_at")
        assert got.equals(expected), name

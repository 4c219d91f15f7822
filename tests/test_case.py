"""open_case: read-only on every engine, URL handling, and reads with declared dtypes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from evidence_frames import handmade_frames, write_evidence
from pg import pg_url  # noqa: F401  (fixture)

from workbench import evidence
from workbench.case import CASE_TABLES, case_metadata, case_url, default_case_path, open_case
from workbench.errors import CaseError, UnknownNameError
from workbench.ingest import ingest


@pytest.fixture(scope="module")
def evidence_dir(tmp_path_factory) -> Path:
    return write_evidence(handmade_frames(), tmp_path_factory.mktemp("case") / "evidence")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _try_writes(case) -> list[Exception]:
    """Attempt an insert, a delete and a DDL statement; return the error each raised."""
    logouts = case.table("logouts")
    attempts = [
        sa.insert(logouts).values(time=sa.func.now(), session_id="s-new", reason="user"),
        sa.delete(logouts),
        sa.schema.CreateTable(sa.Table("intruder", sa.MetaData(), sa.Column("x", sa.Integer))),
    ]
    errors = []
    for statement in attempts:
        with pytest.raises(sa.exc.DBAPIError) as raised, case.connect() as conn:
            conn.execute(statement)
            conn.commit()
        errors.append(raised.value)
    return errors


def test_sqlite_case_refuses_writes_and_its_file_is_unchanged(evidence_dir, tmp_path):
    path = tmp_path / "case.db"
    ingest(evidence_dir, path, progress=False)
    before = _sha256(path)
    case = open_case(path)  # a plain path means SQLite
    assert (case.dialect, case.url.database) == ("sqlite", str(path))

    errors = _try_writes(case)

    assert all("attempt to write a readonly database" in str(e.orig) for e in errors), errors
    case.close()
    assert _sha256(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.db"]  # no journal left


def test_duckdb_case_refuses_writes_and_its_file_is_unchanged(evidence_dir, tmp_path):
    path = tmp_path / "case.duckdb"
    ingest(evidence_dir, f"duckdb:///{path}", progress=False)
    before = _sha256(path)
    case = open_case(f"duckdb:///{path}")
    assert case.dialect == "duckdb"

    errors = _try_writes(case)

    assert all("read-only mode" in str(e.orig) for e in errors), errors
    case.close()
    assert _sha256(path) == before


@pytest.mark.postgres
def test_postgres_case_refuses_writes_and_nothing_changes(evidence_dir, pg_url):  # noqa: F811
    ingest(evidence_dir, pg_url, progress=False)
    case = open_case(pg_url)
    assert case.dialect == "postgresql"
    count = sa.select(sa.func.count()).select_from(case.table("logouts"))
    with case.connect() as conn:
        before = conn.execute(count).scalar_one()

    errors = _try_writes(case)

    assert all("read-only transaction" in str(e.orig) for e in errors), errors
    with case.connect() as conn:
        assert conn.execute(count).scalar_one() == before == 1
        assert conn.execute(sa.text("SHOW default_transaction_read_only")).scalar_one() == "on"
        assert conn.execute(sa.text("SHOW TimeZone")).scalar_one() == "UTC"
    case.close()


@pytest.mark.postgres
def test_postgres_options_in_the_url_are_kept(evidence_dir, pg_url):  # noqa: F811
    with sa.create_engine(pg_url).begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS team_a")
    url = sa.make_url(pg_url).update_query_dict({"options": "-csearch_path=team_a"})
    ingest(evidence_dir, url, progress=False)
    with open_case(url) as case, case.connect() as conn:
        assert conn.execute(sa.text("SHOW search_path")).scalar_one() == "team_a"
        assert conn.execute(sa.text("SHOW default_transaction_read_only")).scalar_one() == "on"
        assert case.read_table("logins").height == 3


def test_read_table_types_an_empty_table_as_declared(evidence_dir, tmp_path):
    frames = {k: v for k, v in handmade_frames().items() if k != "contracts"}
    folder = write_evidence(frames, tmp_path / "evidence")
    ingest(folder, tmp_path / "case.db", progress=False)
    with open_case(tmp_path / "case.db") as case:
        contracts = case.read_table("contracts")
        manifest = case.read_table("manifest")
    assert contracts.height == 0 and contracts.schema == evidence.polars_schema("contracts")
    assert manifest.schema["ingested_at"] == pl.Datetime("us", "UTC")


def test_table_knows_case_tables_and_suggests_names(evidence_dir, tmp_path):
    ingest(evidence_dir, tmp_path / "case.db", progress=False)
    with open_case(tmp_path / "case.db") as case:
        assert case.table("quarantine") is case_metadata.tables["quarantine"]
        with pytest.raises(UnknownNameError, match=r"unknown case table 'login'\. Did you mean 'logins'"):
            case.table("login")
    assert set(CASE_TABLES) == set(case_metadata.tables)


def test_missing_case_file_is_a_clear_error_and_creates_nothing(tmp_path):
    with pytest.raises(CaseError, match=r"no case database at .*nowhere\.duckdb; create it with `workbench ingest EVIDENCE_DIR --case duckdb:///"):
        open_case(f"duckdb:///{tmp_path / 'nowhere.duckdb'}")
    with pytest.raises(CaseError, match=r"no case database at .*nothing\.db"):
        open_case(tmp_path / "nothing.db")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("mysql://u@h/db", r"uses 'mysql'; allowed: a file path, sqlite:///PATH, duckdb:///PATH or postgresql\+psycopg://"),
        ("duckdb:///:memory:", r"names no file; a case must be stored"),
    ],
)
def test_unsupported_case_urls_are_refused(given, message):
    with pytest.raises(CaseError, match=message):
        case_url(given)


def test_a_path_means_sqlite_and_the_default_is_beside_the_folder(tmp_path):
    assert case_url(tmp_path / "x.db") == sa.URL.create("sqlite", database=str(tmp_path / "x.db"))
    assert case_url("duckdb:///a/b.duckdb").get_backend_name() == "duckdb"
    assert default_case_path(tmp_path / "run" / "evidence") == tmp_path / "run" / "case.db"


def test_polars_schemas_follow_the_table_declarations():
    from workbench.case import polars_schema

    for name in CASE_TABLES:
        assert list(polars_schema(name)) == [c.name for c in case_metadata.tables[name].columns], name
    assert polars_schema("quarantine")["line"] == pl.Int64()
    with pytest.raises(UnknownNameError, match="Did you mean 'manifest'"):
        polars_schema("manifests")


def test_relative_case_paths_become_absolute(tmp_path, monkeypatch):
    from workbench.case import case_url

    monkeypatch.chdir(tmp_path)
    assert case_url("cases/case.db").database == str(tmp_path / "cases" / "case.db")
    assert case_url("sqlite:///cases/case.db").database == str(tmp_path / "cases" / "case.db")
    assert case_url("duckdb:///c.duckdb").database == str(tmp_path / "c.duckdb")

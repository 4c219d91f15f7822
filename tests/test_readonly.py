"""Read-only is the engine's: every known way to write through an open case is refused, on each engine.

Each attack runs through ``open_case`` as a notebook would, then the test checks from the
outside that nothing changed: the case file's hash, the rows of ``fees``, and no file, table,
schema or large object that was not there before.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from evidence_frames import handmade_frames, write_evidence
from pg import pg_url, reader_url  # noqa: F401  (fixture)

from workbench.case import create_case_engine, open_case
from workbench.cli import main
from workbench.errors import CaseError
from workbench.ingest import ingest
from workbench.queries import run

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(scope="module")
def evidence_dir(tmp_path_factory) -> Path:
    return write_evidence(handmade_frames(), tmp_path_factory.mktemp("readonly") / "evidence")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _attack(case, steps: list[str]) -> Exception:
    """Run ``steps`` in one connection; the error that stopped them.

    On PostgreSQL and SQLite the connection is in autocommit, the attacker's best chance: a
    ``BEGIN READ WRITE`` then really starts a transaction. duckdb-engine has no autocommit,
    so there each step is committed.
    """
    duck = case.dialect == "duckdb"
    with case.engine.connect() as raw:
        conn = raw if duck else raw.execution_options(isolation_level="AUTOCOMMIT")
        for step in steps:
            try:
                conn.exec_driver_sql(step)
                if duck:
                    conn.commit()
            except sa.exc.DBAPIError as exc:
                return exc
    raise AssertionError(f"every step went through: {steps}")


def _fees(case) -> int:
    with case.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(case.table("fees"))).scalar_one()


# --- URL options ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def duck(evidence_dir, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("duck") / "case.duckdb"
    ingest(evidence_dir, f"duckdb:///{path}", progress=False)
    return path


@pytest.fixture(scope="module")
def lite(evidence_dir, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("lite") / "case.db"
    ingest(evidence_dir, path, progress=False)
    return path


@pytest.mark.parametrize(
    ("url", "option", "allowed"),
    [
        ("duckdb:///{duck}?access_mode=READ_WRITE", "'access_mode'", "allowed duckdb options: memory_limit, threads"),
        ("duckdb:///{duck}?enable_external_access=true", "'enable_external_access'", "allowed duckdb options"),
        ("sqlite:///{lite}?mode=rw", "'mode'", "allowed sqlite options: none"),
        ("postgresql+psycopg://r@127.0.0.1:1/db?user=postgres", "'user'", "allowed postgresql options: "),
        (
            "postgresql+psycopg://r@127.0.0.1:1/db?options=-c%20default_transaction_read_only%3Doff",
            "options='-c default_transaction_read_only=off'",
            "allowed in options: only -c search_path=SCHEMA",
        ),
        (
            "postgresql+psycopg://r@127.0.0.1:1/db?options=-csearch_path%3Da%20-crole%3Dpostgres",
            "options='-csearch_path=a -crole=postgres'",
            "only -c search_path",
        ),
    ],
)
def test_a_url_option_that_could_write_is_refused_naming_it(url, option, allowed, duck, lite):
    before = (_sha256(duck), _sha256(lite))
    with pytest.raises(CaseError, match=r"is not allowed when a case is opened read-only") as raised:
        open_case(url.format(duck=duck, lite=lite))
    assert option in str(raised.value) and allowed in str(raised.value)
    assert (_sha256(duck), _sha256(lite)) == before


def test_the_engine_itself_refuses_options_not_only_open_case(duck):
    with pytest.raises(CaseError, match="'access_mode'"):
        create_case_engine(sa.make_url(f"duckdb:///{duck}?access_mode=READ_WRITE"), read_only=True)
    # Ingest still writes with options of its own choosing.
    create_case_engine(sa.make_url(f"duckdb:///{duck}?access_mode=READ_WRITE"), read_only=False).dispose()


def test_an_allowed_option_opens_the_case(duck):
    with open_case(f"duckdb:///{duck}?threads=1") as case, case.connect() as conn:
        assert conn.exec_driver_sql("SELECT current_setting('threads')").scalar_one() == 1
        assert _fees(case) == 3


@pytest.mark.parametrize("command", ["run", "report"])
def test_workbench_run_and_report_refuse_a_writable_url_before_any_notebook(command, duck, tmp_path, capsys):
    before = _sha256(duck)
    url = f"duckdb:///{duck}?access_mode=READ_WRITE"
    args = [command, "--case", url, "--out", str(tmp_path / "out")]
    status = main([*args, "00_case_overview"] if command == "run" else [*args, "--audience", "investigator"])
    err = capsys.readouterr().err
    assert status == 2, err
    assert f"workbench {command}: error: " in err and "'access_mode' is not allowed" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert _sha256(duck) == before


def test_a_query_given_a_writable_url_never_opens_it(duck):
    # What notebooks do: run(name, case_url). The finding was a notebook deleting fees.
    with pytest.raises(CaseError, match="'access_mode'"):
        run("fee_standing", f"duckdb:///{duck}?access_mode=READ_WRITE")


# --- DuckDB --------------------------------------------------------------------------------

DUCKDB_ATTACKS = {
    "copy table to a file": (["COPY fees TO '{out}/fees.csv'"], "file system operations are disabled"),
    "copy query to parquet": (["COPY (SELECT * FROM fees) TO '{out}/f.parquet'"], "disabled"),
    "export database": (["EXPORT DATABASE '{out}/export'"], "file system operations are disabled"),
    "attach a new file and create": (
        ["ATTACH '{out}/other.duckdb' AS o", "CREATE TABLE o.t (x INT)"],
        "file system operations are disabled",
    ),
    "delete": (["DELETE FROM fees"], "read-only mode"),
    "create table": (["CREATE TABLE intruder (x INT)"], "read-only mode"),
    "turn external access on": (["SET enable_external_access = true"], "the configuration has been locked"),
    "unlock": (["SET lock_configuration = false"], "the configuration has been locked"),
    "reset the lock": (["RESET lock_configuration"], "the configuration has been locked"),
    "global unlock": (["SET GLOBAL lock_configuration = false"], "the configuration has been locked"),
    "write mode": (["SET access_mode = 'READ_WRITE'"], "the configuration has been locked"),
    "profile to a file": (["SET profiling_output = '{out}/profile.json'"], "the configuration has been locked"),
    "log queries to a file": (["SET log_query_path = '{out}/queries.log'"], "the configuration has been locked"),
    "install an extension": (["INSTALL httpfs"], "disabled"),
    "load an extension": (["LOAD httpfs"], "disabled"),
    "read another file": (["SELECT * FROM read_csv('{evidence}/fees.csv')"], "file system operations are disabled"),
}


@pytest.mark.parametrize("name", DUCKDB_ATTACKS)
def test_duckdb_refuses_every_write_path(name, duck, evidence_dir, tmp_path):
    steps, reason = DUCKDB_ATTACKS[name]
    before = _sha256(duck)
    with open_case(f"duckdb:///{duck}") as case:
        error = _attack(case, [s.format(out=tmp_path, evidence=evidence_dir) for s in steps])
        assert reason in str(error.orig), error
        assert _fees(case) == 3
    assert _files(tmp_path) == []
    assert _sha256(duck) == before


def test_duckdb_session_stays_utc_and_locked(duck):
    with open_case(duck) as case, case.connect() as conn:
        assert conn.exec_driver_sql("SELECT current_setting('TimeZone')").scalar_one() == "UTC"
        assert conn.exec_driver_sql("SELECT current_setting('lock_configuration')").scalar_one() is True
        assert conn.exec_driver_sql("SELECT current_setting('enable_external_access')").scalar_one() is False
        with pytest.raises(sa.exc.DBAPIError, match="locked"):
            conn.exec_driver_sql("SET TimeZone = 'Europe/Stockholm'")


# --- SQLite --------------------------------------------------------------------------------

SQLITE_ATTACKS = {
    "vacuum into": ["VACUUM INTO '{out}/copy.db'"],
    "vacuum": ["VACUUM"],
    "attach and create": ["ATTACH '{out}/other.db' AS o", "CREATE TABLE o.t (x)"],
    "attach memory": ["ATTACH ':memory:' AS m"],
    "detach": ["DETACH main"],
    "delete": ["DELETE FROM fees"],
    "insert": ["INSERT INTO fees (applicant_id) VALUES ('x')"],
    "create table": ["CREATE TABLE intruder (x)"],
    "create temporary table": ["CREATE TEMP TABLE intruder (x)"],
    "drop table": ["DROP TABLE fees"],
    "set a pragma": ["PRAGMA user_version = 7"],
    "writable schema": ["PRAGMA writable_schema = ON"],
    "reindex": ["REINDEX"],
    "analyze": ["ANALYZE"],
}


@pytest.mark.parametrize("name", SQLITE_ATTACKS)
def test_sqlite_refuses_every_write_path(name, lite, tmp_path):
    before = _sha256(lite)
    with open_case(lite) as case:
        error = _attack(case, [s.format(out=tmp_path) for s in SQLITE_ATTACKS[name]])
        # The authorizer's refusal ("authorization denied" where VACUUM attaches its output).
        assert re.search("not authorized|authorization denied", str(error.orig)), error
        assert _fees(case) == 3
    assert _files(tmp_path) == []
    assert _sha256(lite) == before
    assert sorted(p.name for p in lite.parent.iterdir()) == ["case.db"]


def test_sqlite_reads_and_schema_lookups_still_work(lite):
    with open_case(lite) as case:
        assert case.read_table("fees").height == 3
        with case.connect() as conn:
            assert sa.inspect(conn).has_table("manifest")
            assert [r[1] for r in conn.exec_driver_sql("PRAGMA table_info(fees)")][:1] != []


# --- PostgreSQL ----------------------------------------------------------------------------


def _admin(url: str) -> sa.Engine:
    return sa.create_engine(url, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="module")
def pg_case(evidence_dir, pg_url) -> str:  # noqa: F811
    ingest(evidence_dir, pg_url, progress=False)
    return pg_url


def _pg_state(url: str) -> tuple:
    """What an attack could have changed: fees rows, user tables and schemas, large objects."""
    engine = _admin(url)
    with engine.connect() as conn:
        state = (
            conn.exec_driver_sql("SELECT count(*) FROM fees").scalar_one(),
            sorted(
                conn.exec_driver_sql(
                    "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                    "AND n.nspname NOT LIKE 'pg_toast%%'"
                ).scalars()
            ),
            sorted(conn.exec_driver_sql("SELECT nspname FROM pg_namespace").scalars()),
            conn.exec_driver_sql("SELECT count(*) FROM pg_largeobject_metadata").scalar_one(),
        )
    engine.dispose()
    return state


OFF = "SET default_transaction_read_only = off"
PG_ATTACKS = {
    "session setting off, delete": ([OFF, "DELETE FROM fees"], "permission denied for table fees"),
    "session characteristics read write, delete": (
        ["SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", "DELETE FROM fees"],
        "permission denied for table fees",
    ),
    "begin read write, delete": (["BEGIN READ WRITE", "DELETE FROM fees"], "permission denied for table fees"),
    "begin read write, truncate": (["BEGIN READ WRITE", "TRUNCATE fees"], "permission denied for table fees"),
    "update": ([OFF, "UPDATE fees SET amount = 0"], "permission denied for table fees"),
    "drop table": ([OFF, "DROP TABLE fees"], "must be owner of table fees"),
    "create table": ([OFF, "CREATE TABLE public.intruder (x int)"], "permission denied for schema public"),
    "create temporary table": ([OFF, "CREATE TEMP TABLE intruder (x int)"], "permission denied to create temporary"),
    "create schema": ([OFF, "CREATE SCHEMA intruder"], "permission denied for database"),
    "become the owner": ([OFF, "SET ROLE {admin}"], "permission denied to set role"),
    "large object": ([OFF, "SELECT lo_create(0)"], "permission denied for function lo_create"),
    "large object from bytes": ([OFF, "SELECT lo_from_bytea(0, 'x')"], "permission denied for function lo_from_bytea"),
    "copy to a server file": ([OFF, "COPY fees TO '/tmp/wb-readonly-{tag}.csv'"], "pg_write_server_files"),
}


@pytest.mark.postgres
@pytest.mark.parametrize("name", PG_ATTACKS)
def test_postgres_reader_refuses_every_write_path(name, pg_case):
    steps, reason = PG_ATTACKS[name]
    admin = sa.make_url(pg_case).username
    tag = uuid.uuid4().hex[:8]
    before = _pg_state(pg_case)
    with open_case(reader_url(pg_case)) as case:
        error = _attack(case, [s.format(admin=admin, tag=tag) for s in steps])
    assert reason in str(error.orig), error
    assert _pg_state(pg_case) == before
    assert not Path(f"/tmp/wb-readonly-{tag}.csv").exists()


@pytest.mark.postgres
def test_postgres_refuses_a_superuser_case_url(pg_case):
    with pytest.raises(CaseError) as raised:
        open_case(pg_case)
    message = str(raised.value)
    user = sa.make_url(pg_case).username
    assert f"role {user!r} can write (role {user} is a superuser)" in message
    assert "workbench_reader" in message and "Read-only cases" in message
    assert "\n" not in message


WRITER_GRANTS = {
    "insert on a table": ("GRANT INSERT ON fees TO {role}", "can write or owns table public.fees"),
    "temporary tables": ("GRANT TEMPORARY ON DATABASE {db} TO {role}", "has TEMPORARY on database"),
    "create on the database": ("GRANT CREATE ON DATABASE {db} TO {role}", "has CREATE on database"),
    "create on a schema": ("GRANT CREATE ON SCHEMA public TO {role}", "has CREATE on schema public"),
    "large objects": ("GRANT EXECUTE ON FUNCTION lo_create(oid) TO {role}", "can create large objects"),
    "member of a writer": ("GRANT {writer} TO {role}", "role {writer} can write or owns table public.fees"),
    "may create roles": ("ALTER ROLE {role} CREATEROLE", "can create roles"),
}


@pytest.mark.postgres
@pytest.mark.parametrize("name", WRITER_GRANTS)
def test_postgres_refuses_a_role_that_could_write(name, pg_case):
    grant, expected = WRITER_GRANTS[name]
    url = sa.make_url(pg_case)
    role, writer = f"wb_ro_{uuid.uuid4().hex[:8]}", f"wb_rw_{uuid.uuid4().hex[:8]}"
    names = {"role": role, "writer": writer, "db": f'"{url.database}"'}
    engine = _admin(pg_case)
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN NOINHERIT")
        conn.exec_driver_sql(f"CREATE ROLE {writer} NOLOGIN")
        conn.exec_driver_sql(f"GRANT INSERT ON fees TO {writer}")
        conn.exec_driver_sql(f'GRANT CONNECT ON DATABASE "{url.database}" TO {role}')
        conn.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
        with open_case(url.set(username=role)) as case:  # a reader so far
            assert _fees(case) == 3
        conn.exec_driver_sql(grant.format(**names))
    try:
        with pytest.raises(CaseError, match=f"^cannot open the case .* read-only: role '{role}' can write") as raised:
            open_case(url.set(username=role))
        assert expected.format(**names) in str(raised.value)
    finally:
        with engine.connect() as conn:
            for r in (role, writer):
                conn.exec_driver_sql(f"DROP OWNED BY {r}")
                conn.exec_driver_sql(f"DROP ROLE {r}")
        engine.dispose()


def _readme_sql() -> list[str]:
    section = README.read_text(encoding="utf-8").split("### Read-only cases", 1)[1].split("\n### ", 1)[0]
    block = re.search(r"```sql\n(.*?)```", section, re.S)
    assert block, "README 'Read-only cases' has no ```sql block"
    text = "\n".join(line.split("--", 1)[0] for line in block.group(1).splitlines())
    return [s.strip() for s in text.split(";") if s.strip()]


@pytest.mark.postgres
def test_the_readme_sql_makes_a_reader_open_case_accepts(evidence_dir, pg_url):  # noqa: F811
    server = sa.make_url(pg_url)
    db, role = f"wb_readme_{uuid.uuid4().hex[:8]}", f"wb_reader_{uuid.uuid4().hex[:8]}"
    admin = _admin(server.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {db}")
    case_db = server.set(database=db)
    try:
        owner = _admin(case_db.render_as_string(hide_password=False))
        statements = _readme_sql()
        assert len(statements) == 9, statements
        with owner.connect() as conn:
            for statement in statements:
                conn.exec_driver_sql(
                    statement.replace("housing_case", db)
                    .replace("workbench_reader", role)
                    .replace("ROLE ingest", f"ROLE {server.username}")
                    .replace("TO ingest", f"TO {server.username}")
                )
        owner.dispose()
        ingest(evidence_dir, case_db, progress=False)  # after the grants: default privileges reach it
        with open_case(case_db.set(username=role)) as case:
            assert _fees(case) == 3
            error = _attack(case, [OFF, "DELETE FROM fees"])
            assert "permission denied for table fees" in str(error.orig)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        admin.dispose()


def test_duckdb_draws_no_progress_bar_in_interactive_python(duck):
    """In a notebook a slow query's progress bar is a widget, drawn or not by the load.

    DuckDB turns it on where ``__main__`` has no file (a kernel, ``python -c``), so the check
    runs in such a process.
    """
    code = (
        "from workbench.case import open_case\n"
        f"with open_case({str(duck)!r}) as case, case.connect() as conn:\n"
        "    print(conn.exec_driver_sql(\"SELECT current_setting('enable_progress_bar')\").scalar_one())\n"
    )
    plain = subprocess.run(
        [
            sys.executable,
            "-c",
            "import duckdb; print(duckdb.connect().execute(\"SELECT current_setting('enable_progress_bar')\").fetchone()[0])",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert plain.stdout.strip() == "True"  # DuckDB's default there, which the case turns off
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"

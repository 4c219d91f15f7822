"""open_case: read-only on every engine, URL handling, and reads with declared dtypes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from evidence_frames import handmade_frames, write_evidence
from pg import pg_url, reader_url  # noqa: F401  (fixture)

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

    # The authorizer refuses first; mode=ro would refuse too ("attempt to write a readonly database").
    assert all("not authorized" in str(e.orig) for e in errors), errors
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
    case = open_case(reader_url(pg_url))
    assert case.dialect == "postgresql"
    count = sa.select(sa.func.count()).select_from(case.table("logouts"))
    with case.connect() as conn:
        before = conn.execute(count).scalar_one()

    errors = _try_writes(case)

    # The session refuses first; the reader role would refuse too (tests/test_readonly.py).
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
    with open_case(reader_url(url)) as case, case.connect() as conn:
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
    nowhere = tmp_path / "nowhere.duckdb"
    with pytest.raises(
        CaseError,
        match=(
            rf"^no case database at {nowhere}; check the path, or, if the case does not exist yet, create it with "
            rf"`workbench ingest EVIDENCE_DIR --case duckdb:///{nowhere}`$"
        ),
    ):
        open_case(f"duckdb:///{nowhere}")
    with pytest.raises(CaseError, match=r"^no case database at .*nothing\.db; check the path"):
        open_case(tmp_path / "nothing.db")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def case_files(evidence_dir, tmp_path_factory) -> dict[str, Path]:
    """The hand-made evidence ingested once into each file engine: ``{"sqlite": path, "duckdb": path}``."""
    folder = tmp_path_factory.mktemp("case_files")
    paths = {"sqlite": folder / "case.db", "duckdb": folder / "case.duckdb"}
    for engine, path in paths.items():
        ingest(evidence_dir, f"{engine}:///{path}", progress=False)
    return paths


def test_the_file_headers_name_their_engine(case_files):
    # What case_url reads to tell the engines apart, checked on files the engines wrote.
    assert case_files["sqlite"].read_bytes()[:16] == b"SQLite format 3\x00"
    assert case_files["duckdb"].read_bytes()[8:12] == b"DUCK"


@pytest.mark.parametrize("engine", ["sqlite", "duckdb"])
def test_a_plain_path_opens_with_the_engine_of_its_file(case_files, evidence_dir, engine):
    path = case_files[engine]
    assert case_url(str(path)) == sa.URL.create(engine, database=str(path))
    with open_case(str(path)) as case:
        assert case.dialect == engine
        assert case.read_table("manifest").height == len(list(evidence_dir.iterdir()))


def test_a_file_of_another_engine_than_its_url_names_says_which_it_is(case_files):
    duck, lite = case_files["duckdb"], case_files["sqlite"]
    with pytest.raises(
        CaseError,
        match=(
            rf"^{duck} is a DuckDB database, but the case URL says sqlite; "
            rf"give duckdb:///{duck} or the plain path {duck}$"
        ),
    ):
        open_case(f"sqlite:///{duck}")
    with pytest.raises(
        CaseError, match=rf"^{lite} is a SQLite database, but the case URL says duckdb; give sqlite:///"
    ):
        open_case(f"duckdb:///{lite}")


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"", "empty"),
        (b'{"seed": 1}\n', "neither a SQLite nor a DuckDB database file"),
    ],
)
def test_a_file_that_is_no_database_names_itself_and_what_is_accepted(tmp_path, content, what):
    path = tmp_path / "scenario.json"
    path.write_bytes(content)
    accepted = (
        r"\(accepted: a SQLite or DuckDB file that `workbench ingest` wrote, "
        r"or a PostgreSQL URL postgresql\+psycopg://USER@HOST:PORT/DB\)$"
    )
    for given in (path, f"sqlite:///{path}", f"duckdb:///{path}"):
        with pytest.raises(CaseError, match=rf"^{path} is not a case database: it is {what} {accepted}"):
            open_case(given)
    assert path.read_bytes() == content


def test_a_folder_is_refused_with_the_case_files_inside_it(case_files):
    folder = case_files["sqlite"].parent
    with pytest.raises(
        CaseError,
        match=rf"^{folder} is a folder; give the case database file, "
        rf"e.g. {folder}/case.db or {folder}/case.duckdb$",
    ):
        open_case(folder)


@pytest.mark.parametrize("engine", ["sqlite", "duckdb"])
def test_a_database_that_is_not_a_case_is_refused(tmp_path, engine):
    path = tmp_path / f"other.{engine}"
    writer = sa.create_engine(f"{engine}:///{path}")
    with writer.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE notes (x INTEGER)")
    writer.dispose()
    name = {"sqlite": "SQLite", "duckdb": "DuckDB"}[engine]
    with pytest.raises(
        CaseError,
        match=rf"^{path} is a {name} database but not a case: it has no manifest table\. "
        r"A case is what `workbench ingest EVIDENCE_DIR --case URL` writes$",
    ):
        open_case(path)


def test_an_unreachable_server_is_one_line():
    with pytest.raises(
        CaseError,
        match=r"^cannot open the case postgresql\+psycopg://u@127\.0\.0\.1:1/db: "
        r"connection failed: .*Connection refused$",
    ):
        open_case("postgresql+psycopg://u@127.0.0.1:1/db")


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A project folder holding pyproject.toml and the package, with the current folder in its notebooks/."""
    import workbench.settings

    root = tmp_path / "project"
    (root / "notebooks").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'workbench'\n")
    monkeypatch.setattr(workbench.settings, "__file__", str(root / "workbench" / "settings.py"))
    monkeypatch.chdir(root / "notebooks")
    return root


def test_a_relative_case_path_is_found_from_the_project_folder_too(project, case_files):
    (project / "cases").mkdir()
    (project / "cases" / "case.duckdb").write_bytes(case_files["duckdb"].read_bytes())
    found = project / "cases" / "case.duckdb"
    # From notebooks/, where a kernel runs, as a plain path and in a URL
    assert case_url("cases/case.duckdb") == sa.URL.create("duckdb", database=str(found))
    assert case_url("duckdb:///cases/case.duckdb").database == str(found)
    with open_case("cases/case.duckdb") as case:
        assert case.dialect == "duckdb"
    # The current folder wins when it holds the path too
    (project / "notebooks" / "cases").mkdir()
    (project / "notebooks" / "cases" / "case.duckdb").write_bytes(case_files["sqlite"].read_bytes())
    assert case_url("cases/case.duckdb") == sa.URL.create(
        "sqlite", database=str(project / "notebooks" / "cases" / "case.duckdb")
    )
    # A case about to be written goes where the user is, never into the project folder
    assert case_url("cases/new.db", write=True).database == str(project / "notebooks" / "cases" / "new.db")
    (project / "notebooks" / "cases" / "case.duckdb").unlink()
    assert case_url("cases/case.duckdb", write=True).database == str(project / "notebooks" / "cases" / "case.duckdb")


def test_a_missing_relative_path_names_the_folders_it_was_looked_for_in(project):
    here = project / "notebooks"
    with pytest.raises(
        CaseError,
        match=(
            rf"^no case database at build/case\.duckdb, relative to the current folder {here} or the project folder "
            rf"{project}; check the path, or, if the case does not exist yet, create it with "
            r"`workbench ingest EVIDENCE_DIR --case build/case\.duckdb`$"
        ),
    ):
        open_case("build/case.duckdb")
    with pytest.raises(
        CaseError,
        match=rf"^no case database at build/case\.db, relative to the current folder {here} "
        rf"or the project folder {project}; .* --case sqlite:///build/case\.db`$",
    ):
        open_case("sqlite:///build/case.db")


def test_without_a_project_folder_only_the_current_folder_is_searched(project, case_files):
    (project / "pyproject.toml").unlink()  # as when the package is installed elsewhere
    (project / "case.db").write_bytes(case_files["sqlite"].read_bytes())
    here = project / "notebooks"
    assert case_url("case.db").database == str(here / "case.db")
    with pytest.raises(CaseError, match=rf"^no case database at case\.db, relative to the current folder {here}; "):
        open_case("case.db")


def test_a_new_plain_path_means_duckdb_when_it_ends_in_duckdb(tmp_path):
    assert case_url(tmp_path / "new.duckdb", write=True) == sa.URL.create(
        "duckdb", database=str(tmp_path / "new.duckdb")
    )
    assert case_url(tmp_path / "new.db", write=True) == sa.URL.create("sqlite", database=str(tmp_path / "new.db"))


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            "mysql://u@h/db",
            r"uses 'mysql'; allowed: a file path, sqlite:///PATH, duckdb:///PATH or postgresql\+psycopg://",
        ),
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

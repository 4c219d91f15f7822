"""The query registry: every query is complete, runs on every engine, and fails helpfully."""

from __future__ import annotations

import inspect
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import polars as pl
import pytest
import sqlalchemy as sa
from casekit import case_engine, sqlite_case, utc  # noqa: F401 - fixtures
from polars.testing import assert_frame_equal

from workbench import audience, queries
from workbench.case import case_metadata, open_case
from workbench.errors import UnknownNameError, WorkbenchError
from workbench.queries import FromQuery, Param, Query, QueryParameterError
from workbench.queries.registry import PARAM_TYPES
from workbench.queries.runner import _statement, conform

NAMES = queries.names()


def test_the_first_queries_are_registered():
    assert set(NAMES) >= {"table_counts", "manifest", "quarantine_summary", "incident_window", "activity_per_hour"}


# --- completeness: one loop over the whole registry ------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_query_is_described_and_declares_its_params(name):
    q = queries.get(name)
    assert q.description.strip() and "\n" not in q.description
    assert q.domain
    assert [p.name for p in q.params] == list(inspect.signature(q.build).parameters)
    for p in q.params:
        assert p.type in PARAM_TYPES and p.doc, f"{name}.{p.name} needs a type and a doc"
    assert inspect.getdoc(q.build), f"{name} needs a docstring"


@pytest.mark.parametrize("dialect", queries.DIALECTS)
@pytest.mark.parametrize("name", NAMES)
def test_query_compiles_on_every_dialect(name, dialect):
    stmt, _, _ = _statement(queries.get(name), {}, None)
    sql = str(stmt.compile(dialect=queries.dialect(dialect)))
    assert "SELECT" in sql
    text = queries.describe(name, dialect)
    assert f"SQL ({dialect}):" in text and queries.get(name).description in text


@pytest.mark.parametrize("name", NAMES)
def test_every_output_column_is_typed_and_tagged(name, sqlite_case):  # noqa: F811
    stmt, _, _ = _statement(queries.get(name), {}, None)
    untyped = [c.name for c in stmt.selected_columns if isinstance(c.type, sa.types.NullType)]
    assert not untyped, f"{name}: untyped output columns {untyped} cannot be conformed across engines"
    frame = queries.run(name, sqlite_case)
    assert pl.Null not in frame.dtypes
    tags = audience.tags(frame, query=name)
    assert None not in tags.values(), f"{name}: untagged output columns {tags}"


@pytest.mark.parametrize("name", [n for n in NAMES if queries.get(n).params])
def test_params_are_bound_never_written_into_sql(name):
    q = queries.get(name)
    sentinel = {
        datetime: utc(2001, 2, 3, 4, 5, 6),
        str: "x'; DROP TABLE logins; --",
        int: 987654321,
        float: 98765.4321,
        bool: True,
    }
    # Distinct values per parameter (a window must run forwards).
    given = {
        p.name: sentinel[p.type] + timedelta(hours=i) if p.type is datetime else sentinel[p.type]
        for i, p in enumerate(q.params)
        if p.type in sentinel
    }
    compiled = q.build(**q.bind(given)).compile(dialect=queries.dialect("sqlite"))
    for value in given.values():
        assert str(value) not in str(compiled) and "2001-02-03" not in str(compiled)
    assert set(given.values()) <= set(compiled.params.values())


# --- parity and values on every engine -----------------------------------------------------


@pytest.fixture(scope="module")
def reference(sqlite_case):  # noqa: F811
    return {name: queries.run(name, sqlite_case) for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_engines_give_identical_frames(name, case_engine, reference):  # noqa: F811
    assert_frame_equal(queries.run(name, case_engine), reference[name])


def test_table_counts(case_engine):  # noqa: F811
    counts = dict(queries.run("table_counts", case_engine).iter_rows())
    assert list(counts)[:4] == ["applicants", "fees", "deployments", "logins"]
    assert counts["logins"] == 4 and counts["page_views"] == 4 and counts["offers"] == 0
    assert queries.run("table_counts", case_engine).schema == pl.Schema({"table": pl.String, "rows": pl.Int64})


def test_incident_window(case_engine):  # noqa: F811
    row = queries.run("incident_window", case_engine).row(0, named=True)
    assert row == {
        "deployed_at": utc(2013, 12, 13, 17, 0),
        "login_disabled_at": utc(2013, 12, 16, 7, 30),
        "fix_deployed_at": utc(2013, 12, 18, 9, 0),
        "login_enabled_at": utc(2013, 12, 18, 10, 0),
    }


def test_activity_per_hour_defaults_to_the_window_plus_a_day(case_engine):  # noqa: F811
    frame = queries.run("activity_per_hour", case_engine)
    assert frame["hour"][0] == utc(2013, 12, 12, 17) and frame["hour"][-1] == utc(2013, 12, 19, 8)
    assert frame.height == 160  # 12 Dec 17:00 up to (not including) 19 Dec 09:00
    busy = {r[0]: r[1:] for r in frame.filter(pl.sum_horizontal(pl.exclude("hour")) > 0).iter_rows()}
    # The page view at 18:59:59.999999 stays in the 18:00 bucket, whatever the session zone.
    assert busy == {
        utc(2013, 12, 13, 18): (2, 2, 0, 0),
        utc(2013, 12, 13, 19): (0, 1, 1, 0),
        utc(2013, 12, 14, 9): (1, 1, 0, 1),
        utc(2013, 12, 15, 11): (0, 0, 0, 1),
    }


def test_activity_per_hour_with_explicit_window(case_engine):  # noqa: F811
    stockholm = timezone(timedelta(hours=1))
    frame = queries.run(
        "activity_per_hour",
        case_engine,
        start=datetime(2013, 12, 13, 19, 30, tzinfo=stockholm),
        end="2013-12-13T20:00:00Z",
    )
    # 19:30+01:00 is 18:30Z: the 18:05 login and 18:06 page view fall before the window.
    assert frame.rows() == [(utc(2013, 12, 13, 18), 1, 1, 0, 0), (utc(2013, 12, 13, 19), 0, 1, 1, 0)]


def test_quarantine_summary_and_manifest(case_engine):  # noqa: F811
    summary = queries.run("quarantine_summary", case_engine)
    assert summary.rows() == [
        ("evidence/logins.csv", "logins", "method", "unknown enum value", 1),
        ("evidence/logins.csv", "logins", "time", "naive timestamp", 2),
    ]
    manifest = queries.run("manifest", case_engine)
    assert manifest["path"].to_list() == ["evidence/applicants.csv", "evidence/logins.csv"]
    assert manifest.columns == [c.name for c in case_metadata.tables["manifest"].columns]
    assert manifest["ingested_at"].dtype == pl.Datetime("us", "UTC")


# --- the runner accepts what a notebook has at hand ------------------------------------


def test_run_accepts_a_case_a_path_an_engine_and_a_connection(sqlite_case, reference):  # noqa: F811
    path = sqlite_case.url.database
    with open_case(path) as case:
        assert_frame_equal(queries.run("table_counts", case), reference["table_counts"])
    assert_frame_equal(queries.run("table_counts", path), reference["table_counts"])
    assert_frame_equal(queries.run("table_counts", f"sqlite:///{path}"), reference["table_counts"])
    with sqlite_case.connect() as conn:
        assert_frame_equal(queries.run("table_counts", conn), reference["table_counts"])


def test_run_rejects_something_that_is_not_a_case():
    with pytest.raises(WorkbenchError, match=r"cannot run a query on 42 \(int\).*open_case"):
        queries.run("table_counts", 42)


def test_describe_on_a_case_shows_the_derived_window(sqlite_case):  # noqa: F811
    text = queries.describe("activity_per_hour", sqlite_case)
    assert "Values: start=2013-12-12T17:00:00+00:00, end=2013-12-19T09:00:00+00:00" in text
    assert "'2013-12-12 17:00:00.000000'" in text and "SQL (sqlite):" in text


def test_list_queries_is_one_row_per_query():
    listing = queries.list_queries()
    assert sorted(listing["name"].to_list()) == NAMES
    assert listing.filter(pl.col("name") == "activity_per_hour")["params"].item().startswith("start: datetime = ")


# --- errors that say what to do -------------------------------------------------------------


def test_unknown_query_suggests_the_close_name():
    with pytest.raises(UnknownNameError, match=r"unknown query 'table_count'\. Did you mean 'table_counts'"):
        queries.run("table_count", "unused.db")


def test_unknown_parameter_suggests_and_lists_the_declared_ones(sqlite_case):  # noqa: F811
    with pytest.raises(
        QueryParameterError,
        match=r"no parameter 'strat'\. Did you mean 'start'\? Declared parameters: start: datetime = .*end: datetime",
    ):
        queries.run("activity_per_hour", sqlite_case, strat=utc(2013, 12, 13))


@pytest.mark.parametrize(
    "value",
    ["yesterday", datetime(2013, 12, 13, 17), 1386954000, "2013-12-13T17:00:00"],
    ids=["word", "naive", "int", "naive-iso"],
)
def test_ill_typed_parameter_names_itself_and_the_declared_ones(sqlite_case, value):  # noqa: F811
    with pytest.raises(
        QueryParameterError,
        match=r"parameter 'start' of query 'activity_per_hour' must be a datetime with a time zone.*"
        r"Declared parameters: start: datetime",
    ):
        queries.run("activity_per_hour", sqlite_case, start=value)


def test_missing_required_parameter_names_itself():
    q = Query(
        "probe",
        "test",
        "A probe.",
        (Param("n", int, doc="How many."), Param("who", str, "x", "Who.")),
        lambda n, who: None,
    )
    with pytest.raises(
        QueryParameterError,
        match=r"query 'probe' needs parameter 'n' \(a int\)\. Declared parameters: n: int, who: str = x",
    ):
        q.bind({"who": "y"})
    with pytest.raises(QueryParameterError, match=r"'n' of query 'probe' must be a int, got True"):
        q.bind({"n": True})
    assert q.bind({"n": 3, "who": None}) == {"n": 3, "who": "x"}


@pytest.mark.parametrize(
    ("typ", "value", "allowed"),
    [
        (int, 10**30, r"a whole number from -9223372036854775808 to 9223372036854775807 \(64 bits\)"),
        (int, -(2**63) - 1, r"a whole number from -9223372036854775808 to 9223372036854775807 \(64 bits\)"),
        (float, float("inf"), "a finite number"),
        (float, float("nan"), "a finite number"),
        (float, 10**400, "a finite number"),
    ],
)
def test_a_number_outside_its_types_range_is_a_parameter_error_not_an_overflow(typ, value, allowed):
    q = Query("probe", "test", "A probe.", (Param("n", typ, doc="How many."),), lambda n: None)
    with pytest.raises(QueryParameterError, match=rf"^parameter 'n' of query 'probe' must be {allowed}, got "):
        q.bind({"n": value})
    assert q.bind({"n": typ(2**63 - 1)}) == {"n": typ(2**63 - 1)}


def test_a_huge_idle_timeout_on_a_case_is_a_parameter_error(sqlite_case):  # noqa: F811
    with pytest.raises(QueryParameterError, match=r"'idle_timeout_minutes' of query 'sessions' must be a whole number"):
        queries.run("sessions", sqlite_case, idle_timeout_minutes=10**30)


def test_empty_derived_default_says_to_pass_the_value(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = sa.create_engine(url)
    case_metadata.create_all(engine)
    with pytest.raises(
        QueryParameterError,
        match=r"defaults to incident_window\.login_disabled_at - 1 day, which is empty.*pass start=",
    ):
        queries.run("login_pause", engine)
    assert queries.run("activity_per_hour", engine, start=utc(2013, 1, 1), end=utc(2013, 1, 1, 2))[
        "n_logins"
    ].to_list() == [0, 0]
    # A window default with a fallback (the web log's span; an empty hour in 1970 without one) still runs.
    assert queries.run("activity_per_hour", engine)["hour"].to_list() == [utc(1970, 1, 1)]
    engine.dispose()


def test_window_must_run_forwards(sqlite_case):  # noqa: F811
    with pytest.raises(QueryParameterError, match=r"needs start before end, got start=2013-12-14T00:00:00\+00:00"):
        queries.run("activity_per_hour", sqlite_case, start=utc(2013, 12, 14), end=utc(2013, 12, 13))


def test_registration_checks_the_declaration():
    def probe(start):
        return sa.select(sa.literal(1))

    with pytest.raises(WorkbenchError, match=r"declared params \[\] do not match the arguments of .*probe\(start\)"):
        queries.register(probe, domain="test", description="A probe.")
    with pytest.raises(WorkbenchError, match=r"needs a one-line description"):
        queries.register(probe, domain="test", description="Two\nlines.", params=[Param("start", int, doc="x")])
    with pytest.raises(WorkbenchError, match=r"query 'table_counts' is registered twice"):
        queries.register(
            probe, name="table_counts", domain="test", description="A probe.", params=[Param("start", int, doc="x")]
        )
    with pytest.raises(WorkbenchError, match=r"parameter 'when' has type <class 'list'>; allowed: bool, int"):
        Param("when", list)
    assert "probe" not in queries.names()


def test_from_query_reads_as_an_offset():
    assert (
        str(FromQuery("incident_window", "fix_deployed_at", timedelta(hours=-36)))
        == "incident_window.fix_deployed_at - 36 h"
    )


# --- conforming what engines return -----------------------------------------------------------


def test_conform_normalises_text_times_local_zones_and_decimals():
    stmt = sa.select(
        sa.literal_column("a", sa.DateTime(timezone=True)).label("a"),
        sa.literal_column("b", sa.DateTime(timezone=True)).label("b"),
        sa.literal_column("c", sa.BigInteger()).label("c"),
        sa.literal_column("d", sa.Date()).label("d"),
    )
    raw = pl.DataFrame(
        {
            "a": ["2013-12-13 17:00:00.000000"],  # SQLite text
            "b": pl.Series([datetime(2013, 12, 13, 18)]).dt.replace_time_zone("Europe/Stockholm"),  # DuckDB local zone
            "c": pl.Series([Decimal(7)], dtype=pl.Decimal(38, 0)),  # sum() on DuckDB / PostgreSQL
            "d": ["2013-12-13"],
        }
    )
    out = conform(raw, stmt)
    assert out.schema == pl.Schema(
        {"a": pl.Datetime("us", "UTC"), "b": pl.Datetime("us", "UTC"), "c": pl.Int64, "d": pl.Date}
    )
    assert out.row(0)[:3] == (utc(2013, 12, 13, 17), utc(2013, 12, 13, 17), 7)

"""`generate --handover`: the synthetic case as an organisation hands it over, read back through its mapping.

The proof of issue 16, point 4: the hand-over (a SQLite queue system with Swedish names,
Windows-1252 CSV exports in local time, an IIS log in UTC, an .eml folder) ingested
through the mapping written with it gives the same case as ``evidence/``, table by table;
the --degrade modes reach it; times the writer cannot write without an offset are refused,
never lost.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from workbench import evidence
from workbench.case import open_case
from workbench.cli import main
from workbench.errors import GeneratorError
from workbench.mapping import ingest_mapped
from workbench.scenario.handover import write_handover


def _sorted(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    keys = [c.name for c in evidence.table(table).primary_key.columns] or frame.columns
    return frame.sort(keys, nulls_last=True)


def _assert_same_case(url: str, reference: str) -> None:
    with open_case(url) as mapped, open_case(reference) as plain:
        for table in evidence.TABLES:
            assert_frame_equal(_sorted(mapped.read_table(table), table), _sorted(plain.read_table(table), table))


@pytest.fixture(scope="module")
def handed_over(tmp_path_factory) -> Path:
    """The tiny case, seed 1, generated through the CLI with --handover (evidence equals tiny_case's)."""
    root = tmp_path_factory.mktemp("handover") / "case"
    argv = ["generate", "--scale", "tiny", "--seed", "1", "--out", str(root), "--handover", str(root / "handover")]
    assert main(argv) == 0
    return root


def test_the_handover_ingested_through_its_mapping_is_the_case_of_evidence(handed_over, tiny_case, tiny_db, tmp_path):
    for path in tiny_case.evidence_dir.iterdir():  # --handover changes nothing else
        assert (handed_over / "evidence" / path.name).read_bytes() == path.read_bytes(), path.name
    url = f"sqlite:///{tmp_path / 'mapped.db'}"
    report = ingest_mapped(handed_over / "handover", handed_over / "handover" / "mapping.yaml", url, progress=False)
    assert report.rows_quarantined == 0 and report.missing_tables == []
    assert all(f.reconciles for f in report.files)
    _assert_same_case(url, tiny_db)
    with open_case(url) as case:
        manifest = case.read_table("manifest")
        formats = dict(manifest.select("path", "format").iter_rows())
    # The SQLite database behind seven queries is hashed once, and each of them records its sha256.
    database = hashlib.sha256((handed_over / "handover" / "ko.sqlite").read_bytes()).hexdigest()
    queries = manifest.filter(pl.col("path").str.starts_with("ko.sqlite#"))
    assert queries.height >= 7 and set(queries["sha256"]) == {database}
    assert formats["export/sokande.csv"] == "csv" and formats["ko.sqlite#interests"] == "sql"
    assert formats["logs/W3SVC1/u_ex131213.log"] == "iis" and formats["mail/kundtjanst/000001.eml"] == "eml"


def test_the_handover_looks_like_an_organisations(handed_over, tiny_case):
    root = handed_over / "handover"
    raw = (root / "export" / "sokande.csv").read_bytes()
    assert b"\xc3" not in raw and re.search(rb"[\xe5\xe4\xf6]", raw)  # Windows-1252, not UTF-8: å ä ö are one byte
    title, header, first = raw.decode("cp1252").split("\r\n")[:3]
    assert title.startswith("Export från kösystemet") and header.startswith("Kundnr;Personnr;Fornamn;Efternamn;")
    assert re.search(r";\d+,00;", first)  # the income, with a decimal comma
    # Logins in Stockholm local time without an offset: December is UTC+1.
    login = tiny_case.evidence("logins").row(0, named=True)
    logins = (root / "export" / "inloggningar.csv").read_bytes().decode("cp1252").split("\r\n")
    assert logins[0].startswith("Tid;SessionsId;Kundnr;Metod")
    local = login["time"].replace(tzinfo=None) + timedelta(hours=1)
    assert logins[1].startswith(f"{local:%Y-%m-%d %H:%M:%S};{login['session_id']};")
    tables = {r[0] for r in sqlite3.connect(root / "ko.sqlite").execute("SELECT name FROM sqlite_master")}
    assert {"handlaggare", "handlaggarlogg", "objekt", "intresseanmalningar", "erbjudanden", "kontrakt"} <= tables
    log = (root / "logs" / "W3SVC1" / "u_ex131213.log").read_bytes().decode("utf-8")
    assert log.startswith("#Software: Microsoft Internet Information Services") and "\r\n#Fields: date time " in log
    lines = sum(1 for p in (root / "logs" / "W3SVC1").glob("*.log") for x in p.read_text().splitlines() if x[:1] != "#")
    assert lines == tiny_case.evidence("page_views").height
    mails = sorted((root / "mail" / "kundtjanst").glob("*.eml"))
    assert len(mails) == tiny_case.evidence("support_messages").height
    assert not mails[0].read_bytes().startswith(b"From ") and b"\nMessage-ID: " in mails[0].read_bytes()


def test_times_in_the_autumn_hour_reach_the_case_through_the_offset_column(tiny_case, tmp_path):
    # 02:30 on 2012-10-28 happened twice in Stockholm: first at 00:30 UTC (CEST), then at 01:30 UTC (CET).
    tables = {t: tiny_case.evidence(t) for t in evidence.TABLES}
    twice = [datetime(2012, 10, 28, 0, 30, tzinfo=UTC), datetime(2012, 10, 28, 1, 30, tzinfo=UTC)]
    ids = tables["applicants"]["applicant_id"].head(2).to_list()
    tables["applicants"] = tables["applicants"].with_columns(
        registered_at=pl.when(pl.col("applicant_id") == ids[0])
        .then(twice[0])
        .when(pl.col("applicant_id") == ids[1])
        .then(twice[1])
        .otherwise(pl.col("registered_at"))
    )
    write_handover(tables, tmp_path / "h", np.random.default_rng(1))
    text = (tmp_path / "h" / "export" / "sokande.csv").read_bytes().decode("cp1252")
    assert re.search(r";2012-10-28 02:30:00(\.0+)?;\+02:00;", text) and re.search(
        r";2012-10-28 02:30:00(\.0+)?;\+01:00;", text
    )
    url = f"sqlite:///{tmp_path / 'c.db'}"
    report = ingest_mapped(tmp_path / "h", tmp_path / "h" / "mapping.yaml", url, progress=False)
    assert report.rows_quarantined == 0
    with open_case(url) as case:
        got = case.read_table("applicants").filter(pl.col("applicant_id").is_in(ids)).sort("applicant_id")
    assert got["registered_at"].to_list() == [t for _, t in sorted(zip(ids, twice, strict=True))]


def test_a_zone_less_export_refuses_a_time_in_the_autumn_hour(tiny_case, tmp_path):
    tables = {t: tiny_case.evidence(t) for t in evidence.TABLES}
    tables["logins"] = tables["logins"].with_columns(
        time=pl.when(pl.int_range(pl.len()) == 0)
        .then(datetime(2013, 10, 27, 0, 45, tzinfo=UTC))
        .otherwise(pl.col("time"))
    )
    with pytest.raises(GeneratorError, match=r"logins.time times fall in the hour the clocks went back"):
        write_handover(tables, tmp_path / "h", np.random.default_rng(1))


def test_degraded_page_views_reach_the_handover_and_nothing_else_is_lost(case_factory, tmp_path):
    gap = "log-gap=2013-12-14T10:00/PT6H"
    case = case_factory(scale="tiny", seed=3, degrade=("missing-account-id=0.3", gap), handover=tmp_path / "h")
    url = f"sqlite:///{tmp_path / 'c.db'}"
    report = ingest_mapped(tmp_path / "h", tmp_path / "h" / "mapping.yaml", url, progress=False)
    logs = [f for f in report.files if f.table == "page_views"]
    assert all(f.rows_read == f.rows_loaded + f.rows_quarantined for f in report.files)
    assert sum(f.rows_read for f in logs) == sum(f.rows_loaded for f in logs) == case.evidence("page_views").height
    with open_case(url) as mapped:
        views = mapped.read_table("page_views")
    assert_frame_equal(_sorted(views, "page_views"), _sorted(case.evidence("page_views"), "page_views"))
    assert views["account_id"].null_count() > 0.3 * views.height  # blanked accounts are '-' in X-Kundnr
    start, end = datetime(2013, 12, 14, 10, tzinfo=UTC), datetime(2013, 12, 14, 16, tzinfo=UTC)
    assert views.filter(pl.col("time").is_between(start, end, closed="left")).height == 0
    blank = sum(
        line.endswith(" -")
        for p in (tmp_path / "h" / "logs" / "W3SVC1").glob("*.log")
        for line in p.read_text().splitlines()
        if not line.startswith("#")
    )
    assert blank == views["account_id"].null_count()


def test_map_init_drafts_the_generators_mapping_and_the_draft_gives_the_same_case(
    handed_over, tiny_db, tmp_path, capsys
):
    """The generator's own mapping is the ground truth for ``map init`` (issue 16, point 3)."""
    import yaml

    root = handed_over / "handover"
    draft = tmp_path / "draft.yaml"
    assert main(["map", "init", str(root), "--out", str(draft)]) == 0
    assert "unplaced:" not in capsys.readouterr().out
    truth = yaml.safe_load((root / "mapping.yaml").read_text(encoding="utf-8"))["tables"]
    text = draft.read_text(encoding="utf-8")
    drafted = yaml.safe_load(text)["tables"]
    assert set(drafted) == set(truth)
    assert not [line for line in text.splitlines() if "TODO" in line and not line.startswith("#")]
    for table, spec in truth.items():
        kind = next(iter(spec["source"]))
        assert next(iter(drafted[table]["source"])) == kind, table
        if kind == "sql":
            assert drafted[table]["source"]["sql"].replace('"', "") == spec["source"]["sql"], table
        for column, want in spec["columns"].items():
            got = drafted[table]["columns"][column]
            if isinstance(want, dict) and "values" in want:  # a value map of the values the data holds
                assert got["column"] == want["column"] and got["values"].items() <= want["values"].items(), column
            elif isinstance(want, dict) and "extract" in want:
                assert got["column"] == want["column"] and re.search(got["extract"], "ASP.NET_SessionId=ab12;+x=1")
            else:
                assert got == want, (table, column)
    # What the draft cannot know and says to check: the zone of the database's times (UTC here).
    lines = text.splitlines()
    zone_line = next(line for line in lines if line.startswith("timezone:"))
    in_utc = [t for t in truth if "timezone" in truth[t]]
    timed = [t for t in in_utc if any(isinstance(d, pl.Datetime) for d in evidence.polars_schema(t).values())]
    assert timed and all(f" {t}," in zone_line or f" {t} (" in zone_line for t in timed), zone_line
    for table, spec in truth.items():
        if "timezone" in spec:
            at = lines.index(f"  {table}:") + 1
            lines.insert(at + 1, f"    timezone: {spec['timezone']}")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("\n".join(lines) + "\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'drafted.db'}"
    report = ingest_mapped(root, mapping, url, progress=False)
    assert report.rows_quarantined == 0
    _assert_same_case(url, tiny_db)

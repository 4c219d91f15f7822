"""An IIS log is cut only into the fields its mapping reads (issue 16, point 4), and loses nothing by it.

Hand-written logs: the case (tables and quarantine, records included) from a projected read
equals the one from a read of every field, on the fast road (UTF-8) and the slow road (cp1252,
a lone ``\\r``), with one thread and two; a refused row's record holds every field of its line,
the unmapped ones too.
"""

from __future__ import annotations

import json
import sqlite3
import textwrap
from pathlib import Path

import polars as pl
import pytest
from mappingkit import case_rows

from workbench.ingest.batch import LINE
from workbench.mapping import iis, ingest_mapped
from workbench.mapping.check import check

MAPPING = textwrap.dedent(
    """\
    version: 1
    timezone: Europe/Stockholm
    tables:
      page_views:
        source: {SOURCE}
        columns:
          time: datetime
          session_id: {column: cs(Cookie), extract: "ASP.NET_SessionId=([^;]+)"}
          ip: c-ip
          path: cs-uri-stem
          status: sc-status
          account_id: {column: cs(Cookie), extract: "kund=([0-9]+)"}
    """
)
FIELDS_1 = "date time s-ip cs-method cs-uri-stem cs-uri-query c-ip cs(User-Agent) cs(Referer) cs(Cookie) sc-status"
FIELDS_2 = "time cs(Cookie) sc-status cs-uri-stem date cs(User-Agent) cs-method"  # reordered, no c-ip
FIELDS_3 = "date time cs-uri-stem c-ip sc-status cs(User-Agent)"  # no cs(Cookie), which the mapping needs
COOKIE = "ASP.NET_SessionId=s{0};+kund=100{0}"


def _log(agent: str = "Mozilla/5.0+(Windows+NT+6.1)", cr: str = "\r\n", lone_cr: bool = False) -> str:
    lines = [
        "2013-12-13 17:49:59 stray line before any directive",
        "#Software: Microsoft Internet Information Services 7.5",
        f"#Fields: {FIELDS_1}",
        f"2013-12-13 17:50:01 192.0.2.1 GET /mina-sidor - 10.0.0.1 {agent} - {COOKIE.format(1)} 200",
        f"2013-12-13 17:50:02 192.0.2.1 GET /mina-sidor/profil a=1 10.0.0.2 {agent}+(Refused) https://x/ {COOKIE.format(2)} 2OO",
        f"2013-12-13 17:50:03 192.0.2.1 GET /too/many - 10.0.0.3 {agent} - {COOKIE.format(3)} 200 extra",
        f"2013-12-13 17:50:04 192.0.2.1 POST /mina-sidor/ko - 10.0.0.4 {agent} - {COOKIE.format(4)} 302",
        f"#Fields: {FIELDS_2}",
        f"17:55:03 {COOKIE.format(5)} 200 /mina-sidor/ko 2013-12-13 {agent} GET",
        f"17:55:04 {COOKIE.format(6)} 5xx /mina-sidor/x 2013-12-13 {agent}+(Refused+too) POST",
        f"#Fields: {FIELDS_3}",
        f"2013-12-13 17:56:00 /mina-sidor 10.0.0.7 200 {agent}+(No+cookie)",
    ]
    text = cr.join(lines) + cr
    if lone_cr:  # a lone \r ends a line too: the chunk takes the slow road
        text = text.replace(f"302{cr}", "302\r")
    return text


def _handover(root: Path, log: bytes, source: str = '{iis: "logs/u_ex*.log"}') -> Path:
    (root / "logs").mkdir(parents=True)
    (root / "logs" / "u_ex131213.log").write_bytes(log)
    mapping = root / "mapping.yaml"
    mapping.write_text(MAPPING.replace("{SOURCE}", source), encoding="utf-8")
    return mapping


def _unprojected(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every read of an IIS log cuts every field, as before projection."""
    read = iis.read_iis
    monkeypatch.setattr(
        "workbench.mapping.read.read_iis",
        lambda path, encoding, all_fields, label=None, needed=None: read(path, encoding, all_fields, label),
    )


def _case(root: Path, mapping: Path, path: Path, workers: int) -> dict[str, list[tuple]]:
    ingest_mapped(root, mapping, case_url=path, progress=False, workers=workers)
    rows = case_rows(path)
    rows["manifest"] = [r for r in rows["manifest"] if "sha256" not in str(r)] or rows["manifest"]
    return rows


ROADS = {
    "fast": (lambda: _log().encode("utf-8"), '{iis: "logs/u_ex*.log"}'),
    "cp1252": (
        lambda: _log(agent="Mozilla/5.0+(Åsa)").encode("cp1252"),
        '{iis: "logs/u_ex*.log", encoding: cp1252}',
    ),
    "lone_cr": (lambda: _log(lone_cr=True).encode("utf-8"), '{iis: "logs/u_ex*.log"}'),
}


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("road", list(ROADS))
def test_the_case_from_a_projected_read_equals_the_one_from_every_field(tmp_path, monkeypatch, road, workers):
    log, source = ROADS[road]
    mapping = _handover(tmp_path / "h", log(), source)
    if road == "lone_cr":
        assert iis.scan(log()) is None  # the slow road indeed
    projected = _case(tmp_path / "h", mapping, tmp_path / "projected.db", workers)
    with monkeypatch.context() as m:
        _unprojected(m)
        whole = _case(tmp_path / "h", mapping, tmp_path / "whole.db", workers)
    assert projected == whole
    views = projected["page_views"]
    assert [(v[1], v[2], v[3], v[4]) for v in views] == [  # session, ip, path, status
        ("s1", "10.0.0.1", "/mina-sidor", 200),
        ("s4", "10.0.0.4", "/mina-sidor/ko", 302),
        ("s5", None, "/mina-sidor/ko", 200),  # the second directive logs no c-ip
    ]
    assert len(projected["quarantine"]) == 5  # before any directive, too many fields, 2OO, 5xx, no cookie


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("road", list(ROADS))
def test_a_refused_row_keeps_every_field_of_its_line_in_its_record(tmp_path, road, workers):
    log, source = ROADS[road]
    root = tmp_path / "h"
    mapping = _handover(root, log(), source)
    ingest_mapped(root, mapping, case_url=tmp_path / "case.db", progress=False, workers=workers)
    con = sqlite3.connect(tmp_path / "case.db")
    rows = {
        line: (column, value, reason, record)
        for line, column, value, reason, record in con.execute(
            'SELECT line, "column", value, reason, record FROM quarantine ORDER BY line'
        )
    }
    agent = "Mozilla/5.0+(Åsa)" if road == "cp1252" else "Mozilla/5.0+(Windows+NT+6.1)"
    # 2OO: refused by the value check; every field of the line is in the record, the unmapped ones too
    assert rows[5][:2] == ("status", "2OO")
    record = json.loads(rows[5][3])
    assert record["cs(User-Agent)"] == f"{agent}+(Refused)" and record["cs(Referer)"] == "https://x/"
    assert record["s-ip"] == "192.0.2.1" and record["cs-uri-query"] == "a=1" and record["cs-method"] == "GET"
    assert record["datetime"] == "2013-12-13T17:50:02Z" and record["sc-status"] == "2OO"
    # under the reordered directive: each field by its name, a field it does not log null
    record = json.loads(rows[10][3])
    assert (record["cs(User-Agent)"], record["cs-method"], record["c-ip"]) == (f"{agent}+(Refused+too)", "POST", None)
    # a needed field the directive lacks: refused while mapped, and the record is the whole line too
    assert rows[12][0] == "session_id" and "'cs(Cookie)' is not logged" in rows[12][2]
    record = json.loads(rows[12][3])
    assert (record["cs(User-Agent)"], record["c-ip"], record["cs(Cookie)"]) == (
        f"{agent}+(No+cookie)",
        "10.0.0.7",
        None,
    )
    # malformed lines keep their raw text, as before
    assert rows[1][2].startswith("a log line before any #Fields: directive") and rows[1][3] is None
    assert "12 fields where the #Fields: directive of line 3 names 11" in rows[6][2]


def test_a_projected_read_cuts_only_the_needed_fields_and_gives_the_rest_on_demand(tmp_path):
    path = tmp_path / "u_ex131213.log"
    path.write_bytes(_log().encode("utf-8"))
    all_fields = list(dict.fromkeys([*FIELDS_1.split(), *FIELDS_2.split(), *FIELDS_3.split(), "datetime"]))
    needed = frozenset({"datetime", "c-ip", "cs(Cookie)", "sc-status", "cs-uri-stem"})
    projected = list(iis.read_iis(path, "utf-8", all_fields, needed=needed))
    whole = list(iis.read_iis(path, "utf-8", all_fields))
    assert all(b.records is None for b in whole)
    frame = pl.concat([b.frame for b in projected])
    assert "cs(User-Agent)" not in frame.columns and "s-ip" not in frame.columns
    shared = pl.concat([b.frame for b in whole]).select(frame.columns)
    assert frame.equals(shared)  # the same values for the fields both read, absent fields named alike
    for batch, full in zip(projected, whole, strict=True):
        if batch.frame.is_empty():  # the lines before any directive: all quarantined, as read
            assert batch.records is None and batch.malformed.equals(full.malformed)
            continue
        assert batch.records is not None
        lines = batch.frame[LINE].reverse()  # in any order, each once
        again = batch.records(pl.concat([lines, lines]))
        assert again.sort(LINE).equals(full.frame.sort(LINE))


def test_needed_fields_absent_from_every_directive_read_one_field_to_count_the_rows(tmp_path):
    path = tmp_path / "u_ex131213.log"
    path.write_bytes(_log().encode("utf-8"))
    all_fields = [*FIELDS_1.split(), "datetime"]
    batches = list(iis.read_iis(path, "utf-8", all_fields, needed=frozenset({"X-Kundnr"})))
    frame = pl.concat([b.frame for b in batches])
    assert frame.height == 6 and frame["datetime"].null_count() == 6  # 8 lines, 2 malformed
    assert "date" not in frame.columns


def test_map_check_says_the_same_with_and_without_projection(tmp_path, monkeypatch):
    mapping = _handover(tmp_path / "h", _log().encode("utf-8"))
    projected = check(tmp_path / "h", mapping)
    with monkeypatch.context() as m:
        _unprojected(m)
        whole = check(tmp_path / "h", mapping)
    # (kinds of problem counted alike are listed in no set order: compare the lines as a multiset)
    assert sorted(whole[0].splitlines()) == sorted(projected[0].splitlines()) and whole[1] == projected[1]
    assert "2OO" in projected[0] and "5 rows would be quarantined" in projected[0] and not projected[1]


LONG, SHORT = "2013-12-13 17:50:02 10.0.0.2 - extra", "2013-12-13 17:50:03 10.0.0.3"


@pytest.mark.parametrize("needed", [None, frozenset({"datetime", "c-ip"}), frozenset({"sc-status"})])
@pytest.mark.parametrize("middle", [[LONG, SHORT], [SHORT, LONG]], ids=["long-short", "short-long"])
@pytest.mark.parametrize("end", ["", "\n"], ids=["no-end", "end"])
def test_a_line_too_long_and_one_too_short_are_both_malformed_though_their_spaces_add_up(tmp_path, needed, middle, end):
    # The CSV reader raises on a line with too many fields only when it cuts every field (and
    # not always then, on the last line); the stretch's spaces total its lines times three.
    path = tmp_path / "u_ex131213.log"
    lines = ["2013-12-13 17:50:01 10.0.0.1 200", *middle, "2013-12-13 17:50:04 10.0.0.4 -"]
    if middle[0] == SHORT:  # the long line last of all
        lines = [lines[0], lines[1], lines[3], lines[2]]
    path.write_text("#Fields: date time c-ip sc-status\n" + "\n".join(lines) + end)
    assert "\n".join(lines).count(" ") == 4 * 3
    batches = list(iis.read_iis(path, "utf-8", ["date", "time", "c-ip", "sc-status", "datetime"], needed=needed))
    frame = pl.concat([b.frame for b in batches]).sort(LINE)
    good = [n for n, t in enumerate(lines, 2) if t not in (LONG, SHORT)]
    assert frame[LINE].to_list() == good
    if needed is None or "c-ip" in needed:
        assert frame["c-ip"].to_list() == ["10.0.0.1", "10.0.0.4"]
        assert frame["datetime"].to_list() == ["2013-12-13T17:50:01Z", "2013-12-13T17:50:04Z"]
    if needed is None or "sc-status" in needed:
        assert frame["sc-status"].to_list() == ["200", None]  # '-' is null, the last field too
    malformed = pl.concat([b.malformed for b in batches]).sort(LINE)
    assert malformed["value"].to_list() == [t for t in lines if t in (LONG, SHORT)]
    assert sorted(r.split(" where")[0] for r in malformed["reason"]) == [
        "malformed line: 3 fields",
        "malformed line: 5 fields",
    ]


def test_the_records_are_the_same_on_both_roads_and_with_one_thread_or_two(tmp_path):
    quarantines = []
    for road, workers in (("fast", 1), ("fast", 2), ("lone_cr", 1), ("lone_cr", 2)):
        log, source = ROADS[road]
        root = tmp_path / f"{road}{workers}"
        mapping = _handover(root, log(), source)
        ingest_mapped(root, mapping, case_url=tmp_path / f"{road}{workers}.db", progress=False, workers=workers)
        quarantines.append(case_rows(tmp_path / f"{road}{workers}.db")["quarantine"])
    assert len(quarantines[0]) == 5
    assert all(q == quarantines[0] for q in quarantines)

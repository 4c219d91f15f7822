"""The journal: acts appended as a hash chain; verify names the first entry altered, inserted or removed."""

from __future__ import annotations

import json
import sqlite3

import polars as pl
import pytest
from casekit import make_engine

from workbench.cli import main
from workbench.csvout import write_csv
from workbench.notes import annotate, check_chain, configure, journal_entries, verify_journal
from workbench.notes.journal import GENESIS, Entry, entry_hash
from workbench.notes.verify import check_report_set_head, files_digest
from workbench.queries import run


@pytest.fixture
def case(tmp_path):
    _engine, cleanup = make_engine("sqlite", tmp_path)
    cleanup()
    configure(None)
    return tmp_path / "case.db"


def _chain(n: int) -> list[Entry]:
    rows, prev = [], GENESIS
    for seq in range(1, n + 1):
        body = {
            "seq": seq,
            "at": f"2024-05-01T12:00:0{seq}.000000Z",
            "analyst": "a.berg",
            "act": "query",
            "case_fingerprint": "sha256:" + "1" * 64,
            "details": json.dumps({"query": f"q{seq}"}),
            "prev": prev,
        }
        rows.append(Entry(**body, hash=entry_hash(body)))
        prev = rows[-1].hash
    return rows


def _with(entry: Entry, **change) -> Entry:
    return Entry(**{**entry.body(), "hash": entry.hash, **change})


def _rehashed(entry: Entry, **change) -> Entry:
    body = {**entry.body(), **change}
    return Entry(**body, hash=entry_hash(body))


def test_an_intact_chain_verifies_and_a_hand_made_one_is_pinned():
    rows = _chain(5)
    check = check_chain(rows)
    assert check.ok and check.entries == 5 and check.head == rows[-1].hash
    assert check_chain([]).ok
    # The hash is the sha256 of the canonical JSON: pinned, so the serialisation cannot drift unnoticed.
    assert rows[0].hash == entry_hash(rows[0].body())
    assert len(rows[0].hash) == 64 and rows[1].prev == rows[0].hash


def test_an_altered_entry_is_named():
    rows = _chain(5)
    rows[2] = _with(rows[2], details=json.dumps({"query": "something else"}))
    check = check_chain(rows)
    assert (check.ok, check.first_bad, check.how) == (False, 3, "altered")
    assert "entry 3 (query, 2024-05-01T12:00:03.000000Z) was altered" in check.problem


def test_an_altered_and_rehashed_entry_is_named_by_the_broken_link_after_it():
    rows = _chain(5)
    rows[1] = _rehashed(rows[1], analyst="someone else")
    check = check_chain(rows)
    assert (check.first_bad, check.how) == (2, "altered")
    assert "entry 2 (query" in check.problem and "entry 3 does not follow it" in check.problem


def test_a_removed_entry_is_named():
    rows = _chain(5)
    del rows[2]
    check = check_chain(rows)
    assert (check.first_bad, check.how) == (3, "removed")
    assert check.problem.startswith("entry 3 removed: entry 4 follows a hash no entry here has")
    first = check_chain(_chain(4)[2:])
    assert (first.first_bad, first.how) == (1, "removed") and "entries 1-2 removed from the start" in first.problem


def test_an_inserted_entry_is_named_even_when_the_rest_is_renumbered():
    rows = _chain(5)
    forged = _rehashed(rows[2], details=json.dumps({"query": "forged"}), prev=rows[1].hash)  # seq 3, links to 2
    renumbered = [_with(r, seq=r.seq + 1) for r in rows[2:]]
    check = check_chain([*rows[:2], forged, *renumbered])
    assert (check.first_bad, check.how) == (3, "inserted")
    assert "entry 3 (query, 2024-05-01T12:00:03.000000Z) was inserted" in check.problem


def test_a_truncated_tail_is_seen_only_against_a_recorded_head():
    rows = _chain(5)
    head = rows[-1].hash
    assert check_chain(rows[:3]).ok  # nothing in the rest of the chain shows the cut
    check = check_chain(rows[:3], head=head)
    assert (check.ok, check.how, check.first_bad) == (False, "truncated", 4)
    assert f"does not reach the recorded head {head}: it ends at entry 3" in check.problem
    assert check_chain(rows, head=rows[2].hash).ok  # a journal that went on after the head is fine


def test_queries_are_journalled_only_where_the_case_has_a_notes_database(case):
    run("table_counts", case)
    assert sorted(p.name for p in case.parent.iterdir()) == ["case.db"]  # querying creates nothing
    annotate(case, "account", 1001, tag="contacted")
    frame = run("table_counts", case)
    entries = journal_entries(case)
    assert [e.act for e in entries] == ["annotation", "query"]
    details = json.loads(entries[1].details)
    assert (details["query"], details["engine"], details["rows"]) == ("table_counts", "sqlite", frame.height)
    assert len(details["result_sha256"]) == 64
    assert entries[1].case_fingerprint == entries[0].case_fingerprint  # the same case's manifest
    assert entries[1].prev == entries[0].hash


def test_a_configured_notes_database_and_exports(case, tmp_path):
    notes = tmp_path / "elsewhere" / "team.sqlite"
    notes.parent.mkdir()
    configure(notes)
    try:
        run("table_counts", case)
        out = write_csv(pl.DataFrame({"a": [1]}), tmp_path / "export.csv")
    finally:
        configure(None)
    assert not case.with_name("case.notes.sqlite").exists()
    entries = journal_entries(case, notes)
    assert [e.act for e in entries] == ["query", "export"]
    details = json.loads(entries[1].details)
    import hashlib

    assert details["path"] == str(out.resolve()) and details["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()


def _tamper(notes, sql: str) -> None:
    with sqlite3.connect(notes) as conn:
        conn.execute(sql)


def test_cli_verify_names_the_tampered_entry_and_exits_1(case, capsys):
    for key in ("s0", "s1", "s2"):
        annotate(case, "session", key, tag="needs-review")
    assert main(["journal", "verify", "--case", str(case)]) == 0
    assert "journal verified: 3 entries" in capsys.readouterr().out
    notes = case.with_name("case.notes.sqlite")
    _tamper(notes, "UPDATE journal SET analyst = 'mallory' WHERE seq = 2")
    assert main(["journal", "verify", "--case", str(case)]) == 1
    assert "entry 2 (annotation" in capsys.readouterr().err


def test_an_annotation_altered_behind_the_journal_is_named(case, capsys):
    a = annotate(case, "session", "s1", tag="confirmed", note="checked")
    _tamper(case.with_name("case.notes.sqlite"), "UPDATE annotations SET tags = '[\"false-positive\"]'")
    chain, problems = verify_journal(case)
    assert chain.ok
    assert problems == [
        f"annotation {a.annotation_id} version 1 (session s1) was altered after it was journalled: tags differ"
    ]
    assert main(["journal", "verify", "--case", str(case)]) == 1


def test_the_report_set_head_check(case):
    from workbench.notes.db import notes_url
    from workbench.notes.record import record_report_set

    annotate(case, "session", "s1", tag="confirmed")
    files = {"index.html": {"sha256": "ab" * 32}}
    url = notes_url(None, case.with_name("case.notes.sqlite"))
    head = record_report_set(case, url, {"audience": "public", "files_sha256": files_digest(files)})
    assert check_report_set_head(case, head, files) == []
    other = {"index.html": {"sha256": "cd" * 32}}
    assert "is a report_set entry, not the building of this report set" in check_report_set_head(case, head, other)[0]
    _tamper(case.with_name("case.notes.sqlite"), f"DELETE FROM journal WHERE hash = '{head}'")
    found = check_report_set_head(case, head, files)
    assert len(found) == 1 and "does not reach the recorded head" in found[0]


def test_the_benchmark_step_is_wired_and_its_verdict_shows_a_miss():
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("bench_run", Path(__file__).parents[1] / "benchmarks" / "run.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.STEPS["journal_overhead"] is bench.bench_journal
    result = {
        "worst_overhead_ms": 7.5,
        "target_ms": 5.0,
        "worst_query": "sessions",
        "queries": {"sessions": {"rows": 12000}},
        "repeats": 15,
        "journal_entries": 60,
        "chain_verifies": True,
        "worst_journal_ms": 3.25,
    }
    lines = bench._verdict("journal_overhead", "small", result)
    assert lines[0].endswith("MISSED") and "7.5 ms (sessions, 12,000 rows" in lines[0]
    assert lines[2] == "journal's own work (hash and write) per query at most 3.25 ms"


def test_each_entry_records_who_and_when(case, monkeypatch):
    import getpass
    from datetime import UTC, datetime

    monkeypatch.setenv("WORKBENCH_ANALYST", "a.berg")
    before = datetime.now(UTC)
    annotate(case, "session", "s1", tag="confirmed")
    monkeypatch.delenv("WORKBENCH_ANALYST")
    run("table_counts", case)
    first, second = journal_entries(case)
    assert (first.analyst, second.analyst) == ("a.berg", getpass.getuser())  # else the operating-system user
    for entry in (first, second):
        assert entry.at.endswith("Z") and before <= datetime.fromisoformat(entry.at) <= datetime.now(UTC)

"""Mail parsed in a child process while the threads load the rest (``apart``, issue 16 point 4).

The batches must be the ones parsing here gives, in file order, with the broken messages
quarantined alike; an error in the child must be raised here as the same error; a child that
dies must give a clear error and leave no case behind.
"""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import pytest
from mappingkit import case_rows, write_handover

import workbench.mapping.mail as mail
import workbench.mapping.prepare as mapping_prepare
import workbench.mapping.run as mapping_run
from workbench.errors import WorkbenchError
from workbench.mapping import MappingError, ingest_mapped

GOOD = "Message-ID: <{n}@x.example>\nReceived: by mx; Sat, 14 Dec 2013 09:1{n}:02 +0100\nFrom: A <a{n}@x.example>\nSubject: Hej {n}\n\nText {n}\n"
NO_TIME = "Message-ID: <t@x.example>\nFrom: B <b@x.example>\nSubject: utan tid\n\nText\n"
BAD_BODY = (
    "Message-ID: <b64@x.example>\nDate: Sat, 14 Dec 2013 09:00:00 +0100\nFrom: C <c@x.example>\n"
    "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n!!!!not base64\n"
)


def _folder(root: Path) -> list[Path]:
    root.mkdir(parents=True)
    texts = {"03.eml": GOOD.format(n=3), "01.eml": GOOD.format(n=1), "02.eml": NO_TIME, "04.eml": BAD_BODY}
    texts |= {f"{n:02d}.eml": GOOD.format(n=n % 10) for n in range(5, 12)}
    for name, text in texts.items():
        (root / name).write_text(text, encoding="utf-8")
    return sorted(root.glob("*.eml"))


def _plain(batches) -> list[tuple[list, list]]:
    return [(b.frame.rows(), b.malformed.rows()) for b in batches]


def test_an_eml_folder_parsed_apart_gives_the_batches_parsed_here(tmp_path, monkeypatch):
    paths = _folder(tmp_path / "mail")
    monkeypatch.setattr(mail, "_BATCH", 4)  # three batches, sent by the child one by one
    columns = mail.mail_columns(paths, "eml")
    here = _plain(mail.read_messages(paths, "eml", columns))
    apart = _plain(mail.read_messages(paths, "eml", columns, apart=True))
    assert apart == here
    assert len(here) >= 3
    lines = [r[-1] for frame, _ in here for r in frame]
    assert lines == sorted(lines) and lines[0] == 1  # file 0, line 1: 01.eml
    problems = {p[0] >> 32: p[3] for _, bad in here for p in bad}
    assert set(problems) == {1, 3}  # 02.eml (no time stamp) and 04.eml (broken base64)
    assert all(reason.startswith("unreadable message") for reason in problems.values())


def test_an_mbox_parsed_apart_keeps_the_lines_of_its_separators(tmp_path):
    box = tmp_path / "box.mbox"
    box.write_text("".join(f"From x@y Sat Dec 14 09:00:00 2013\n{text}\n" for text in (GOOD.format(n=1), NO_TIME)))
    columns = mail.mail_columns([box], "mbox")
    apart = _plain(mail.read_messages([box], "mbox", columns, apart=True))
    assert apart == _plain(mail.read_messages([box], "mbox", columns))
    (frame, bad), *_ = apart
    assert [r[-1] for r in frame] == [1] and [p[0] for p in bad] == [9]


def test_an_error_in_the_child_is_raised_here_as_it_is(tmp_path):
    paths = _folder(tmp_path / "mail")
    paths[2].unlink()
    with pytest.raises(FileNotFoundError, match=r"03\.eml"):
        list(mail.read_messages(paths, "eml", mail.MAIL_COLUMNS, apart=True))


def test_a_child_that_dies_is_a_clear_error(tmp_path, monkeypatch):
    paths = _folder(tmp_path / "mail")
    monkeypatch.setattr(mail, "_CHILD", "import os, sys\nsys.stderr.write('killed by a test')\nos._exit(9)\n")
    with pytest.raises(WorkbenchError, match=r"stopped before it finished \(exit status 9: killed by a test\)"):
        list(mail.read_messages(paths, "eml", mail.MAIL_COLUMNS, apart=True))


def _counting(monkeypatch, events: list) -> None:
    """Note in ``events`` when a mail child starts and when each input is scanned."""

    class Counting(mail.Apart):
        def __init__(self, paths, kind, columns, *rest):
            events.append(("child", kind))
            super().__init__(paths, kind, columns, *rest)

    real_scan = mapping_prepare.scan
    monkeypatch.setattr(mapping_prepare, "Apart", Counting)
    monkeypatch.setattr(mapping_prepare, "scan", lambda f, *a: (events.append(("scan", f.table)), real_scan(f, *a))[1])


def test_ingest_with_the_mail_apart_writes_the_case_one_thread_writes(tmp_path, monkeypatch):
    root = tmp_path / "h"
    mapping = write_handover(root)
    monkeypatch.setattr(mapping_prepare, "_APART_BYTES", 0)
    events: list = []
    _counting(monkeypatch, events)
    ingest_mapped(root, mapping, tmp_path / "one.db", progress=False, workers=1)
    assert ("child", "eml") not in events
    events.clear()
    ingest_mapped(root, mapping, tmp_path / "two.db", progress=False, workers=2)
    # The child starts before any input is scanned, so that it parses while the others are hashed.
    assert events[0] == ("child", "eml") and events.count(("child", "eml")) == 1
    assert {t for what, t in events[1:] if what == "scan"} >= {"support_messages", "logins"}
    one, two = case_rows(tmp_path / "one.db"), case_rows(tmp_path / "two.db")
    assert one == two
    assert [r for r in two["quarantine"] if r[2] == "support_messages"]  # the broken message, quarantined alike


def test_small_mail_is_parsed_in_a_thread_not_a_child(tmp_path, monkeypatch):
    root = tmp_path / "h"
    mapping = write_handover(root)
    events: list = []
    _counting(monkeypatch, events)  # the kit's few messages are far below _APART_BYTES
    ingest_mapped(root, mapping, tmp_path / "case.db", progress=False, workers=2)
    assert ("child", "eml") not in events and ("scan", "support_messages") in events


def test_an_error_before_the_tables_are_read_stops_the_early_child(tmp_path, monkeypatch):
    root = tmp_path / "h"
    mapping = write_handover(root)
    monkeypatch.setattr(mapping_prepare, "_APART_BYTES", 0)
    children: list = []

    class Kept(mail.Apart):
        def __init__(self, *a):
            super().__init__(*a)
            children.append(self._child)

    monkeypatch.setattr(mapping_prepare, "Apart", Kept)
    text = mapping.read_text()
    mapping.write_text(text.replace("Kundnr", "Kundnummer", 1))  # a source column no input has
    with pytest.raises(MappingError, match="Kundnummer"):
        ingest_mapped(root, mapping, tmp_path / "case.db", progress=False, workers=2)
    assert len(children) == 1 and children[0].poll() is not None  # started, then stopped and waited for
    assert not (tmp_path / "case.db").exists()


def test_a_child_that_dies_during_ingest_leaves_no_case(tmp_path, monkeypatch):
    root = tmp_path / "h"
    mapping = write_handover(root)
    monkeypatch.setattr(mapping_prepare, "_APART_BYTES", 0)
    monkeypatch.setattr(mail, "_CHILD", "import os\nos._exit(9)\n")
    with pytest.raises(WorkbenchError, match="the process reading the mail"):
        ingest_mapped(root, mapping, tmp_path / "case.db", progress=False, workers=2)
    assert not (tmp_path / "case.db").exists()


def _second_query(root: Path, mapping: Path) -> None:
    """A second table read from ko.sqlite: its database is hashed once, for both."""
    text = mapping.read_text()
    assert "handler_actions" not in text
    with sqlite3.connect(root / "ko.sqlite") as con:
        con.execute("CREATE TABLE atgarder (aid INTEGER, hid INTEGER, tid TEXT, vad TEXT)")
        con.execute("INSERT INTO atgarder VALUES (1, 1, '2013-12-14 09:00:00', 'login')")
    text += (
        "  handler_actions:\n"
        '    source: {sql: "SELECT aid, hid, tid, vad FROM atgarder", url: "sqlite:///ko.sqlite"}\n'
        "    columns: {action_id: aid, handler_id: hid, time: tid, action: vad, applicant_id: null, listing_id: null,"
        " ip: null, old_value: null, new_value: null}\n"
    )
    mapping.write_text(text)


def test_a_database_hashed_beside_the_readers_is_in_the_manifest(tmp_path):
    import hashlib

    root = tmp_path / "h"
    mapping = write_handover(root)
    _second_query(root, mapping)
    ingest_mapped(root, mapping, tmp_path / "one.db", progress=False, workers=1)
    ingest_mapped(root, mapping, tmp_path / "two.db", progress=False, workers=2)
    expected = hashlib.sha256((root / "ko.sqlite").read_bytes()).hexdigest()
    with sqlite3.connect(tmp_path / "two.db") as con:
        rows = con.execute("SELECT path, sha256, bytes FROM manifest WHERE format = 'sql' ORDER BY 1").fetchall()
    assert len(rows) == 2
    assert {(sha, size) for _, sha, size in rows} == {(expected, (root / "ko.sqlite").stat().st_size)}
    assert case_rows(tmp_path / "one.db") == case_rows(tmp_path / "two.db")


def test_a_database_that_cannot_be_hashed_leaves_no_case(tmp_path, monkeypatch):
    import workbench.mapping.prefetch as prefetch

    root = tmp_path / "h"
    mapping = write_handover(root)

    def unreadable(path: Path) -> str:
        raise OSError(f"{path.name}: read error (a test)")

    monkeypatch.setattr(prefetch, "sha256_of", unreadable)
    with pytest.raises(OSError, match="read error"):
        ingest_mapped(root, mapping, tmp_path / "case.db", progress=False, workers=2)
    assert not (tmp_path / "case.db").exists()


def test_an_abort_stops_a_busy_mail_child_rather_than_waiting_for_it(tmp_path, monkeypatch):
    root = tmp_path / "h"
    mapping = write_handover(root)
    monkeypatch.setattr(mapping_prepare, "_APART_BYTES", 0)
    # A child that takes its request and then parses for a long time before its first batch.
    monkeypatch.setattr(mail, "_CHILD", "import sys, time\nsys.stdin.buffer.read()\ntime.sleep(30)\n")
    children: list = []

    class Kept(mail.Apart):
        def __init__(self, *a):
            super().__init__(*a)
            children.append(self._child)

    def writer_fails(*args, **kwargs):
        raise RuntimeError("the writer failed")

    monkeypatch.setattr(mapping_prepare, "Apart", Kept)
    monkeypatch.setattr(mapping_run, "load_table", writer_fails)
    with pytest.raises(RuntimeError, match="the writer failed"):
        ingest_mapped(root, mapping, tmp_path / "case.db", progress=False, workers=2)
    # Killed, not waited for: the reader blocked on its pipe would have held the abort for 30 s.
    assert len(children) == 1 and children[0].returncode == -signal.SIGKILL
    assert not (tmp_path / "case.db").exists()

"""Annotations: kept beside the case (never in it), validated, versioned, listed and exported."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3

import pytest
from casekit import make_engine

from workbench.cli import main
from workbench.errors import UnknownNameError
from workbench.notes import NotesError, annotate, open_notes
from workbench.notes.db import default_notes_path, notes_url


@pytest.fixture
def case(tmp_path):
    """The hand-made case of casekit on SQLite, as a file: sessions s0-s3, applicants 1001-1003, handler 7."""
    engine, cleanup = make_engine("sqlite", tmp_path)
    with engine.begin() as conn:  # one allocation: a signed contract for listing 1
        conn.exec_driver_sql(
            "INSERT INTO contracts (listing_id, applicant_id, signed_at, handler_id) VALUES (1, 1002, '2014-01-10 10:00:00', 7)"
        )
    cleanup()
    return tmp_path / "case.db"


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_annotation_goes_beside_the_case_and_the_case_is_unchanged(case):
    before = _sha(case)
    a = annotate(case, "session", "s1", tag="confirmed", note="Swap seen in the access log")
    assert (a.kind, a.key, a.tags, a.note, a.version, a.state) == (
        "session",
        "s1",
        ("confirmed",),
        "Swap seen in the access log",
        1,
        "active",
    )
    assert a.case_fingerprint.startswith("sha256:") and a.at.endswith("Z")
    assert _sha(case) == before
    notes = case.with_name("case.notes.sqlite")
    from workbench.case import case_url

    assert default_notes_path(case_url(case)) == notes
    assert notes.is_file()
    with sqlite3.connect(case) as conn:  # nothing was added to the case itself
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "annotations" not in tables and "journal" not in tables


def test_every_kind_is_checked_against_the_case(case):
    for kind, key in [
        ("account", 1001),
        ("support message", "<m1@x>"),
        ("profile_change", "1"),
        ("allocation", 1),
        ("caseworker", 7),
    ]:
        assert annotate(case, kind, key, tag="needs-review").key == str(key)
    with pytest.raises(NotesError, match=r"no session 'nope' in this case: logins.session_id holds no such value"):
        annotate(case, "session", "nope", tag="confirmed")
    with pytest.raises(NotesError, match=r"a account key is a whole number \(applicants.applicant_id\); got 'x1'"):
        annotate(case, "account", "x1", tag="confirmed")
    with pytest.raises(UnknownNameError, match=r"unknown annotation kind 'sesion'\. Did you mean 'session'"):
        annotate(case, "sesion", "s1", tag="confirmed")


def test_tags_are_the_vocabulary_or_short_slugs(case):
    a = annotate(case, "account", 1002, tag=["contacted", "swap-2019", "restored"])
    assert a.tags == ("contacted", "restored", "swap-2019")
    for bad in ("Confirmed", "two words", "=HYPERLINK(1)", "x" * 33, "-lead"):
        with pytest.raises(
            NotesError, match=re.escape(f"tag {bad!r} is not allowed: use one of confirmed, false-positive")
        ):
            annotate(case, "account", 1002, tag=bad)
    with pytest.raises(NotesError, match="needs a tag or a note"):
        annotate(case, "account", 1002)


def test_edit_and_withdraw_keep_every_version(case):
    with open_notes(case) as notes:
        a = notes.annotate("session", "s2", tag="needs-review", note="odd pages")
        b = notes.edit(a.annotation_id, tag="false-positive", reason="same person, two devices")
        c = notes.withdraw(a.annotation_id, reason="wrong session")
        assert [v.version for v in notes.history(a.annotation_id)] == [1, 2, 3]
        assert [v.tags for v in notes.history(a.annotation_id)] == [
            ("needs-review",),
            ("false-positive",),
            ("false-positive",),
        ]
        assert (b.note, b.reason, c.state, c.reason) == (
            "odd pages",
            "same person, two devices",
            "withdrawn",
            "wrong session",
        )
        assert notes.current() == []
        assert notes.current(withdrawn=True) == [c]
        with pytest.raises(NotesError, match="no annotation 'missing'"):
            notes.edit("missing", tag="confirmed")
        with pytest.raises(NotesError, match=r"needs a tag or a note .*withdraw it"):  # an edit emptying it
            notes.edit(a.annotation_id, tag=[], note="")
        assert len(notes.history(a.annotation_id)) == 3


def test_a_server_case_needs_a_notes_url():
    import sqlalchemy as sa

    with pytest.raises(NotesError, match="is not a file, so it has no notes database beside it; name one with --notes"):
        notes_url(sa.make_url("postgresql+psycopg://reader@db/case"))
    with pytest.raises(NotesError, match="uses 'duckdb'; allowed: a SQLite file path"):
        notes_url(None, "duckdb:///x.duckdb")


def test_cli_lists_and_exports_formula_safe_csv_and_json(case, tmp_path, capsys):
    annotate(case, "session", "s1", tag="confirmed", note='=HYPERLINK("http://x","y")')
    annotate(case, "caseworker", 7, tag="needs-review", note="many allocations to one district")
    assert main(["notes", "list", "--case", str(case)]) == 0
    out = capsys.readouterr().out
    assert "session" in out and "caseworker" in out and "[confirmed]" in out

    csv_path = tmp_path / "notes.csv"
    assert main(["notes", "export", "--case", str(case), "--out", str(csv_path)]) == 0
    text = csv_path.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text

    json_path = tmp_path / "notes.json"
    assert main(["notes", "export", "--case", str(case), "--format", "json", "--out", str(json_path)]) == 0
    rows = json.loads(json_path.read_text(encoding="utf-8"))
    assert sorted(r["kind"] for r in rows) == ["caseworker", "session"]
    assert rows[0]["note"].startswith("=HYPERLINK")  # JSON is for programs: kept as written

    capsys.readouterr()
    assert main(["journal", "show", "--case", str(case)]) == 0
    shown = capsys.readouterr().out
    assert shown.count(" export ") == 2 and str(csv_path) in shown  # each export journalled with its path


def test_cli_add_refuses_a_bad_tag_with_one_line(case, capsys):
    assert main(["notes", "add", "--case", str(case), "session", "s1", "--tag", "confirmed", "--note", "ok"]) == 0
    assert main(["notes", "add", "--case", str(case), "session", "s1", "--tag", "Bad Tag"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("workbench notes: error: tag 'Bad Tag' is not allowed")

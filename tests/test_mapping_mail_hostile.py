"""Mail as a hostile hand-over writes it: an unescaped 'From ' body line in an mbox, repeated
single-valued headers, MIME parts nested a thousand deep (outside tester, round A).

Nothing may be lost or chosen silently: every message is loaded whole or quarantined whole
with a reason, on every road (an .eml folder, a Maildir, an mbox; parsed here or apart in
the child process; and the raw ``support.mbox`` ingest).
"""

from __future__ import annotations

import json
import mailbox
import sqlite3
from pathlib import Path

import pytest

import workbench.mapping.prepare as mapping_prepare
from workbench.ingest.mbox import MessageProblem, parse_message, read_mbox
from workbench.ingest.mbox_split import mbox_messages
from workbench.mapping import ingest_mapped
from workbench.mapping.mail import mail_columns, read_messages

SEPARATOR = "From a@example.com Sat Dec 14 09:15:02 2013\n"
HEAD = "Message-ID: <{n}@x>\nDate: Sat, 14 Dec 2013 09:15:0{n} +0100\nFrom: a@example.com\nSubject: Hej {n}\n"
CUT = "Hej,\n\nFrom now on I cannot log in.\n>From the start it was broken.\nRegards\n"
MAPPING = """\
version: 1
tables:
  support_messages:
    source: {mbox: s.mbox}
    columns:
      message_id: message-id
      received_at: received_at
      channel: {constant: email}
      sender_applicant_id: null
      sender_address: from_address
      subject: subject
      body: body
"""


def _rows(paths: list[Path], kind: str, apart: bool = False, needed: frozenset[str] = frozenset()):
    """(rows as dicts, quarantine rows as dicts) of every message."""
    columns = mail_columns(paths, kind)
    rows, problems = [], []
    for batch in read_messages(paths, kind, columns, apart, needed):
        rows += batch.frame.to_dicts()
        problems += batch.malformed.to_dicts()
    return rows, problems


def _mbox(tmp_path: Path, *messages: str) -> Path:
    path = tmp_path / "s.mbox"
    path.write_text("".join(SEPARATOR + m + "\n" for m in messages))
    return path


@pytest.mark.parametrize("apart", [False, True])
def test_a_body_line_starting_from_stays_in_its_message(tmp_path, apart):
    path = _mbox(tmp_path, HEAD.format(n=1) + "\n" + CUT, HEAD.format(n=2) + "\nText 2\n")
    rows, problems = _rows([path], "mbox", apart)
    assert problems == []
    assert [(r["message-id"], r["body"], r["__line"]) for r in rows] == [("<1@x>", CUT, 1), ("<2@x>", "Text 2\n", 13)]
    raw = [(r["message_id"], r["body"]) for b in read_mbox(path, "s.mbox") for r in b.frame.to_dicts()]
    assert raw == [("<1@x>", CUT), ("<2@x>", "Text 2\n")]


def test_a_body_line_starting_from_is_loaded_by_ingest(tmp_path):
    (tmp_path / "h").mkdir()
    _mbox(tmp_path / "h", HEAD.format(n=1) + "\n" + CUT)
    (tmp_path / "m.yaml").write_text(MAPPING)
    report = ingest_mapped(tmp_path / "h", tmp_path / "m.yaml", case_url=tmp_path / "case.db", progress=False)
    row = report.rows()[0]
    assert (row["rows_read"], row["rows_loaded"], row["rows_quarantined"]) == (1, 1, 0)
    con = sqlite3.connect(tmp_path / "case.db")
    assert con.execute("SELECT body FROM support_messages").fetchall() == [(CUT,)]


def test_a_separator_shaped_body_line_quarantines_the_rest_whole_with_its_from_line(tmp_path):
    # A line with the full shape of a separator does start a message (RFC 4155); what follows it
    # is quarantined with that line, and the reason says what probably happened.
    body = "Hej,\n\n" + SEPARATOR + "the rest\n"
    path = _mbox(tmp_path, HEAD.format(n=1) + "\n" + body)
    rows, problems = _rows([path], "mbox")
    assert [r["body"] for r in rows] == ["Hej,\n"]
    (problem,) = problems
    assert problem["__line"] == 9
    assert json.loads(problem["record"]) == {"message": SEPARATOR + "the rest\n"}
    assert "may be a line of the previous message's body" in problem["reason"]
    (raw,) = [p for b in read_mbox(path, "s.mbox") for p in b.malformed.to_dicts()]
    assert json.loads(raw["record"]) == {"message": SEPARATOR + "the rest\n"}
    assert "not escape as '>From '" in raw["reason"]


def test_the_split_is_mailboxs_for_a_well_formed_mbox():
    path = Path(__file__).parent / "data" / "raw" / "broken_message" / "support.mbox"
    box = mailbox.mbox(path, factory=None, create=False)
    assert [raw for _, _, raw in mbox_messages(path)] == [box.get_bytes(k) for k in box.iterkeys()]
    box.close()


REPEATED = "Message-ID: <1@x>\nMessage-ID: <2@x>\nDate: Sat, 14 Dec 2013 09:15:02 +0100\nDate: Sun, 15 Dec 2013 23:15:02 +0100\nFrom: a@example.com\nSubject: x\n\nb\n"


@pytest.mark.parametrize("apart", [False, True])
def test_a_repeated_header_with_another_value_quarantines_the_message(tmp_path, apart):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "a.eml").write_text(REPEATED)
    copies = HEAD.format(n=3) + "Subject: Hej 3\nX-Kanal: Webb\nX-Kanal: E-post\n\nok\n"
    (tmp_path / "m" / "b.eml").write_text(copies)  # the same Subject twice: one header
    paths = sorted((tmp_path / "m").glob("*.eml"))
    rows, problems = _rows(paths, "eml", apart)
    assert [(r["message-id"], r["subject"], r["x-kanal"]) for r in rows] == [("<3@x>", "Hej 3", "Webb")]
    (problem,) = problems
    assert (problem["column"], problem["value"]) == ("message-id", "<2@x>")
    assert problem["reason"] == (
        "unreadable message: the Message-ID header is repeated with different values: '<1@x>' and '<2@x>'; "
        "the Date header is repeated with different values: 'Sat, 14 Dec 2013 09:15:02 +0100' and "
        "'Sun, 15 Dec 2013 23:15:02 +0100'; allowed: each of them once (or copies of the same value)"
    )
    # A header the mapping reads (here the channel) may not repeat with another value either.
    rows, problems = _rows(paths, "eml", apart, needed=frozenset({"x-kanal", "body"}))
    assert rows == []
    assert [p["column"] for p in problems] == ["message-id", "x-kanal"]
    assert "'Webb' and 'E-post'" in problems[1]["reason"]


def test_the_raw_mbox_ingest_quarantines_a_repeated_header_it_reads():
    with pytest.raises(MessageProblem) as caught:
        parse_message(REPEATED.encode())
    assert caught.value.column == "message_id"
    channels = HEAD.format(n=1) + "X-Bostad-Channel: email\nX-Bostad-Channel: web_form\n\nb\n"
    with pytest.raises(MessageProblem, match="'email' and 'web_form'") as caught:
        parse_message(channels.encode())
    assert caught.value.column == "channel"
    assert parse_message((HEAD.format(n=1) + "Subject: Hej 1\n\nb\n").encode())["subject"] == "Hej 1"


def _nested(levels: int) -> str:
    """A message whose multipart/mixed parts nest ``levels`` deep."""
    text = HEAD.format(n=1) + 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b0"\n\n'
    for i in range(1, levels):
        text += f'--b{i - 1}\nContent-Type: multipart/mixed; boundary="b{i}"\n\n'
    text += f"--b{levels - 1}\nContent-Type: text/plain\n\ndeep\n--b{levels - 1}--\n"
    return text + "".join(f"--b{i}--\n" for i in range(levels - 2, -1, -1))


DEEP_REASON = "unreadable message: the MIME parts are nested too deeply for the email parser to follow"


@pytest.mark.parametrize(("kind", "apart"), [("eml", False), ("eml", True), ("maildir", False), ("mbox", True)])
def test_mime_nested_a_thousand_deep_quarantines_that_message_only(tmp_path, kind, apart):
    deep, ok = _nested(1200), HEAD.format(n=2) + "\nok\n"
    if kind == "mbox":
        paths = [_mbox(tmp_path, deep, ok)]
    else:
        folder = tmp_path / ("m" if kind == "eml" else "new")
        folder.mkdir()
        (folder / "a.eml").write_text(deep)
        (folder / "b.eml").write_text(ok)
        paths = sorted(folder.iterdir())
    rows, problems = _rows(paths, kind, apart)
    assert [r["body"] for r in rows] == ["ok\n"]
    (problem,) = problems
    assert problem["column"] == "body" and problem["reason"].startswith(DEEP_REASON)
    assert json.loads(problem["record"])["message"].endswith("--b0--\n")


def test_mime_nested_a_thousand_deep_in_the_raw_mbox_ingest(tmp_path):
    path = _mbox(tmp_path, _nested(1200), HEAD.format(n=2) + "\nok\n")
    batches = list(read_mbox(path, "s.mbox"))
    assert [r["body"] for b in batches for r in b.frame.to_dicts()] == ["ok\n"]
    (problem,) = [p for b in batches for p in b.malformed.to_dicts()]
    assert problem["reason"].startswith("the MIME parts are nested too deeply")
    assert _rows([path], "mbox")[0][0]["body"] == "ok\n"  # a nested message sampled for the columns is passed over


CHANNEL_MAPPING = """\
version: 1
tables:
  support_messages:
    source: {eml: "m/*.eml"}
    columns:
      message_id: message-id
      received_at: received_at
      channel: x-kanal
      sender_applicant_id: null
      sender_address: from_address
      subject: subject
      body: body
"""


@pytest.mark.parametrize(("workers", "apart"), [(1, False), (2, False), (2, True)])
def test_a_mapped_header_repeated_with_another_value_is_quarantined(tmp_path, monkeypatch, workers, apart):
    if apart:
        monkeypatch.setattr(mapping_prepare, "_APART_BYTES", 0)
    (tmp_path / "h" / "m").mkdir(parents=True)
    (tmp_path / "h" / "m" / "a.eml").write_text(HEAD.format(n=1) + "X-Kanal: email\nX-Kanal: web_form\n\nb\n")
    (tmp_path / "h" / "m" / "b.eml").write_text(
        HEAD.format(n=2) + "X-Kanal: email\nX-Kanal: email\nX-Other: 1\nX-Other: 2\n\nb\n"
    )
    (tmp_path / "m.yaml").write_text(CHANNEL_MAPPING)
    ingest_mapped(tmp_path / "h", tmp_path / "m.yaml", case_url=tmp_path / "c.db", progress=False, workers=workers)
    con = sqlite3.connect(tmp_path / "c.db")
    assert con.execute("SELECT message_id, channel FROM support_messages").fetchall() == [("<2@x>", "email")]
    ((column, reason),) = con.execute('SELECT "column", reason FROM quarantine').fetchall()
    assert column == "x-kanal" and "'email' and 'web_form'" in reason

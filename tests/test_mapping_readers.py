"""Readers of the mapped ingest (issue 16) on small hand-written inputs: nginx/Apache, Maildir, mbox, JSON Lines, Parquet, PostgreSQL."""

from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from pg import pg_url  # noqa: F401  (the fixture)

from workbench.mapping import ingest_mapped
from workbench.mapping.weblogs import format_columns

PAGE_COLUMNS = """\
        columns:
          time: time
          session_id: {column: http_cookie, extract: "session=([^;]+)"}
          ip: remote_addr
          path: path
          status: status
          account_id: null
"""
MESSAGE_COLUMNS = """\
        columns:
          message_id: message-id
          received_at: received_at
          channel: {constant: email}
          sender_applicant_id: x-kundnr
          sender_address: from_address
          subject: subject
          body: body
"""


def _case(tmp_path: Path, mapping: str):
    (tmp_path / "m.yaml").write_text(textwrap.dedent(mapping))
    report = ingest_mapped(tmp_path / "h", tmp_path / "m.yaml", case_url=tmp_path / "case.db", progress=False)
    return report, sqlite3.connect(tmp_path / "case.db")


LOG_FORMATS = {
    "nginx": '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_cookie"',
    "apache": '%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-agent}i\\" \\"%{Cookie}i\\"',
}


def _weblog_case(tmp_path: Path, server: str, log: str):
    """Ingest ``log`` as ``access.log`` in the ``server``'s combined format with a cookie, into page_views."""
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "access.log").write_text(log)
    mapping = (
        f"version: 1\ntables:\n  page_views:\n    source: {{weblog: access.log, log_format: '{LOG_FORMATS[server]}'}}\n"
        + textwrap.indent(textwrap.dedent(PAGE_COLUMNS), "    ")
    )
    return _case(tmp_path, mapping)


@pytest.mark.parametrize("server", sorted(LOG_FORMATS))
def test_nginx_and_apache_logs_by_their_format_string(tmp_path, server):
    report, con = _weblog_case(
        tmp_path,
        server,
        '10.0.0.1 - - [13/Dec/2013:18:52:07 +0100] "GET /mina-sidor HTTP/1.1" 200 512 "-" "Firefox" "session=s1; lang=sv"\n'
        "this line is no request\n"
        '10.0.0.2 - - [13/Dec/2013:18:53:00 +0100] "GET /mina-sidor/ko HTTP/1.1" 200 10 "-" "Firefox" "-"\n',
    )
    assert con.execute("SELECT time, session_id, ip, path, status FROM page_views").fetchall() == [
        ("2013-12-13 17:52:07.000000", "s1", "10.0.0.1", "/mina-sidor", 200)
    ]
    q = dict(con.execute("SELECT line, reason FROM quarantine"))
    assert "does not match the log_format" in q[2]
    assert "session_id requires a value" in q[3]  # no cookie on the request
    assert report.rows() == [
        {"file": "access.log", "table": "page_views", "rows_read": 3, "rows_loaded": 1, "rows_quarantined": 2}
    ]


@pytest.mark.parametrize("server", sorted(LOG_FORMATS))
def test_weblog_lines_as_servers_really_write_them(tmp_path, server):
    """A TLS handshake sent to the HTTP port, a request without a protocol, a month that is no month, escapes."""
    report, con = _weblog_case(
        tmp_path,
        server,
        '10.0.0.1 - - [13/Dec/2013:18:52:07 +0100] "GET /mina-sidor HTTP/1.1" 200 512 "-" "Fire\\"fox\\\\" "session=s1"\n'
        '10.0.0.9 - - [13/Dec/2013:18:52:08 +0100] "\\x16\\x03\\x01\\x02\\x00" 400 166 "-" "-" "-"\n'
        '10.0.0.1 - - [13/Dec/2013:18:52:09 +0100] "GET /mina-sidor/ko" 200 10 "-" "-" "session=s1"\n'
        '10.0.0.1 - - [13/Dek/2013:18:52:10 +0100] "GET /mina-sidor/profil HTTP/1.1" 200 10 "-" "-" "session=s1"\n'
        '10.0.0.1 - - [13/Dec/2013:18:52:11 +0100] "GET /s\\x22k HTTP/1.1" 404 10 "-" "-" "session=s1"\n',
    )
    assert con.execute("SELECT time, path, status FROM page_views").fetchall() == [
        ("2013-12-13 17:52:07.000000", "/mina-sidor", 200),
        ("2013-12-13 17:52:09.000000", "/mina-sidor/ko", 200),  # HTTP/0.9 form: the path is still there
        ("2013-12-13 17:52:11.000000", "/s\\x22k", 404),  # nginx's escape of a byte, kept as logged
    ]
    q = dict(con.execute("SELECT line, reason FROM quarantine"))
    assert set(q) == {2, 4}
    assert q[2].startswith(
        "malformed line: its request '\\\\x16\\\\x03\\\\x01\\\\x02\\\\x00' cannot be read; allowed: a request line"
    )
    assert q[4].startswith("malformed line: its time_local '13/Dek/2013:18:52:10 +0100' cannot be read; allowed:")
    assert report.rows()[0]["rows_read"] == 5 and report.rows()[0]["rows_quarantined"] == 2


def test_format_columns_names_apache_directives_as_nginx_does():
    _, names = format_columns('%h %t "%r" %>s %{session}C %{X-Account}o')
    assert names == ["remote_addr", "time_local", "request", "status", "cookie_session", "sent_http_x_account"]


MESSAGE = "Message-ID: <{n}@mail.example>\nReceived: by mx; Sat, 14 Dec 2013 09:1{n}:02 +0100\nFrom: Test <t{n}@example.com>\nX-Kundnr: 100{n}\nSubject: Hej\n\nText {n}\n"


def test_a_maildir_and_an_mbox(tmp_path):
    maildir = tmp_path / "h" / "support"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "cur" / "1386999302.M1.mx:2,S").write_text(MESSAGE.format(n=1))
    (maildir / "new" / "1386999303.M2.mx").write_text(MESSAGE.format(n=2))
    mapping = "version: 1\ntables:\n  support_messages:\n    source: {maildir: support}\n" + textwrap.indent(
        textwrap.dedent(MESSAGE_COLUMNS), "    "
    )
    report, con = _case(tmp_path, mapping)
    rows = con.execute(
        "SELECT message_id, received_at, sender_applicant_id, body FROM support_messages ORDER BY 1"
    ).fetchall()
    assert rows == [
        ("<1@mail.example>", "2013-12-14 08:11:02.000000", 1001, "Text 1\n"),
        ("<2@mail.example>", "2013-12-14 08:12:02.000000", 1002, "Text 2\n"),
    ]
    assert {r["file"] for r in report.rows()} == {"support/cur/1386999302.M1.mx:2,S", "support/new/1386999303.M2.mx"}
    (tmp_path / "h" / "box.mbox").write_text(
        "".join(f"From x@y Sat Dec 14 09:00:00 2013\n{MESSAGE.format(n=n)}\n" for n in (3, 4))
    )
    report, con = _case(tmp_path, mapping.replace("{maildir: support}", "{mbox: box.mbox}"))
    assert con.execute("SELECT count(*) FROM support_messages").fetchone() == (2,)
    assert report.rows()[0]["rows_read"] == 2


def test_json_lines_and_parquet(tmp_path):
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "h.jsonl").write_text('{"id": 7, "n": "Karin", "t": "A", "f": "2008-09-01"}\nnot json\n')
    pl.DataFrame({"id": [8], "n": ["Nils"], "t": ["B"], "f": ["2009-01-01"]}).write_parquet(
        tmp_path / "h" / "h.parquet"
    )
    columns = "    columns: {handler_id: id, name: n, team: t, active_from: f, active_to: null}\n"
    _report, con = _case(tmp_path, "version: 1\ntables:\n  handlers:\n    source: {jsonl: h.jsonl}\n" + columns)
    assert con.execute("SELECT handler_id, name FROM handlers").fetchall() == [(7, "Karin")]
    assert (
        "malformed line: not a JSON object" in con.execute("SELECT reason FROM quarantine WHERE line = 2").fetchone()[0]
    )
    _report, con = _case(tmp_path, "version: 1\ntables:\n  handlers:\n    source: {parquet: h.parquet}\n" + columns)
    assert con.execute("SELECT handler_id, name, active_from FROM handlers").fetchall() == [(8, "Nils", "2009-01-01")]


def test_a_json_object_naming_a_key_twice_is_quarantined_not_read_as_its_last_value(tmp_path):
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "h.jsonl").write_text(
        '{"id": 7, "n": "Karin", "t": "A", "f": "2008-09-01"}\n'
        '{"id": 8, "n": "Nils", "n": "Olle", "t": "B", "f": "2009-01-01"}\n'
        '{"id": 9, "n": "Eva", "t": {"x": 1, "x": 2}, "f": "2009-01-01"}\n'
    )
    columns = "    columns: {handler_id: id, name: n, team: t, active_from: f, active_to: null}\n"
    _report, con = _case(tmp_path, "version: 1\ntables:\n  handlers:\n    source: {jsonl: h.jsonl}\n" + columns)
    assert con.execute("SELECT handler_id, name FROM handlers").fetchall() == [(7, "Karin")]
    refused = dict(con.execute("SELECT line, reason FROM quarantine").fetchall())
    assert set(refused) == {2, 3}
    assert "the key 'n' appears twice in one object" in refused[2] and "each key once" in refused[2]
    assert "the key 'x' appears twice" in refused[3]


def test_duplicate_keys_across_two_inputs_name_the_first_input_and_line(tmp_path):
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "a.csv").write_text("id,n,t,f\n7,Karin,A,2008-09-01\n")
    (tmp_path / "h" / "b.csv").write_text("id,n,t,f\n8,Nils,B,2008-09-01\n7,Karin igen,A,2008-09-01\n")
    columns = "    columns: {handler_id: id, name: n, team: t, active_from: f, active_to: null}\n"
    _report, con = _case(tmp_path, "version: 1\ntables:\n  handlers:\n    source: {csv: '*.csv'}\n" + columns)
    assert con.execute("SELECT file, line, reason FROM quarantine").fetchall() == [
        (
            "b.csv",
            3,
            "duplicate key handler_id=7: first loaded from a.csv:2; allowed: one row per key, the first is kept",
        )
    ]


@pytest.mark.postgres
def test_a_query_on_postgresql_with_local_times(pg_url, tmp_path):  # noqa: F811
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS inloggning")
        conn.exec_driver_sql("CREATE TABLE inloggning (tid timestamp, sess text, kund bigint, metod text)")
        conn.exec_driver_sql(
            "INSERT INTO inloggning VALUES ('2013-12-13 18:50:00', 's1', 1001, 'BankID'), ('2013-10-27 02:30:00', 's2', 1002, 'BankID')"
        )
    engine.dispose()
    (tmp_path / "h").mkdir()
    mapping = f"""\
        version: 1
        timezone: Europe/Stockholm
        tables:
          logins:
            source: {{sql: "SELECT * FROM inloggning ORDER BY sess", url: "{pg_url}"}}
            columns: {{time: tid, session_id: sess, applicant_id: kund, method: {{column: metod, values: {{BankID: bankid}}}}, ip: null, user_agent: null}}
        """
    report, con = _case(tmp_path, mapping)
    assert con.execute("SELECT time, session_id FROM logins").fetchall() == [("2013-12-13 17:50:00.000000", "s1")]
    assert "occurs twice in Europe/Stockholm" in con.execute("SELECT reason FROM quarantine").fetchone()[0]
    [row] = report.rows()
    assert (row["rows_read"], row["rows_loaded"], row["rows_quarantined"]) == (2, 1, 1)
    assert len(con.execute("SELECT sha256 FROM manifest WHERE format = 'sql'").fetchone()[0]) == 64

"""Raw forms: the access log and the mbox carry page_views and support_messages exactly.

A case ingested from the raw forms has the same tables as one ingested from the tables; a
bad line or message is quarantined with its position and a reason; the generator writes
the same bytes for the same seed; and the mbox is real MIME.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import mailbox
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from workbench import evidence
from workbench.case import open_case
from workbench.errors import EvidenceError
from workbench.ingest import ingest
from workbench.ingest.access_log import LINE_FORMAT, read_access_log

RAW = Path(__file__).parent / "data" / "raw"
RAW_TABLES = ("page_views", "support_messages")


def _raw_case(case, root: Path) -> Path:
    """An evidence folder with every table of ``case`` but the two the raw forms carry.

    Copies, not links: ingest refuses a link out of the evidence folder (tests/test_ingest_edges.py).
    """
    folder = root / "evidence"
    folder.mkdir(parents=True)
    for path in case.evidence_dir.iterdir():
        if path.stem not in RAW_TABLES:
            shutil.copy(path, folder / path.name)
    shutil.copytree(case.root / "raw", root / "raw")
    return folder


def _quarantine(url: str) -> list[tuple]:
    with open_case(url) as case:
        frame = case.read_table("quarantine").sort("line")
    return [(r["line"], r["column"], r["value"], r["reason"]) for r in frame.iter_rows(named=True)]


def test_a_case_ingested_from_raw_forms_has_the_same_tables(tiny_case, tiny_db, tmp_path):
    url = f"sqlite:///{tmp_path / 'raw.db'}"
    report = ingest(_raw_case(tiny_case, tmp_path), url, progress=False)

    with open_case(url) as from_raw, open_case(tiny_db) as from_tables:
        for name in RAW_TABLES:
            assert_frame_equal(from_raw.read_table(name), from_tables.read_table(name))
            assert from_raw.read_table(name).height == tiny_case.evidence(name).height
        manifest = from_raw.read_table("manifest").filter(pl.col("path").str.starts_with("raw/"))
    assert report.rows_quarantined == 0
    raw = tiny_case.root / "raw"
    assert manifest.select("path", "table", "format", "sha256", "rows_read", "rows_loaded").rows() == [
        (
            "raw/access.log",
            "page_views",
            "access_log",
            hashlib.sha256((raw / "access.log").read_bytes()).hexdigest(),
            tiny_case.evidence("page_views").height,
            tiny_case.evidence("page_views").height,
        ),
        (
            "raw/support.mbox",
            "support_messages",
            "mbox",
            hashlib.sha256((raw / "support.mbox").read_bytes()).hexdigest(),
            tiny_case.evidence("support_messages").height,
            tiny_case.evidence("support_messages").height,
        ),
    ]


@pytest.mark.parametrize(("block_bytes", "lines"), [(64 << 10, None), (100, 150)], ids=["64KiB", "shorter-than-a-line"])
def test_the_access_log_is_streamed_in_blocks_with_continuous_line_numbers(tiny_case, tmp_path, block_bytes, lines):
    # Four pieces a block: line numbers must run on across pieces, blocks and lines split between reads.
    path = tiny_case.root / "raw" / "access.log"
    if lines is not None:
        path = tmp_path / "access.log"
        path.write_text("".join((tiny_case.root / "raw" / "access.log").read_text().splitlines(keepends=True)[:lines]))
    batches = list(read_access_log(path, "raw/access.log", workers=4, block_bytes=block_bytes))
    rows = pl.concat([b.frame for b in batches])
    assert len(batches) > 10
    assert rows["__line"].to_list() == list(range(1, rows.height + 1))
    views = tiny_case.evidence("page_views")
    assert_frame_equal(rows.drop("__line"), views if lines is None else views.head(lines))


def test_the_raw_forms_carry_the_degraded_evidence(case_factory):
    case = case_factory(scale="tiny", seed=3, degrade=("missing-account-id=0.3", "log-gap=2013-12-14T10:00/PT6H"))
    parsed = pl.concat([b.frame for b in read_access_log(case.root / "raw" / "access.log", "raw/access.log")])
    views = case.evidence("page_views")
    assert_frame_equal(parsed.drop("__line"), views)
    assert views["account_id"].null_count() > 0.3 * views.height  # the degradation is there to carry
    # The log says "account=-" for a page that rendered nothing and for a blanked account alike.
    text = (case.root / "raw" / "access.log").read_text()
    assert text.count(" account=-\n") == views["account_id"].null_count()


def test_access_log_lines_are_the_combined_format_in_local_time(tiny_case):
    first, second = (tiny_case.root / "raw" / "access.log").read_text().split("\n", 2)[:2]
    views = tiny_case.evidence("page_views").head(2).rows(named=True)
    agent = tiny_case.evidence("logins").filter(pl.col("session_id") == views[0]["session_id"])["user_agent"][0]
    stockholm = ZoneInfo("Europe/Stockholm")
    assert [v["path"] for v in views] == ["/logga-in", "/mina-sidor"]  # the login redirect, then Mina sidor
    assert re.fullmatch(
        re.escape(
            f'{views[0]["ip"]} - - [{views[0]["time"].astimezone(stockholm):%d/%b/%Y:%H:%M:%S} +0100] "POST /logga-in HTTP/1.1" 302 '
        )
        + r"\d+"
        + re.escape(f' "-" "{agent}" session={views[0]["session_id"]} account=-'),
        first,
    )
    assert re.fullmatch(
        re.escape(
            f'{views[1]["ip"]} - - [{views[1]["time"].astimezone(stockholm):%d/%b/%Y:%H:%M:%S} +0100] "GET /mina-sidor HTTP/1.1" 200 '
        )
        + r"\d+"
        + re.escape(
            f' "https://bostad.example/logga-in" "{agent}" session={views[1]["session_id"]} account={views[1]["account_id"]}'
        ),
        second,
    )


MALFORMED_LINES = [
    (
        5,
        None,
        '83.250.14.7 - - [13/Dec/2013:18:52:13 +0100] "GET /mina-sidor HTTP/1.1" 200 7311 "-" "Mozilla/5.0 (Win',
        f"malformed line: at character 85 expected the user agent (in double quotes), found ' \"Mozilla/5.0 (Win'; allowed: {LINE_FORMAT}",
    ),
    (6, None, "", f"empty line; allowed: {LINE_FORMAT}"),
    (
        7,
        "time",
        '83.250.14.7 - - [32/Dec/2013:25:61:00 +0100] "GET /mina-sidor HTTP/1.1" 200 7311 "-" "Mozilla/5.0" session=9f2c4e1a7b3d5f60 account=1048213',
        "time '32/Dec/2013:25:61:00 +0100' is not a valid date and time; allowed: dd/Mon/yyyy:HH:MM:SS ±hhmm, e.g. 13/Dec/2013:18:52:07 +0100",
    ),
    (
        8,
        None,
        '83.250.14.7 - - [13/Dec/2013:18:52:15 +0100] "GET / HTTP/1.1" 2OO 5 "-" "Mozilla/5.0" session=9f2c4e1a7b3d5f60 account=-',
        f'malformed line: at character 62 expected the status (3 digits), found \' 2OO 5 "-" "Mozilla/5.0" session=9f2c4e1\'; allowed: {LINE_FORMAT}',
    ),
    (
        9,
        "session_id",
        '90.224.3.18 - - [13/Dec/2013:18:52:16 +0100] "GET /hjalp HTTP/1.1" 200 3001 "-" "Mozilla/5.0" session=- account=-',
        "session=-: the request carried no session cookie; allowed: session=COOKIE (page_views.session_id requires one)",
    ),
    (
        10,
        "account_id",
        '83.250.14.7 - - [13/Dec/2013:18:52:17 +0100] "GET /mina-sidor HTTP/1.1" 200 7311 "-" "Mozilla/5.0" session=9f2c4e1a7b3d5f60 account=99999999999999999999',
        "account=99999999999999999999 is out of range; allowed: a customer number of at most 18 digits, or account=-",
    ),
    (
        11,
        None,
        '83.250.14.7 - - [13/Dec/2013:18:52:18 +0100] "GET /mina-sidor HTTP/1.1" 200 7311 "-" "Mozilla/5.0 (Macintosh) Safari \\xe5" session=9f2c4e1a7b3d5f60 account=1048213',
        "not UTF-8: byte 0xE5 at byte 118 of the line (Latin-1 or Windows-1252?); allowed: UTF-8 text; convert with `iconv -f latin1 -t utf-8`",
    ),
    (
        12,
        None,
        '83.250.14.7 - - [13/Dec/2013:18:52:19 +0100] "GET /mina-sidor HTTP/1.1" 200 7311 "-" "Mozilla/5.0" session=9f2c4e1a7b3d5f60',
        f"malformed line: the line ends at character 124 where the rendered account (account=DIGITS or account=-) should follow; allowed: {LINE_FORMAT}",
    ),
]


def test_malformed_access_log_lines_are_quarantined_with_line_and_reason(tmp_path):
    url = f"sqlite:///{tmp_path / 'case.db'}"
    report = ingest(RAW / "malformed_lines", url, progress=False)

    (file,) = report.files
    assert (file.file, file.rows_read, file.rows_loaded, file.rows_quarantined) == (
        "malformed_lines/access.log",
        14,
        6,
        8,
    )
    assert _quarantine(url) == MALFORMED_LINES
    with open_case(url) as case:
        views = case.read_table("page_views").sort("time")
    assert views.select("time", "ip", "path", "status", "account_id").rows() == [
        (_utc(2013, 7, 14, 8, 0, 0), "78.67.200.9", "/logga-in", 302, None),  # +0200 in July
        (_utc(2013, 7, 14, 8, 0, 2), "78.67.200.9", "/mina-sidor/erbjudanden", 200, 1019293),  # no newline at the end
        (_utc(2013, 12, 13, 17, 52, 7), "83.250.14.7", "/mina-sidor/profil", 200, 1048213),
        (_utc(2013, 12, 13, 17, 52, 9), None, "/sok", 200, None),  # client address "-"
        (_utc(2013, 12, 13, 17, 52, 11), "83.250.14.7", '/sok?q="etta"', 200, None),  # escaped quotes
        (_utc(2013, 12, 13, 17, 52, 12, 250000), "83.250.14.7", "/mina-sidor/ko", 200, 1048213),  # %{usec_frac}t
    ]


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


BROKEN_MESSAGES = [
    (
        51,
        "message_id",
        None,
        "no Message-ID header; allowed: a message with a Message-ID, e.g. <20131214091502.4411@mail.bostad.example>",
    ),
    (
        63,
        "received_at",
        "=?utf-8?q?ig=C3=A5r_kl_9?=",
        "Date time stamp '=?utf-8?q?ig=C3=A5r_kl_9?=' is not a date; allowed: an RFC 5322 date with a zone, e.g. Sat, 14 Dec 2013 09:15:02 +0100",
    ),
    (
        73,
        "body",
        None,
        "the MIME structure is broken (StartBoundaryNotFoundDefect: the claimed start boundary was never found); allowed: well-formed MIME (RFC 2045–2049)",
    ),
    (86, "body", "x-klingon", "unknown charset 'x-klingon'; allowed: a charset Python knows, e.g. utf-8 or iso-8859-1"),
    (
        100,
        "channel",
        "fax",
        "'fax' is not an allowed value; allowed: email, web_form; also: sender_applicant_id: '10O4' is not a whole number; allowed: a whole number, e.g. 1048213",
    ),
    (
        114,
        "sender_address",
        "undisclosed-recipients:;",
        "From header 'undisclosed-recipients:;' holds no e-mail address; allowed: e.g. Anna Lindqvist <anna@example.com>",
    ),
]


def test_broken_mbox_messages_are_quarantined_at_their_from_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'case.db'}"
    report = ingest(RAW / "broken_message", url, progress=False)

    (file,) = report.files
    assert (file.rows_read, file.rows_loaded, file.rows_quarantined) == (9, 3, 6)
    assert _quarantine(url) == BROKEN_MESSAGES
    with open_case(url) as case:
        messages = case.read_table("support_messages")
        record = case.read_table("quarantine").filter(pl.col("line") == 73)["record"][0]
    assert "Den h=C3=A4r delen har ingen gr=C3=A4ns" in record  # the whole raw message is kept
    assert messages.select("channel", "sender_applicant_id", "sender_address", "subject", "body").rows() == [
        # quoted-printable, Swedish letters, an encoded-word subject, the customer number header
        (
            "email",
            1048213,
            "anna.lindqvist.48213@example.com",
            "Någon annans uppgifter!",
            (
                "Hej!\n\nNär jag loggade in på Mina sidor igår kl 21.14 hamnade jag på någon annans sida. "
                "Där stod namnet Örjan Åberg.\n\nMvh\nAnna Lindqvist"
            ),
        ),
        # multipart/alternative: the base64 text/plain part, not the HTML
        (
            "email",
            None,
            "erik.berg@example.net",
            "Wrong account",
            "I logged in and saw someone else's name: Björn Åkerman.",
        ),
        # only text/html, in ISO-8859-1: its text
        (
            "web_form",
            1020304,
            "maria.lund@example.se",
            "Köavgift",
            "Varför har jag fått två fakturor?\n\nHälsningar\nMaria",
        ),
    ]


def test_the_raw_files_are_byte_identical_for_the_same_seed(tiny_case, case_factory):
    again = case_factory(scale="tiny", seed=1)
    for name in ("access.log", "support.mbox"):
        assert (again.root / "raw" / name).read_bytes() == (tiny_case.root / "raw" / name).read_bytes(), name


def test_the_mbox_is_real_mime(tiny_case):
    path = tiny_case.root / "raw" / "support.mbox"
    data = path.read_bytes()
    assert b"Content-Transfer-Encoding: quoted-printable" in data
    assert b"=C3=A5" in data and b"=C3=A4" in data and b"=C3=B6" in data  # å ä ö, encoded
    assert b"Subject: =?utf-8?q?" in data
    expected = tiny_case.evidence("support_messages").sort("message_id")
    # Read with the standard library alone, not with the workbench's reader.
    box = mailbox.mbox(
        path, factory=lambda f: email.message_from_binary_file(f, policy=email.policy.default), create=False
    )
    messages = sorted(box, key=lambda m: m["Message-ID"])
    assert len(messages) == expected.height
    assert sum(m.is_multipart() for m in messages) >= 5
    for msg, row in zip(messages, expected.iter_rows(named=True), strict=True):
        assert msg["Message-ID"] == row["message_id"]
        assert msg["Date"].datetime == row["received_at"]  # the mail server's clock
        assert msg["X-Bostad-Channel"] == row["channel"]
        assert msg["Subject"] == row["subject"]
        assert msg.get_body(("plain",)).get_content() == row["body"]
    swedish = [row["body"] for row in expected.iter_rows(named=True) if any(c in row["body"] for c in "åäö")]
    assert len(swedish) > 10


def test_raw_forms_in_the_evidence_folder_itself(tmp_path):
    (tmp_path / "evidence").mkdir()
    shutil.copy(RAW / "broken_message" / "support.mbox", tmp_path / "evidence" / "support.mbox")
    report = ingest(tmp_path / "evidence", f"sqlite:///{tmp_path / 'case.db'}", progress=False)
    assert [(f.file, f.table, f.format) for f in report.files] == [
        ("evidence/support.mbox", "support_messages", "mbox")
    ]


def test_a_table_file_wins_over_a_raw_form_beside_the_evidence(tmp_path):
    (tmp_path / "evidence").mkdir()
    (tmp_path / "raw").mkdir()
    shutil.copy(RAW / "malformed_lines" / "access.log", tmp_path / "raw" / "access.log")
    shutil.copy(RAW / "broken_message" / "support.mbox", tmp_path / "raw" / "support.mbox")
    (tmp_path / "evidence" / "page_views.csv").write_text("time,session_id,ip,path,status,account_id\n")
    report = ingest(tmp_path / "evidence", f"sqlite:///{tmp_path / 'case.db'}", progress=False)
    assert sorted(f.file for f in report.files) == ["evidence/page_views.csv", "raw/support.mbox"]


def test_a_table_file_and_a_raw_form_in_one_folder_are_refused(tmp_path):
    shutil.copy(RAW / "malformed_lines" / "access.log", tmp_path / "access.log")
    (tmp_path / "page_views.csv").write_text("time,session_id,ip,path,status,account_id\n")
    with pytest.raises(
        EvidenceError,
        match=r"table 'page_views' has two files \(.*access\.log and .*page_views\.csv\); allowed: one file per table",
    ):
        ingest(tmp_path, f"sqlite:///{tmp_path / 'case.db'}", progress=False)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "support.mbox",
            b"Subject: hej\n\nno From line\n",
            r"support\.mbox: not an mbox file: the first line is 'Subject: hej'; allowed: an mbox",
        ),
        (
            "access.log",
            b"\x1f\x8b\x08\x00compressed",
            r"access\.log: not an access log: it is a gzip archive .*; decompress it first",
        ),
        ("access.log", b"", r"access\.log: empty file \(0 bytes\); allowed: an access log with a line per request"),
    ],
)
def test_a_raw_form_of_another_kind_is_refused(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(EvidenceError, match=message):
        ingest(tmp_path, f"sqlite:///{tmp_path / 'case.db'}", progress=False)
    assert not (tmp_path / "case.db").exists()


def test_the_log_writer_round_trips_fractions_quotes_and_missing_values(tmp_path):
    from workbench.scenario.raw import write_access_log

    views = pl.DataFrame(
        {
            "time": [_utc(2013, 12, 13, 17, 52, 7, 250000), _utc(2013, 7, 1, 10, 0, 0)],
            "session_id": ["s1", "s2"],
            "ip": [None, "10.0.0.2"],
            "path": ['/sok?q="2 rok"\\', "/mina-sidor"],
            "status": [200, 200],
            "account_id": [None, 1048213],
        },
        schema=evidence.polars_schema("page_views"),
    )
    logins = pl.DataFrame({"session_id": ["s1"], "user_agent": ['Bot "x"']})
    path = tmp_path / "access.log"
    write_access_log(views, logins, path, np.random.default_rng(0))

    text = path.read_text()
    # With a fraction anywhere, every time carries one (%{usec_frac}t); July is +0200.
    assert "[13/Dec/2013:18:52:07.250000 +0100]" in text and "[01/Jul/2013:12:00:00.000000 +0200]" in text
    assert '"GET /sok?q=\\"2 rok\\"\\\\ HTTP/1.1"' in text and '"Bot \\"x\\""' in text and '"-" session=s2' in text
    parsed = pl.concat([b.frame for b in read_access_log(path, "raw/access.log")]).drop("__line")
    assert_frame_equal(parsed, views.sort("time"))


def test_the_log_writer_refuses_what_a_line_cannot_hold(tmp_path):
    from workbench.errors import GeneratorError
    from workbench.scenario.raw import write_access_log

    views = pl.DataFrame(
        {
            "time": [_utc(2013, 12, 13, 17, 52, 7)],
            "session_id": ["s1"],
            "ip": ["10.0.0.1"],
            "path": ["/a\nb"],
            "status": [200],
            "account_id": [None],
        },
        schema=evidence.polars_schema("page_views"),
    )
    with pytest.raises(GeneratorError, match=r"cannot be written to the access log: a line break"):
        write_access_log(
            views,
            pl.DataFrame({"session_id": ["s1"], "user_agent": ["UA"]}),
            tmp_path / "access.log",
            np.random.default_rng(0),
        )

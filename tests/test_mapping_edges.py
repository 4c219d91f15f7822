"""Edges of the mapped ingest's readers (issue 16), on small hand-written inputs.

The IIS reader reads in chunks of whole lines and splits each stretch under one directive at
once; duplicate column names are a clear error; weblogs are read in a declared encoding.
"""

from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path

import polars as pl
import pytest

from workbench.errors import EvidenceError
from workbench.ingest.batch import LINE
from workbench.mapping import MappingError, iis, ingest_mapped, schema as mapping_schema, weblogs
from workbench.mapping.files import resolve

IIS = (
    "a stray line before any directive\r\n"
    "#Software: Microsoft Internet Information Services 8.5\r\n"
    "#Fields: date time c-ip\r\n"
    "2013-12-13 17:50:01 10.0.0.1\r\n"
    "\r\n"
    "2013-12-13 17:50:02 -\n"
    "#Fields: date time cs(Cookie)\r\n"
    "2013-12-13 17:50:03 a=b\r\n"
    "2013-12-13 17:50:04 a=b extra\r\n"
    "2013-12-13 17:50:05 c=d"
)


def _read(path, chunk: int, monkeypatch) -> tuple[pl.DataFrame, pl.DataFrame]:
    monkeypatch.setattr(weblogs, "_CHUNK", chunk)
    batches = list(iis.read_iis(path, "utf-8", ["date", "time", "c-ip", "cs(Cookie)", "datetime"]))
    return pl.concat([b.frame for b in batches]), pl.concat([b.malformed for b in batches])


@pytest.mark.parametrize("chunk", [1, 40, 1 << 20], ids=["line-by-line", "few-lines", "whole-file"])
def test_iis_lines_keep_their_line_directive_and_reason_however_the_file_is_chunked(tmp_path, monkeypatch, chunk):
    path = tmp_path / "u_ex131213.log"
    path.write_bytes(IIS.encode())
    frame, problems = _read(path, chunk, monkeypatch)
    assert frame[LINE].to_list() == [4, 6, 8, 10]
    assert frame["c-ip"].to_list() == ["10.0.0.1", None, None, None]  # "-" is null; not logged after line 7
    assert frame["cs(Cookie)"].to_list() == [None, None, "a=b", "c=d"]
    assert frame["datetime"].to_list()[0] == "2013-12-13T17:50:01Z"
    assert frame[weblogs.FIELDS_LINE].to_list() == [3, 3, 7, 7]
    assert frame[weblogs.ABSENT].to_list() == ["|cs(Cookie)|", "|cs(Cookie)|", "|c-ip|", "|c-ip|"]
    assert problems[LINE].to_list() == [1, 5, 9]
    assert problems["value"].to_list() == ["a stray line before any directive", "", "2013-12-13 17:50:04 a=b extra"]
    reasons = problems["reason"].to_list()
    assert reasons[0].startswith("a log line before any #Fields: directive")
    assert reasons[1].startswith("malformed line: an empty line where the #Fields: directive of line 3 names 3")
    assert reasons[2].startswith("malformed line: 4 fields where the #Fields: directive of line 7 names 3")


def _ingest(tmp_path: Path, mapping: str):
    (tmp_path / "m.yaml").write_text(textwrap.dedent(mapping), encoding="utf-8")
    return ingest_mapped(tmp_path / "h", tmp_path / "m.yaml", case_url=tmp_path / "case.db", progress=False)


HANDLERS = (
    "    timezone: UTC\n    columns: {handler_id: hid, name: namn, team: {constant: A}, "
    "active_from: {constant: '2008-09-01'}, active_to: null}\n"
)


def test_a_query_returning_a_column_twice_is_a_clear_error(tmp_path):
    (tmp_path / "h").mkdir()
    con = sqlite3.connect(tmp_path / "h" / "ko.sqlite")
    con.executescript(
        "CREATE TABLE h (hid INTEGER, namn TEXT); CREATE TABLE g (hid INTEGER, grupp TEXT);"
        "INSERT INTO h VALUES (7, 'Karin'); INSERT INTO g VALUES (7, 'A');"
    )
    con.commit()
    con.close()
    query = "SELECT h.hid, g.hid, namn FROM h JOIN g ON g.hid = h.hid"
    mapping = (
        f'version: 1\ntables:\n  handlers:\n    source: {{sql: "{query}", url: "sqlite:///ko.sqlite"}}\n' + HANDLERS
    )
    with pytest.raises(
        MappingError,
        match=r"m\.yaml:4: tables\.handlers\.source\.sql: the query returns the column 'hid' more than once",
    ):
        _ingest(tmp_path, mapping)
    assert not (tmp_path / "case.db").exists()
    # named apart, it loads
    _ingest(tmp_path, mapping.replace("g.hid,", "g.hid AS g_hid,"))
    assert sqlite3.connect(tmp_path / "case.db").execute("SELECT handler_id, name FROM handlers").fetchall() == [
        (7, "Karin")
    ]


def test_a_csv_header_naming_a_column_twice_is_a_clear_error(tmp_path):
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "handlaggare.csv").write_text("hid;namn;namn\n7;Karin;Nyström\n", encoding="utf-8")
    mapping = 'version: 1\ntables:\n  handlers:\n    source: {csv: handlaggare.csv, delimiter: ";"}\n' + HANDLERS
    with pytest.raises(EvidenceError, match=r"handlaggare\.csv: the header on line 1 names 'namn' more than once"):
        _ingest(tmp_path, mapping)


@pytest.mark.parametrize("log_format", ["%h %a %t", "$remote_addr $remote_addr [$time_local]"])
def test_a_log_format_naming_a_field_twice_is_a_clear_error(tmp_path, log_format):
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "access.log").write_text("10.0.0.1 10.0.0.1 [13/Dec/2013:18:52:07 +0100]\n")
    mapping = f"""\
        version: 1
        tables:
          page_views:
            source: {{weblog: access.log, log_format: '{log_format}'}}
            columns: {{time: time, session_id: null, ip: remote_addr, path: null, status: null, account_id: null}}
        """
    with pytest.raises(
        MappingError, match=r"m\.yaml:4: tables\.page_views\.source\.log_format: .*'remote_addr' more than once"
    ):
        _ingest(tmp_path, mapping)


WEBLOG = """\
    version: 1
    tables:
      page_views:
        source: {{weblog: access.log{options}}}
        columns: {{time: time, session_id: {{constant: s1}}, ip: remote_addr, path: path, status: status, account_id: null}}
    """


def test_a_weblog_is_read_in_its_declared_encoding_and_a_bad_byte_stops_ingest(tmp_path):
    (tmp_path / "h").mkdir()
    line = '10.0.0.1 - - [13/Dec/2013:18:52:07 +0100] "GET /sök HTTP/1.1" 200 512 "-" "Firefox"\n'
    (tmp_path / "h" / "access.log").write_bytes(line.encode("cp1252"))
    # Not UTF-8: stopped at the byte, naming the line and the option that fixes it; nothing replaced by U+FFFD.
    with pytest.raises(EvidenceError, match=r"access\.log: not utf-8 at line 1: byte 0xF6 .*encoding: in its source"):
        _ingest(tmp_path, WEBLOG.format(options=""))
    _ingest(tmp_path, WEBLOG.format(options=", encoding: cp1252"))
    assert sqlite3.connect(tmp_path / "case.db").execute("SELECT path FROM page_views").fetchall() == [("/sök",)]


def test_an_iis_log_takes_an_encoding_too(tmp_path):
    (tmp_path / "h").mkdir()
    log = "#Fields: date time c-ip cs-uri-stem sc-status\r\n2013-12-13 17:50:01 10.0.0.1 /sök 200\r\n"
    (tmp_path / "h" / "u_ex131213.log").write_bytes(log.encode("cp1252"))
    mapping = """\
        version: 1
        tables:
          page_views:
            source: {iis: u_ex131213.log, encoding: cp1252}
            columns: {time: datetime, session_id: {constant: s1}, ip: c-ip, path: cs-uri-stem, status: sc-status, account_id: null}
        """
    _ingest(tmp_path, mapping)
    assert sqlite3.connect(tmp_path / "case.db").execute("SELECT path FROM page_views").fetchall() == [("/sök",)]


IIS_TWICE = (
    "#Fields: date time c-ip cs-uri-stem sc-status\r\n"
    "2013-12-13 17:50:01 10.0.0.1 /a 200\r\n"
    "#Fields: date time c-ip cs-uri-stem c-ip sc-status\r\n"
    "2013-12-13 17:50:02 10.0.0.1 /b 10.0.0.2 200\r\n"
)


def test_an_iis_directive_naming_a_field_twice_stops_ingest_naming_file_line_and_field(tmp_path):
    (tmp_path / "h" / "logs").mkdir(parents=True)
    (tmp_path / "h" / "logs" / "u_ex131213.log").write_bytes(IIS_TWICE.encode())
    mapping = """\
        version: 1
        tables:
          page_views:
            source: {iis: "logs/u_ex*.log"}
            columns: {time: datetime, session_id: {constant: s1}, ip: c-ip, path: cs-uri-stem, status: sc-status, account_id: null}
        """
    # Which of the two c-ip values is the client's cannot be known: stopped, not guessed.
    with pytest.raises(
        EvidenceError,
        match=r"^logs/u_ex131213\.log: line 3: the #Fields: directive names 'c-ip' more than once; allowed: each field once",
    ):
        _ingest(tmp_path, mapping)
    assert not (tmp_path / "case.db").exists()


@pytest.mark.parametrize("chunk", [1, 1 << 20], ids=["line-by-line", "whole-file"])
def test_the_iis_reader_refuses_a_directive_naming_a_field_twice_however_chunked(tmp_path, monkeypatch, chunk):
    # The scan checks whole lines only (a directive cut between two chunks is not judged there);
    # the reader, which sees whole lines, checks every directive again.
    path = tmp_path / "u_ex131213.log"
    path.write_bytes(IIS_TWICE.encode())
    with pytest.raises(EvidenceError, match=r"^u_ex131213\.log: line 3: the #Fields: directive names 'c-ip' more"):
        _read(path, chunk, monkeypatch)


def test_a_directive_cut_between_two_scan_chunks_is_not_judged_on_its_cut_part(tmp_path, monkeypatch):
    from workbench.mapping import files

    # Cut after "time-", "time date time-taken" reads "time date time" in the first chunk: no duplicate.
    log = "#Fields: time date time-taken c-ip\r\n17:50:01 2013-12-13 15 10.0.0.1\r\n"
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "u_ex131213.log").write_bytes(log.encode())
    monkeypatch.setattr(files, "_CHUNK", log.index("-taken"))
    mapping = """\
        version: 1
        tables:
          page_views:
            source: {iis: u_ex131213.log}
            columns: {time: datetime, session_id: {constant: s1}, ip: c-ip, path: {constant: /}, status: {constant: 200}, account_id: null}
        """
    _ingest(tmp_path, mapping)
    assert sqlite3.connect(tmp_path / "case.db").execute("SELECT time, ip FROM page_views").fetchall() == [
        ("2013-12-13 17:50:01.000000", "10.0.0.1")
    ]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 20])
@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("a\r\nb\n\nc\rd\r\r\ne", "utf-8"),
        ("\n\nsök\r\n", "utf-8"),
        ("ärende\r\nöppet\r", "cp1252"),
        ("", "utf-8"),
        ("\r", "utf-8"),
        ("x\ry\r", "utf-8"),  # a lone \r inside a chunk and at the end of the file
        ("å\r\r\nö\n\r\nü", "utf-8"),  # two-byte letters cut by small chunks, \r before \r\n
        ("x", "utf-16"),
    ],
)
def test_log_lines_are_split_as_pythons_universal_newlines_split_them(tmp_path, monkeypatch, chunk, text, encoding):
    path = tmp_path / "log"
    path.write_bytes(text.encode(encoding))
    monkeypatch.setattr(weblogs, "_CHUNK", chunk)
    with open(path, encoding=encoding, newline="") as fh:
        want = [line.rstrip("\r\n") for line in fh.readlines()]
    got = [line for part in weblogs.read_lines(path, encoding) for line in part.to_list()]
    assert got == want


@pytest.mark.parametrize("chunk", [7, 64, 1 << 20])
def test_hashing_finds_every_directive_and_bad_byte_however_the_log_is_chunked(tmp_path, monkeypatch, chunk):
    # Chunks of plain ASCII without a '#' are passed over undecoded; the directive on line 5, a
    # directive cut between chunks, and a byte that is not UTF-8 on line 7 are still found.
    from workbench.mapping import files
    from workbench.mapping.schema import SourceSpec

    monkeypatch.setattr(files, "_CHUNK", chunk)
    lines = [
        "#Fields: date time c-ip",
        "2013-12-13 17:50:01 10.0.0.1",
        "2013-12-13 17:50:02 10.0.0.2",
        "2013-12-13 17:50:03 10.0.0.3",
        "#Fields: date time cs(Cookie)",
        "2013-12-13 17:50:04 a=b",
    ]
    path = tmp_path / "u_ex131213.log"
    path.write_bytes("\r\n".join(lines).encode() + b"\r\n2013-12-13 17:50:05 s\xf6k\r\n")
    source = files.SourceFile(
        "page_views", SourceSpec(kind="iis", target="u_ex*.log", where="m.yaml:3"), path.name, path
    )
    with pytest.raises(EvidenceError, match=r"^u_ex131213\.log: not utf-8 at line 7: byte 0xF6"):
        files.scan(source)
    path.write_bytes("\r\n".join(lines).encode() + "\r\n2013-12-13 17:50:05 sök\r\n".encode())
    files.scan(source)
    assert source.fields_lines == [(1, ["date", "time", "c-ip"]), (5, ["date", "time", "cs(Cookie)"])]
    assert source.columns == ["date", "time", "c-ip", "cs(Cookie)", "datetime"]


EDGES = (
    "#Software: Microsoft Internet Information Services 8.5\r\n"
    "#Fields: date time c-ip cs(Cookie)\r\n"
    "2013-12-13 17:50:01 10.0.0.1 a=b\r\n"
    '2013-12-13 17:50:02 "10.0.0.2 x" a=b\r\n'  # a quote is no quoting: 5 fields
    "2013-12-13 17:50:03 10.0.0.3\r\n"  # too few
    "\r\n"  # empty
    '- 17:50:04 "q" -\n'  # '-' is null, a quote is text, a line end without \r
    "2013-12-13 17:50:05  a=b\r\n"  # an empty field is text, not null
    "#Date: 2013-12-13 17:51:00\r\n"
    "2013-12-13 17:50:06 10.0.0.6 a=b extra\r\n"  # too many
    "#Fields: date time cs-uri-stem\r\n"  # the fields change mid-chunk
    "2013-12-13 17:50:07 /sök\r\n"
    "2013-12-13 17:50:08 /a /b\r\n"
    "2013-12-13 17:50:09 /c"
)


def _roads(path, monkeypatch) -> tuple[list, list]:
    fields = ["date", "time", "c-ip", "cs(Cookie)", "cs-uri-stem", "datetime"]
    fast = list(iis.read_iis(path, "utf-8", fields))
    monkeypatch.setattr(iis, "scan", lambda data, end=None: None)  # every chunk read the general way
    general = list(iis.read_iis(path, "utf-8", fields))
    return fast, general


@pytest.mark.parametrize("chunk", [1, 100, 1 << 20], ids=["line-by-line", "few-lines", "whole-file"])
def test_the_fast_iis_road_reads_every_edge_as_the_general_one(tmp_path, monkeypatch, chunk):
    path = tmp_path / "u_ex131213.log"
    path.write_bytes(EDGES.encode())
    monkeypatch.setattr(weblogs, "_CHUNK", chunk)
    assert iis.scan(EDGES.encode()) is not None  # the fast road takes this file
    fast, general = _roads(path, monkeypatch)
    assert len(fast) == len(general)
    for a, b in zip(fast, general, strict=True):
        assert a.frame.equals(b.frame) and a.malformed.equals(b.malformed)
    frame, problems = pl.concat([b.frame for b in fast]), pl.concat([b.malformed for b in fast])
    assert frame[LINE].to_list() == [3, 7, 8, 12, 14]
    assert frame["c-ip"].to_list()[:3] == ["10.0.0.1", '"q"', ""]
    assert frame["date"].to_list()[1] is None and frame["datetime"].to_list()[1] == "-T17:50:04Z"  # as read
    assert frame["cs(Cookie)"].to_list()[:3] == ["a=b", None, "a=b"]
    assert frame["cs-uri-stem"].to_list()[3:] == ["/sök", "/c"]
    assert problems[LINE].to_list() == [4, 5, 6, 10, 13]
    assert problems["value"].to_list()[1:3] == ["2013-12-13 17:50:03 10.0.0.3", ""]
    assert [r.split(" where")[0] for r in problems["reason"]] == [
        "malformed line: 5 fields",
        "malformed line: 3 fields",
        "malformed line: an empty line",
        "malformed line: 5 fields",
        "malformed line: 4 fields",
    ]


@pytest.mark.parametrize(
    "text",
    ["#Fields: date time\r\n2013-12-13 17:50:01\r2013-12-13 17:50:02\r\n", "#Fields: date\r\n\ufeff2013-12-13\r\n"],
    ids=["lone-cr", "byte-order-mark"],
)
def test_what_the_fast_iis_road_cannot_read_exactly_is_read_the_general_way(tmp_path, monkeypatch, text):
    path = tmp_path / "u_ex131213.log"
    path.write_bytes(text.encode())
    assert iis.scan(text.encode()) is None
    fast, general = _roads(path, monkeypatch)
    assert pl.concat([b.frame for b in fast]).equals(pl.concat([b.frame for b in general]))
    assert pl.concat([b.frame for b in fast]).height == (2 if "\r2013" in text else 1)


@pytest.mark.parametrize(
    ("amounts", "made"),
    [
        (["200", "250", "300"], [200, 250, 300]),  # no comma in the batch: the text is not rewritten
        (["200,00", "250,50", "300"], [200, None, 300]),  # 250,50 is no whole number: refused
        (["200.00", "7", "1,5e3"], [200, 7, None]),  # a point reads as the comma does, as before
    ],
    ids=["no-comma", "commas", "points"],
)
def test_decimal_commas_in_whole_numbers_whether_or_not_a_batch_has_any(tmp_path, amounts, made):
    from workbench.ingest.validate import check_values
    from workbench.mapping import schema as mapping_schema
    from workbench.mapping.transform import transform

    (tmp_path / "m.yaml").write_text(
        "version: 1\ntimezone: Europe/Stockholm\ntables:\n  fees:\n"
        "    source: {csv: avgifter.csv, delimiter: ;, decimal_comma: true}\n"
        "    columns: {applicant_id: Kundnr, year: Ar, amount: Belopp, paid_at: Betald}\n",
        encoding="utf-8",
    )
    table = mapping_schema.load(tmp_path / "m.yaml").tables["fees"]
    frame = pl.DataFrame(
        {"Kundnr": ["1001", "1002", "1003"], "Ar": ["2013", "2013", "2014"], "Belopp": amounts}
        | {"Betald": ["2013-12-13 18:42:05"] * 3, LINE: [1, 2, 3]}
    )
    good, refused_here = transform(frame, table, decimal_comma=True)
    good, refused = check_values(good, "fees")
    assert refused_here.is_empty()
    loaded = dict(zip(good[LINE].to_list(), good["amount"].to_list(), strict=True))
    assert [loaded.get(line) for line in (1, 2, 3)] == made
    assert refused.height == made.count(None) and set(refused["column"]) <= {"amount"}


def test_a_byte_windows_1252_leaves_undefined_stops_ingest_naming_file_line_and_byte(tmp_path):
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "avgifter.csv").write_bytes(
        b"Kundnr;Ar;Belopp;Betald\n1001;2013;200,00;2013-12-13 18:42:05\n1002;2013;2\x8100;x\n"
    )
    mapping = """\
        version: 1
        timezone: Europe/Stockholm
        tables:
          fees:
            source: {csv: avgifter.csv, delimiter: ;, encoding: cp1252, decimal_comma: true}
            columns: {applicant_id: Kundnr, year: Ar, amount: Belopp, paid_at: Betald}
        """
    with pytest.raises(EvidenceError, match=r"^avgifter\.csv: not cp1252 at line 3: byte 0x81 in '1002;2013;2"):
        _ingest(tmp_path, mapping)
    assert not (tmp_path / "case.db").exists()


@pytest.mark.parametrize(
    ("data", "lone"),
    [
        (b"a b\r\nc d\r\n", False),
        (b"a b\rc d\n", True),  # a lone \r ends a line too: the general road
        (b"a b\r\n\r\r\nc d", True),  # \r\r\n: the first \r is lone
        (b"a b\r\nc d\r", False),  # cut between \r and \n: the \n is in the next chunk
        (b"\r", False),
        (b"", False),
        (b"a b\nc\rd\r\n", True),
    ],
)
def test_the_fast_iis_road_leaves_a_chunk_with_a_lone_cr_to_the_general_one(data, lone):
    assert (iis.scan(data) is None) == lone
    want = data.count(b"\r") - data.count(b"\r\n") - data.endswith(b"\r")  # the rule, counted plainly
    assert lone == (want > 0)


@pytest.mark.parametrize("link", ["folder", "file"])
def test_an_input_reached_through_a_link_out_of_source_is_refused(tmp_path, link):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "a.eml").write_bytes(b"From: a@example.org\r\nSubject: x\r\n\r\nhej\r\n")
    mail = tmp_path / "h" / "mail"
    if link == "folder":  # the folder is a link: each file in it is reached through it
        mail.parent.mkdir()
        mail.symlink_to(outside, target_is_directory=True)
    else:
        mail.mkdir(parents=True)
        (mail / "a.eml").symlink_to(outside / "a.eml")
    (tmp_path / "h" / "inside.eml").write_bytes((outside / "a.eml").read_bytes())
    (tmp_path / "h" / "mail2").mkdir()
    (tmp_path / "h" / "mail2" / "b.eml").symlink_to(tmp_path / "h" / "inside.eml")  # a link within SOURCE: fine
    head = "version: 1\ntables:\n  support_messages:\n    source: {eml: "
    cols = "message_id: message-id, received_at: received_at, channel: null, sender_applicant_id: null"
    tail = "}\n    columns: {" + cols + ", sender_address: from_address, subject: subject, body: body}\n"
    (tmp_path / "in.yaml").write_text(head + "mail2/*.eml" + tail, encoding="utf-8")
    found = resolve(tmp_path / "h", mapping_schema.load(tmp_path / "in.yaml"))["support_messages"]
    assert [f.path for f in found] == [(tmp_path / "h" / "inside.eml").resolve()]
    (tmp_path / "out.yaml").write_text(head + "mail/*.eml" + tail, encoding="utf-8")
    with pytest.raises(MappingError, match=r"mail/a\.eml leads outside the source folder"):
        resolve(tmp_path / "h", mapping_schema.load(tmp_path / "out.yaml"))


@pytest.mark.parametrize(
    ("body", "bad"),
    [
        (b"a b c\r\nd e f\r\n", []),
        (b"a b\nd e f g\n", [0, 1]),  # too few and too many: the spaces total 2 a line all the same
        (b"a b c\n\nd e f g h\n", [1, 2]),  # an empty line and one of two too many
        (b"a b c \nd e\n", [0, 1]),  # a trailing space is a fourth, empty field
        (b"a b c\nd e f\n# note\ng h i\n", []),  # a comment between: the lines are counted one by one
    ],
)
def test_a_stretch_is_read_whole_only_when_every_line_has_the_fields(body, bad):
    lines = iis.scan(body)
    assert lines is not None
    part = iis.stretch(lines, 0, len(lines.starts) - 1, 3, 0)  # the last "line" is what follows the last \n
    assert part is not None and part.bad == bad
    good = [i for i in range(len(lines.starts) - 1) if i not in bad and not body.split(b"\n")[i].startswith(b"#")]
    assert part.frame[LINE].to_list() == [i + 1 for i in good]
    assert part.frame["f0"].to_list() == [lines.text(i).split(" ")[0] for i in good]


def test_whole_stretches_are_read_in_place_after_the_lines_before_them(tmp_path, monkeypatch):
    # Two stretches that fit whole, each after its directive, the first followed by a directive of
    # another number of fields, the file ending in a line end: each is read from the chunk in
    # place (lines skipped before it, its rows counted), with what the general road reads.
    text = (
        "#Software: Microsoft Internet Information Services 8.5\r\n"
        "#Fields: date time c-ip cs(Cookie)\r\n"
        + "".join(f"2013-12-13 17:50:{s:02d} 10.0.0.{s} a=b\r\n" for s in range(7))
        + "#Date: 2013-12-13 17:51:00\r\n#Fields: date time cs-uri-stem\r\n"
        + "".join(f"2013-12-13 17:51:{s:02d} /s{s} \r\n" for s in range(3))
    )
    path = tmp_path / "u_ex131213.log"
    path.write_bytes(text.encode())
    reads: list[tuple[int, int | None]] = []
    read_fields = iis._read_fields

    def counted(buffer, n, skip=0, rows=None):
        reads.append((skip, rows))
        return read_fields(buffer, n, skip, rows)

    monkeypatch.setattr(iis, "_read_fields", counted)
    fast, general = _roads(path, monkeypatch)
    assert reads == [(2, 7)]  # the second stretch has a space too many a line (a trailing space)
    frame = pl.concat([b.frame for b in fast], how="diagonal_relaxed")
    assert frame.equals(pl.concat([b.frame for b in general], how="diagonal_relaxed"))
    assert frame[LINE].to_list() == [3, 4, 5, 6, 7, 8, 9]
    assert frame["c-ip"].to_list() == [f"10.0.0.{s}" for s in range(7)]
    text = text.replace(" \r\n", "\r\n")
    path.write_bytes(text.encode())
    reads.clear()
    monkeypatch.undo()
    monkeypatch.setattr(iis, "_read_fields", counted)
    fast, general = _roads(path, monkeypatch)
    assert reads == [(2, 7), (11, 3)]
    frame = pl.concat([b.frame for b in fast], how="diagonal_relaxed")
    assert frame.equals(pl.concat([b.frame for b in general], how="diagonal_relaxed"))
    assert frame[LINE].to_list() == [3, 4, 5, 6, 7, 8, 9, 12, 13, 14]
    assert frame["cs-uri-stem"].to_list()[-3:] == ["/s0", "/s1", "/s2"]

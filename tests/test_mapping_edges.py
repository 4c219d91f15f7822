"""Edges of the mapped ingest's readers (issue 16), on small hand-written inputs.

The IIS reader reads in chunks of whole lines and splits each stretch under one directive at
once; duplicate column names are a clear error; weblogs are read in a declared encoding.
"""

from __future__ import annotations

import polars as pl
import pytest

from workbench.ingest.batch import LINE
from workbench.mapping import weblogs

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
    batches = list(weblogs.read_iis(path, "utf-8", ["date", "time", "c-ip", "cs(Cookie)", "datetime"]))
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

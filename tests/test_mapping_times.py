"""Times are parsed once per batch (workbench.mapping.times): the fast road gives what the general one gives."""

from __future__ import annotations

import itertools
import re

import polars as pl
import pytest

from workbench.mapping import times
from workbench.mapping.times import _NAIVE, _ZONED, TimeParse, fixed_shape, iso, stage

DATES = ["2013-10-27", "2013-03-31", "2013-02-30", "2013-1-05", "2013-12-13"]
CLOCKS = ["02:30", "02:30:00", "18:42:05", "18:42:05.5", "18:42:05.123456789", "24:00:00", "23:59:60", "7:05:00"]
OFFSETS = ["", "Z", "+01:00", "-01:30", "+0100", "+25:00", "+01", " ", "z"]
ODD = [None, "", "garbage", " 2013-12-13 18:42:05", "2013-12-13", "2013-12-13 18:42:05 ", "2013-12-13t18:42:05"]


def _texts() -> list[str | None]:
    made = [f"{d}{sep}{c}{z}" for d, sep, c, z in itertools.product(DATES, ("T", " "), CLOCKS, OFFSETS)]
    return made + ODD


@pytest.mark.parametrize("zone", ["Europe/Stockholm", "UTC", None])
def test_the_fast_road_gives_what_the_general_parse_gives(zone):
    texts = _texts()
    frame = pl.DataFrame({"x": texts}, schema={"x": pl.String})
    staged = stage(frame, [TimeParse("__t0", pl.col("x"), None, zone, text=True)])
    naive, zoned = iso(pl.col("x"))
    want = frame.select(naive.alias("n"), zoned.alias("z"))
    assert staged["__t0n"].to_list() == want["n"].to_list()
    assert staged["__t0z"].to_list() == want["z"].to_list()
    # Both roads were taken, and the general one on some rows only.
    assert set(staged["__t0_road"].to_list()) == {0, 1, 2}
    assert staged["__t0n"].null_count() < len(texts) and staged["__t0z"].null_count() < len(texts)
    if zone == "Europe/Stockholm":
        local = dict(zip(texts, staged["__t0l"].to_list(), strict=True))
        assert local["2013-10-27 02:30:00"] is None  # exists twice
        assert local["2013-03-31 02:30:00"] is None  # does not exist
        assert str(local["2013-12-13 18:42:05"]) == "2013-12-13 17:42:05+00:00"


def test_a_batch_of_the_usual_shapes_never_takes_the_general_road():
    frame = pl.DataFrame({"x": ["2013-12-13 18:42:05.25", "2013-12-13T17:42:05Z", "2013-12-13T18:42:05+01:00", None]})
    staged = stage(frame, [TimeParse("__t0", pl.col("x"), None, "Europe/Stockholm", text=True)])
    assert staged["__t0_road"].to_list() == [1, 2, 2, 0]
    assert [str(v) for v in staged["__t0l"].to_list()[:1]] == ["2013-12-13 17:42:05.250000+00:00"]
    assert [str(v) for v in staged["__t0z"].to_list()[1:3]] == ["2013-12-13 17:42:05+00:00"] * 2


def test_arrows_parse_gives_what_the_general_parse_gives_value_by_value():
    # In a batch, one value Arrow refuses sends the whole batch to polars; one value a batch
    # puts every value through Arrow's parse where it takes it.
    took_arrow = 0
    usual = [t for t in _texts() if t is not None and (re.match(_NAIVE, t) or re.match(_ZONED, t))]
    for text in usual:
        frame = pl.DataFrame({"x": [text]}, schema={"x": pl.String})
        parse = TimeParse("__t0", pl.col("x"), None, "UTC", text=True)
        staged = stage(frame, [parse])
        took_arrow += parse.arrow(frame.with_columns(parse.raw())) is not None
        naive, zoned = iso(pl.col("x"))
        want = frame.select(naive.alias("n"), zoned.alias("z"))
        assert (staged["__t0n"][0], staged["__t0z"][0]) == (want["n"][0], want["z"][0]), text
    assert 50 < took_arrow < len(usual)  # both ways were taken


@pytest.mark.parametrize(
    "texts",
    [
        ["2013-12-13 18:42:05.25", None, "2013-10-27T02:30:00"],  # naive only: cast as it is
        ["2013-12-13T17:42:05Z", None, "2013-12-13 18:42:05+01:00"],  # zoned only
        [None, None],
        ["2013-12-13 18:42:05", "2013-12-13T17:42:05Z", "garbage"],  # mixed: split first
    ],
    ids=["naive", "zoned", "nulls", "mixed"],
)
def test_a_batch_of_one_shape_is_cast_whole_and_gives_what_the_general_parse_gives(texts):
    frame = pl.DataFrame({"x": texts}, schema={"x": pl.String})
    staged = stage(frame, [TimeParse("__t0", pl.col("x"), None, "UTC", text=True)])
    naive, zoned = iso(pl.col("x"))
    want = frame.select(naive.alias("n"), zoned.alias("z"))
    assert staged["__t0n"].to_list() == want["n"].to_list()
    assert staged["__t0z"].to_list() == want["z"].to_list()
    assert staged["__t0n"].null_count() + staged["__t0z"].null_count() >= len(texts)  # each at most one of them


@pytest.mark.parametrize(
    "texts",
    [
        ["2013-12-13T17:42:05Z", "2013-12-13 18:42:05+01:00", None],  # zoned throughout: one test a value
        [None, "2013-12-13 18:42:05", "2013-12-13T18:42:05.5"],  # naive throughout
        ["2013-12-13T17:42:05Z", "2013-12-13 18:42:05", "garbage", None, ""],  # first zoned, then the others
        ["2013-12-13 18:42:05", "2013-12-13T17:42:05Z", "2013-12-13 18:42", "2013-12-13 18:42:05\n"],
        [None, None],
    ],
    ids=["zoned", "naive", "zoned-first-mixed", "naive-first-mixed", "nulls"],
)
def test_the_road_found_one_shape_first_is_the_road_of_both_tests(texts):
    frame = pl.DataFrame({"x": texts}, schema={"x": pl.String})
    parse = TimeParse("__t0", pl.col("x"), None, "UTC", text=True)
    both = frame.with_columns(parse.raw())["__t0_road"]
    road = parse.road(frame.with_columns(parse.raw(road=False)))
    assert road is not None and road.dtype == pl.Int8
    assert road.to_list() == both.to_list()


def _regex_road(texts: list[str | None]) -> list[int]:
    frame = pl.DataFrame({"x": texts}, schema={"x": pl.String})
    return frame.with_columns(TimeParse("__t0", pl.col("x"), None, "UTC", text=True).raw())["__t0_road"].to_list()


@pytest.mark.parametrize(
    ("texts", "whole"),
    [
        (["2013-12-13 18:42:05.123456", None, "2013-10-27T02:30:00.000001"], 1),  # interests' anmald
        (["2013-12-09T00:00:05Z", "2013-12-09T23:59:59Z"], 2),  # an IIS date and time
        (["2015-02-21 05:36:36.000000+01:00", "2015-07-01 05:36:36.000000-02:00"], 2),  # fees' paid_at and offset
        (["2013-12-13 18:42:05.12345Z", "2013-12-13 18:42:05Z"], None),  # two lengths
        (["2013-12-13 18:42:05.12345Z", "2013-12-13 18:42:05.1+01:00"], None),  # one length, two zoned shapes
        (["2013-12-13 18:42:05.123456Z", "2013-12-13 18:42:05.123456Z"], 2),  # 27 bytes: Z, not an offset
        (["2013-12-13 18:42:05.1+01:00", "2013-12-13 18:42:05.2-11:00"], 2),  # 27 bytes: an offset, not Z
        (["2013-12-13 18:42:05", "2013-12-13 18:42:0x"], None),
        (["2013-12-13 18:42:05", "2013-12-13x18:42:05"], None),  # neither T nor a space
        (["2013-12-13 18:42:05", "2013-12-13 18:42:0\u0665"], None),  # a digit, not ASCII: value by value
        (["2013-12-13 18:42:05", "2013-12-13 18:42:05\n"], None),
        (["2013-12-13 18:42:05.", "2013-12-13 18:42:05."], None),  # a point without a fraction
        (["2013-12-13 18:42:05.1234567890"], None),  # ten decimals
        (["2013-13-45 99:99:99"], 1),  # of the shape, not a time: the parse refuses it, as before
        ([None, None], None),
        ([""], None),
    ],
)
def test_a_column_of_one_shape_and_length_is_told_so_without_a_regex_and_as_the_regex_says(texts, whole):
    frame = pl.DataFrame({"x": texts}, schema={"x": pl.String})
    assert fixed_shape(frame["x"]) == whole
    regex = _regex_road(texts)
    if whole is not None:  # each value matches that shape's regular expression
        assert regex == [whole if t is not None else 0 for t in texts]
    parse = TimeParse("__t0", pl.col("x"), None, "UTC", text=True)
    road = parse.road(frame.with_columns(parse.raw(road=False)))
    assert road is not None and road.to_list() == regex


def test_one_byte_changed_anywhere_is_never_taken_for_the_shape_the_regex_refuses():
    # Every place of three usual shapes, changed to each kind of byte: the matrix test answers
    # exactly where the regular expression finds one shape throughout, and with that shape.
    bases = ["2013-12-13 18:42:05.123456", "2013-12-09T00:00:05Z", "2015-02-21 05:36:36.000000+01:00"]
    answered = 0
    for base in bases:
        for i in range(len(base)):
            for c in "0 T.:-+Zx\n":
                changed = base[:i] + c + base[i + 1 :]
                texts = [base, changed]
                whole, regex = fixed_shape(pl.Series(texts)), _regex_road(texts)
                if whole is not None:
                    answered += 1
                    assert regex == [whole, whole], changed
                else:  # and where the regex finds one shape throughout, so does the matrix test
                    assert regex[0] != regex[1] or regex[0] == 0, changed
    assert answered > 50


@pytest.mark.parametrize("bad_row", [None, 0, 3, 4, 9, 10])
def test_the_shape_is_tested_block_by_block_to_the_last_row(monkeypatch, bad_row):
    monkeypatch.setattr(times, "_BLOCK", 4)  # 11 rows: blocks of 4, 4 and 3
    texts = [f"2013-12-{d:02} 18:42:05.123456" for d in range(1, 12)]
    if bad_row is not None:
        texts[bad_row] = texts[bad_row][:-1] + "x"
    assert fixed_shape(pl.Series(texts)) == (1 if bad_row is None else None)

"""Times are parsed once per batch (workbench.mapping.times): the fast road gives what the general one gives."""

from __future__ import annotations

import itertools
import re

import polars as pl
import pytest

from workbench.mapping.times import _NAIVE, _ZONED, TimeParse, iso, stage

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

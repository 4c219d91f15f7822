"""Times of a mapped table, parsed once per batch before its values and checks are built.

A time column's value, its bad-format check, its DST check and the reason it is refused
all read the same parse. Built as one expression each, polars parsed the text several
times over (common-subexpression elimination does not reach into ``when`` and struct
fields); so :func:`stage` adds the parse to the batch as hidden columns, once, and the
value and checks (:func:`workbench.mapping.transform`) read those columns.

Per time column with key ``k`` (``__t3`` …): ``kr`` the text as read (text sources only),
``kn`` the time without offset, ``kz`` a time with an offset, in UTC, and ``kl`` ``kn``
placed in the mapping's zone, in UTC (null where that time does not exist or exists twice
there). ISO 8601 text takes the fast road when it is of the two usual shapes (seconds,
with or without ``Z``/``±HH:MM``), parsed by Arrow's ISO 8601 cast where every value of the
batch passes it (:meth:`TimeParse.arrow`), else by polars; else the general one
(:func:`iso`), on those rows only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from ..ingest.readers import arrow_pool
from ..ingest.validate import ZONED_TIMESTAMP

__all__ = ["TimeParse", "fixed_shape", "iso", "stage"]

# ISO 8601 as iso() reads it: date, hours and minutes, seconds (and fraction), offset.
_ISO = r"^(?P<d>\d{4}-\d{2}-\d{2})[T ](?P<hm>\d{2}:\d{2})(?P<s>:\d{2}(?:\.\d{1,9})?)?(?P<z>Z|[+-]\d{2}:?\d{2})?$"
# The two usual shapes, on which iso() gives what the fast road gives (tests/test_mapping_times.py).
_NAIVE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?$"
_ZONED = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$"
_WALL = "%Y-%m-%d %H:%M:%S%.f"
_NAIVE_TYPE = pl.Datetime("us")
_UTC_TYPE = pl.Datetime("us", "UTC")


def _minutes(offset: pl.Expr) -> pl.Expr:
    """Minutes east of UTC of ``Z``, ``±HH:MM`` or ``±HHMM``."""
    sign = pl.when(offset.str.starts_with("-")).then(pl.lit(-1)).otherwise(pl.lit(1))
    return (
        pl.when(offset == "Z")
        .then(pl.lit(0))
        .otherwise(
            sign
            * (
                offset.str.slice(1, 2).cast(pl.Int64, strict=False) * 60
                + offset.str.slice(-2).cast(pl.Int64, strict=False)
            )
        )
    )


def iso(raw: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(naive, zoned in UTC) of ISO 8601 text, each null where the text is not of that kind.

    One parse a value: the offset is cut off and applied as minutes, where parsing with and
    without ``%z`` and with and without seconds would parse every value four times.
    """
    parts = raw.str.extract_groups(_ISO)
    seconds, offset = parts.struct.field("s"), parts.struct.field("z")
    text = pl.concat_str(parts.struct.field("d"), pl.lit(" "), parts.struct.field("hm"), seconds.fill_null(":00"))
    # polars reads a 60th second as the next minute's first; no civil time has one here.
    wall = pl.when(~seconds.fill_null("").str.starts_with(":60")).then(
        text.str.to_datetime(_WALL, time_unit="us", strict=False)
    )
    # As ZONED_TIMESTAMP says: a time with an offset has its seconds.
    zoned = pl.when(offset.is_not_null() & seconds.is_not_null()).then(
        wall.dt.replace_time_zone("UTC") - pl.duration(minutes=_minutes(offset))
    )
    return pl.when(offset.is_null()).then(wall), zoned


def _templates(length: int, zoned: bool) -> list[tuple[np.ndarray, np.ndarray, list[int]]]:
    """The shapes of _NAIVE (or _ZONED) that text of ``length`` bytes can have, each as the lowest
    and highest byte allowed at each place, and the places of a choice of two (the date and time
    between ``T`` or a space, the offset's sign). One with a fraction of 1 to 9 digits, or none;
    a zoned one ends in ``Z`` or ``±HH:MM``, so its length may fit two of them.
    """
    out = []
    for tail in ("Z", "+dd:dd") if zoned else ("",):
        wall = length - len(tail)
        if wall != 19 and not 21 <= wall <= 29:
            continue
        shape = "dddd-dd-dd?dd:dd:dd" + ("." + "d" * (wall - 20) if wall > 19 else "") + tail
        lo = [48 if c == "d" else 0 if c in "?+" else ord(c) for c in shape]
        hi = [57 if c == "d" else 255 if c in "?+" else ord(c) for c in shape]
        out.append((np.array(lo, np.uint8), np.array(hi, np.uint8), [i for i, c in enumerate(shape) if c in "?+"]))
    return out


_BLOCK = 1 << 16  # rows a numpy pass: its template and work space stay in the cache


def _in_ranges(flat: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> bool:
    """Whether every byte of ``flat`` (rows of ``len(lo)`` bytes) is within its place's range.

    One subtraction (bytes below the range wrap round to above it) and one comparison, on a
    block of rows at a time as one run against the template repeated (a row at a time, numpy
    runs twice as slow).
    """
    step = _BLOCK * len(lo)
    low, span = np.tile(lo, _BLOCK), np.tile(hi - lo, _BLOCK)
    work = np.empty(min(step, len(flat)), np.uint8)
    for at in range(0, len(flat), step):
        block = flat[at : at + step]
        n = len(block)
        np.subtract(block, low[:n], out=work[:n])
        if not (work[:n] <= span[:n]).all():
            return False
    return True


def fixed_shape(raw: pl.Series) -> int | None:
    """1 (naive) or 2 (zoned) when every value not null is of that usual ISO shape, all of one length; else None.

    Where it answers, each value matches _NAIVE (or _ZONED) as a regular expression says; it
    is for the usual column (machine-written times of one length), tested as one matrix of
    bytes rather than a regular expression a value. None: the values are tested one by one.
    """
    values = raw.drop_nulls()
    if values.is_empty():
        return None
    array = values.to_arrow()
    if array.type != pa.large_string():
        array = array.cast(pa.large_string())
    offsets = np.frombuffer(array.buffers()[1], np.int64, len(array) + 1, array.offset * 8)
    length = int(offsets[1] - offsets[0])
    if length < 19 or int(offsets[-1] - offsets[0]) != length * len(array) or np.any(np.diff(offsets) != length):
        return None
    flat = np.frombuffer(array.buffers()[2], np.uint8, length * len(array), int(offsets[0]))
    data = flat.reshape(-1, length)
    for road, zoned in ((1, False), (2, True)):
        for lo, hi, choice in _templates(length, zoned):
            if not _in_ranges(flat, lo, hi):
                continue
            # The place between date and time holds ' ' or 'T'; an offset's sign '+' or '-'.
            pairs = [(32, 84) if i == 10 else (43, 45) for i in choice]
            if all(((data[:, i] == a) | (data[:, i] == b)).all() for i, (a, b) in zip(choice, pairs, strict=True)):
                return road
    return None


def _sixtieth(raw: pl.Expr, fmt: str) -> pl.Expr:
    """A 60th second in text read by a ``format`` whose seconds follow a colon (``%H:%M:%S``, ``%T``).

    polars (chrono) reads it as the next minute's first; no civil time has one, and no other
    field after a colon can be 60, so the text is refused rather than moved a minute on.
    """
    if ":%S" not in fmt and "%T" not in fmt:
        return pl.lit(False)
    return raw.str.contains(r":60(?:[^0-9]|$)").fill_null(False)


@dataclass
class TimeParse:
    """How one time column is parsed: ``source`` is its text, or a native time without zone."""

    key: str
    source: pl.Expr
    format: str | None
    zone: str | None
    text: bool

    def col(self, part: str) -> pl.Expr:
        return pl.col(self.key + part)

    def _road(self) -> pl.Expr:
        return pl.col(self.key + "_road")

    def raw(self, road: bool = True) -> list[pl.Expr]:
        """The text, and for ISO 8601 which road it takes (1: naive, 2: zoned, 0: the general one).

        ``road=False``: the text only; :meth:`road` gives the road from it for less.
        """
        if not self.text:
            return []
        raw = self.source.cast(pl.String)
        out = [raw.alias(self.key + "r")]
        if self.format is None and road:
            road_ = pl.when(raw.str.contains(_NAIVE)).then(1).when(raw.str.contains(_ZONED)).then(2).otherwise(0)
            out.append(road_.cast(pl.Int8).alias(self.key + "_road"))
        return out

    def road(self, frame: pl.DataFrame) -> pl.Series | None:
        """:meth:`raw`'s road of ``frame`` (which has the text), testing most values against one shape only.

        ``when``/``then`` tests every value against both shapes; a column usually holds one
        shape throughout, so the shape of its first value is tested first, on every value,
        and the other only when some value is not of it. None where there is no road (a format).
        """
        if not self.text or self.format is not None:
            return None
        raw = frame[self.key + "r"]
        if (whole := fixed_shape(raw)) is not None:  # one shape and one length throughout: no regex
            return (raw.is_not_null().cast(pl.Int8) * whole).cast(pl.Int8).alias(self.key + "_road")
        first = raw.drop_nulls().head(1).to_list()
        shapes = [(_NAIVE, 1), (_ZONED, 2)]
        if first and re.match(_ZONED, first[0]):
            shapes.reverse()
        (shape, road), (other, other_road) = shapes
        hit = raw.str.contains(shape)
        if hit.sum() == raw.len() - raw.null_count():  # every value of the first shape (nulls: road 0)
            return (hit.cast(pl.Int8) * road).fill_null(0).cast(pl.Int8).alias(self.key + "_road")
        return (
            pl.select(pl.when(hit).then(road).when(raw.str.contains(other)).then(other_road).otherwise(0).cast(pl.Int8))
            .to_series()
            .alias(self.key + "_road")
        )

    def parse(self) -> list[pl.Expr]:
        """Naive and zoned times, from the columns :meth:`raw` made."""
        raw, fmt = self.col("r"), self.format
        if not self.text:
            naive, zoned = self.source.dt.cast_time_unit("us"), pl.lit(None, _UTC_TYPE)
        elif fmt is None:
            # One parse for both roads: the offset (Z or ±HH:MM) is cut off and applied as minutes.
            road, z = self._road(), raw.str.ends_with("Z")
            text = raw.str.replace("T", " ", literal=True)
            text = pl.when(road != 2).then(text).when(z).then(text.str.head(-1)).otherwise(text.str.head(-6))
            # A 60th second (places 17-18 of both shapes) is refused, as Arrow's parse refuses it:
            # polars would read it as the next minute's first.
            wall = pl.when(text.str.slice(17, 2) != "60").then(
                text.str.to_datetime(_WALL, time_unit="us", strict=False)
            )
            offset = pl.when(z).then(pl.lit("Z")).otherwise(raw.str.tail(6))
            naive = pl.when(road == 1).then(wall)
            zoned = pl.when(road == 2).then(wall.dt.replace_time_zone("UTC") - pl.duration(minutes=_minutes(offset)))
        elif "%z" in fmt:
            zoned = raw.str.to_datetime(fmt, time_unit="us", time_zone="UTC", strict=False)
            zoned, naive = pl.when(~_sixtieth(raw, fmt)).then(zoned), pl.lit(None, _NAIVE_TYPE)
        else:
            iso_text = raw.str.replace(r"Z$", "+00:00").str.replace(r"^(\d{4}-\d{2}-\d{2})T", "${1} ")
            zoned = pl.when(raw.str.contains(ZONED_TIMESTAMP) & (iso_text.str.slice(17, 2) != "60")).then(
                iso_text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f%z", time_unit="us", time_zone="UTC", strict=False)
            )
            naive = pl.when(zoned.is_null() & ~_sixtieth(raw, fmt)).then(
                iso_text.str.to_datetime(fmt, time_unit="us", strict=False)
            )
        return [naive.cast(_NAIVE_TYPE).alias(self.key + "n"), zoned.cast(_UTC_TYPE).alias(self.key + "z")]

    def arrow(self, frame: pl.DataFrame) -> list[pl.Series] | None:
        """Naive and zoned times of the two usual ISO shapes by Arrow's ISO 8601 cast, else None.

        Arrow's parse is an order of magnitude cheaper than polars' ``to_datetime`` and refuses
        what polars would read as null or otherwise (24:00:00, 23:59:60, 30 February, more than
        six decimals, an offset past ±23:59): then the whole batch takes :meth:`parse`.
        """
        if not self.text or self.format is not None:
            return None
        road, raw = self._road(), self.col("r")
        # Usually a column holds one shape throughout: then its text is cast as it is, without
        # first being split in two by when/then (whose result is slow to hand to Arrow).
        naives, zoneds, nulls = frame.select(
            (road == 1).sum().alias("n"), (road == 2).sum().alias("z"), raw.is_null().sum().alias("x")
        ).row(0)
        try:
            if naives + nulls == frame.height:
                naive = pc.cast(frame[self.key + "r"].to_arrow(), pa.timestamp("us"), memory_pool=arrow_pool())
                zoned = pa.nulls(frame.height, pa.timestamp("us", "UTC"), memory_pool=arrow_pool())
            elif zoneds + nulls == frame.height:
                naive = pa.nulls(frame.height, pa.timestamp("us"), memory_pool=arrow_pool())
                zoned = pc.cast(frame[self.key + "r"].to_arrow(), pa.timestamp("us", "UTC"), memory_pool=arrow_pool())
            else:
                texts = frame.select(pl.when(road == 1).then(raw).alias("n"), pl.when(road == 2).then(raw).alias("z"))
                naive = pc.cast(texts["n"].to_arrow(), pa.timestamp("us"), memory_pool=arrow_pool())
                zoned = pc.cast(texts["z"].to_arrow(), pa.timestamp("us", "UTC"), memory_pool=arrow_pool())
        except pa.ArrowInvalid:
            return None
        return [
            pl.Series(self.key + "n", naive, dtype=_NAIVE_TYPE),
            pl.Series(self.key + "z", zoned, dtype=_UTC_TYPE),
        ]

    def general(self, frame: pl.DataFrame) -> pl.DataFrame:
        """ISO 8601 text of neither usual shape, parsed by :func:`iso` on those rows only."""
        if not self.text or self.format is not None:
            return frame
        rest = frame.select((self._road() == 0) & self.col("r").is_not_null()).to_series()
        if not rest.any():
            return frame
        at = rest.arg_true()
        naive, zoned = iso(self.col("r"))
        parsed = frame.filter(rest).select(naive.alias("n"), zoned.alias("z"))
        return frame.with_columns(
            frame[self.key + "n"].clone().scatter(at, parsed["n"]),
            frame[self.key + "z"].clone().scatter(at, parsed["z"]),
        )

    def local(self) -> pl.Expr:
        """The naive time placed in the zone, in UTC; null where it does not exist or exists twice."""
        naive = self.col("n")
        if self.zone is None:
            local = pl.lit(None, _UTC_TYPE)
        elif self.zone == "UTC":  # no DST: nothing to quarantine, and two time-zone passes saved
            local = naive.dt.replace_time_zone("UTC")
        else:
            local = naive.dt.replace_time_zone(self.zone, ambiguous="null", non_existent="null")
            local = local.dt.convert_time_zone("UTC")
        return local.alias(self.key + "l")

    def ambiguous(self) -> pl.Expr:
        """The naive time exists twice in the zone (the autumn change), rather than not at all."""
        assert self.zone is not None
        return self.col("n").dt.replace_time_zone(self.zone, ambiguous="earliest", non_existent="null").is_not_null()


def stage(frame: pl.DataFrame, parses: list[TimeParse]) -> pl.DataFrame:
    """``frame`` with the hidden columns of every parse added (see the module's docstring)."""
    if not parses:
        return frame
    frame = frame.with_columns(e for p in parses for e in p.raw(road=False))
    frame = frame.with_columns(r for p in parses if (r := p.road(frame)) is not None)
    fast = [p.arrow(frame) for p in parses]
    frame = frame.with_columns(
        e for p, f in zip(parses, fast, strict=True) for e in (f if f is not None else p.parse())
    )
    for p in parses:
        frame = p.general(frame)
    return frame.with_columns(p.local() for p in parses)

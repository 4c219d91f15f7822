"""The leak scan's keys held compactly: each distinct key once, in one sorted string column.

A case's direct identifiers are many (at national, tens of millions of keys). Held as Python
sets of str, one set per kind, each key costs about 90 bytes, and a customer number that
stands in ten tables is held ten times: 7.7 GB for the report process at national. Here
each distinct key is held once in a sorted polars string column (16 bytes a key, plus its
characters beyond the twelfth), with a small code per key naming the kinds it is a key of.
A report's words are looked up in it by binary search (:meth:`KeyTable.find`).

:class:`KindView` is one kind's keys as a set, as :class:`workbench.reportset.casekeys.Identifiers`
has always given them (``ids.keys["applicants.name"]``): membership, length and iteration
read the table. A view can set keys aside (``without``) or take a few more (``add``) without
touching the table, which copies share.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Iterator, MutableSet, Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import polars as pl

__all__ = ["KeyTable", "KindView", "Merge", "segment_starts"]

MAX_KINDS = 63
"""Kinds one table holds: a key's kinds are bits of an unsigned 64-bit mask while it is built."""
PARTITIONS = 16
"""Segments of a table built from a case: its text keys spread over them by a hash of the key."""
_SEED = 20_20
_MERGE_AT = 1_000_000  # rows a partition takes before its pieces are first merged
_POW10 = pl.Series([10**n for n in range(18)], dtype=pl.UInt64)


class KeyTable:
    """Distinct keys of many kinds, in sorted segments that share no key; each key's kinds a code into ``masks``.

    A segment is ``(keys, codes)``: ``keys`` sorted, ``codes[i]`` the index in ``masks`` of
    key i's kinds (bit n: ``kinds[n]``). Each kind's keys that no earlier kind holds make a
    segment of their own, so building never copies what is already held (one merged column
    did, twice the table at every merge).
    """

    def __init__(
        self, kinds: list[str], segments: list[tuple[pl.Series, pl.Series]], masks: list[int], ip: Iterable[str] = ()
    ):
        self.kinds = kinds
        self.segments = segments
        self.masks = masks
        self.ip_bits = sum(1 << kinds.index(k) for k in ip)
        self.code_counts: dict[int, int] = {}
        for _, codes in segments:
            per_code = pl.DataFrame({"code": codes}).group_by("code").len()
            for code, n in per_code.iter_rows():
                self.code_counts[code] = self.code_counts.get(code, 0) + n
        self._starts: pl.DataFrame | None = None
        # set by build: the segment of the digits' keys, and of each text partition (None: no keys)
        self._route: tuple[int | None, list[int | None]] | None = None

    @classmethod
    def build(
        cls,
        parts: Iterable[tuple[str, pl.Series | Iterable[pl.Series]]],
        *,
        ip: Callable[[str], bool] = lambda kind: False,
        spill: Path | None = None,
    ) -> KeyTable:
        """A table of ``(kind, keys)`` parts, each kind once, its keys one column or several in turn.

        ``ip(kind)``: the kind is searched as dotted addresses. Keys of 1 to 17 ASCII digits
        (customer numbers stand in ten tables) are held as numbers that sort as their text
        (:func:`_digits`), the others as text. Both are spread over :data:`PARTITIONS` by a
        hash of the key, so that a key of several kinds meets itself in one partition, where
        its kinds' bits are or-ed by a group-by on DuckDB's threads (the pieces now and then,
        each partition at the end). The numbers make one sorted segment, each text partition
        one. No search of the keys already held, no Python object per key.

        ``spill``: a folder (private: the keys are identifiers) where each partition's pieces
        are written, as Parquet, instead of held, to be merged at the end, one partition at a
        time, on one thread: the same table, holding about one partition at a time instead of
        all of them (:mod:`workbench.reportset.keyprocess`). Its files are removed as they are
        merged.
        """
        merge = Merge(spill)
        merge.take(parts)
        return cls.of_segments(merge.kinds, list(merge.segments()), merge.route, ip=ip)

    @classmethod
    def of_segments(
        cls,
        kinds: list[str],
        segments: list[tuple[pl.Series, pl.Series]],
        route: tuple[int | None, list[int | None]] | None,
        *,
        ip: Callable[[str], bool] = lambda kind: False,
    ) -> KeyTable:
        """The table of :class:`Merge`'s ``(keys, masks)`` segments, each mask made a code (16 bits when they fit)."""
        unique = (
            pl.concat([masks.unique() for _, masks in segments] or [pl.Series([], dtype=pl.UInt64)]).unique().sort()
        )
        code_type = pl.UInt16 if unique.len() <= 1 << 16 else pl.UInt32
        coded = [(keys, unique.search_sorted(masks).cast(code_type)) for keys, masks in segments]
        table = cls(kinds, coded, unique.to_list(), [k for k in kinds if ip(k)])
        table._route = route
        return table

    def __len__(self) -> int:
        return sum(keys.len() for keys, _ in self.segments)

    def bit(self, kind: str) -> int:
        return 1 << self.kinds.index(kind)

    def rows(self, bits: int) -> int:
        """How many keys are of at least one of the kinds in ``bits``."""
        return sum(n for code, n in self.code_counts.items() if self.masks[code] & bits)

    def find(self, candidates: Iterable[str]) -> dict[str, int]:
        """``{key: kinds mask}`` for each of ``candidates`` that is a key."""
        wanted = pl.Series("key", sorted(set(candidates)), dtype=pl.String)
        out: dict[str, int] = {}
        for keys, codes, some in self._search(wanted):
            at, held = _held(keys, some)
            found = codes.gather(at.filter(held)).to_list()
            out.update((key, self.masks[code]) for key, code in zip(some.filter(held).to_list(), found, strict=True))
        return out

    def _search(self, wanted: pl.Series) -> Iterator[tuple[pl.Series, pl.Series, pl.Series]]:
        """``(keys, codes, candidates)``: where to look for each of ``wanted`` (sorted), each in its one segment
        when the table was built here (a key's segment follows from the key), else in every segment."""
        if self._route is None:
            for keys, codes in self.segments:
                yield keys, codes, wanted
            return
        numbers, text = self._route
        digits = wanted.str.contains(r"^[0-9]{1,17}$")
        if numbers is not None:
            yield (*self.segments[numbers], wanted.filter(digits))
        rest = wanted.filter(~digits)
        if not rest.len():
            return
        part = (rest.hash(seed=_SEED) % PARTITIONS).cast(pl.UInt32).rename("part")
        for (i,), piece in rest.to_frame().with_columns(part).partition_by("part", as_dict=True).items():
            at = text[cast(int, i)]
            if at is not None:
                yield (*self.segments[at], piece["key"])  # still sorted: a partition keeps the order

    def mask(self, key: str) -> int:
        return self.find([key]).get(key, 0)

    def _with(self, bits: int) -> list[pl.Series]:
        """Each segment's keys whose kinds meet ``bits``."""
        codes = pl.Series([code for code, mask in enumerate(self.masks) if mask & bits], dtype=pl.UInt32)
        return [keys.filter(c.cast(pl.UInt32).is_in(codes.implode())) for keys, c in self.segments]

    def of_kind(self, bit: int) -> pl.Series:
        """The keys of the kind with ``bit``, sorted."""
        return pl.concat([pl.Series("key", [], dtype=pl.String), *self._with(bit)]).sort()

    def starts(self) -> pl.DataFrame:
        """``first``, ``words``: the first word and word count of every key of more than one word (not of IP kinds)."""
        if self._starts is None:  # segment by segment: all keys of more than one word at once took 1.8 GB at national
            codes = pl.Series([code for code, mask in enumerate(self.masks) if mask & ~self.ip_bits], dtype=pl.UInt32)
            found = [segment_starts(keys, c.cast(pl.UInt32).is_in(codes.implode())) for keys, c in self.segments]
            self._starts = pl.concat([pl.DataFrame(schema={"first": pl.String, "words": pl.UInt32}), *found]).unique()
        return self._starts

    def first_words(self, words: Iterable[str]) -> dict[str, int]:
        """For each of ``words`` that starts a key of more than one word: a bit mask of those keys' word counts."""
        starts = self.starts()
        if not starts.height:
            return {}
        present = starts.filter(pl.col("first").is_in(pl.Series(list(words), dtype=pl.String).implode()))
        out: dict[str, int] = {}
        for first, n in present.iter_rows():
            out[first] = out.get(first, 0) | (1 << n)
        return out


class Merge:
    """A key table's keys while it is built (:meth:`KeyTable.build`): spread over partitions, then merged.

    :meth:`take` the parts; :meth:`segments` then merges the partitions one by one, each
    segment ``(keys, masks)`` let go of once given (a child process writes each to a file and
    never holds the whole table); ``route`` is the segment of the digits' keys and of each text
    partition, once every segment is given.
    """

    def __init__(self, spill: Path | None = None):
        self.kinds: list[str] = []
        self.spill = spill
        self.numbers = [self._partition(pl.UInt64, f"n{i}") for i in range(PARTITIONS)]  # merged at once: 0.9 GB
        self.text = [self._partition(pl.String, f"t{i}") for i in range(PARTITIONS)]
        self.route: tuple[int | None, list[int | None]] | None = None

    def _partition(self, dtype: type[pl.DataType], name: str) -> _Rows:
        return _Rows(dtype, None if self.spill is None else self.spill / name)

    def take(self, parts: Iterable[tuple[str, pl.Series | Iterable[pl.Series]]]) -> None:
        for kind, values in parts:
            if kind in self.kinds:
                raise ValueError(f"kind {kind!r} given twice")
            if len(self.kinds) == MAX_KINDS:
                raise ValueError(f"a key table holds at most {MAX_KINDS} kinds")
            bit = pl.lit(1 << len(self.kinds), dtype=pl.UInt64)
            self.kinds.append(kind)
            for chunk in [values] if isinstance(values, pl.Series) else values:
                rows = chunk.cast(pl.String).drop_nulls().rename("key").to_frame().with_columns(mask=bit)
                digits = rows["key"].str.contains(r"^[0-9]{1,17}$")
                if digits.any():
                    _spread(self.numbers, rows.filter(digits).with_columns(key=_digits(pl.col("key"))))
                _spread(self.text, rows.filter(~digits))

    def segments(self) -> Iterator[tuple[pl.Series, pl.Series]]:
        """Each segment's ``(keys, masks)``, keys sorted: the digits' first (if any), then each text partition's."""
        held = []
        for i, part in enumerate(self.numbers):  # no key in two partitions: merged one by one, each let go of
            held.append(part.merged())
            self.numbers[i] = _Rows(pl.UInt64)
        merged = pl.concat(held, rechunk=False).sort("key")
        del held
        given = 0
        numbers = None
        if merged.height:
            numbers, given = 0, 1
            keys, masks = merged.select(_text(pl.col("key"))).to_series(), merged["mask"]
            del merged
            yield keys, masks
            del keys, masks
        text: list[int | None] = []
        for i, part in enumerate(self.text):
            merged = part.merged(sort=True)
            self.text[i] = _Rows(pl.String)  # let go of the pieces
            text.append(given if merged.height else None)
            if merged.height:
                given += 1
                keys, masks = merged["key"], merged["mask"]
                del merged
                yield keys, masks
                del keys, masks
        self.route = (numbers, text)


def segment_starts(keys: pl.Series, wanted: pl.Series) -> pl.DataFrame:
    """``first``, ``words`` of the ``keys`` of more than one word where ``wanted`` (a key of a kind not IP)."""
    spaced = keys.str.contains(" ", literal=True)
    return _starts(keys.filter(spaced & wanted))


class _Rows:
    """Pieces of ``key``, ``mask`` rows, merged (each key once, its masks or-ed) when the pieces grow."""

    def __init__(self, dtype: type[pl.DataType], spill: Path | None = None):
        self.spill = spill  # a folder for the pieces, if not held
        self.files: list[Path] = []
        self.pieces = [pl.DataFrame(schema={"key": dtype, "mask": pl.UInt64})]
        self.held = 0  # rows of the first piece, merged
        self.rows = 0

    def add(self, piece: pl.DataFrame) -> None:
        self.rows += piece.height
        if self.spill is not None:
            self.spill.mkdir(parents=True, exist_ok=True)
            self.files.append(self.spill / f"{len(self.files)}.parquet")
            piece.write_parquet(self.files[-1], compression="lz4", statistics=False)
            return
        self.pieces.append(piece)
        if self.rows > 2 * self.held + _MERGE_AT:  # the pieces may hold a key many times: merge now and then
            self.pieces = [self.merged()]
            self.held = self.rows = self.pieces[0].height

    def merged(self, sort: bool = False) -> pl.DataFrame:
        """Each key once with its masks or-ed; with ``sort``, sorted by key (as bytes)."""
        import duckdb

        rows = pl.concat(self.pieces, rechunk=False)  # DuckDB reads the pieces as they are
        con = duckdb.connect()
        try:
            con.execute("SET temp_directory = ''")  # never write the keys to disk (but to ``spill``, if given)
            con.execute("SET enable_progress_bar = false")  # nothing to draw on: its output is a log
            if self.files:
                con.execute("SET threads = 1")
                con.register("rows", con.read_parquet([str(f) for f in self.files]))
            else:
                con.register("rows", rows)
            order = " ORDER BY key" if sort else ""
            out = con.sql(f"SELECT key, bit_or(mask) AS mask FROM rows GROUP BY key{order}").pl()
        finally:
            con.close()
            if self.spill is not None:
                shutil.rmtree(self.spill, ignore_errors=True)  # merged once, at the end: the pieces go
        out = out.cast({"key": rows.schema["key"], "mask": pl.UInt64})
        if sort and not out["key"].is_sorted():  # DuckDB sorts text as bytes, as polars does; if not, here
            out = out.sort("key")
        return out


def _digits(key: pl.Expr) -> pl.Expr:
    """Keys of 1 to 17 ASCII digits as numbers that sort as the keys do (as text): the digits padded
    with zeros to 17, times 32, plus their count (a key that is a prefix of another sorts first)."""
    count = key.str.len_bytes().cast(pl.UInt64)
    return key.cast(pl.UInt64) * pl.lit(_POW10).gather(17 - count) * 32 + count


def _text(code: pl.Expr) -> pl.Expr:
    """The keys of :func:`_digits`' numbers."""
    count = code % 32
    return (code // 32 // pl.lit(_POW10).gather(17 - count)).cast(pl.String).str.zfill(count).alias("key")


def _spread(partitions: list[_Rows], rows: pl.DataFrame) -> None:
    """``rows`` (``key``, ``mask``) into ``partitions`` by a hash of the key."""
    if not rows.height:
        return
    part = (rows["key"].hash(seed=_SEED) % len(partitions)).cast(pl.UInt32).rename("part")
    for (i,), piece in rows.with_columns(part).partition_by("part", as_dict=True, include_key=False).items():
        partitions[cast(int, i)].add(piece.rechunk())  # its own copy of its keys: the column they came from can go


def _held(keys: pl.Series, column: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Where each of ``column`` (sorted) would stand in ``keys`` (sorted), and whether it is there."""
    if not keys.len():
        return pl.Series([0] * column.len(), dtype=pl.Int64), pl.Series([False] * column.len())
    at = keys.search_sorted(column, side="left").cast(pl.Int64)
    return at, (at < keys.len()) & (keys.gather(at.clip(upper_bound=keys.len() - 1)) == column)


def _starts(keys: pl.Series) -> pl.DataFrame:
    """``first``, ``words`` of ``keys`` (each of more than one word), each pair once."""
    return (
        pl.DataFrame({"key": keys})
        .select(
            first=pl.col("key").str.splitn(" ", 2).struct.field("field_0"),
            words=(pl.col("key").str.count_matches(" ", literal=True) + 1).cast(pl.UInt32),
        )
        .unique()
    )


@dataclass(eq=False)
class KindView(MutableSet[str]):
    """The keys of one kind of a :class:`KeyTable`, as a set: less ``gone``, with ``extra`` added."""

    table: KeyTable
    kind: str
    gone: frozenset[str] = frozenset()
    extra: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.bit = self.table.bit(self.kind)
        self.ip = bool(self.bit & self.table.ip_bits)

    @classmethod
    def _from_iterable(cls, it: Iterable[str]) -> set[str]:  # type: ignore[override]  # set operations give plain sets
        return set(it)

    def in_table(self, key: str) -> bool:
        return bool(self.table.mask(key) & self.bit)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str) or key in self.gone:
            return False
        return key in self.extra or self.in_table(key)

    def __iter__(self) -> Iterator[str]:
        for key in self.table.of_kind(self.bit):
            if key not in self.gone:
                yield key
        yield from sorted(k for k in self.extra if not self.in_table(k))

    def __len__(self) -> int:
        n = self.table.rows(self.bit) - sum(1 for k in self.gone if self.in_table(k))
        return n + sum(1 for k in self.extra if k not in self.gone and not self.in_table(k))

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]  # a set, not hashable

    def add(self, key: str) -> None:
        self.gone -= {key}
        if not self.in_table(key):
            self.extra |= {key}

    def discard(self, key: str) -> None:
        self.extra -= {key}
        if self.in_table(key):
            self.gone |= {key}

    def without(self, keys: Iterable[str]) -> KindView:
        """A view of the same table without ``keys``; this one is left as it is."""
        drop = frozenset(keys)
        return KindView(self.table, self.kind, self.gone | drop, self.extra - drop)

    def matches(self, found: dict[str, int], candidates: AbstractSet[str]) -> set[str]:
        """Its keys among ``candidates``, given ``found`` = ``self.table.find(...)`` over at least them."""
        hits = {k for k, mask in found.items() if mask & self.bit and k in candidates}
        return (hits | (self.extra & candidates)) - self.gone

    def __repr__(self) -> str:
        return f"KindView({self.kind!r}, {len(self)} keys)"

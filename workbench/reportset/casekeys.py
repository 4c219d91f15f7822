"""The direct identifiers of the people in a case, as search keys for the leak scan.

They are read from the evidence itself, column by column, wherever the format tags a column
as a direct identifier (:class:`workbench.evidence.PII`): personnummer (with and without the
hyphen, and the short ``YYMMDD-NNNN`` form), names, street addresses, e-mail, phone,
customer numbers, caseworker names, IP addresses, session ids and Message-IDs; from evidence
files (:func:`identifiers`) or from an open case (:func:`case_identifiers`). Parameter values
an audience is not shown are added as further keys (:func:`add_values`). Each key is a
normalised word sequence; :mod:`workbench.reportset.leakscan` searches report sets for them.

A column of whole numbers (customer numbers, session numbers) is taken as a column: its
values are already their keys, and ASCII text is normalised as a column too; only other
text is normalised value by value. The keys of all kinds go into one
:class:`~workbench.reportset.keytable.KeyTable`, each distinct key once (at stockholm 3.9 M
of the 5.7 M keys the kinds hold together), and ``Identifiers.keys[kind]`` reads it as a set.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, MutableSet, Set as AbstractSet
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

import polars as pl

from ..evidence import PII, metadata
from .casereaders import Public, Reader, case_reader, file_reader, public_ids
from .keytable import KeyTable, KindView, Merge

if TYPE_CHECKING:
    from ..case import Case

__all__ = [
    "MIN_NUMBER_DIGITS",
    "WORD",
    "Identifiers",
    "add_values",
    "case_identifiers",
    "identifiers",
    "normalise",
]

MIN_NUMBER_DIGITS = 6
_CHUNK = 1_000_000  # values whose keys are made together
WORD = re.compile(r"\w+", re.UNICODE)
"""A word, as keys and the scanned text are cut into them."""


@dataclass
class Identifiers:
    """Search keys by kind: ``{"applicants.name": {"anna lindqvist", ...}, ...}``, each a normalised word sequence.

    A case's keys are :class:`~workbench.reportset.keytable.KindView` sets over one shared
    :class:`~workbench.reportset.keytable.KeyTable`; keys added later (:func:`add_values`)
    and hand-made ones are plain sets.
    """

    keys: dict[str, MutableSet[str]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # column -> why it is not searched
    ambiguous: set[str] = field(default_factory=set)  # numbers that are also non-personal ids
    set_aside: dict[str, int] = field(default_factory=dict)  # kind -> values the reports' own text holds
    short: dict[str, int] = field(default_factory=dict)  # kind -> one-word values too short to search
    figures: set[str] = field(default_factory=set)  # numbers that equal a figure the set records

    @property
    def count(self) -> int:
        """Distinct keys over all kinds."""
        views = [v for v in self.keys.values() if isinstance(v, KindView)]
        small = set().union(*(v for v in self.keys.values() if not isinstance(v, KindView)))
        small |= set().union(*(v.extra - v.gone for v in views))
        tables = {id(v.table): v.table for v in views}
        if len(tables) > 1:  # views of tables read apart may share keys: count them one by one
            return len(set().union(*self.keys.values()))
        n = 0
        for table in tables.values():
            bits = sum({v.bit for v in views})
            n += table.rows(bits)
            gone = set().union(*(v.gone for v in views))
            n -= sum(1 for key, mask in table.find(gone).items() if mask & bits and _gone_everywhere(key, mask, views))
            held = table.find(small)
            small = {k for k in small if not held.get(k, 0) & bits or _gone_everywhere(k, held[k], views)}
        return n + len(small)

    def copy(self) -> Identifiers:
        """A copy that :func:`add_values` can extend without touching this one (the key sets are shared, not copied)."""
        return Identifiers(
            keys=dict(self.keys),
            skipped=dict(self.skipped),
            ambiguous=set(self.ambiguous),
            set_aside=dict(self.set_aside),
            short=dict(self.short),
            figures=set(self.figures),
        )

    def kinds(self) -> dict[str, int]:
        return {k: len(v) for k, v in sorted(self.keys.items())}

    def prepare(self) -> None:
        """Index the first words of the case's keys now (:meth:`starting` would on first use)."""
        for table in {id(v.table): v.table for v in self.keys.values() if isinstance(v, KindView)}.values():
            table.starts()

    def starting(self, words: Iterable[str]) -> dict[str, int]:
        """Each of ``words`` that starts a key of more than one word -> a bit mask of those keys' word counts (bit n: n words)."""
        words = set(words)
        out: dict[str, int] = {}
        for kind, keys in self.keys.items():
            if kind.endswith(".ip"):
                continue
            # a view's table keys are indexed by the table, below
            plain: AbstractSet[str] = keys.extra - keys.gone if isinstance(keys, KindView) else keys
            for key in plain:
                space = key.find(" ")
                if space > 0 and key[:space] in words:
                    out[key[:space]] = out.get(key[:space], 0) | (1 << (key.count(" ") + 1))
        for table in {id(v.table): v.table for v in self.keys.values() if isinstance(v, KindView)}.values():
            for first, mask in table.first_words(words).items():
                out[first] = out.get(first, 0) | mask
        return out

    def among(self, candidates: AbstractSet[str], ip: AbstractSet[str] = frozenset()) -> Iterator[tuple[str, str]]:
        """``(kind, key)`` for each key in ``candidates`` (for IP kinds: in ``ip``), kind by kind, each kind's keys sorted."""
        found = {
            id(table): table.find(candidates | ip)
            for table in {id(v.table): v.table for v in self.keys.values() if isinstance(v, KindView)}.values()
        }
        for kind, keys in self.keys.items():
            wanted = ip if kind.endswith(".ip") else candidates
            hits = keys.matches(found[id(keys.table)], wanted) if isinstance(keys, KindView) else keys & wanted
            for key in sorted(hits):
                yield kind, key


def _gone_everywhere(key: str, bits: int, views: list[KindView]) -> bool:
    """Whether ``key``, a table key of the kinds in ``bits``, is set aside in every view of those kinds."""
    return all(key in v.gone for v in views if v.bit & bits)


def normalise(text: str) -> str:
    """Lower-case words separated by single spaces: 'Anna-Karin Öberg' -> 'anna karin öberg'."""
    return " ".join(WORD.findall(text.casefold()))


def _variants(column: str, value: str) -> list[str]:
    if "personnummer" in column:
        digits = re.sub(r"\D", "", value)
        out = [value, digits]
        if len(digits) == 12:  # the short form YYMMDD-NNNN, as people often write it
            out.append(f"{digits[2:8]}-{digits[8:]}")
        return out
    if column == "phone":
        return [value, re.sub(r"\D", "", value)]
    return [value]


def _searchable(ids: Identifiers, kind: str, key: str) -> bool:
    """Whether ``key`` can be searched; a one-word key shorter than MIN_NUMBER_DIGITS is counted in ``short``."""
    if not key:
        return False
    if len(key) < MIN_NUMBER_DIGITS and " " not in key:
        ids.short[kind] = ids.short.get(kind, 0) + 1
        return False
    return True


def _collect(
    read: Reader,
    spill: Path | None = None,
    read_all: Callable[[], object] = lambda: None,
    sink: Callable[[Merge], object] | None = None,
) -> Identifiers:
    """The keys of every direct column ``read`` gives, into one :class:`KeyTable` read column by column.

    Each column's keys go into the table as they are made: a thread reads the next column and
    makes its keys (DuckDB and polars let go of Python's lock) while this one goes in, so no
    more than two columns' keys are held apart from the table. With ``spill`` (a folder for the
    table's pieces, see :meth:`KeyTable.build`) one column at a time instead, each chunk of its
    keys into the table as it is made, and ``read_all()`` called once the last one is read,
    before the table's partitions are merged. With ``sink`` too, no table is made: the
    :class:`Merge` of every key goes to ``sink``, which takes its segments one by one, and the
    identifiers come back without keys (their counts only).
    """
    found = Identifiers()
    public = public_ids(read)

    columns = [(t.name, c.name) for t in metadata.sorted_tables for c in t.columns if c.info.get("pii") is PII.DIRECT]

    def keys(table: str, name: str) -> Iterable[pl.Series] | None:
        column = read(table, name)
        made = None if column is None else _column_keys(found, f"{table}.{name}", name, column, public)
        return made if made is None or spill else list(made)

    def parts(pool: ThreadPoolExecutor) -> Iterator[tuple[str, Iterable[pl.Series]]]:
        ahead = pool.submit(keys, *columns[0])
        for i, (table, name) in enumerate(columns):
            made = ahead.result()
            if i + 1 < len(columns):  # the next column is read while this one goes into the table
                ahead = pool.submit(keys, *columns[i + 1])
            if made is not None:
                yield f"{table}.{name}", made

    def one_by_one() -> Iterator[tuple[str, Iterable[pl.Series]]]:
        for table, name in columns:
            made = keys(table, name)
            if made is not None:
                yield f"{table}.{name}", made
        read_all()

    def ip(kind: str) -> bool:
        return kind.endswith(".ip")

    if sink is not None:
        merge = Merge(spill)
        merge.take(one_by_one())
        sink(merge)
        return found
    if spill is not None:
        table = KeyTable.build(one_by_one(), ip=ip, spill=spill)
    else:
        with ThreadPoolExecutor(1, thread_name_prefix="case-keys") as pool:
            table = KeyTable.build(parts(pool), ip=ip)
    found.keys = {kind: KindView(table, kind) for kind in table.kinds}
    return found


def _column_keys(
    found: Identifiers, kind: str, name: str, column: pl.Series, public: Public
) -> Iterable[pl.Series] | None:
    """The keys of one column's distinct values in chunks, or None when the column is skipped (said in ``found.skipped``).

    The chunks are made as they are read (``short`` and ``ambiguous`` are counted as they
    go): at national a column's variants made at once took more than a gigabyte.
    """
    numbers = bool(column.str.contains(r"^[0-9]+$").all())  # ASCII digits, every value
    if numbers and name != "ip" and "personnummer" not in name:
        keys = _number_keys(found, kind, column, public, 2 if name == "phone" else 1)
        return None if keys is None else [keys]
    # some value has an ASCII character other than a digit: not a column of numbers
    text = name != "ip" and bool(column.str.contains(r"[\x00-/:-\x7f]").any())
    if not text:
        values = column.to_list()
        if all(v.isdigit() for v in values) and values and max(len(v) for v in values) < MIN_NUMBER_DIGITS:
            found.skipped[kind] = f"numbers of at most {max(len(v) for v in values)} digits would match any count"
            return None
        if name == "ip":
            return [pl.Series([v.strip() for v in values], dtype=pl.String)]
    return _text_keys(found, kind, name, column, public, text)


def _text_keys(
    found: Identifiers, kind: str, name: str, column: pl.Series, public: Public, text: bool
) -> Iterator[pl.Series]:
    if text:
        ascii = column.str.len_bytes() == column.str.len_chars()
        written = column.filter(ascii)
        for start in range(0, written.len(), _CHUNK):
            yield from _ascii_text_keys(found, kind, name, written.slice(start, _CHUNK))
        column = column.filter(~ascii)  # the values with other characters are left
    values = column.to_list()
    if not text and all(v.isdigit() for v in values):
        shared = set(column.filter(public.among(column)).to_list())
        found.ambiguous |= shared
        values = [v for v in values if v not in shared]
    keys = []
    for value in values:
        for variant in _variants(name, value):
            key = normalise(variant)
            if _searchable(found, kind, key):
                keys.append(key)
        if len(keys) >= _CHUNK:
            yield pl.Series(keys, dtype=pl.String)
            keys = []
    yield pl.Series(keys, dtype=pl.String)


def _ascii_text_keys(found: Identifiers, kind: str, name: str, text: pl.Series) -> Iterator[pl.Series]:
    """The keys of ``text``, values written in ASCII alone, variant by variant.

    In ASCII, :func:`normalise` is lower case and the runs of ``[0-9A-Za-z_]`` joined by
    spaces, and :func:`_variants`' digits are the characters ``0-9``: both are done on the
    column, with what :func:`_searchable` counts counted the same way.
    """
    variants = [lambda: text]
    if "personnummer" in name:
        digits = text.str.replace_all(r"[^0-9]", "")
        twelve = digits.filter(digits.str.len_bytes() == 12)
        variants += [lambda: digits, lambda: twelve.str.slice(2, 6) + "-" + twelve.str.slice(8)]
    elif name == "phone":
        variants.append(lambda: text.str.replace_all(r"[^0-9]", ""))
    for variant in variants:
        # the runs of word characters joined by one space: the runs of other characters made one space, ends cut
        keys = variant().str.to_lowercase().str.replace_all(r"[^0-9A-Za-z_]+", " ").str.strip_chars(" ")
        empty = keys == ""
        short = ~empty & (keys.str.len_bytes() < MIN_NUMBER_DIGITS) & ~keys.str.contains(" ", literal=True)
        if n_short := int(short.sum()):
            found.short[kind] = found.short.get(kind, 0) + n_short
        yield keys.filter(~empty & ~short)


def _number_keys(found: Identifiers, kind: str, column: pl.Series, public: Public, variants: int) -> pl.Series | None:
    """A column of ASCII whole numbers, as :func:`_column_keys` takes any column but as a column.

    Such a value is its own key (:func:`normalise` gives it back). A number that is also a
    non-personal id is ambiguous, one shorter than :data:`MIN_NUMBER_DIGITS` is counted in
    ``short`` (once per variant: a phone number is tried as written and as its digits, the
    same here), and a column of short numbers only is skipped.
    """
    width = column.str.len_bytes()
    longest = int(cast(int, width.max())) if column.len() else 0
    if column.len() and longest < MIN_NUMBER_DIGITS:
        found.skipped[kind] = f"numbers of at most {longest} digits would match any count"
        return None
    shared = public.among(column)
    found.ambiguous.update(column.filter(shared).to_list())
    short = (width < MIN_NUMBER_DIGITS) & ~shared
    if n_short := int(short.sum()) * variants:
        found.short[kind] = found.short.get(kind, 0) + n_short
    return column.filter(~shared & ~short)


def identifiers(evidence_dir: str | Path) -> Identifiers:
    """Every direct identifier in the evidence files of ``evidence_dir`` (``<table>.parquet`` or ``.csv``).

    A customer number that the evidence also uses as a non-personal id (a listing number,
    say) cannot be told apart in text: it is left out and counted in ``ambiguous``.
    """
    return _collect(file_reader(Path(evidence_dir)))


def case_identifiers(
    case: Case, *, spill: Path | None = None, sink: Callable[[Merge], object] | None = None
) -> Identifiers:
    """Every direct identifier in the tables of an open case, as :func:`identifiers` finds them in files.

    ``spill``: the same keys, read holding less at once (in a child process beside a notebook):
    a column at a time, the table's pieces written to the folder ``spill`` (see
    :meth:`KeyTable.build`), and the case's connections closed (DuckDB's cache of its blocks
    let go of) once the last column is read. ``sink``: no table, the keys' :class:`Merge` goes
    to ``sink`` (see :func:`_collect`).
    """
    if spill is None and sink is None:
        return _collect(case_reader(case))
    return _collect(case_reader(case), spill, case.engine.dispose, sink)


def add_values(ids: Identifiers, kind: str, values: Iterable[object], *, own_text: str = "") -> None:
    """Add ``values`` (text, or lists of text; other values are ignored) as keys of ``kind``.

    A value whose words stand in ``own_text`` (what the reports say whatever the case, such
    as the notebooks' prose and the rule set's examples) cannot be told apart from it: it is
    set aside and counted in ``set_aside``.
    """
    own = f" {normalise(own_text)} "
    held = ids.keys.get(kind, set())
    # a set of its own: a copy's sets are shared
    keys = ids.keys[kind] = held.without(()) if isinstance(held, KindView) else set(held)
    for value in values:
        for text in value if isinstance(value, (list, tuple)) else [value]:
            key = normalise(text) if isinstance(text, str) else ""
            if not _searchable(ids, kind, key):
                continue
            if f" {key} " in own:
                ids.set_aside[kind] = ids.set_aside.get(kind, 0) + 1
            else:
                keys.add(key)
    if not keys:
        del ids.keys[kind]

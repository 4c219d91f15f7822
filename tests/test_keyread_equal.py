"""The leak scan's keys as read fast are the keys the plain definition gives, value by value.

The read of a case's identifiers (:func:`case_identifiers`, :func:`identifiers`) is
vectorised: whole numbers and ASCII text are worked on as columns, the kinds merged in a
key table by a group-by (digits as numbers, text by hash partition). Here a reference made
the slow way, each value's variants through :func:`normalise` in Python and each key's
kinds a Python set, must give the same kinds, keys, kinds per key, first-word index and
counts (short, ambiguous, skipped): on hand-written evidence with hostile values, in a case
(DuckDB) and in files (Parquet, CSV), and on the generated tiny case. A read in a child
process (:mod:`workbench.reportset.keyprocess`), its files loaded, must give the same again.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable

import polars as pl
import pytest
import sqlalchemy as sa
from casekit import ROWS, _applicant

from workbench.case import case_metadata, open_case
from workbench.evidence import PII, metadata
from workbench.reportset.casekeys import MIN_NUMBER_DIGITS, Identifiers, case_identifiers, identifiers, normalise
from workbench.reportset.disclosure import SharedIdentifiers
from workbench.reportset.keytable import KindView

Read = Callable[[str, str], "list[str] | None"]


def _reference(read: Read) -> tuple[list[str], dict[str, set[str]], Identifiers]:
    """Kinds in order, each kind's keys, and the counts: each value's variants normalised one by one."""
    public = {
        v
        for t in metadata.sorted_tables
        for c in t.columns
        if c.name.endswith("_id") and c.info.get("pii") in (PII.NONE, PII.QUASI)
        for v in read(t.name, c.name) or []
    }
    found = Identifiers()
    kinds: list[str] = []
    keys: dict[str, set[str]] = {}

    def searchable(kind: str, key: str) -> bool:
        if not key:
            return False
        if len(key) < MIN_NUMBER_DIGITS and " " not in key:
            found.short[kind] = found.short.get(kind, 0) + 1
            return False
        return True

    for table in metadata.sorted_tables:
        for name in [c.name for c in table.columns if c.info.get("pii") is PII.DIRECT]:
            values, kind = read(table.name, name), f"{table.name}.{name}"
            if values is None:
                continue
            numbers = all(re.fullmatch(r"[0-9]+", v) for v in values)
            if numbers and name != "ip" and "personnummer" not in name:
                if values and max(map(len, values)) < MIN_NUMBER_DIGITS:
                    found.skipped[kind] = f"numbers of at most {max(map(len, values))} digits would match any count"
                    continue
                found.ambiguous |= set(values) & public
                short = [v for v in values if len(v) < MIN_NUMBER_DIGITS and v not in public]
                if short:
                    found.short[kind] = found.short.get(kind, 0) + len(short) * (2 if name == "phone" else 1)
                kinds.append(kind)
                keys[kind] = {v for v in values if v not in public and len(v) >= MIN_NUMBER_DIGITS}
                continue
            text = name != "ip" and any(re.search(r"[\x00-/:-\x7f]", v) for v in values)
            if not text and values and all(v.isdigit() for v in values) and max(map(len, values)) < MIN_NUMBER_DIGITS:
                found.skipped[kind] = f"numbers of at most {max(map(len, values))} digits would match any count"
                continue
            kinds.append(kind)
            if name == "ip":
                keys[kind] = {v.strip() for v in values}
                continue
            if not text and all(v.isdigit() for v in values):
                found.ambiguous |= set(values) & public
                values = [v for v in values if v not in public]
            keys[kind] = set()
            for value in values:
                variants = [value]
                if "personnummer" in name:
                    digits = re.sub(r"\D", "", value)
                    variants.append(digits)
                    if len(digits) == 12:
                        variants.append(f"{digits[2:8]}-{digits[8:]}")
                elif name == "phone":
                    variants.append(re.sub(r"\D", "", value))
                keys[kind] |= {k for k in map(normalise, variants) if searchable(kind, k)}
    return kinds, keys, found


def _assert_same(ids: Identifiers, read: Read) -> None:
    kinds, keys, ref = _reference(read)
    views = list(ids.keys.values())
    assert all(isinstance(v, KindView) for v in views)
    table = views[0].table  # type: ignore[union-attr]
    assert table.kinds == kinds and list(ids.keys) == kinds
    for kind in kinds:
        assert set(ids.keys[kind]) == keys[kind], kind
        assert len(ids.keys[kind]) == len(keys[kind]), kind
    assert (ids.skipped, ids.short, ids.ambiguous) == (ref.skipped, ref.short, ref.ambiguous)
    every = set().union(*keys.values())
    assert len(table) == len(every) == ids.count
    want = {key: sum(table.bit(k) for k in kinds if key in keys[k]) for key in every}
    assert table.find(every) == want
    held = [keys.to_list() for keys, _ in table.segments]
    assert all(ks == sorted(ks, key=lambda k: k.encode()) for ks in held)  # as bytes: binary search holds
    assert sum(map(len, held)) == len(every)  # no key in two segments
    words = {
        (key.split(" ")[0], key.count(" ") + 1)
        for kind in kinds
        if not kind.endswith(".ip")
        for key in keys[kind]
        if " " in key
    }
    assert set(table.starts().iter_rows()) == words


NAMES = [
    "Anna-Karin Öberg",
    "ÅSA  östlund",
    "Straße Müller",  # casefold: strasse
    "Zoë O'Brien",
    "Jose\u0301 Ek",  # a combining accent is not a word character: jose ek
    "İlkay Şahin",  # casefold gives i and a combining dot
    "李小龙",
    "Ǆemal Ek",
    "x_y z",
    "   ",  # no word: no key
    "",
    "Bo",  # too short, counted
    "٣٤٥٦٧٨٩",  # Arabic-Indic digits
]
PHONES = ["070-123 45 67", "+46 70 123 45 67", "(08) 123 456", "0701234567", "46701234567", "070\u2011123", "12", None]
PERSONNUMMER = ["19831001-4504", "198310014504", "831001-4504", "19831001+4504", "19831001\u20134504", "1983", "", "X"]
EMAILS = ["anna+tag@Example.COM", "Bo.Ek+1@mail.example", "ÅSA@exämple.se", None, "a@b"]


def _rows() -> dict[str, list[dict]]:
    """casekit's hand-made case with hostile members added: unicode names, plus addresses, phones in many forms."""
    rows = copy.deepcopy(ROWS)
    for i, name in enumerate(NAMES):
        member = _applicant(2_210_728 + i, name, protected=i % 3 == 0)  # protected identity: read the same
        member.update(
            personnummer=PERSONNUMMER[i % len(PERSONNUMMER)],
            phone=PHONES[i % len(PHONES)],
            email=EMAILS[i % len(EMAILS)],
            address=None if i % 4 == 1 else f"c/o Ek, Box {i}, Skolvägen {i} B",
            co_applicant_name=NAMES[(i + 1) % len(NAMES)] or None,
            co_applicant_personnummer="19831001-4504" if i % 2 else None,  # also a member's: one key, two kinds
            created_by_handler_id=7 if i % 5 == 0 else None,
        )
        rows["applicants"].append(member)
    rows["listings"].append({**rows["listings"][0], "listing_id": 2_210_729})  # a member's number too: ambiguous
    rows["logins"].append(
        {**rows["logins"][0], "session_id": "ABCdef0123456789", "ip": " 10.0.0.2 ", "applicant_id": 2_210_730}
    )
    rows["logins"].append({**rows["logins"][0], "session_id": "956e4e5eb64741df0acfcff9233b8d11", "ip": "fe80::1%eth0"})
    rows["support_messages"].append(
        {
            **rows["support_messages"][0],
            "message_id": "<20131214091751.5450@mail.bostad.example>",
            "sender_address": "anna+tag@example.com",
        }
    )
    return rows


def _read_rows(rows: dict[str, list[dict]], every_table: bool) -> Read:
    """Distinct values as text; a table without rows is absent (no file) unless ``every_table`` (a case)."""

    def read(table: str, column: str) -> list[str] | None:
        if not rows.get(table):
            return [] if every_table else None
        return sorted({str(r[column]) for r in rows[table] if r[column] is not None})

    return read


@pytest.fixture(scope="module")
def hostile():
    return _rows()


def test_a_case_of_hostile_values_is_read_as_the_values_one_by_one(hostile, tmp_path):
    engine = sa.create_engine(f"duckdb:///{tmp_path / 'case.duckdb'}")
    case_metadata.create_all(engine)
    with engine.begin() as conn:
        for name, table_rows in hostile.items():
            if table_rows:
                conn.execute(case_metadata.tables[name].insert(), table_rows)
    engine.dispose()
    with open_case(f"duckdb:///{tmp_path / 'case.duckdb'}") as case:
        ids = case_identifiers(case)
        loaded = _read_in_child(case)
    _assert_same(ids, _read_rows(hostile, every_table=True))
    _assert_same(loaded, _read_rows(hostile, every_table=True))
    _assert_equal(loaded, ids)
    assert {"anna karin öberg", "strasse müller", "jose ek", "anna tag example com"} <= set().union(*ids.keys.values())
    assert "2210729" in ids.ambiguous and "applicants.created_by_handler_id" in ids.skipped


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_evidence_files_of_hostile_values_are_read_as_the_values_one_by_one(hostile, tmp_path, suffix):
    for table in metadata.sorted_tables:
        if hostile.get(table.name):
            frame = pl.DataFrame([{c.name: r.get(c.name) for c in table.columns} for r in hostile[table.name]])
            if suffix == "csv":
                frame.write_csv(tmp_path / f"{table.name}.csv")
            else:
                frame.write_parquet(tmp_path / f"{table.name}.parquet")
    _assert_same(identifiers(tmp_path), _read_rows(hostile, every_table=False))


def _read_files(evidence_dir) -> Read:
    def read(table: str, column: str) -> list[str] | None:
        path = evidence_dir / f"{table}.parquet"
        if not path.is_file():
            return None
        return pl.read_parquet(path, columns=[column])[column].drop_nulls().cast(pl.String).unique().to_list()

    return read


def test_the_generated_case_is_read_as_its_values_one_by_one(tiny_case, tiny_duckdb):
    _assert_same(identifiers(tiny_case.evidence_dir), _read_files(tiny_case.evidence_dir))
    with open_case(tiny_duckdb) as case:
        ids = case_identifiers(case)
        loaded = _read_in_child(case)
    _assert_same(ids, _read_files(tiny_case.evidence_dir))
    _assert_equal(loaded, ids)


def test_a_sqlite_case_is_read_in_a_child_as_in_the_report(tiny_case, tiny_db):
    with open_case(tiny_db) as case:
        _assert_equal(_read_in_child(case), case_identifiers(case))


def _read_in_child(case) -> Identifiers:
    """The identifiers as a large case's run reads them: in a child process, its files loaded here."""
    shared = SharedIdentifiers(case, child=True)
    assert shared.child is not None
    folder = shared.child.folder
    try:
        loaded = shared()
    finally:
        shared.close()
    assert not folder.exists()  # the files of identifiers are removed once loaded
    return loaded


def _assert_equal(loaded: Identifiers, read: Identifiers) -> None:
    """The same keys, kinds, counts, segments, routes and first-word index, held the same way."""
    (a,), (b,) = ({id(v.table): v.table for v in i.keys.values()}.values() for i in (loaded, read))  # type: ignore[union-attr]
    assert list(loaded.keys) == list(read.keys) and a.kinds == b.kinds and a.masks == b.masks
    assert (loaded.skipped, loaded.short, loaded.ambiguous) == (read.skipped, read.short, read.ambiguous)
    assert len(a.segments) == len(b.segments)
    for (keys, codes), (k, c) in zip(a.segments, b.segments, strict=True):
        assert keys.dtype == k.dtype and codes.dtype == c.dtype
        assert keys.to_list() == k.to_list() and codes.to_list() == c.to_list()
    assert a.ip_bits == b.ip_bits and a._route == b._route and a.code_counts == b.code_counts
    assert sorted(a.starts().iter_rows()) == sorted(b.starts().iter_rows())
    every = set().union(*read.keys.values())
    assert a.find(every) == b.find(every) and loaded.count == read.count
    for kind in read.keys:
        assert set(loaded.keys[kind]) == set(read.keys[kind]), kind

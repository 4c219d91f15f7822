"""The leak scan's key table, on hand-written keys: each key held once, and read as the sets it replaces.

The case's identifiers used to be a Python set per kind (7.7 GB at national). They are now one
sorted column with a code per key naming its kinds (:mod:`workbench.reportset.keytable`);
:class:`Identifiers` must read as it did: ``keys[kind]`` a set, ``count`` the distinct keys,
``without_figures`` and ``add_values`` leaving the shared keys alone.
"""

from __future__ import annotations

import json

import polars as pl
import pytest

from workbench.reportset.casekeys import Identifiers, add_values
from workbench.reportset.figurekeys import without_figures
from workbench.reportset.keytable import KeyTable, KindView
from workbench.reportset.leakscan import scan_text

PARTS = {
    "applicants.applicant_id": ["1048213", "2210728", "3000001"],
    "applicants.name": ["anna lindqvist", "anna karin öberg", "bo ek"],
    "fees.applicant_id": ["2210728", "1048213", "1048213"],  # a repeat within a kind counts once
    "logins.ip": ["10.0.0.1", "83.108.238.132"],
    "support_messages.message_id": ["20131212113852 2408 mail bostad example"],
}


def _table() -> KeyTable:
    parts = [(kind, pl.Series(values, dtype=pl.String)) for kind, values in PARTS.items()]
    return KeyTable.build(parts, ip=lambda kind: kind.endswith(".ip"))


def _ids() -> Identifiers:
    table = _table()
    return Identifiers(keys={kind: KindView(table, kind) for kind in table.kinds})


def test_each_key_is_held_once_however_many_kinds_it_is_a_key_of():
    table = _table()
    every = {v for values in PARTS.values() for v in values}
    assert len(table) == len(every) == 9
    segments = [keys.to_list() for keys, _ in table.segments]
    assert all(keys == sorted(keys, key=lambda k: k.encode()) for keys in segments)  # as bytes: binary search holds
    assert sorted(k for keys in segments for k in keys) == sorted(every)  # no key in two segments
    both = table.bit("applicants.applicant_id") | table.bit("fees.applicant_id")
    assert table.mask("1048213") == both and table.mask("3000001") == table.bit("applicants.applicant_id")
    assert table.find(["2210728", "bo ek", "bo", "zz", ""]) == {"2210728": both, "bo ek": table.bit("applicants.name")}
    assert table.rows(table.bit("fees.applicant_id")) == 2
    with pytest.raises(ValueError, match="given twice"):
        KeyTable.build([("k", pl.Series(["a"])), ("k", pl.Series(["b"]))])


def test_the_first_words_of_longer_keys_are_indexed_but_not_of_ip_kinds():
    table = _table()
    found = table.first_words({"anna", "bo", "20131212113852", "10", "1048213"})
    # anna starts keys of 2 and 3 words; the message id 5; an address's "10" is an IP kind's, not indexed
    assert found == {"anna": (1 << 2) | (1 << 3), "bo": 1 << 2, "20131212113852": 1 << 5}


def test_a_view_reads_as_the_set_of_its_kind():
    ids = _ids()
    expected = {kind: set(values) for kind, values in PARTS.items()}
    assert ids.keys == expected  # equality, length and iteration as sets
    assert ids.kinds() == {kind: len(values) for kind, values in expected.items()}
    names = ids.keys["applicants.name"]
    assert "bo ek" in names and "1048213" not in names and 5 not in names
    assert names & {"bo ek", "x"} == {"bo ek"} and isinstance(names & {"bo ek"}, set)
    assert ids.count == len(set().union(*expected.values())) == 9


def test_adding_and_setting_aside_keys_leave_the_table_and_other_views_alone():
    table = _table()
    view = KindView(table, "applicants.name")
    other = view.without(["bo ek"])
    assert "bo ek" not in other and "bo ek" in view and len(other) == 2 and len(view) == 3
    view.add("carl von linné")
    view.discard("anna lindqvist")
    assert set(view) == {"anna karin öberg", "bo ek", "carl von linné"}
    assert len(table) == 9 and "carl von linné" not in other and "anna lindqvist" in other


def test_the_count_is_of_distinct_keys_with_views_set_aside_and_added_to():
    ids = _ids()
    add_values(ids, "parameter p", ["Bo Ek", "Kalle Anka"])  # bo ek is a name already: not counted twice
    ids.keys["fees.applicant_id"] = ids.keys["fees.applicant_id"].without(["1048213"])
    # 1048213 is still an applicant's number; 3000001 is gone from its only kind
    ids.keys["applicants.applicant_id"] = ids.keys["applicants.applicant_id"].without(["3000001"])
    expected = set().union(*(set(keys) for keys in ids.keys.values()))
    assert "1048213" in expected and "3000001" not in expected and "kalle anka" in expected
    assert ids.count == len(expected) == 9


def test_a_recorded_figure_is_set_aside_from_every_view_that_holds_it(tmp_path):
    ids = _ids()
    (tmp_path / "00").mkdir()
    (tmp_path / "00" / "findings.json").write_text(json.dumps({"n": {"value": 2210728}}), encoding="utf-8")
    out = without_figures(ids, tmp_path)
    assert out.figures == {"2210728"}
    assert "2210728" not in out.keys["applicants.applicant_id"] and "2210728" not in out.keys["fees.applicant_id"]
    assert out.keys["applicants.name"] is ids.keys["applicants.name"]  # a kind without it is shared, not copied
    assert "2210728" in ids.keys["fees.applicant_id"] and ids.count == 9 and out.count == 8
    assert scan_text("<td>2 210 728</td> <td>1048213</td>", out) == [
        ("applicants.applicant_id", "1048213", "<td>2 210 728</td> <td>1048213</td>"),
        ("fees.applicant_id", "1048213", "<td>2 210 728</td> <td>1048213</td>"),
    ]


def test_the_scan_finds_keys_of_a_table_as_it_found_them_in_sets():
    ids = _ids()
    sets = Identifiers(keys={kind: set(values) for kind, values in PARTS.items()})
    page = (
        "<p>Anna-Karin Öberg, ANNA lindqvist</p><td>1 048 213</td> ip 10.0.0.1 and 10.0.0.12 "
        "<20131212113852.2408@mail.bostad.example> bo ekström 3000001x"
    )
    found = scan_text(page, ids)
    assert found == scan_text(page, sets)
    assert {(kind, key) for kind, key, _ in found} == {
        ("applicants.name", "anna karin öberg"),
        ("applicants.name", "anna lindqvist"),
        ("applicants.applicant_id", "1048213"),
        ("fees.applicant_id", "1048213"),
        ("logins.ip", "10.0.0.1"),
        ("support_messages.message_id", "20131212113852 2408 mail bostad example"),
    }


def test_a_kind_given_in_chunks_is_the_kind_given_whole():
    whole = _table()
    chunks = [
        ["1048213", "3000001"],
        ["2210728", "1048213"],  # held already, by this kind's first chunk: its bit is set once
        ["3000001", "9999999"],  # 9999999 is new in this chunk, and of this kind only
    ]
    parts = [(kind, pl.Series(values)) for kind, values in PARTS.items() if kind != "fees.applicant_id"]
    parts.insert(2, ("fees.applicant_id", [pl.Series(c) for c in chunks]))
    table = KeyTable.build(parts, ip=lambda kind: kind.endswith(".ip"))
    assert table.kinds == whole.kinds and len(table) == len(whole) + 1
    fees = table.bit("fees.applicant_id")
    assert table.mask("1048213") == whole.mask("1048213") and table.mask("9999999") == fees
    assert set(KindView(table, "fees.applicant_id")) == {"1048213", "2210728", "3000001", "9999999"}


def test_a_clock_times_fraction_of_a_second_is_not_a_short_personnummer():
    # national: a red-flag CSV's 07:49:46.840611+0000 read as 840611-0000, someone's short personnummer
    ids = Identifiers(keys={"applicants.personnummer": {"840611 0000", "19840611 0000", "198406110000"}})
    assert scan_text("2016-07-18T07:49:46.840611+0000,H-24e19537473f", ids) == []
    assert [k for _, k, _ in scan_text("<td>840611-0000</td> 07:49:46 +0000", ids)] == ["840611 0000"]
    assert [k for _, k, _ in scan_text("född 1984-06-11, 19840611-0000", ids)] == ["19840611 0000"]


def test_the_case_fingerprints_sizes_and_row_counts_are_figures_not_customer_numbers(tmp_path):
    from workbench.reportset.disclosure import LeakError, check_set

    # national: support_messages.parquet is 1,616,725 bytes, which is also a member's number
    ids = Identifiers(keys={"applicants.applicant_id": {"1616725", "1048213"}})
    record = json.dumps({"case_fingerprint": {"manifest": [{"bytes": 1616725, "rows_read": 42066}], "table_rows": {}}})
    (tmp_path / "00").mkdir()
    (tmp_path / "00" / "00.html").write_text("<td>1\u202f616\u202f725</td>\n", encoding="utf-8")
    result = check_set(tmp_path, ids, audience="auditor", texts={str(tmp_path / "report-set.json"): record})
    assert result.hits == [] and result.identifiers.figures == {"1616725"}
    with pytest.raises(LeakError, match=r"00\.html line 1: applicants\.applicant_id"):
        check_set(tmp_path, ids, audience="auditor")  # without the record the size is a customer number
    (tmp_path / "00" / "00.html").write_text("<td>1 048 213</td>\n", encoding="utf-8")
    with pytest.raises(LeakError, match=r"00\.html line 1: applicants\.applicant_id"):
        check_set(tmp_path, ids, audience="auditor", texts={str(tmp_path / "report-set.json"): record})


def test_a_table_built_from_pieces_written_to_disk_is_the_table_built_in_memory(tmp_path):
    import random

    words = ["anna", "bo", "ek", "öberg", "karin", "lindqvist", "x_y"]
    kinds = [f"t{i}.c" for i in range(6)] + ["logins.ip"]

    def parts():  # repeats within and across kinds, digits of 1-17 (and 18) places, text, each kind in chunks
        r = random.Random(11)
        for kind in kinds:
            chunks = []
            for _ in range(4):
                values = [str(r.randrange(10 ** r.randint(1, 18))).zfill(r.choice([0, 0, 8])) for _ in range(60)]
                values += [" ".join(r.choices(words, k=r.randint(1, 3))) for _ in range(60)]
                chunks.append(pl.Series(values, dtype=pl.String))
            yield kind, chunks

    def spilled():
        for kind, chunks in parts():
            yield kind, chunks
            written = list((tmp_path / "spill").rglob("*.parquet"))
            assert len(written) >= 2 * len(chunks)  # written, not held: a file per partition and chunk so far

    usual = KeyTable.build(parts(), ip=lambda kind: kind.endswith(".ip"))
    held = KeyTable.build(spilled(), ip=lambda kind: kind.endswith(".ip"), spill=tmp_path / "spill")
    assert not list((tmp_path / "spill").rglob("*"))  # removed once merged
    assert held.kinds == usual.kinds and held.masks == usual.masks
    assert [(k.to_list(), c.to_list()) for k, c in held.segments] == [
        (k.to_list(), c.to_list()) for k, c in usual.segments
    ]
    assert held._route == usual._route and held.code_counts == usual.code_counts
    assert sorted(held.starts().iter_rows()) == sorted(usual.starts().iter_rows())
    assert len(usual) > 500 and any(usual.masks[c] & (usual.masks[c] - 1) for c in usual.code_counts)  # shared keys

"""A public breakdown CSV's counts and sums are the set's figures, not members' numbers.

At national, two sums of queue days jumped in notebook 03's ``skipped_members`` table
(3,222,299 and 3,519,361) were also customer numbers, and the public set's leak scan stopped on
them: 4.5 M members fill half the 7-digit range. A CSV whose text columns are all group keys
gives its whole numbers as figures; any table with a name, an id or free text is searched as
it stands. Hand-written files; no generator.
"""

from __future__ import annotations

from pathlib import Path

from workbench.reportset.casekeys import Identifiers
from workbench.reportset.figurekeys import breakdown_figures, without_figures
from workbench.reportset.leakscan import scan

CUSTOMERS = {"3222299", "3519361", "4100200"}


def _ids() -> Identifiers:
    return Identifiers(keys={"applicants.customer_number": set(CUSTOMERS), "applicants.name": {"bo ek"}})


def _write(root: Path, name: str, text: str) -> Path:
    path = root / "03_queue_fairness" / "tables" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_breakdowns_sums_are_figures(tmp_path):
    path = _write(
        tmp_path, "skipped_members.csv", "district,year,n,queue_days_jumped\nNorr,2013,243,3222299\nSöder,2014,0,12\n"
    )
    assert breakdown_figures(path) == {"3222299"}  # the year and short numbers are no keys anyway
    out = without_figures(_ids(), tmp_path)
    assert out.figures == {"3222299"}
    assert "3222299" not in out.keys["applicants.customer_number"]
    assert "4100200" in out.keys["applicants.customer_number"]  # others are still searched
    assert not scan([tmp_path], out, every_file=True).hits


def test_a_number_beside_a_name_or_an_id_is_still_a_leak(tmp_path):
    named = _write(tmp_path, "people.csv", "district,name,n\nNorr,Bo Ek,3519361\n")
    ids_column = _write(tmp_path, "members.csv", "district,customer_number\nNorr,4100200\n")
    free = _write(tmp_path, "listed.csv", "label,n\nsomething,3222299\n")  # a text column that is no group key
    assert breakdown_figures(named) == breakdown_figures(ids_column) == breakdown_figures(free) == set()
    out = without_figures(_ids(), tmp_path)
    assert out.figures == set()
    found = {hit.identifier for hit in scan([tmp_path], out, every_file=True).hits}
    assert {"3519361", "4100200", "3222299"} <= found


def test_a_file_that_is_no_csv_table_gives_nothing(tmp_path):
    broken = _write(tmp_path, "broken.csv", 'district,n\n"Norr,3222299\n')
    assert breakdown_figures(broken) == set()
    assert breakdown_figures(_write(tmp_path, "empty.csv", "")) == set()


def test_a_number_column_named_as_ids_is_searched(tmp_path):
    path = _write(tmp_path, "by_district.csv", "district,member_id,kundnummer,n\nNorr,4100200,3519361,3222299\n")
    assert breakdown_figures(path) == {"3222299"}

"""The leak scan's identifiers are read beside the notebooks only for a case small enough (rows loaded)."""

from __future__ import annotations

import polars as pl

from workbench.case import open_case
from workbench.queries import run
from workbench.reportset import disclosure


def test_a_case_is_read_early_up_to_the_limit_of_rows_loaded(tiny_db):
    case = open_case(tiny_db)
    loaded = int(run("manifest", case)["rows_loaded"].sum())
    assert loaded > 1000  # the tiny case's evidence, counted from the manifest
    assert disclosure.read_identifiers_early(case)  # far below the default limit
    assert disclosure.read_identifiers_early(case, max_rows=loaded)
    assert not disclosure.read_identifiers_early(case, max_rows=loaded - 1)


def test_the_default_limit_is_read_when_called(tiny_db, monkeypatch):
    case = open_case(tiny_db)
    monkeypatch.setattr(disclosure, "EARLY_READ_MAX_ROWS", 10)
    assert not disclosure.read_identifiers_early(case)


def test_the_manifest_sum_is_the_ingested_rows(tiny_db, tiny_case):
    case = open_case(tiny_db)
    manifest = run("manifest", case)
    evidence = sum(
        pl.scan_parquet(f).select(pl.len()).collect().item() for f in sorted(tiny_case.evidence_dir.glob("*.parquet"))
    )
    assert int(manifest["rows_loaded"].sum()) + int(manifest["rows_quarantined"].sum()) == evidence


def test_the_reading_starts_once_however_often_and_from_however_many_threads_it_is_started(monkeypatch):
    import threading

    import workbench.reportset.leakscan as leakscan
    from workbench.reportset.casekeys import Identifiers

    reads, gate = [], threading.Event()

    def read(case):
        gate.wait(5)  # still reading while the other starts arrive
        reads.append(case)
        return Identifiers(keys={"applicants.name": {"kalle anka"}})

    monkeypatch.setattr(leakscan, "case_identifiers", read)
    shared = disclosure.shared_identifiers("the case")
    assert not shared.started and reads == []  # nothing is read until started or called
    starters = [threading.Thread(target=shared.start) for _ in range(8)]
    for s in starters:
        s.start()
    for s in starters:
        s.join()
    assert shared.started
    gate.set()
    first, second = shared(), shared()
    assert reads == ["the case"]
    assert first is not second and first.keys == second.keys == {"applicants.name": {"kalle anka"}}

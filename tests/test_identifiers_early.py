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

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


def _when_started(tiny_db, tmp_path, monkeypatch, *, rows: int | None, mode: str) -> tuple[list[int], int]:
    """How many notebooks had finished when the read started (one number per start); and how many ran."""
    import shutil
    from pathlib import Path

    import workbench.reportset.execution as execution
    from workbench.reportset.build import build_report

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for name in ("00_a", "01_b", "02_c"):  # three cheap notebooks on two workers
        shutil.copy(Path(__file__).parent / "data" / "notebooks" / "trivial.ipynb", notebooks / f"{name}.ipynb")
    monkeypatch.setattr(execution, "NOTEBOOKS_DIR", notebooks)
    if rows is not None:
        monkeypatch.setattr(disclosure, "EARLY_READ_MAX_ROWS", rows)
    monkeypatch.setattr(disclosure, "LARGE_CASE_READ", mode)
    finished: list[str] = []
    starts: list[int] = []
    real_many, real_start = execution.execute_many, disclosure.SharedIdentifiers.start

    def many(jobs, workers=None, on_done=None):
        def counted(job, error):
            finished.append(job.notebook.stem)
            on_done(job, error)

        return real_many(jobs, workers=workers, on_done=counted)

    def start(self):
        if not self.started:
            starts.append(len(finished))
        real_start(self)

    monkeypatch.setattr(execution, "execute_many", many)
    monkeypatch.setattr(disclosure.SharedIdentifiers, "start", start)
    build_report(tiny_db, "public", tmp_path / "out", workers=2)
    return starts, len(finished)


def test_a_small_case_reads_its_identifiers_from_the_start(tiny_db, tmp_path, monkeypatch):
    assert _when_started(tiny_db, tmp_path, monkeypatch, rows=None, mode="free") == ([0], 3)


def test_a_large_case_reads_them_once_a_worker_is_free(tiny_db, tmp_path, monkeypatch):
    # two workers, three notebooks: a worker is free when two have finished and one is left
    assert _when_started(tiny_db, tmp_path, monkeypatch, rows=10, mode="free") == ([2], 3)


def test_a_large_case_can_read_them_after_the_notebooks(tiny_db, tmp_path, monkeypatch):
    assert _when_started(tiny_db, tmp_path, monkeypatch, rows=10, mode="end") == ([3], 3)

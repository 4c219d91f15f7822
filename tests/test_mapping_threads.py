"""Ingest through a mapping with inputs hashed, read and mapped in threads (``workers`` > 1, issue 16).

The case must be the one a single thread writes: every table's rows in the same order,
quarantine and manifest alike; an error in a thread must be the error a single thread raises,
and leave no case and no thread behind.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from mappingkit import case_rows, write_handover as write_handwritten

import workbench.mapping.read as mapping_read
import workbench.mapping.run as mapping_run
from workbench import evidence
from workbench.errors import EvidenceError, WorkbenchError
from workbench.mapping import ingest_mapped
from workbench.scenario.handover import write_handover


@pytest.fixture(scope="module")
def tiny_handover(tiny_case, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("threads") / "h"
    write_handover({t: tiny_case.evidence(t) for t in evidence.TABLES}, root, np.random.default_rng(1))
    return root


@pytest.fixture
def handwritten(tmp_path: Path) -> tuple[Path, Path]:
    """mappingkit's hand-over with a second applicants file (a duplicate key) and log (a session never logged in)."""
    root = tmp_path / "h"
    mapping = write_handwritten(root)
    (root / "export" / "sokande_2015.csv").write_bytes(
        (
            "Exportdatum;2015-01-10\n"
            "Kundnr;Personnr;Fornamn;Efternamn;Adress;Postnr;Ort;Epost;Telefon;Arbetsgivare;Inkomst;Student;Skyddad;"
            "Kostart;Registrerad;Status\n"
            "1005;19800505-0000;Lis;Holm;;;;;;;;Nej;Nej;2012-02-02;2014-06-01 12:00:00;Aktiv\n"
            "1001;19850412-0000;Åsa;Öberg;;;;;;;;Nej;Nej;2004-03-01;2014-06-02 12:00:00;Aktiv\n"
            "1006;19810606-0000;Ola;Berg;;;;;;;;Nej;Nej;2012-02-02;2014-06-03 12:00:00;Avslutad\n"
        ).encode("cp1252")
    )
    (root / "logs" / "u_ex131214.log").write_text(
        "#Fields: date time cs-method cs-uri-stem cs(Cookie) sc-status\n"
        "2013-12-14 08:00:00 GET /mina-sidor ASP.NET_SessionId=s9;+kund=1001 200\n"
        "2013-12-14 08:00:01 GET /mina-sidor/ko ASP.NET_SessionId=s2;+kund=1001 200\n",
        encoding="ascii",
    )
    return root, mapping


def _one_and_many(root: Path, mapping: Path, tmp_path: Path, batch_rows: int):
    cases = {}
    for workers in (1, 3):
        url = tmp_path / f"w{workers}-{batch_rows}.db"
        report = ingest_mapped(root, mapping, url, progress=False, batch_rows=batch_rows, workers=workers)
        cases[workers] = (case_rows(url), [{k: v for k, v in r.items() if k != "seconds"} for r in report.rows()])
    return cases[1], cases[3]


def _no_threads_left() -> bool:
    return not [t.name for t in threading.enumerate() if t.name.startswith("mapping-")]


@pytest.mark.parametrize("batch_rows", [1_000_000, 400])
def test_the_tiny_handover_makes_the_same_case_with_threads_as_without(tiny_handover, tmp_path, batch_rows):
    (one, one_report), (many, many_report) = _one_and_many(
        tiny_handover, tiny_handover / "mapping.yaml", tmp_path, batch_rows
    )
    assert set(one) >= {*evidence.TABLES, "quarantine", "manifest"}
    assert many == one
    assert many_report == one_report
    assert len(one["page_views"]) > 3 * batch_rows or batch_rows > len(one["page_views"])  # many batches, or one
    assert len(one["manifest"]) == len(one_report) + 1  # every input and the mapping
    assert _no_threads_left()


def test_a_handwritten_handover_with_bad_rows_makes_the_same_case_and_quarantine(handwritten, tmp_path):
    root, mapping = handwritten
    (one, one_report), (many, many_report) = _one_and_many(root, mapping, tmp_path, batch_rows=1)
    assert many == one and many_report == one_report
    where = [(file, line) for file, line, *_ in one["quarantine"]]
    assert len(where) == 8  # mappingkit's 6 (test_mapping_ingest), the second 1001, the page view of s9
    assert ("export/sokande_2015.csv", 4) in where and ("logs/u_ex131214.log", 2) in where
    assert "first loaded from export/sokande_2014.csv:3" in str(one["quarantine"])
    assert [r[0] for r in one["applicants"]] == [1001, 1005, 1006]
    assert len(one["page_views"]) == 3


def test_an_error_reading_in_a_thread_is_the_error_reading_in_one(handwritten, tmp_path, monkeypatch):
    root, mapping = handwritten
    real = mapping_read.read_iis

    def failing(path, *args):
        batches = real(path, *args)
        yield next(batches)
        raise EvidenceError(f"{path.name}: line 7, column cs(Cookie): 'x' is broken; allowed: a cookie")

    monkeypatch.setattr(mapping_read, "read_iis", failing)
    raised = []
    for workers in (1, 3):
        with pytest.raises(EvidenceError) as err:
            ingest_mapped(root, mapping, tmp_path / "case.db", progress=False, batch_rows=1, workers=workers)
        raised.append(str(err.value))
        assert not (tmp_path / "case.db").exists()
        assert [p.name for p in tmp_path.iterdir()] == ["h"]  # nor a half-written temporary file
        assert _no_threads_left()
    assert raised[0] == raised[1] == "u_ex131213.log: line 7, column cs(Cookie): 'x' is broken; allowed: a cookie"


def test_an_error_mapping_in_a_thread_is_the_error_mapping_in_one(handwritten, tmp_path, monkeypatch):
    root, mapping = handwritten
    real = mapping_run.transform

    def failing(frame, table, decimal_comma):
        if table.name == "applicants" and "1005" in frame["Kundnr"].cast(str).to_list():
            raise WorkbenchError("export/sokande_2015.csv: line 3, column Kundnr: '1005' broke the mapping")
        return real(frame, table, decimal_comma)

    monkeypatch.setattr(mapping_run, "transform", failing)
    for workers in (1, 3):
        with pytest.raises(WorkbenchError, match=r"^export/sokande_2015.csv: line 3, column Kundnr: '1005' broke"):
            ingest_mapped(root, mapping, tmp_path / "case.db", progress=False, batch_rows=1, workers=workers)
        assert [p.name for p in tmp_path.iterdir()] == ["h"]
        assert _no_threads_left()


def test_an_error_in_the_writer_stops_the_threads_reading_ahead(tiny_handover, tmp_path, monkeypatch):
    real = mapping_run.check_references

    def failing(good, table, parents):
        if table == "applicants":  # the first tables: every reader after it is still at work or waiting
            raise WorkbenchError("the key check failed")
        return real(good, table, parents)

    monkeypatch.setattr(mapping_run, "check_references", failing)
    with pytest.raises(WorkbenchError, match="the key check failed"):
        ingest_mapped(
            tiny_handover, tiny_handover / "mapping.yaml", tmp_path / "c.db", progress=False, batch_rows=50, workers=3
        )
    assert list(tmp_path.iterdir()) == []
    assert _no_threads_left()


def test_the_first_unusable_input_in_mapping_order_is_named_however_many_threads_hash(handwritten, tmp_path):
    root, mapping = handwritten
    text = mapping.read_text(encoding="utf-8")
    mapping.write_text(text.replace("encoding: cp1252", "encoding: utf-8"), encoding="utf-8")  # both CSV inputs
    for workers in (1, 4):
        with pytest.raises(EvidenceError, match=r"^export/sokande_2014.csv: not utf-8 at line 3: byte 0xC5"):
            ingest_mapped(root, mapping, tmp_path / "case.db", progress=False, workers=workers)
    assert not (tmp_path / "case.db").exists()


@pytest.mark.parametrize(("value", "workers"), [("", 2), ("1", 1), (" 3 ", 3)])
def test_workers_default_from_the_environment(monkeypatch, value, workers):
    monkeypatch.setenv("WORKBENCH_MAPPING_WORKERS", value)
    assert mapping_run.default_workers() == workers


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_a_bad_worker_count_in_the_environment_names_the_variable_and_what_is_allowed(monkeypatch, value):
    monkeypatch.setenv("WORKBENCH_MAPPING_WORKERS", value)
    with pytest.raises(
        WorkbenchError, match=rf"WORKBENCH_MAPPING_WORKERS: {value!r} is not a whole number.*allowed: 1"
    ):
        mapping_run.default_workers()


def test_an_early_table_is_read_whole_first_and_batches_still_come_in_order():
    from workbench.ingest.batch import RawBatch
    from workbench.mapping.prefetch import DEPTH, Prefetch

    started: list[str] = []

    def part(name: str, n: int):
        def read():
            started.append(name)
            for i in range(n):
                yield RawBatch(pl.DataFrame({"i": [i]}), pl.DataFrame())

        return read

    many = DEPTH + 3  # more batches than a part may hold waiting
    tables = [
        ("a", [part("a0", many), part("a1", 1)], lambda b: b.frame["i"][0]),
        ("mail", [part("mail", many)], lambda b: b.frame["i"][0]),
    ]
    with Prefetch(tables, 1, early={"mail"}) as ahead:
        deadline = threading.Event()
        for _ in range(200):  # the early part is read whole while nothing is taken
            if ahead._queues["mail"][0].qsize() == many + 1:  # its batches and the end
                break
            deadline.wait(0.01)
        assert started[0] == "mail" and ahead._queues["mail"][0].qsize() == many + 1
        assert list(ahead.batches("a")) == [*range(many), 0]
        assert list(ahead.batches("mail")) == list(range(many))

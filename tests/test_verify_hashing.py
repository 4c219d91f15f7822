"""`workbench verify` re-hashes the evidence on threads, each file once, and still names every difference.

At national scale verify spent 2 of its 3.2 CPU-s hashing 2.0 GB of evidence on one core
while the second idled. The hashing now begins before the case is opened, from the files the
set records, on threads (hashlib lets go of the GIL), while this thread checks the set.
"""

from __future__ import annotations

import json
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from workbench.reportset import contents, verification
from workbench.reportset.verification import Verification, _hash_ahead, _Hashes, _start_rehash, verify


@pytest.fixture
def case_beside_its_evidence(tiny_case, tmp_path) -> tuple[str, Path]:
    """The tiny case ingested from evidence/ beside it, and a report set (no pages) made from it."""
    from workbench.case import open_case
    from workbench.ingest import ingest
    from workbench.reportset.provenance import case_fingerprint

    shutil.copytree(tiny_case.evidence_dir, tmp_path / "case" / "evidence")
    url = f"sqlite:///{tmp_path / 'case' / 'case.db'}"
    ingest(tmp_path / "case" / "evidence", url, progress=False)
    with open_case(url) as case:
        fingerprint = case_fingerprint(case)
    root = tmp_path / "set"
    root.mkdir()
    record = {"format": contents.FORMAT, "status": "complete", "files": {}, "reports": []}
    (root / contents.SET_FILE).write_text(json.dumps({**record, "case_fingerprint": fingerprint}))
    return url, root


@pytest.fixture
def hashed(monkeypatch) -> list[Path]:
    """Every file sha256_file hashes, and from which thread, as it happens."""
    seen: list[Path] = []
    real = contents.sha256_file

    def counting(path):
        seen.append(Path(path))
        return real(path)

    monkeypatch.setattr(contents, "sha256_file", counting)
    return seen


def test_verify_hashes_each_evidence_file_once_and_passes_an_untouched_case(case_beside_its_evidence, hashed):
    url, root = case_beside_its_evidence
    result = verify(root, url)
    assert result.ok, result.differences
    evidence = sorted((root.parent / "case" / "evidence").iterdir())
    assert result.evidence_rehashed == len(evidence) > 3
    assert sorted(hashed) == evidence  # begun ahead from the set's record, then asked for again: hashed once


def test_verify_names_an_evidence_file_changed_on_disk(case_beside_its_evidence):
    url, root = case_beside_its_evidence
    changed = sorted((root.parent / "case" / "evidence").iterdir())[1]
    changed.write_bytes(changed.read_bytes() + b"\n")
    result = verify(root, url)
    assert [d.split(" on disk ")[0] for d in result.differences] == [f"evidence file {changed}"]
    assert "but the case's manifest says" in result.differences[0]


def test_threads_and_this_thread_give_the_same_outcome_in_manifest_order(tmp_path):
    """Hand-written: three files, two of them altered; differences in manifest order, largest hashed first."""
    base = tmp_path / "case"
    (base / "evidence").mkdir(parents=True)
    sizes = {"a.csv": 10, "b.csv": 300_000, "c.csv": 2_000}
    for name, size in sizes.items():
        (base / "evidence" / name).write_bytes(b"x" * size)
    recorded = {n: contents.sha256_file(base / "evidence" / n) for n in sizes}
    recorded["a.csv"] = "0" * 64
    recorded["c.csv"] = "f" * 64
    manifest = [{"path": f"evidence/{n}", "sha256": recorded[n]} for n in sizes] + [
        {"path": "evidence/gone.csv", "sha256": "1" * 64}
    ]
    import sqlalchemy as sa

    url = sa.make_url(f"sqlite:///{base / 'case.db'}")
    outcomes = []
    started: list[str] = []
    for pool in (None, ThreadPoolExecutor(1)):  # one thread: the order the hashes start in is the order they run
        hashes = _Hashes(pool)
        real = hashes.start
        hashes.start = lambda path, real=real: (started.append(path.name), real(path))[1]  # type: ignore[method-assign]
        result = Verification()
        _start_rehash(url, {"manifest": manifest}, hashes)(result)
        outcomes.append((result.evidence_rehashed, result.differences, result.notes))
        if pool is not None:
            pool.shutdown()
    assert outcomes[0] == outcomes[1]
    count, differences, notes = outcomes[0]
    assert count == 3
    assert [d.split(" on disk")[0].rsplit("/", 1)[1] for d in differences] == ["a.csv", "c.csv"]
    assert notes == [f"1 evidence files not found beside the case ({base}), so not re-hashed"]
    # started largest first, then asked for in manifest order: each run, with or without threads
    assert started == ["b.csv", "c.csv", "a.csv", "a.csv", "b.csv", "c.csv"] * 2


def test_the_head_start_hashes_nothing_outside_the_case_folder(tmp_path, hashed):
    """report-set.json is not trusted: a path out of the case's folder is not read ahead."""
    import sqlalchemy as sa

    (tmp_path / "case" / "evidence").mkdir(parents=True)
    (tmp_path / "case" / "evidence" / "ok.csv").write_text("a\n")
    (tmp_path / "secret.txt").write_text("not evidence\n")
    record = {
        "case_fingerprint": {
            "manifest": [
                {"path": "evidence/ok.csv", "sha256": "0" * 64},
                {"path": "../secret.txt", "sha256": "0" * 64},
                {"path": str(tmp_path / "secret.txt"), "sha256": "0" * 64},
            ]
        }
    }
    url = sa.make_url(f"sqlite:///{tmp_path / 'case' / 'case.db'}")
    hashes = _Hashes()
    _hash_ahead(url, record, hashes)
    assert hashed == [tmp_path / "case" / "evidence" / "ok.csv"]
    for damaged in ({}, {"case_fingerprint": None}, {"case_fingerprint": {"manifest": [{"path": 3}, "x"]}}):
        _hash_ahead(url, damaged, hashes)  # starts nothing and raises nothing: the checks name the damage
    assert len(hashed) == 1


def test_hashing_runs_beside_this_thread(tmp_path, monkeypatch):
    """The evidence hashes run on the pool's threads, not on the thread that checks the set."""
    names: list[str] = []
    real = contents.sha256_file
    monkeypatch.setattr(contents, "sha256_file", lambda p: (names.append(threading.current_thread().name), real(p))[1])
    (tmp_path / "f").write_bytes(b"x")
    with ThreadPoolExecutor(2, thread_name_prefix="verify-sha256") as pool:
        assert _Hashes(pool)(tmp_path / "f") == real(tmp_path / "f")
    assert names and all(n.startswith("verify-sha256") for n in names)
    assert verification.HASH_THREADS >= 1


def test_a_mapped_case_hashes_each_file_of_its_hand_over_once(tmp_path, hashed):
    """The mapping was hashed to find the hand-over and again as evidence; a SQLite source once per table."""
    from outside_handover import RECONCILED, build

    from workbench.case import open_case
    from workbench.mapping import ingest_mapped
    from workbench.reportset.provenance import case_fingerprint

    handover = build(tmp_path / "handover")
    case = tmp_path / "mapping.db"
    ingest_mapped(handover, handover / "mapping.yaml", case_url=case, progress=False)
    with open_case(case) as opened:
        fingerprint = case_fingerprint(opened)
        hashed.clear()
        result = Verification()
        verification._rehash_evidence(opened, fingerprint, result)
    assert not result.differences and result.evidence_rehashed == len(RECONCILED) + 1  # and the mapping
    assert len(hashed) == len(set(hashed)) and handover / "mapping.yaml" in hashed
    assert len(hashed) < result.evidence_rehashed  # the SQLite database behind several tables: hashed once

"""Two people annotating at once lose nothing: concurrent writers on SQLite (processes) and PostgreSQL (threads)."""

from __future__ import annotations

import multiprocessing
import threading

import pytest
import sqlalchemy as sa
from casekit import make_engine
from pg import pg_url  # noqa: F401  (the fixture)

from workbench.notes import open_notes, verify_journal

WRITERS, EACH = 4, 15


@pytest.fixture
def case(tmp_path):
    _engine, cleanup = make_engine("sqlite", tmp_path)
    cleanup()
    return tmp_path / "case.db"


def _annotate_many(case: str, notes: str | None, who: str, start: multiprocessing.synchronize.Event | None) -> None:
    import os

    os.environ["WORKBENCH_ANALYST"] = who
    if start is not None:
        start.wait()
    with open_notes(case, notes) as store:
        for i in range(EACH):
            a = store.annotate("session", f"s{i % 4}", tag="needs-review", note=f"{who} {i}")
            if i % 5 == 0:
                store.edit(a.annotation_id, tag="confirmed")


def _check(case, notes) -> None:
    with open_notes(case, notes) as store:
        history = store.history()
    made = [a for a in history if a.version == 1]
    assert len(made) == WRITERS * EACH
    assert sorted({a.note for a in made}) == sorted(f"w{w} {i}" for w in range(WRITERS) for i in range(EACH))
    assert len(history) == WRITERS * EACH + WRITERS * len(range(0, EACH, 5))
    chain, problems = verify_journal(case, notes)
    assert chain.ok, chain.problem
    assert problems == []
    assert chain.entries == len(history)  # one journal entry per version, none lost, none forked


def test_concurrent_writers_on_sqlite_lose_nothing(case):
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    procs = [ctx.Process(target=_annotate_many, args=(str(case), None, f"w{w}", start)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * WRITERS
    _check(case, None)


@pytest.mark.postgres
def test_concurrent_writers_on_postgresql_lose_nothing(case, pg_url):  # noqa: F811
    errors: list[BaseException] = []
    start = threading.Event()  # all four begin together, so their appends contend for the chain's head

    def work(who: str) -> None:
        try:
            _annotate_many(str(case), pg_url, who, start)
        except BaseException as exc:  # reported below, with the thread's name
            errors.append(exc)

    # Threads share os.environ, so who wrote is not checked here; the notes and the chain are.
    threads = [threading.Thread(target=work, args=(f"w{w}",)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    start.set()
    for t in threads:
        t.join(120)
    assert errors == []
    _check(case, pg_url)
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM journal")).scalar() == WRITERS * EACH + WRITERS * 3
    engine.dispose()

"""A large case's identifiers read in a child process: its errors, its end, and the leak scans on its keys.

That the keys loaded from the child equal the keys read in the report process is
``tests/test_keyread_equal.py``; here the process around them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa
from casekit import sqlite_case  # noqa: F401 - fixture
from test_report_leaks import _sqlite_url, leaky_notebook  # noqa: F401 - fixture

from workbench.case import open_case
from workbench.reportset import disclosure, keyprocess
from workbench.reportset.build import build_report
from workbench.reportset.disclosure import LeakError, SharedIdentifiers, check_set, run_identifiers
from workbench.reportset.keyprocess import KeyReadError, KeyReadProcess

ROOT = Path(__file__).resolve().parents[1]


class _Case:
    """What SharedIdentifiers needs of a case to read it in a child: its URL."""

    def __init__(self, url: str) -> None:
        self.url = sa.make_url(url)


@pytest.fixture
def silent_server():
    """A PostgreSQL URL whose server takes the connection and never answers: a child reading it waits."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    yield server, f"postgresql+psycopg://reader@127.0.0.1:{server.getsockname()[1]}/case"
    server.close()


def _gone(pid: int, within_s: float) -> bool:
    """Whether process ``pid`` ends (or is a zombie no one reaps) within ``within_s`` seconds."""
    end = time.monotonic() + within_s
    while time.monotonic() < end:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


def test_a_failing_child_raises_its_error_in_the_report():
    shared = SharedIdentifiers(_Case("duckdb:////nonexistent/case/case.duckdb"), child=True)  # type: ignore[arg-type]
    assert shared.child is not None
    folder = shared.child.folder
    shared.start()
    with pytest.raises(KeyReadError) as err:
        shared()
    message = str(err.value)
    assert "failed in its process (exit status 1)" in message
    assert "no case database at /nonexistent/case/case.duckdb" in message  # the child's own words
    assert not folder.exists()
    with pytest.raises(KeyReadError):  # every later call says so again
        shared()


def test_a_stopped_read_ends_the_child_and_removes_its_files(silent_server):
    server, url = silent_server
    shared = SharedIdentifiers(_Case(url), child=True)  # type: ignore[arg-type]
    assert shared.child is not None
    shared.start()
    server.settimeout(60)
    server.accept()  # the child is connecting: it waits for the server, which never answers
    proc = shared.child._proc
    assert proc is not None and proc.poll() is None
    started = time.monotonic()
    shared.close()
    assert time.monotonic() - started < 5  # SIGTERM ended it, no grace period waited out
    assert proc.poll() is not None and not shared.child.folder.exists()
    with pytest.raises(KeyReadError, match="it was stopped"):
        shared()


def test_a_killed_report_leaves_no_child(silent_server, tmp_path):
    server, url = silent_server
    report = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        import sqlalchemy as sa
        from workbench.reportset.keyprocess import KeyReadProcess
        child = KeyReadProcess()
        print(child.folder, flush=True)
        child.run(sa.make_url({url!r}))
    """)
    parent = subprocess.Popen([sys.executable, "-c", report], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    folder = Path(parent.stdout.readline().strip())
    try:
        server.settimeout(60)
        server.accept()  # the child reads (it waits for the server) in the report's thread
        (child,) = psutil.Process(parent.pid).children()
        assert child.cmdline()[-1].endswith("_main()")
        parent.send_signal(signal.SIGKILL)  # no clean-up runs: only Linux's parent-death signal ends the child
        parent.wait()
        assert _gone(child.pid, 10)
    finally:
        if parent.poll() is None:
            parent.kill()
        import shutil

        shutil.rmtree(folder, ignore_errors=True)  # a report killed by SIGKILL cannot remove it


def test_a_child_waits_for_its_job_and_ends_without_one():
    child = subprocess.Popen(
        [sys.executable, "-c", "from workbench.reportset.keyprocess import _main; _main()"],
        stdin=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdin is not None
    child.stdin.close()
    assert child.wait(60) == 0


def test_the_childs_keys_find_a_planted_identifier(tiny_duckdb, tmp_path):
    with open_case(tiny_duckdb) as case:
        shared = SharedIdentifiers(case, child=True)
        ids = shared()
        name = case.read_table("applicants")["name"][0]
    (tmp_path / "page.html").write_text("<p>Antal sökande: 12</p>\n", encoding="utf-8")
    assert not check_set(tmp_path, shared(), audience="public").hits
    (tmp_path / "page.html").write_text(f"<p>Antal sökande: 12</p>\n<td>{name}</td>\n", encoding="utf-8")
    with pytest.raises(LeakError, match=r"page\.html line 2: applicants\.name"):
        check_set(tmp_path, ids, audience="public")


def test_a_large_case_read_free_is_read_in_a_child(tiny_db, monkeypatch):
    with open_case(tiny_db) as case:
        monkeypatch.setattr(disclosure, "EARLY_READ_MAX_ROWS", 10)
        monkeypatch.setattr(disclosure, "LARGE_CASE_READ", "free")
        large = run_identifiers(case, scanned=True)
        assert large.child is not None and not large.started  # started by the run once a worker is free
        large.close()
        monkeypatch.setattr(disclosure, "LARGE_CASE_READ", "end")
        assert run_identifiers(case, scanned=True).child is None
        monkeypatch.setattr(disclosure, "EARLY_READ_MAX_ROWS", 10**9)
        small = run_identifiers(case, scanned=True)
        assert small.child is None and small.started  # as before: in a thread, from the start
        small()


def test_a_leak_is_found_when_the_child_read_the_keys(sqlite_case, leaky_notebook, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(disclosure, "EARLY_READ_MAX_ROWS", -1)  # the hand-written case has a few rows
    monkeypatch.setattr(disclosure, "LARGE_CASE_READ", "free")
    loaded, real_load = [], keyprocess.load

    def load(folder):
        loaded.append(folder)
        return real_load(folder)

    monkeypatch.setattr(keyprocess, "load", load)
    out = tmp_path / "public"
    with pytest.raises(LeakError) as err:
        build_report(_sqlite_url(sqlite_case), "public", out, [str(leaky_notebook)], {"leak": True})
    assert "09_leaky/extra.csv line 2: applicants.personnummer" in str(err.value)
    assert len(loaded) == 1 and not loaded[0].exists()  # read in the child, its files gone
    assert not [p for p in psutil.Process().children(recursive=True) if p.cmdline()[-1:] == ["_main()"]]


def test_a_process_stopped_before_it_started_starts_none():
    child = KeyReadProcess()
    child.stop()
    assert not child.folder.exists()
    with pytest.raises(KeyReadError, match="stopped"):
        child.start(sa.make_url("duckdb:////nonexistent/case.duckdb"))

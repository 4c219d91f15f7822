"""Stopping `workbench report` ends every notebook process and kernel it started, and starts no more.

Found by hand at national scale: a SIGTERM to the report left its workers running their
notebooks to the end (minutes, several GB each), and Ctrl-C let the queued notebooks start.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.reportset.stopping import Interrupted, Workers, exit_status

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads processes from Linux's /proc")

ROOT = Path(__file__).resolve().parents[1]


def _parents() -> dict[int, int]:
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        found[int(stat.parent.name)] = int(text.rsplit(")", 1)[1].split()[1])
    return found


def _descendants(pid: int) -> set[int]:
    parents, found, todo = _parents(), set(), [pid]
    while todo:
        here = todo.pop()
        for child, parent in parents.items():
            if parent == here and child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _kernels(pids: set[int]) -> set[int]:
    found = set()
    for pid in pids:
        try:
            if b"ipykernel" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.add(pid)
        except OSError:
            pass
    return found


def _stop_report_while_two_notebooks_run(tiny_db: str, out: Path, kill) -> tuple[int, str, set[int]]:
    def default_sigint() -> None:  # a shell's background job ignores SIGINT; a terminal's does not
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    argv = [sys.executable, "-m", "workbench.cli", "report", "--case", tiny_db]
    report = subprocess.Popen(
        [*argv, "--audience", "investigator", "--workers", "2", "--out", str(out)],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
        preexec_fn=default_sigint,
    )
    try:
        deadline = time.monotonic() + 120
        while len(_kernels(_descendants(report.pid))) < 2:  # two notebooks run, two wait
            assert report.poll() is None, report.stderr.read() if report.stderr else ""
            assert time.monotonic() < deadline, "the report never ran two kernels at once"
            time.sleep(0.2)
        started = _descendants(report.pid)
        kill(report)
        status = report.wait(60)
        stderr = report.stderr.read() if report.stderr else ""
    finally:
        if report.poll() is None:
            os.killpg(report.pid, signal.SIGKILL)
    deadline = time.monotonic() + 20  # a kernel notices its worker is gone within a few seconds
    while {p for p in started if _alive(p)} and time.monotonic() < deadline:
        time.sleep(0.2)
    return status, stderr, {p for p in started if _alive(p)}


@pytest.mark.parametrize(
    ("name", "kill", "status"),
    [
        ("sigterm", lambda p: p.send_signal(signal.SIGTERM), 128 + signal.SIGTERM),  # a job scheduler, `kill`
        ("ctrl-c", lambda p: os.killpg(p.pid, signal.SIGINT), 128 + signal.SIGINT),  # the terminal's whole group
    ],
)
def test_a_stopped_report_leaves_no_process_behind_and_starts_no_queued_notebook(tiny_db, tmp_path, name, kill, status):
    got, stderr, left = _stop_report_while_two_notebooks_run(tiny_db, tmp_path / name, kill)
    assert left == set(), f"still running after the stop: {left}"
    assert got == status, stderr
    assert "workbench report: stopped" in stderr
    # started last with two workers: 01 and 00 were queued behind 03 and 02
    assert "00_case_overview: cell" not in stderr and "01_incident_reconstruction: cell" not in stderr
    assert "Traceback" not in stderr


def test_stopped_workers_are_ended_and_no_more_start(tmp_path):
    workers = Workers()
    marker = tmp_path / "started"
    import threading

    sleeper = threading.Thread(
        target=workers.run,
        args=([sys.executable, "-c", f"import pathlib, time; pathlib.Path({str(marker)!r}).touch(); time.sleep(60)"],),
    )
    began = time.monotonic()
    sleeper.start()
    while not marker.exists():
        time.sleep(0.05)
    assert workers.stop(grace_s=5) == 1
    sleeper.join(10)
    assert not sleeper.is_alive() and time.monotonic() - began < 30
    assert workers.run([sys.executable, "-c", "pass"]) is None  # refused: the run was stopped


def test_a_worker_that_ignores_sigterm_is_killed_after_the_grace(tmp_path):
    workers = Workers()
    import threading

    marker = tmp_path / "deaf"
    statuses: list[int | None] = []
    code = (
        "import pathlib, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"pathlib.Path({str(marker)!r}).touch(); time.sleep(60)"
    )
    thread = threading.Thread(target=lambda: statuses.append(workers.run([sys.executable, "-c", code])))
    thread.start()
    while not marker.exists():
        time.sleep(0.05)
    assert workers.stop(grace_s=0.5) == 1
    thread.join(10)
    assert statuses == [-signal.SIGKILL]


def test_the_exit_status_is_the_shells_for_the_signal():
    assert exit_status(Interrupted(signal.SIGTERM)) == 143
    assert exit_status(KeyboardInterrupt()) == 130

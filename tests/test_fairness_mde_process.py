"""The MDE searches shared with a spawned process give the threads' MDEs bit for bit, and leave no process behind.

Also :func:`workbench.fairness.processes.shared` itself: results in input order, a child's
error raised here with its message, an interrupt here ending the children at once.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from multiprocessing import resource_tracker

import numpy as np
import polars as pl
import pytest
from queuekit import outcomes as _allocations, replay_world

import workbench.fairness.mde as M
import workbench.fairness.processes as PR

ALPHA, PERMUTATIONS = 0.01, 20_000


def _children() -> set[int]:
    """Processes whose parent is this one (running or not yet waited for), but multiprocessing's resource tracker."""
    tracker = getattr(resource_tracker._resource_tracker, "_pid", None)
    mine = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid() and int(entry) != tracker:
                mine.add(int(entry))
    return mine


@pytest.fixture
def counted(monkeypatch):
    """The process pools the searches start (their keyword arguments), while still starting them."""
    calls: list[dict] = []
    real = PR.ProcessPoolExecutor

    def count(*args, **kw):
        calls.append(kw)
        return real(*args, **kw)

    monkeypatch.setattr(PR, "ProcessPoolExecutor", count)
    return calls


# Written out by hand: seven caseworkers over three districts and two years. Caseworker 7 has
# enough allocations to be simulated (more than EXACT_LIMIT outcomes), 6 works alone in Bromma
# in 2014 (no peers there), 5 has a single allocation, 3 departs from queue order often.
HAND = _allocations(
    [
        (1, "Farsta", 2013, 12, 0),
        (2, "Farsta", 2013, 9, 1),
        (3, "Farsta", 2013, 10, 4),
        (7, "Farsta", 2013, 30, 1),
        (1, "Solna", 2013, 6, 0),
        (4, "Solna", 2013, 15, 1),
        (7, "Solna", 2013, 25, 0),
        (5, "Solna", 2014, 1, 0),
        (4, "Solna", 2014, 11, 0),
        (3, "Kista", 2014, 8, 3),
        (2, "Kista", 2013, 7, 0),
        (7, "Kista", 2013, 20, 2),
        (6, "Bromma", 2014, 3, 1),
        (3, "Farsta", 2014, 5, 2),
        (2, "Farsta", 2014, 14, 0),
    ]
)


def _mde(allocations: pl.DataFrame, workers: int | None) -> pl.DataFrame:
    return M.minimum_detectable_effects(
        allocations, alpha=ALPHA, permutations=PERMUTATIONS, seed=3, min_effect=0.02, workers=workers
    )


def test_hand_written_mdes_are_the_same_from_a_child_process_as_on_threads(monkeypatch, counted):
    threads = _mde(HAND, workers=2)  # 6 caseworkers with peers: fewer than PROCESS_FROM, threads
    alone = _mde(HAND, workers=1)
    assert not counted
    assert threads.equals(alone)
    assert threads["handler_id"].to_list() == [1, 2, 3, 4, 5, 6, 7]
    mde = dict(threads.iter_rows())
    assert mde[6] is None  # no peers
    assert mde[7] is not None and mde[1] is not None and mde[7] < mde[1]  # more allocations, smaller fraud seen
    monkeypatch.setattr(M, "PROCESS_FROM", 1)
    before = _children()
    shared = _mde(HAND, workers=2)
    assert len(counted) == 1 and counted[0]["max_workers"] == 1  # this process and one child
    assert shared.equals(threads)  # same order, same floats (equals compares them exactly)
    assert _children() <= before  # the child has exited and been waited for
    monkeypatch.setattr(M, "PROCESS_FROM", 10**9)
    monkeypatch.setattr(M, "cores", lambda: 2)
    assert _mde(HAND, workers=None).equals(threads)
    assert len(counted) == 1  # few caseworkers: no child, whatever the cores


def test_a_small_generated_case_has_the_same_mdes_from_child_processes(monkeypatch, counted):
    from workbench.scenario import build_world

    world, _ = build_world("small", 2, fraud=True)
    allocations = replay_world(world)
    monkeypatch.setattr(M, "EXACT_LIMIT", 64)  # most caseworkers simulated: their seeds matter
    threads = _mde(allocations, workers=2)
    assert threads.height == allocations["handler_id"].n_unique() >= 4
    assert threads["mde"].drop_nulls().len() >= 3
    monkeypatch.setattr(M, "PROCESS_FROM", 1)
    before = _children()
    assert _mde(allocations, workers=3).equals(threads)  # two children and this process
    assert [kw["max_workers"] for kw in counted] == [2]
    assert _children() <= before


def test_the_items_come_back_in_input_order_wherever_they_ran():
    items = [float(v) for v in range(40)]
    got = PR.shared(lambda v: (time.sleep(0.005), math.sqrt(v))[1], math.sqrt, items, 1)
    assert got == [math.sqrt(v) for v in items]
    assert PR.shared(math.sqrt, math.sqrt, [4.0], 1) == [2.0]  # one item: no child
    assert PR.shared(math.sqrt, math.sqrt, [], 1) == []


def test_an_error_in_the_child_is_raised_here_with_its_message_and_no_child_is_left():
    before = _children()

    def here(v: float) -> float:
        time.sleep(0.3)  # slow here, so the child takes items too
        return abs(v)

    with pytest.raises(ValueError, match="math domain error"):
        PR.shared(here, math.sqrt, [-1.0] * 6, 1)  # the child's sqrt of a negative
    assert _children() <= before


def test_a_child_started_without_its_settings_says_so():
    test = M._Test(3, ALPHA, 0.02, 1e-4, np.zeros(10), 1, 0.8)
    item = (1, np.array([2]), np.array([0]), np.array([1]), np.array([5]))
    with pytest.raises(RuntimeError, match="starts with _settle"):
        PR.shared(lambda i: (time.sleep(0.3), test.mde(i))[1], M._mde_there, [item] * 6, 1)


def test_an_interrupt_here_ends_the_children_at_once():
    before = _children()

    def here(_: float) -> None:
        time.sleep(1.0)  # the child has taken its items and sleeps
        raise KeyboardInterrupt

    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        PR.shared(here, time.sleep, [60.0] * 4, 1)
    assert time.perf_counter() - start < 20  # not the child's 60 s
    assert _children() <= before
    assert not multiprocessing.active_children()


def test_one_worker_or_one_core_starts_no_process(monkeypatch):
    def refuse(*args, **kw):
        raise AssertionError("no other process")

    monkeypatch.setattr(PR, "ProcessPoolExecutor", refuse)
    monkeypatch.setattr(M, "PROCESS_FROM", 1)
    alone = _mde(HAND, workers=1)
    monkeypatch.setattr(M, "cores", lambda: 1)
    assert _mde(HAND, workers=None).equals(alone)
    assert alone["mde"].drop_nulls().len() >= 5


def test_a_child_exits_when_this_process_is_killed_outright(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(
        "import multiprocessing, sys, time\n"
        "import workbench.fairness.processes as PR\n"
        "def here(_):\n"
        "    time.sleep(2)  # the child is up and sleeping on its item\n"
        "    print(*[p.pid for p in multiprocessing.active_children()], flush=True)\n"
        "    time.sleep(120)\n"
        "if __name__ == '__main__':\n"
        "    PR.shared(here, time.sleep, [120.0] * 4, 1)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    parent = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )  # its resource tracker warns of the semaphores the kill left
    try:
        assert parent.stdout is not None
        pids = [int(p) for p in parent.stdout.readline().split()]
    finally:
        parent.kill()  # SIGKILL: no cleanup in the parent
        parent.wait()
    assert pids  # the child and perhaps multiprocessing's resource tracker
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_running(pid) for pid in pids):
        time.sleep(0.1)
    left = [pid for pid in pids if _running(pid)]
    for pid in left:  # not to leave them running when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not left


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie left to an init that does not reap counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False

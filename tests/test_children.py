"""A process pool's worker ends with its parent when the pool starts it through ``orphan_guard``.

Without the guard, a spawned ``ProcessPoolExecutor`` worker whose parent is killed finishes
its task and then waits for the next one for ever (it holds its task queue's write end
itself). The control case shows that happening here, so the guarded case can fail.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to tell a zombie")

ROOT = Path(__file__).resolve().parents[1]

PARENT = textwrap.dedent(
    """
    import multiprocessing, os, sys, time
    from concurrent.futures import ProcessPoolExecutor
    from workbench.children import orphan_guard

    def work(seconds):
        time.sleep(seconds)
        return os.getpid()

    if __name__ == "__main__":
        guarded = sys.argv[1] == "guarded"
        options = {"initializer": orphan_guard} if guarded else {}
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), **options) as pool:
            print(pool.submit(work, 0).result(), flush=True)  # the worker's pid, once it runs
            pool.submit(work, 1).result()  # killed in here
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split(") ", 1)[1].startswith("Z"))


def _orphan_after_kill(mode: str, tmp_path: Path) -> bool:
    script = tmp_path / "parent.py"
    script.write_text(PARENT, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, str(script), mode], stdout=subprocess.PIPE, text=True, env=env)
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 5  # the task (1 s) is long over by then
    while time.monotonic() < deadline and _alive(worker):
        time.sleep(0.1)
    orphan = _alive(worker)
    if orphan:
        os.kill(worker, signal.SIGKILL)
    return orphan


def test_unguarded_worker_outlives_a_killed_parent(tmp_path):
    assert _orphan_after_kill("plain", tmp_path)


def test_guarded_worker_ends_with_a_killed_parent(tmp_path):
    assert not _orphan_after_kill("guarded", tmp_path)

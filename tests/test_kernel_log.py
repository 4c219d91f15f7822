"""A kernel's own output goes to a log in the run's scratch, and a kernel that dies is quoted from it.

Found in a full test run: a report stopped with SIGTERM printed a traceback from ipykernel
(``ZMQError: Socket operation on non-socket`` as it sent an execute reply while papermill shut
it down). Each kernel inherited its worker's standard error, the user's terminal. Now the
kernel process writes to ``kernel.log`` in the job's scratch folder; cell output (iopub) is
unchanged, and a kernel that dies in a cell fails its notebook with the log's last lines.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.reportset.engine import KernelDied, kernel_died, last_words
from workbench.reportset.execution import NotebookError, execute

TRIVIAL = Path(__file__).parent / "data" / "notebooks" / "trivial.ipynb"
ROOT = Path(__file__).resolve().parents[1]


def _notebook(folder: Path, name: str, *cells: str) -> Path:
    """trivial.ipynb (a parameters cell, a heading) with ``cells`` as its code cells after the heading."""
    nb = json.loads(TRIVIAL.read_text())
    code = nb["cells"][2]
    nb["cells"][2:] = [{**code, "id": f"c{i}", "source": source} for i, source in enumerate(cells)]
    path = folder / name
    path.write_text(json.dumps(nb))
    return path


SHUTDOWN_WORDS = (
    "import atexit, os, sys\n"
    "atexit.register(lambda: print('Traceback (the kernel, at its exit)', file=sys.__stderr__, flush=True))\n"
    "os.write(2, b'Traceback (the kernel process, on its fd 2)\\n')\n"
    "print('cell output')"
)


@pytest.fixture(autouse=True)
def kernels_as_users_run_them(monkeypatch):
    """ipykernel reads a kernel's fd 1 and 2 through a pipe, except under pytest: not here either."""
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)


@pytest.fixture
def scratch(tmp_path, monkeypatch) -> Path:
    """The temporary folder runs make their scratch in, watched: it must be empty again afterwards."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_what_a_kernel_writes_itself_stays_off_the_terminal_and_cell_output_is_kept(tiny_db, tmp_path, capfd, scratch):
    nb = _notebook(tmp_path, "talks.ipynb", SHUTDOWN_WORDS, "print('after')")
    assert main(["run", str(nb), "--case", tiny_db, "--out", str(tmp_path / "out")]) == 0
    err = capfd.readouterr().err  # the kernel's fd 2 is this process's, as it was before the log
    assert "talks: done after" in err
    assert "Traceback" not in err
    executed = json.loads((tmp_path / "out" / "talks" / "talks.ipynb").read_text())
    texts = ["".join(o.get("text", "")) for c in executed["cells"] for o in c.get("outputs", [])]
    assert "cell output\n" in texts and "after\n" in texts
    assert list(scratch.iterdir()) == [], "the kernel log goes with the run's scratch"


def test_the_log_holds_what_the_kernel_wrote(tiny_db, tmp_path):
    nb = _notebook(tmp_path, "talks.ipynb", SHUTDOWN_WORDS)
    log = tmp_path / "kernel.log"
    execute(nb, tmp_path / "out" / "talks.ipynb", {"case_url": tiny_db}, kernel_log=log)
    text = log.read_text()
    assert "Traceback (the kernel process, on its fd 2)" in text
    assert "Traceback (the kernel, at its exit)" in text


def test_a_stopped_worker_prints_no_traceback_from_its_kernel(tmp_path):
    """SIGTERM to a notebook's worker mid-cell: papermill shuts the kernel down; ipykernel's complaint goes to the log."""
    marker = tmp_path / "sleeping"
    nb = _notebook(
        tmp_path, "slow.ipynb", f"import pathlib, time\npathlib.Path({str(marker)!r}).touch()\ntime.sleep(60)"
    )
    spec = {
        "notebook": str(nb),
        "output": str(tmp_path / "out" / "slow.ipynb"),
        "parameters": {"case_url": ""},
        "env": {},
        "cell_timeout": None,
        "copies": {},
        "kernel_log": str(tmp_path / "kernel.log"),
    }
    (tmp_path / "job.json").write_text(json.dumps(spec))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    code = "from workbench.reportset.execution import _worker; _worker()"
    worker = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path / "job.json"), str(tmp_path / "result.json")],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert worker.poll() is None and time.monotonic() < deadline, "the notebook never reached its sleep"
            time.sleep(0.1)
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err
    assert "slow: stopped after" in err
    assert not (tmp_path / "result.json").exists()


def test_a_kernel_that_exits_in_a_cell_is_a_clear_error_quoting_its_last_words(tiny_db, tmp_path, capfd, scratch):
    nb = _notebook(
        tmp_path,
        "dies.ipynb",
        "print('fine')",
        "import os, time\nos.write(2, b'about to go: the last words\\n')\ntime.sleep(1)\nos._exit(3)",
        "print('never')",
    )
    assert main(["run", str(nb), "--case", tiny_db, "--out", str(tmp_path / "out")]) == 1
    err = capfd.readouterr().err  # cell 1 is papermill's injected parameters
    assert (
        "dies.ipynb: the kernel exited with status 3 in cell 4 of 5 (it begins: 'import os, time'), "
        "and the run was stopped"
    ) in err
    assert "The last lines the kernel process wrote:\n    | about to go: the last words" in err
    assert "dies: failed in cell 4 of 5" in err
    assert err.count("about to go") == 1, "quoted in the error, not also printed by the kernel"
    assert list(scratch.iterdir()) == []


def test_a_crashing_kernel_is_quoted_from_the_crash_not_its_outer_frames(tiny_db, tmp_path):
    nb = _notebook(tmp_path, "crash.ipynb", "import ctypes\n\nctypes.string_at(0)  # reads address 0: SIGSEGV")
    with pytest.raises(NotebookError) as caught:
        execute(nb, tmp_path / "out" / "crash.ipynb", {"case_url": tiny_db})
    message = str(caught.value)
    assert "crash.ipynb: the kernel was killed by SIGSEGV in cell 3 of 3 (it begins: 'import ctypes')" in message
    quoted = message.split("wrote:\n", 1)[1].splitlines()
    assert quoted[0] == "    | Fatal Python error: Segmentation fault"
    assert any("line 3 in <module>" in line for line in quoted), "the cell's own frame is among the lines quoted"


def test_last_words_are_the_tail_or_a_crash_report_from_its_start(tmp_path):
    log = tmp_path / "kernel.log"
    assert last_words(log) == []  # no log at all
    log.write_text("\n".join(f"line {i}" for i in range(40)) + "\n\n   \n")
    assert last_words(log, lines=3) == ["line 37", "line 38", "line 39"]
    log.write_text(
        "noise\nFatal Python error: Aborted\n\nCurrent thread 0x1 (most recent call first):\n"
        '  File "<cell>", line 2 in <module>\n  File "outer.py", line 9 in run\n'
    )
    assert last_words(log, lines=3) == [
        "Fatal Python error: Aborted",
        "Current thread 0x1 (most recent call first):",
        '  File "<cell>", line 2 in <module>',
    ]
    log.write_bytes(b"x" * 1000 + b"\n\xff\xfe broken utf-8\n")
    cut = last_words(log, width=50)
    assert cut[0] == "x" * 49 + "…" and cut[1].endswith(" broken utf-8")


def test_how_a_kernel_ended_in_words(tmp_path):
    assert KernelDied(3).how() == "exited with status 3"
    assert KernelDied(-signal.SIGKILL).how() == "was killed by SIGKILL"
    assert KernelDied(-200).how() == "was killed by signal 200"
    assert KernelDied().how() == "ended"
    silent = kernel_died("x.ipynb", KernelDied(-signal.SIGKILL), "cell 4 of 9", tmp_path / "x.ipynb", tmp_path / "no")
    assert silent.startswith("x.ipynb: the kernel was killed by SIGKILL in cell 4 of 9, and the run was stopped.")
    assert "wrote nothing (SIGKILL without a word is how the system's out-of-memory killer" in silent
    assert "out-of-memory" not in kernel_died("x.ipynb", KernelDied(1), "a cell", tmp_path, tmp_path / "no")

"""Headless runs never wait without bound, and a widget cell asks nothing of a headless client.

The hang this guards against was reproduced here: under load, plain papermill waited for
ever after notebook 01's last cell (``TimelineExplorer``). A loopback capture showed the
kernel's execute_reply on the wire 2.5 ms after nbclient had sent a comm_msg on the same
shell socket: nbclient answers output captured into an Output widget (``with out:
display(...)``) by sending the outputs back on the shell channel while it waits there for the
reply, and the send can swallow the socket's wake-up. Widgets now set an Output's outputs
from the kernel (``widgets.charts.show_in``), and every run is bounded in time besides.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import papermill
import pytest
from papermill.exceptions import PapermillExecutionError

from workbench.cli import main
from workbench.reportset import execution
from workbench.reportset.execution import NotebookError, execute

DATA = Path(__file__).parent / "data" / "notebooks"
WIDGET = "application/vnd.jupyter.widget-view+json"


def _code(notebook: Path) -> list[dict]:
    return [c for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code"]


def _text(output: dict) -> str:
    return "".join(output["text"])


def test_a_widget_cell_sends_nothing_back_from_a_headless_client(tmp_path, monkeypatch):
    """Plain papermill (no WORKBENCH_RUN): the explorer draws its chart, and nbclient never sends on the shell."""
    import nbclient.output_widget

    sent = []
    monkeypatch.setattr(
        nbclient.output_widget.OutputWidget, "_publish_msg", lambda self, msg_type, **kw: sent.append(msg_type)
    )
    monkeypatch.delenv("WORKBENCH_RUN", raising=False)
    out = tmp_path / "widget_cell.ipynb"
    papermill.execute_notebook(
        str(DATA / "widget_cell.ipynb"), str(out), kernel_name="workbench", progress_bar=False, cwd=str(tmp_path)
    )
    cells = _code(out)
    assert any(WIDGET in o.get("data", {}) for o in cells[-2]["outputs"]), "the explorer is shown"
    assert _text(cells[-1]["outputs"][0]) == "after the widget\n"
    assert sent == []


def test_plain_papermill_stops_a_blocking_cell_at_the_kernels_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CELL_TIMEOUT", "2")
    out = tmp_path / "blocking.ipynb"
    t0 = time.monotonic()
    with pytest.raises(PapermillExecutionError) as caught:
        papermill.execute_notebook(
            str(DATA / "blocking_cell.ipynb"), str(out), kernel_name="workbench", progress_bar=False, cwd=str(tmp_path)
        )
    assert time.monotonic() - t0 < 60
    assert caught.value.ename == "CellTimeLimitExceeded"
    assert "ran longer than the cell time limit of 2 s" in caught.value.evalue
    cells = _code(out)  # the partial notebook is kept, the error in the blocking cell
    assert _text(cells[2]["outputs"][0]) == "before the block\n"
    assert [o["ename"] for o in cells[3]["outputs"] if o["output_type"] == "error"] == ["CellTimeLimitExceeded"]
    assert cells[4]["outputs"] == []


def test_a_user_interrupt_is_still_a_keyboard_interrupt(tmp_path):
    """The limit's SIGINT handler passes a signal it did not send on: interrupting by hand works as before."""
    nb = json.loads((DATA / "blocking_cell.ipynb").read_text())
    nb["cells"][3]["source"] = "import os, signal\nos.kill(os.getpid(), signal.SIGINT)\ntime.sleep(5)"
    src = tmp_path / "interrupt.ipynb"
    src.write_text(json.dumps(nb))
    with pytest.raises(PapermillExecutionError) as caught:
        papermill.execute_notebook(
            str(src), str(tmp_path / "out.ipynb"), kernel_name="workbench", progress_bar=False, cwd=str(tmp_path)
        )
    assert caught.value.ename == "KeyboardInterrupt"


def test_workbench_run_stops_a_blocking_cell_and_names_it(tiny_db, tmp_path, capsys):
    t0 = time.monotonic()
    code = main(
        ["run", str(DATA / "blocking_cell.ipynb"), "--case", tiny_db, "--out", str(tmp_path), "--cell-timeout", "2"]
    )
    assert code == 1
    assert time.monotonic() - t0 < 90
    err = capsys.readouterr().err
    assert (
        "blocking_cell.ipynb: cell 5 of 6 (it begins: 'time.sleep(3600)  # blocks far longer than any test "
        "waits') ran longer than the cell timeout of 2 s and was stopped"
    ) in err
    kept = tmp_path / "blocking_cell" / "blocking_cell.ipynb"
    assert f"The executed notebook is kept at {kept}" in err
    assert _code(kept)[4]["outputs"][-1]["ename"] == "CellTimeLimitExceeded"
    assert "Traceback" not in err


def test_the_client_gives_up_on_a_kernel_that_cannot_answer(tiny_db, tmp_path, monkeypatch):
    """A cell that ignores SIGINT outlives the kernel's limit; the client's own timeout stops the run."""
    monkeypatch.setattr(execution, "CLIENT_GRACE", 3.0)
    nb = json.loads((DATA / "blocking_cell.ipynb").read_text())
    nb["cells"][3]["source"] = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(3600)"
    src = tmp_path / "deaf.ipynb"
    src.write_text(json.dumps(nb))
    t0 = time.monotonic()
    with pytest.raises(
        NotebookError,
        match=r"deaf\.ipynb: the kernel did not answer within 5 s in cell 5 of 6 "
        r"\(it begins: 'import signal'\), and the run was stopped",
    ):
        execute(src, tmp_path / "out" / "deaf.ipynb", {"case_url": tiny_db}, cell_timeout=2)
    assert time.monotonic() - t0 < 90


def test_a_bad_kernel_limit_setting_falls_back_to_the_default(tmp_path, monkeypatch, capsys):
    from workbench.reportset import kernel

    monkeypatch.setenv("WORKBENCH_CELL_TIMEOUT", "ten minutes")
    with pytest.raises(kernel.WorkbenchError, match="'ten minutes' is not a positive number of seconds"):
        kernel.cell_time_limit()

    from types import SimpleNamespace

    registered: list = []
    shell = SimpleNamespace(events=SimpleNamespace(register=lambda name, f: registered.append((name, f))))
    kernel.load_ipython_extension(shell)
    assert [name for name, _ in registered] == ["pre_run_cell", "post_run_cell"]
    assert registered[0][1].__self__.limit == kernel.DEFAULT_CELL_TIMEOUT
    assert "using 1800 s" in capsys.readouterr().err


@pytest.mark.parametrize("bad", [0, -1, float("inf")])
def test_a_cell_timeout_must_be_a_positive_number(tmp_path, bad):
    with pytest.raises(NotebookError, match="the cell timeout must be a positive number of seconds"):
        execute(DATA / "blocking_cell.ipynb", tmp_path / "x.ipynb", cell_timeout=bad)


def test_progress_names_the_notebook_and_the_cell(tiny_db, tmp_path, capsys):
    assert main(["run", str(DATA / "two_charts.ipynb"), "--case", tiny_db, "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "two_charts: cell 1 of " in err
    assert "two_charts: done after 0:00:" in err
    assert "Kernel is running over TCP" not in err


def _at_once(commands: list[list[str]]) -> list[str]:
    """Start ``commands`` together; the standard error of each that failed."""
    import subprocess

    runs = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for c in commands]
    errors = [run.communicate(timeout=600)[1] for run in runs]
    return [err for run, err in zip(runs, errors, strict=True) if run.returncode]


@pytest.mark.slow
def test_four_runs_at_once_never_race_for_a_port(tiny_db, tmp_path):
    """Kernels on IPC sockets: four processes start kernels at once, ten rounds, then four reports; none fails.

    On TCP, two ``workbench report`` runs at once failed about one time in eleven: a kernel
    lost the race for a port its client had just found free ("Address already in use").
    The race is in starting kernels, which ``run`` and ``report`` share: ten rounds of four
    processes each running a notebook as ``workbench run`` does, then one round of four whole
    report sets. The rounds run a one-cell notebook (trivial.ipynb): what races is the kernel's
    start, not the cells. Each round's process calls ``execute`` (what ``workbench run`` calls
    for each notebook) rather than the command line, whose parser imports every command's
    modules first: about 1.4 s of CPU per process, 40 processes, nothing to do with ports.
    ``test_progress_names_the_notebook_and_the_cell`` covers ``run`` reaching ``execute``.
    """
    import sys

    trivial = str(DATA / "trivial.ipynb")
    execute_one = (
        "import sys; from workbench.reportset.execution import execute; "
        "execute(sys.argv[1], sys.argv[2], {'case_url': sys.argv[3]})"
    )
    run = [sys.executable, "-c", execute_one, trivial]
    for round_ in range(10):
        failed = _at_once([[*run, str(tmp_path / f"run{round_}-{i}" / "trivial.ipynb"), tiny_db] for i in range(4)])
        assert failed == [], f"round {round_}: {failed}"
    assert len(list(tmp_path.glob("run*/trivial.ipynb"))) == 40
    notebook = str(DATA / "two_charts.ipynb")
    build = (
        "import sys; from workbench.reportset import build_report; "
        "build_report(sys.argv[1], 'investigator', sys.argv[2], notebooks=[sys.argv[3]], workers=1)"
    )
    failed = _at_once(
        [[sys.executable, "-c", build, tiny_db, str(tmp_path / f"report{i}"), notebook] for i in range(4)]
    )
    assert failed == []
    assert len(list(tmp_path.glob("report*/index.html"))) == 4

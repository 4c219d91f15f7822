"""The query runner keeps DuckDB's Arrow-copy warning out of notebooks, safely from several threads."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import warnings
from pathlib import Path

from workbench.case import open_case
from workbench.queries import run

ROOT = Path(__file__).resolve().parents[1]


def test_queries_on_threads_leave_the_warning_filters_as_they_were(tiny_duckdb):
    # warnings.catch_warnings around each read restored the filters a thread saw on entry:
    # with reads on two threads, one's exit undid the other's filter (or left it for good)
    case = open_case(tiny_duckdb)
    before = list(warnings.filters)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(25):
                run("manifest", case)
                assert list(warnings.filters) == before
        except BaseException as exc:  # reported below, from the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert list(warnings.filters) == before


def test_a_notebook_user_sees_no_arrow_copy_warning(tiny_duckdb):
    # outside pytest (whose configuration ignores it too), with every warning shown once
    code = f"from workbench.queries import run; print(run('manifest', {tiny_duckdb!r}).height)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) > 0
    assert "Arrow output" not in done.stderr

"""Write the mbox in a process of its own, beside the simulation.

:func:`.raw.write_mbox` is pure Python (the stdlib ``email`` package) and holds the GIL the
whole time: in a thread beside the allocation it took about 40 % of the run's GIL-held
samples at stockholm, so the allocation, the run's longest step, waited for it. Here a
child Python process does it. The process is started when generation starts, so its
imports overlap the people step (which leaves the second core idle), then waits on its
standard input for the folder of its inputs. The bytes written are those of
:func:`.raw.write_mbox` in this process (``tests/test_generate_ahead.py``).

The child runs :func:`_main`; it exits without writing anything when its input closes
before a job comes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl

from ..errors import GeneratorError

__all__ = ["MboxProcess"]


class MboxProcess:
    """A child process that writes one mbox; ``submit`` hands it the job, ``result`` waits for it."""

    def __init__(self) -> None:
        # This workbench, not whichever the child would find first: ``-c`` puts the working
        # folder first on its path, and that may hold another checkout.
        root = str(Path(__file__).resolve().parents[2])
        code = f"import sys; sys.path.insert(0, {root!r}); from {__name__} import _main; _main()"
        self._proc: subprocess.Popen[str] | None = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def submit(self, messages: pl.DataFrame, applicants: pl.DataFrame, path: Path, folder: Path) -> None:
        """Write ``messages`` as the mbox ``path``; its inputs go to ``folder`` (the spool)."""
        assert self._proc is not None and self._proc.stdin is not None
        folder.mkdir(parents=True, exist_ok=True)
        senders = messages["sender_applicant_id"].drop_nulls().unique()
        # Only the senders' names: write_mbox joins them on the sender, so the bytes are the same.
        names = applicants.filter(pl.col("applicant_id").is_in(senders.implode())).select("applicant_id", "name")
        job = {"messages": str(folder / "mbox_messages.parquet"), "names": str(folder / "mbox_names.parquet")}
        messages.write_parquet(job["messages"])
        names.write_parquet(job["names"])
        try:
            self._proc.stdin.write(json.dumps({**job, "out": str(path)}) + "\n")
            self._proc.stdin.flush()
        except BrokenPipeError:  # the child ended before its job came: result() says why
            pass

    def result(self) -> int:
        """Wait for the mbox; returns its messages, or raises the child's error."""
        assert self._proc is not None
        out, err = self._proc.communicate()
        code, self._proc = self._proc.returncode, None
        if code != 0 or not out.split():
            raise GeneratorError(f"writing the mbox failed in its process (exit {code}): {err.strip()[-2000:]}")
        return int(out.split()[-1])

    def close(self) -> None:
        """End the process if no result was waited for (an error elsewhere); a no-op after ``result``."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.communicate()
            self._proc = None


def _main() -> None:
    from .raw import write_mbox  # imported before the job comes: this is what overlaps

    line = sys.stdin.readline()
    if not line:
        return
    job = json.loads(line)
    rows = write_mbox(pl.read_parquet(job["messages"]), pl.read_parquet(job["names"]), Path(job["out"]))
    print(rows)

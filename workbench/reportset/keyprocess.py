"""Read a large case's identifiers in a child process, beside the last notebook, and load them after.

At national scale the read peaked at 3.7-5.1 GB in the report process (1.2 GB of it DuckDB's
cache of the case's blocks), too much beside notebook 03's kernel (4.1-6 GB) under 8 GB. Here a
fresh interpreter reads them (:func:`~workbench.reportset.casekeys.case_identifiers` with
``spill`` and ``sink``) on a DuckDB connection of one thread and :data:`MEMORY_LIMIT`, a column
at a time, the key table's partitions written to its scratch folder and merged one by one at the
end, each merged segment (keys, masks) and its first words written at once as Arrow IPC files
in that folder (private, mode 0700; removed once loaded or when the run ends), never the whole
table held; then it exits: at national it peaks at about 1.2 GB (92 CPU-s). Only that peak
counts while notebook 03 runs; the report process loads the files (about 6 s at national) when
the first leak scan asks for them, after the notebooks have ended. The keys loaded are the keys
read in the report process (``tests/test_keyread_equal.py``, ``tests/test_keyread_child.py``).

The child is started and waited for in one thread of the report process (Linux sends a child
the signal of ``PR_SET_PDEATHSIG`` when the *thread* that started it ends): it ends with the
report however that ends (:func:`~workbench.reportset.stopping.die_with_parent`), and
:meth:`KeyReadProcess.stop` ends it at once when the run is stopped or fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import sqlalchemy as sa

from ..errors import WorkbenchError

if TYPE_CHECKING:
    from .casekeys import Identifiers
    from .keytable import Merge

__all__ = ["MEMORY_LIMIT", "KeyReadError", "KeyReadProcess", "child_url", "load", "save", "save_counts"]

MEMORY_LIMIT = "300MB"
"""DuckDB's memory limit in the child (its cache of the case's blocks, mostly); threads: one."""
_DONE = "done.json"


class KeyReadError(WorkbenchError):
    """Reading the case's identifiers failed in the child process."""


def child_url(url: sa.URL) -> sa.URL:
    """``url`` as the child opens it: a DuckDB case on one thread and :data:`MEMORY_LIMIT` unless the URL says."""
    if url.get_backend_name() != "duckdb":
        return url
    wanted = {"threads": "1", "memory_limit": MEMORY_LIMIT}
    return url.update_query_dict({k: v for k, v in wanted.items() if k not in url.query})


def _is_ip(kind: str) -> bool:
    return kind.endswith(".ip")  # as casekeys searches them


def save(merge: Merge, folder: Path) -> None:
    """Write ``merge``'s segments to ``folder`` one by one, each with its masks and its first words, and let it go."""
    from .keytable import segment_starts

    ip_bits = sum(1 << i for i, kind in enumerate(merge.kinds) if _is_ip(kind))
    n = 0
    starts = []
    for keys, masks in merge.segments():
        pl.DataFrame({"key": keys, "mask": masks}).write_ipc(folder / f"segment-{n}.arrow", compression="uncompressed")
        words = pl.Series([m for m in masks.unique().to_list() if m & ~ip_bits], dtype=pl.UInt64)
        starts.append(segment_starts(keys, masks.is_in(words.implode())).unique())
        n += 1
        del keys, masks
    pl.concat([pl.DataFrame(schema={"first": pl.String, "words": pl.UInt32}), *starts]).unique().write_ipc(
        folder / "starts.arrow", compression="uncompressed"
    )
    meta = {"kinds": merge.kinds, "route": merge.route, "segments": n}
    (folder / "table.json").write_text(json.dumps(meta), encoding="utf-8")


def save_counts(ids: Identifiers, folder: Path) -> None:
    """Write what ``ids`` counted (skipped, ambiguous, short) to ``folder``, and ``done.json``: the read is complete."""
    meta = {"skipped": ids.skipped, "ambiguous": sorted(ids.ambiguous), "short": ids.short}
    (folder / "counts.json").write_text(json.dumps(meta), encoding="utf-8")
    (folder / _DONE).write_text("{}", encoding="utf-8")


def load(folder: Path) -> Identifiers:
    """The identifiers :func:`save` and :func:`save_counts` wrote to ``folder``: one key table, as the read makes it."""
    from .casekeys import Identifiers
    from .keytable import KeyTable, KindView

    meta = json.loads((folder / "table.json").read_text(encoding="utf-8"))
    segments = []
    for i in range(meta["segments"]):
        frame = pl.read_ipc((folder / f"segment-{i}.arrow").read_bytes())  # not mapped: the file goes
        segments.append((frame["key"], frame["mask"]))
        del frame
    route = meta["route"]
    table = KeyTable.of_segments(
        meta["kinds"], segments, None if route is None else (route[0], list(route[1])), ip=_is_ip
    )
    del segments
    table._starts = pl.read_ipc((folder / "starts.arrow").read_bytes())
    counts = json.loads((folder / "counts.json").read_text(encoding="utf-8"))
    return Identifiers(
        keys={kind: KindView(table, kind) for kind in table.kinds},
        skipped=counts["skipped"],
        ambiguous=set(counts["ambiguous"]),
        short=counts["short"],
    )


class KeyReadProcess:
    """One child that reads a case's identifiers into a scratch folder: :meth:`run` in the thread that waits for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self.stopped = False
        self.folder = Path(tempfile.mkdtemp(prefix="workbench-keys-"))  # mode 0700: the keys are identifiers

    def start(self, url: sa.URL) -> None:
        """Start the child on the case at ``url`` (sent on its standard input: a password stays off its command line)."""
        root = str(Path(__file__).resolve().parents[2])  # this workbench, not another checkout on the path
        code = f"import sys; sys.path.insert(0, {root!r}); from {__name__} import _main; _main()"
        job = {"url": url.render_as_string(hide_password=False), "folder": str(self.folder), "parent": os.getpid()}
        with self._lock:
            if self.stopped:
                raise KeyReadError("the identifiers were not read: the run was stopped")
            with open(self.folder / "child.log", "wb") as log:  # what the child prints, read if it fails
                self._proc = subprocess.Popen(
                    [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT
                )
            assert self._proc.stdin is not None
            with contextlib.suppress(BrokenPipeError):  # it died at once: wait() says how
                self._proc.stdin.write(json.dumps(job).encode() + b"\n")
                self._proc.stdin.close()

    def wait(self) -> Path:
        """Wait for the child; the folder of its files, or a KeyReadError with the end of what it printed."""
        assert self._proc is not None
        status = self._proc.wait()
        if status == 0 and (self.folder / _DONE).is_file():
            return self.folder
        said = ""
        with contextlib.suppress(OSError):
            said = (self.folder / "child.log").read_text(encoding="utf-8", errors="replace").strip()[-2000:]
        self.remove()
        why = "it was stopped" if self.stopped else f"exit status {status}"
        raise KeyReadError(f"reading the case's identifiers failed in its process ({why}): {said or 'no message'}")

    def run(self, url: sa.URL) -> Path:
        """:meth:`start`, then :meth:`wait`, in this thread (the child ends if this thread's process dies)."""
        self.start(url)
        return self.wait()

    def stop(self, grace_s: float = 10.0) -> None:
        """End the child if it runs (SIGTERM, then SIGKILL after ``grace_s``), start none, and remove the folder."""
        with self._lock:
            self.stopped = True
            proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.remove()

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _main() -> None:
    """The child: read the job from standard input, the identifiers into its folder; exit 1 with the error."""
    from .stopping import die_with_parent

    die_with_parent()
    line = sys.stdin.readline()
    if not line:
        return  # the report ended before sending the job
    job = json.loads(line)
    if os.getppid() != job["parent"]:  # the report died before the signal was asked for
        raise SystemExit(1)
    from ..case import open_case
    from .casekeys import case_identifiers

    folder = Path(job["folder"])
    with open_case(child_url(sa.make_url(job["url"]))) as case:
        ids = case_identifiers(case, spill=folder / "spill", sink=lambda merge: save(merge, folder))
    save_counts(ids, folder)

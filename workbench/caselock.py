"""An advisory lock on a case: exclusive while it is written, shared while it is read.

``workbench ingest`` replaces a case; a report reads it for minutes. Neither may run under
the other, and two ingests into one case must not both succeed with the last one silently
winning. Every such command takes this lock, never waiting: when another process holds it,
:class:`CaseLockedError` names that process and says what to do.

>>> with CaseLock("runs/demo/case.db", purpose="ingest"):            # doctest: +SKIP
...     ...  # replace the case
>>> with CaseLock("runs/demo/case.db", shared=True, purpose="report"):  # doctest: +SKIP
...     ...  # read the case; an ingest now fails, another report does not

File cases (SQLite, DuckDB) are locked with ``flock`` on a lock file beside the case,
``.<case file name>.lock`` (e.g. ``runs/demo/.case.db.lock``). The exclusive holder writes
who it is into the file; the kernel drops the lock when the process ends, even on SIGKILL.
The last holder removes the file. A shared lock on a case in a folder the reader cannot
write, where the lock file does not exist, is not taken (nobody can replace a case there
either, short of another user with write access).

PostgreSQL cases are locked with a session-level advisory lock on a second connection,
``pg_try_advisory_lock`` (or ``_shared``), keyed on the database and the schema the URL
selects, so it works across machines. The server drops it when that connection ends.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import sqlalchemy as sa

from .case import case_url, create_case_engine
from .errors import CaseError

__all__ = ["CaseLock", "CaseLockedError", "lock_file"]

_PG_NAMESPACE = 0x57424E43  # "WBNC": the first key of every workbench advisory lock
_RETRIES = 20  # attempts when the lock file is replaced between open and flock


class CaseLockedError(CaseError):
    """The case is locked by another process; the message names it."""


def lock_file(url: sa.URL) -> Path:
    """The lock file of a SQLite or DuckDB case: ``.<name>.lock`` beside the resolved case file."""
    database = url.database or ""
    if database.startswith("file:"):  # a SQLite URI, e.g. file:/abs/case.db?mode=ro
        database = urllib.parse.unquote(urllib.parse.urlparse(database).path)
    target = Path(database).resolve()
    return target.with_name(f".{target.name}.lock")


class CaseLock:
    """A non-blocking advisory lock on the case at ``case``; use it as a context manager.

    Parameters
    ----------
    case
        The case: a path or URL as :func:`workbench.case.case_url` takes it.
    shared
        Take the lock shared (many readers at once) instead of exclusive (one writer).
    purpose
        What the holder does, e.g. ``"ingest"`` or ``"report"``; it appears in the message
        another process gets.

    Raises
    ------
    CaseLockedError
        From :meth:`acquire` (or ``with``), when another process holds a conflicting lock.
    """

    def __init__(self, case: str | Path | sa.URL, *, shared: bool = False, purpose: str = "ingest"):
        self.url = case if isinstance(case, sa.URL) else case_url(case, write=not shared)
        self.shared = shared
        self.purpose = purpose
        self.path: Path | None = None if self.url.get_backend_name() == "postgresql" else lock_file(self.url)
        self._fd: int | None = None
        self._pg: sa.Connection | None = None
        self._engine: sa.Engine | None = None
        self._pg_key = 0  # the advisory lock's second key, set when it is taken

    @property
    def held(self) -> bool:
        return self._fd is not None or self._pg is not None

    def acquire(self) -> CaseLock:
        """Take the lock now, or raise :class:`CaseLockedError` naming the holder."""
        if self.held:
            raise CaseError(f"case lock on {self._where()} is already held by this CaseLock")
        if self.path is None:
            self._acquire_pg()
        else:
            self._acquire_file(self.path)
        return self

    def release(self) -> None:
        """Let go of the lock (nothing happens if it is not held)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            assert self.path is not None
            try:
                # The last holder removes the lock file. Safe: acquire() checks that the file
                # it locked is still the one at the path, and tries again if not.
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.path.unlink(missing_ok=True)
            except OSError:
                pass  # other holders remain (or the folder is read-only): the file stays
            finally:
                os.close(fd)
        conn, self._pg = self._pg, None
        if conn is not None:
            try:
                # Unlock in the session first: closing it ends the lock only when the server has
                # read the goodbye, and an ingest started at once could still find it held.
                function = "pg_advisory_unlock_shared" if self.shared else "pg_advisory_unlock"
                conn.execute(sa.text(f"SELECT {function}(:ns, :key)"), {"ns": _PG_NAMESPACE, "key": self._pg_key})
            except sa.exc.DBAPIError:
                pass  # a session already gone holds no lock
            finally:
                conn.close()
                assert self._engine is not None
                self._engine.dispose()

    def __enter__(self) -> CaseLock:
        return self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()

    # file cases ----------------------------------------------------------------------

    def _acquire_file(self, path: Path) -> None:
        mode = fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX
        for _ in range(_RETRIES):
            fd = self._open(path)
            if fd is None:
                return  # a reader in a folder nobody can write: nothing to lock against
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _file_holder(fd, path, wanted_shared=self.shared)
                os.close(fd)
                raise self._locked(holder) from None
            try:
                current = os.stat(path)
            except FileNotFoundError:
                current = None
            mine = os.fstat(fd)
            if current is not None and (current.st_dev, current.st_ino) == (mine.st_dev, mine.st_ino):
                self._fd = fd
                if not self.shared:
                    os.ftruncate(fd, 0)
                    os.pwrite(fd, json.dumps(_whoami(self.purpose)).encode(), 0)
                return
            os.close(fd)  # the previous holder removed the file after we opened it: again
        raise CaseError(f"cannot take the case lock {path}: it was replaced {_RETRIES} times while being taken")

    def _open(self, path: Path) -> int | None:
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:
            raise CaseError(f"cannot lock the case: folder {path.parent} does not exist") from None
        except OSError as exc:
            if not self.shared:
                raise CaseError(
                    f"cannot create the case lock file {path} ({exc.strerror}); allowed: a case in a folder you can write"
                ) from None
        try:
            return os.open(path, os.O_RDONLY)
        except OSError:
            return None

    # PostgreSQL ----------------------------------------------------------------------

    def _acquire_pg(self) -> None:
        name = f"workbench {self.purpose}, process {os.getpid()} on {socket.gethostname()}"[:63]
        engine = create_case_engine(self.url.update_query_dict({"application_name": name}), read_only=self.shared)
        try:
            conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except sa.exc.OperationalError as exc:
            engine.dispose()
            raise CaseError(f"cannot connect to {self._where()} to lock the case: {exc.orig}") from None
        try:
            db, schema = conn.execute(sa.text("SELECT current_database(), current_schema()")).one()
            key = int.from_bytes(hashlib.sha256(f"{db}.{schema}".encode()).digest()[:4], "big") & 0x7FFFFFFF
            function = "pg_try_advisory_lock_shared" if self.shared else "pg_try_advisory_lock"
            taken = conn.execute(sa.text(f"SELECT {function}(:ns, :key)"), {"ns": _PG_NAMESPACE, "key": key}).scalar()
            if not taken:
                raise self._locked(_pg_holder(conn, key))
        except BaseException:
            conn.close()
            engine.dispose()
            raise
        self._pg, self._engine, self._pg_key = conn, engine, key

    # messages ------------------------------------------------------------------------

    def _where(self) -> str:
        if self.path is not None:
            return str(self.path.with_name(self.path.name[1 : -len(".lock")]))
        return self.url.render_as_string(hide_password=True)

    def _locked(self, holder: str) -> CaseLockedError:
        lock = f"lock file {self.path}" if self.path is not None else "PostgreSQL advisory lock"
        return CaseLockedError(
            f"cannot {self.purpose} case {self._where()}: it is in use by {holder} ({lock}); "
            f"wait until that process has finished, or use another case path"
        )


def _whoami(purpose: str) -> dict:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "purpose": purpose,
        "since": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }


def _file_holder(fd: int, path: Path, *, wanted_shared: bool) -> str:
    """Who holds the lock ``fd`` could not take, as far as can be told."""
    exclusive = True
    if not wanted_shared:
        try:  # a shared lock can be had: the holders are readers
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
            exclusive = False
        except BlockingIOError:
            pass
    pids = _kernel_holders(path)
    if exclusive:
        try:
            info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        except ValueError:
            info = {}
        if isinstance(info, dict) and info.get("pid") and (not pids or info["pid"] in pids):
            return (
                f"workbench {info.get('purpose', '?')}, process {info['pid']} on {info.get('host', '?')} "
                f"since {info.get('since', '?')}"
            )
        return f"process {', '.join(map(str, pids))}" if pids else "another process (it did not record its id yet)"
    who = f"process{'es' if len(pids) > 1 else ''} {', '.join(map(str, pids))}" if pids else "another process"
    return f"a reader (e.g. workbench report), {who}, holding the lock shared"


def _kernel_holders(path: Path) -> list[int]:
    """The processes holding a flock on ``path``, from Linux's ``/proc/locks`` (empty elsewhere)."""
    try:
        st = os.stat(path)
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return []
    device = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    pids = []
    for line in lines:
        fields = line.split()
        if "->" in fields:  # a process waiting, not holding
            continue
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == device and fields[4].isdigit():
            pid = int(fields[4])
            if pid not in pids:
                pids.append(pid)
    return pids


def _pg_holder(conn: sa.Connection, key: int) -> str:
    rows = conn.execute(
        sa.text(
            "SELECT l.pid, l.mode, a.application_name, a.client_addr, a.backend_start"
            " FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :ns AND l.objid = :key AND l.objsubid = 2"
            " AND l.pid <> pg_backend_pid() ORDER BY l.pid"
        ),
        {"ns": _PG_NAMESPACE, "key": key},
    ).all()
    if not rows:
        return "another session"
    return "; ".join(
        f"{r.application_name or 'a session'} [server process {r.pid}"
        f"{f' for {r.client_addr}' if r.client_addr else ''}, lock {'shared' if r.mode == 'ShareLock' else 'exclusive'}]"
        for r in rows
    )

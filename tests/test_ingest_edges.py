"""Edges of an evidence folder and of a case path: what is not a file, what is not evidence,
what a killed ingest leaves, and two processes on one case.

Each test builds its evidence by hand: one small ``logins.csv`` is enough.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pg import pg_url  # noqa: F401  (fixture)

from workbench.case import case_url
from workbench.caselock import CaseLock, CaseLockedError, lock_file
from workbench.cli import main
from workbench.errors import CaseError, EvidenceError
from workbench.ingest import ingest

LOGINS = (
    "time,session_id,applicant_id,method,ip,user_agent\n"
    "2013-12-13T17:42:05Z,s1,1001,bankid,10.0.0.1,Mozilla/5.0\n"
    "2013-12-13T18:06:00Z,s2,1002,password,10.0.0.2,Mozilla/5.0\n"
)
ROOT = Path(__file__).resolve().parents[1]


def _evidence(tmp_path: Path) -> Path:
    folder = tmp_path / "evidence"
    folder.mkdir()
    return folder


def _refused(folder: Path, case: Path) -> str:
    """Ingest ``folder``, which must fail as a whole; the one-line message. No case is left."""
    with pytest.raises(EvidenceError) as raised:
        ingest(folder, case, progress=False)
    assert sorted(p.name for p in case.parent.iterdir()) == ["evidence"]  # no case, no lock file, no temp
    message = str(raised.value)
    assert len(message.splitlines()) == 1
    return message


# --- what is not a file --------------------------------------------------------------


def test_a_folder_named_like_a_table_file_is_an_error(tmp_path):
    folder = _evidence(tmp_path)
    (folder / "logins.parquet").mkdir()
    message = _refused(folder, tmp_path / "case.db")
    assert message == "evidence/logins.parquet: this is a folder, not a file; allowed: a file"


def test_a_dangling_link_is_an_error_naming_where_it_points(tmp_path):
    folder = _evidence(tmp_path)
    (folder / "logins.parquet").symlink_to("gone/logins.parquet")
    message = _refused(folder, tmp_path / "case.db")
    assert message.startswith(
        "evidence/logins.parquet: a symbolic link to 'gone/logins.parquet', which does not exist (a dangling link)"
    )


def test_a_loop_of_links_is_an_error(tmp_path):
    folder = _evidence(tmp_path)
    (folder / "logins.csv").symlink_to("logins.csv")
    assert "a symbolic link to 'logins.csv', which does not exist" in _refused(folder, tmp_path / "case.db")


def test_a_link_out_of_the_evidence_folder_is_an_error_naming_its_target(tmp_path):
    outside = tmp_path / "elsewhere" / "logins.csv"
    outside.parent.mkdir()
    outside.write_text(LOGINS, encoding="utf-8")
    folder = _evidence(tmp_path)
    (folder / "logins.csv").symlink_to(outside)
    case = tmp_path / "case.db"
    with pytest.raises(EvidenceError) as raised:
        ingest(folder, case, progress=False)
    assert str(raised.value).startswith(
        f"evidence/logins.csv: a symbolic link to {str(outside)!r}, "
        f"outside the evidence folder {str(folder.resolve())!r}"
    )
    assert not case.exists()


def test_a_relative_link_climbing_out_is_an_error_too(tmp_path):
    (tmp_path / "logins.csv").write_text(LOGINS, encoding="utf-8")
    folder = _evidence(tmp_path)
    (folder / "logins.csv").symlink_to("../logins.csv")
    with pytest.raises(EvidenceError, match=r"^evidence/logins\.csv: a symbolic link to '\.\./logins\.csv', that is "):
        ingest(folder, tmp_path / "case.db", progress=False)


def test_a_link_inside_the_evidence_folder_is_followed(tmp_path):
    folder = _evidence(tmp_path)
    (folder / "2013").mkdir()
    (folder / "2013" / "logins-export.csv").write_text(LOGINS, encoding="utf-8")
    (folder / "logins.csv").symlink_to("2013/logins-export.csv")
    report = ingest(folder, tmp_path / "case.db", progress=False)
    assert [(f.file, f.rows_loaded) for f in report.files] == [("evidence/logins.csv", 2)]
    assert report.files[0].sha256 == hashlib.sha256(LOGINS.encode()).hexdigest()
    assert "2013" in report.ignored


def test_a_link_to_a_folder_is_an_error(tmp_path):
    folder = _evidence(tmp_path)
    (folder / "2013").mkdir()
    (folder / "logins.csv").symlink_to("2013")
    message = _refused(folder, tmp_path / "case.db")
    assert message == "evidence/logins.csv: a symbolic link to '2013', which is a folder, not a file; allowed: a file"


def test_a_named_pipe_is_an_error_and_is_never_opened(tmp_path):
    folder = _evidence(tmp_path)
    os.mkfifo(folder / "logins.csv")  # opening it would block ingest for ever
    message = _refused(folder, tmp_path / "case.db")
    assert message.startswith("evidence/logins.csv: this is not a regular file (a device, socket or named pipe)")


def test_a_raw_form_in_raw_that_is_a_folder_is_an_error(tmp_path):
    folder = _evidence(tmp_path)
    (folder / "logins.csv").write_text(LOGINS, encoding="utf-8")
    (tmp_path / "raw" / "access.log").mkdir(parents=True)
    with pytest.raises(EvidenceError, match=r"^raw/access\.log: this is a folder, not a file; allowed: a file$"):
        ingest(folder, tmp_path / "case.db", progress=False)


def test_a_folder_without_a_table_name_is_still_only_listed(tmp_path):
    folder = _evidence(tmp_path)
    (folder / "logins.csv").write_text(LOGINS, encoding="utf-8")
    (folder / "notes").mkdir()
    report = ingest(folder, tmp_path / "case.db", progress=False)
    assert report.ignored == ["notes"]


# --- what is not evidence ------------------------------------------------------------


def test_lock_and_hidden_files_are_skipped_with_a_note(tmp_path):
    folder = _evidence(tmp_path)
    (folder / "logins.csv").write_text(LOGINS, encoding="utf-8")
    (folder / "~$logins.csv").write_bytes(b"\x0bAnna Svensson\x00\x00")  # Excel's owner file: binary
    (folder / ".~lock.logins.csv#").write_text(",Anna,host,13.12.2013 18:00,file:///tmp;", encoding="utf-8")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    (folder / ".logins.csv").write_text("not,the,evidence\n", encoding="utf-8")
    (folder / ".git").mkdir()
    report = ingest(folder, tmp_path / "case.db", progress=False)
    assert [(f.file, f.rows_loaded) for f in report.files] == [("evidence/logins.csv", 2)]
    assert report.skipped == [
        ".DS_Store (macOS folder settings)",
        ".git (hidden file)",
        ".logins.csv (hidden file)",
        ".~lock.logins.csv# (LibreOffice lock file)",
        "Thumbs.db (Windows folder file)",
        "~$logins.csv (Microsoft Office lock file)",
    ]
    assert report.ignored == []
    assert "Skipped, lock and hidden files (not evidence): .DS_Store (macOS folder settings), " in report.format()


def test_a_lock_file_beside_an_unknown_name_does_not_hide_the_error(tmp_path):
    folder = _evidence(tmp_path)
    (folder / "login.csv").write_text(LOGINS, encoding="utf-8")
    (folder / "~$login.csv").write_bytes(b"\x0bAnna")
    with pytest.raises(EvidenceError, match=r"^evidence/login\.csv: no evidence table is named 'login'"):
        ingest(folder, tmp_path / "case.db", progress=False)


# --- what a killed ingest leaves ------------------------------------------------------


def _python(code: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env, text=True, **kwargs)


def test_a_killed_ingest_leaves_a_temp_file_that_the_next_ingest_removes(tmp_path):
    folder = _evidence(tmp_path)
    (folder / "logins.csv").write_text(LOGINS, encoding="utf-8")
    case = tmp_path / "case.db"
    killed = _python(
        f"""
        import os, signal
        from workbench.case import case_url
        from workbench.ingest.load import open_writer
        writer = open_writer(case_url({str(case)!r}, write=True))
        writer.create_tables()
        os.kill(os.getpid(), signal.SIGKILL)  # as an investigator's kill -9 would, mid-ingest
        """
    )
    assert killed.wait(timeout=60) == -signal.SIGKILL
    leftover = tmp_path / f".case.db.ingest-{killed.pid}.tmp"
    assert leftover.exists()
    (tmp_path / f".case.db.ingest-{killed.pid}.tmp-journal").write_bytes(b"")
    (tmp_path / f".other.db.ingest-{killed.pid}.tmp").write_bytes(b"")  # another case's: not ours to judge

    report = ingest(folder, case, progress=False)

    assert report.leftovers == [
        f".case.db.ingest-{killed.pid}.tmp (process {killed.pid} is gone)",
        f".case.db.ingest-{killed.pid}.tmp-journal (process {killed.pid} is gone)",
    ]
    assert "Removed temporary files of an interrupted ingest: .case.db.ingest-" in report.format()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f".other.db.ingest-{killed.pid}.tmp",
        "case.db",
        "evidence",
    ]


def test_a_live_process_temp_file_is_never_removed(tmp_path):
    folder = _evidence(tmp_path)
    (folder / "logins.csv").write_text(LOGINS, encoding="utf-8")
    live = _python("import sys; sys.stdin.read()", stdin=subprocess.PIPE)
    try:
        theirs = tmp_path / f".case.db.ingest-{live.pid}.tmp"
        theirs.write_bytes(b"being written")
        report = ingest(folder, tmp_path / "case.db", progress=False)
        assert theirs.read_bytes() == b"being written"
        assert report.leftovers == []
    finally:
        assert live.stdin is not None
        live.stdin.close()
        live.wait(timeout=60)


# --- two processes on one case --------------------------------------------------------


@pytest.fixture
def holder(tmp_path):
    """Start a process that holds the case lock of ``tmp_path/case.db`` until the test ends."""
    started: list[subprocess.Popen] = []

    def hold(shared: bool = False, purpose: str = "ingest") -> subprocess.Popen:
        proc = _python(
            f"""
            import sys
            from workbench.caselock import CaseLock
            with CaseLock({str(tmp_path / "case.db")!r}, shared={shared}, purpose={purpose!r}):
                print("locked", flush=True)
                sys.stdin.read()
            """,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        started.append(proc)
        assert proc.stdout is not None
        assert proc.stdout.readline() == "locked\n"  # waits for the lock, not for a time
        return proc

    yield hold
    for proc in started:
        assert proc.stdin is not None
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0


def test_a_second_ingest_fails_naming_the_ingest_that_holds_the_case(tmp_path, holder):
    folder = _evidence(tmp_path)
    (folder / "logins.csv").write_text(LOGINS, encoding="utf-8")
    case = tmp_path / "case.db"
    ingest(folder, case, progress=False)
    before = case.read_bytes()
    other = holder()
    (folder / "logins.csv").write_text(LOGINS.splitlines(keepends=True)[0], encoding="utf-8")
    with pytest.raises(CaseLockedError) as raised:
        ingest(folder, case, progress=False)
    message = str(raised.value)
    assert message.startswith(f"cannot ingest case {case}: it is in use by workbench ingest, process {other.pid} on ")
    assert message.endswith(
        f"(lock file {tmp_path / '.case.db.lock'}); wait until that process has finished, or use another case path"
    )
    assert case.read_bytes() == before  # the case of the first ingest stands


def test_the_command_line_says_so_and_exits_1(tmp_path, holder, capsys):
    folder = _evidence(tmp_path)
    (folder / "logins.csv").write_text(LOGINS, encoding="utf-8")
    other = holder()
    status = main(["ingest", str(folder), "--case", str(tmp_path / "case.db"), "--no-progress"])
    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith("workbench ingest: error: cannot ingest case ")
    assert f"process {other.pid}" in err
    assert not (tmp_path / "case.db").exists()


def test_a_reader_holding_the_case_shared_stops_an_ingest(tmp_path, holder):
    folder = _evidence(tmp_path)
    (folder / "logins.csv").write_text(LOGINS, encoding="utf-8")
    reader = holder(shared=True, purpose="report")
    with pytest.raises(
        CaseLockedError, match=rf"in use by a reader \(e\.g\. workbench report\), process {reader.pid}, "
    ):
        ingest(folder, tmp_path / "case.db", progress=False)


def test_readers_share_and_a_writer_excludes(tmp_path):
    case = tmp_path / "case.db"
    with CaseLock(case, shared=True, purpose="report"), CaseLock(case, shared=True, purpose="report"):
        with pytest.raises(CaseLockedError, match=r"^cannot ingest case .*: it is in use by a reader"):
            CaseLock(case, purpose="ingest").acquire()
    with CaseLock(case, purpose="ingest"):
        with pytest.raises(
            CaseLockedError, match=rf"^cannot report case .*: it is in use by workbench ingest, process {os.getpid()} "
        ):
            CaseLock(case, shared=True, purpose="report").acquire()
    assert not lock_file(case_url(case)).exists()  # the last holder removes it
    with CaseLock(case, purpose="ingest"):  # and the lock can be taken again
        assert lock_file(case_url(case)).exists()


def test_an_ingest_releases_the_lock_even_when_it_fails(tmp_path):
    folder = _evidence(tmp_path)
    (folder / "logins.csv").write_text("", encoding="utf-8")
    with pytest.raises(EvidenceError):
        ingest(folder, tmp_path / "case.db", progress=False)
    with CaseLock(tmp_path / "case.db"):
        pass


def test_a_report_on_a_case_in_a_read_only_folder_needs_no_lock_file(tmp_path, monkeypatch):
    folder = _evidence(tmp_path)
    (folder / "logins.csv").write_text(LOGINS, encoding="utf-8")
    ingest(folder, tmp_path / "case.db", progress=False)
    real_open = os.open

    def read_only_folder(path, flags, *args):  # as on a read-only mount (chmod does not stop root)
        if flags & os.O_CREAT:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr("workbench.caselock.os.open", read_only_folder)
    with CaseLock(tmp_path / "case.db", shared=True, purpose="report") as lock:
        assert not lock.held
    with pytest.raises(CaseError, match=r"^cannot create the case lock file .*\.case\.db\.lock \(Permission denied\)"):
        CaseLock(tmp_path / "case.db", purpose="ingest").acquire()


@pytest.mark.postgres
def test_postgres_cases_are_locked_on_the_server(pg_url, tmp_path):  # noqa: F811
    folder = _evidence(tmp_path)
    (folder / "logins.csv").write_text(LOGINS, encoding="utf-8")
    with CaseLock(pg_url, shared=True, purpose="report"):
        with pytest.raises(
            CaseLockedError, match=rf"it is in use by workbench report, process {os.getpid()} on .* lock shared\]"
        ):
            ingest(folder, pg_url, progress=False)
    with CaseLock(pg_url, purpose="ingest"):
        with pytest.raises(
            CaseLockedError,
            match=rf"^cannot report case postgresql\+psycopg://.*: it is in use by workbench ingest, process {os.getpid()} .*lock exclusive\] \(PostgreSQL advisory lock\)",
        ):
            CaseLock(pg_url, shared=True, purpose="report").acquire()
    assert ingest(folder, pg_url, progress=False).files[0].rows_loaded == 2


def test_a_released_postgres_lock_is_free_at_once(pg_url):  # noqa: F811
    # Closing the session ends an advisory lock only when the server has read the goodbye: an
    # ingest right after a report once found the report's lock still held (a full run, CI).
    for shared in (False, True, False):
        for _ in range(25):
            with CaseLock(pg_url, shared=shared, purpose="report" if shared else "ingest"):
                pass
            with CaseLock(pg_url, purpose="ingest"):
                pass


@pytest.mark.parametrize("end", ["", "\n", "\r\n"], ids=["no-line-end", "lf", "crlf"])
def test_a_header_only_csv_loads_no_rows_with_or_without_a_final_line_end(tmp_path, end):
    # pyarrow cannot cut a file whose header is its last line without a line end (found from outside).
    folder = _evidence(tmp_path)
    (folder / "logins.csv").write_text(LOGINS.splitlines()[0] + end, encoding="utf-8")
    report = ingest(folder, tmp_path / "case.db", progress=False)
    ((logins,),) = [[f for f in report.files if f.table == "logins"]]
    assert (logins.rows_read, logins.rows_quarantined) == (0, 0)

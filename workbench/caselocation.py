"""Where a case lives: a path or URL made absolute, and the engine a case file's header names.

A relative path is looked for in the current folder, then in the project folder, because a
notebook's kernel runs in ``notebooks/``. A plain path gets the engine its file's header
names (SQLite or DuckDB), whatever its suffix. :func:`check_file` refuses a missing file, a
folder, a file that is not a database, and a file of another engine than its URL's, each
with one line that says what to give instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa

from .errors import CaseError
from .settings import project_root

__all__ = ["DIALECTS", "ENGINE_NAMES", "case_url", "check_file"]

DIALECTS = ("sqlite", "duckdb", "postgresql")

_ALLOWED = "a file path, sqlite:///PATH, duckdb:///PATH or postgresql+psycopg://USER@HOST:PORT/DB"
_SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file
_DUCKDB_MAGIC = b"DUCK"  # at offset 8 of every DuckDB database file, after a checksum


def _search_folders() -> list[Path]:
    """Where a relative case path is looked for: the current folder, then the project folder.

    A notebook's kernel runs in ``notebooks/``, so ``build/demo/case/case.duckdb`` must also
    be found from the project folder.
    """
    here = Path.cwd().resolve()
    root = project_root()
    return [here, *([root] if root is not None and root != here else [])]


def _candidates(database: str) -> list[Path]:
    """Where a case file may be: an absolute path as it is; a relative one in each of :func:`_search_folders`."""
    path = Path(database)
    return [path] if path.is_absolute() else [folder / path for folder in _search_folders()]


def _resolve_file(database: str, *, write: bool) -> Path:
    """The absolute path of a case file: the first candidate that exists, else the current folder's."""
    found = _candidates(database)
    if not write:
        for path in found:
            if path.exists():
                return path.resolve()
    return found[0].resolve()


def _file_engine(path: Path) -> str | None:
    """The engine a database file's header names: ``"sqlite"``, ``"duckdb"``, or None for any other file."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise CaseError(f"cannot read the case file {path}: {exc.strerror}") from None
    if head.startswith(_SQLITE_HEADER):
        return "sqlite"
    if head[8:12] == _DUCKDB_MAGIC:
        return "duckdb"
    return None


def _not_a_database(path: Path) -> CaseError:
    what = "empty" if path.stat().st_size == 0 else "neither a SQLite nor a DuckDB database file"
    return CaseError(
        f"{path} is not a case database: it is {what} (accepted: a SQLite or DuckDB file that "
        "`workbench ingest` wrote, or a PostgreSQL URL postgresql+psycopg://USER@HOST:PORT/DB)"
    )


def case_url(target: str | Path | sa.URL, *, write: bool = False) -> sa.URL:
    """The SQLAlchemy URL of a case given as a URL or a plain path.

    A plain path to an existing file gets the engine the file's own header names (SQLite or
    DuckDB); a path to no file yet means DuckDB if it ends in ``.duckdb``, else SQLite. A
    relative path, plain or in a ``sqlite:///`` or ``duckdb:///`` URL, is looked for in the
    current folder and, when it is not there, in the project folder (the folder holding
    ``pyproject.toml`` above the package, if the package has one); it becomes absolute.
    ``write=True`` (the case is about to be written) looks in the current folder only: a
    write must not land in another folder.

    Example: ``case_url("runs/demo/case.db")`` is ``sqlite:////abs/runs/demo/case.db``;
    ``case_url("runs/demo/case.duckdb")``, a DuckDB file, is ``duckdb:////abs/runs/demo/case.duckdb``.
    """
    if isinstance(target, sa.URL):
        url = target
    elif isinstance(target, Path) or "://" not in str(target):
        path = _resolve_file(str(target), write=write)
        engine = "duckdb" if path.suffix == ".duckdb" else "sqlite"
        if path.is_file():
            engine = _file_engine(path) or ""
            if not engine:
                raise _not_a_database(path)
        return sa.URL.create(engine, database=str(path))
    else:
        try:
            url = sa.make_url(str(target))
        except sa.exc.ArgumentError as exc:
            raise CaseError(f"case URL {str(target)!r} cannot be parsed ({exc}); allowed: {_ALLOWED}") from None
    if url.get_backend_name() not in DIALECTS:
        raise CaseError(
            f"case URL {url.render_as_string(hide_password=True)!r} uses {url.get_backend_name()!r}; allowed: {_ALLOWED}"
        )
    if url.get_backend_name() in ("sqlite", "duckdb"):
        if url.database is None or url.database in ("", ":memory:"):
            raise CaseError(
                f"case URL {str(url)!r} names no file; a case must be stored, e.g. duckdb:///runs/demo/case.duckdb"
            )
        if not url.database.startswith("file:"):
            # Notebooks run in their output folder: a relative file must not change meaning there.
            url = url.set(database=str(_resolve_file(url.database, write=write)))
    return url


ENGINE_NAMES = {"sqlite": "SQLite", "duckdb": "DuckDB"}


def _given_database(target: str | os.PathLike[str] | sa.URL) -> str:
    """The file a case target names, as given (before :func:`case_url` resolves it)."""
    if isinstance(target, sa.URL):
        return target.database or ""
    if isinstance(target, os.PathLike) or "://" not in str(target):
        return os.fspath(target)
    return sa.make_url(str(target)).database or ""


def check_file(target: str | os.PathLike[str] | sa.URL, url: sa.URL) -> None:
    """Refuse a case file that is missing, a folder, not a database, or of another engine than the URL's."""
    path = Path(url.database or "")
    if not path.exists():
        given = _given_database(target)
        label = target.render_as_string(hide_password=True) if isinstance(target, sa.URL) else os.fspath(target)
        where = ""
        if not Path(given).is_absolute():
            where = ", relative to " + " or ".join(
                f"the {kind} folder {folder}"
                for kind, folder in zip(("current", "project"), _search_folders(), strict=False)
            )
        # Never only "create it": a wrong path is the likelier mistake.
        raise CaseError(
            f"no case database at {given}{where}; check the path, or, if the case does not exist yet, "
            f"create it with `workbench ingest EVIDENCE_DIR --case {label}`"
        )
    if path.is_dir():
        inside = sorted(str(p) for p in path.iterdir() if p.suffix in (".db", ".duckdb", ".sqlite"))[:3]
        hint = f", e.g. {' or '.join(inside)}" if inside else ""
        raise CaseError(f"{path} is a folder; give the case database file{hint}")
    found = _file_engine(path)
    if found is None:
        raise _not_a_database(path)
    backend = url.get_backend_name()
    if found != backend:
        raise CaseError(
            f"{path} is a {ENGINE_NAMES[found]} database, but the case URL says {backend}; "
            f"give {found}:///{path} or the plain path {path}"
        )

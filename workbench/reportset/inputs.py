"""What a report run starts from: the report notebooks, and the case as their kernels reach it."""

from __future__ import annotations

from pathlib import Path

from ..errors import WorkbenchError

__all__ = ["KERNEL_DUCKDB_MEMORY", "REPORT_GLOB", "kernel_case_url", "kernel_memory_env", "notebook_paths"]

REPORT_GLOB = "0[0-9]_*.ipynb"

KERNEL_DUCKDB_MEMORY = "1GB"
"""DuckDB ``memory_limit`` of each notebook kernel's case connection, for a large DuckDB case.

At national scale (178 M rows) two kernels side by side, notebook 03's replay and notebook 01,
held 8.2-8.4 GB at once with DuckDB's default limit (80 % of the machine), its cache of the
case's blocks growing in both; with 1 GB the report held at most 7.7 GB and took no longer
(339 s against 355 s, one run each). Every notebook's queries ran within it at national.
"""


def notebook_paths(names: list[str] | None = None) -> list[Path]:
    """The report notebooks in order (``notebooks/0?_*.ipynb``), or those named (file name, stem or path).

    ``None`` or ``["all"]`` means every report notebook; a named notebook may be any
    notebook of the project (``10_explore``) or a path to one.
    """
    from ..errors import UnknownNameError
    from .execution import NOTEBOOKS_DIR

    if not names or names == ["all"]:
        return sorted(NOTEBOOKS_DIR.glob(REPORT_GLOB))
    available = {p.stem: p for p in sorted(NOTEBOOKS_DIR.glob("*.ipynb"))}
    out = []
    for name in names:
        stem = Path(name).stem
        if Path(name).is_file():
            out.append(Path(name))
        elif stem in available:
            out.append(available[stem])
        else:
            raise UnknownNameError("notebook", name, [*available, "all"])
    return out


def kernel_case_url(case: str | Path) -> tuple[str, dict[str, str]]:
    """The case as an absolute URL for a notebook, and environment variables for its kernel.

    A password never goes into the notebook (it would show in the parameters cell and in
    the report): for PostgreSQL it travels as ``PGPASSWORD`` in the kernel's environment.
    """
    from ..case import case_url

    url = case_url(case)
    env = {}
    if url.password:
        if url.get_backend_name() != "postgresql":
            raise WorkbenchError(f"a password in a {url.get_backend_name()} case URL cannot be passed to notebooks")
        env["PGPASSWORD"] = str(url.password)
        url = url.set(password=None)
    return url.render_as_string(hide_password=False), env


def kernel_memory_env(url: str, large: bool) -> dict[str, str]:
    """Environment for the kernels of case ``url``: :data:`KERNEL_DUCKDB_MEMORY` for a ``large`` DuckDB case.

    ``large``: the case has more rows loaded than
    :data:`~workbench.reportset.disclosure.EARLY_READ_MAX_ROWS`. Nothing for a smaller case,
    for other engines, or when the URL sets its own ``memory_limit`` or the report's
    environment sets :data:`workbench.case.DUCKDB_MEMORY_ENV` (which the kernels inherit).
    """
    import os

    import sqlalchemy as sa

    from ..case import DUCKDB_MEMORY_ENV

    parsed = sa.make_url(url)
    if not large or parsed.get_backend_name() != "duckdb" or "memory_limit" in parsed.query:
        return {}
    if os.environ.get(DUCKDB_MEMORY_ENV, "").strip():
        return {}
    return {DUCKDB_MEMORY_ENV: KERNEL_DUCKDB_MEMORY}

"""Names every layer shares: the time zones, and the environment a report run sets for its kernel.

Each is defined here once and imported wherever it is used (``tests/test_constants.py``
fails on a second definition). This module imports nothing from workbench, so any module,
however low, may import it.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "DISPLAY_TZ",
    "LEDGER_ENV",
    "LOCAL_TZ",
    "OUT_DIR_ENV",
    "RUN_ENV",
    "RUN_MARKER",
    "in_report_run",
    "output_dir",
    "project_root",
]

LOCAL_TZ = "Europe/Stockholm"
"""The housing queue's local time: the clocks of its web and mail servers, its office hours."""
DISPLAY_TZ = LOCAL_TZ
"""The zone times are shown in: tables, charts, findings and slider labels."""

OUT_DIR_ENV = "WORKBENCH_OUT_DIR"
"""Set for the kernel of a report run: the folder the report is rendered into.

:class:`workbench.findings.Findings` writes ``findings.json`` there and
:func:`workbench.display.show` the CSV of a long table; unset in live JupyterLab.
"""
LEDGER_ENV = "WORKBENCH_DISCLOSURE_LEDGER"
"""Set only for a disclosure audit: a file outside the report set where every public breakdown
is appended, true and shown (:mod:`workbench.reportset.disclosure_audit`)."""
RUN_ENV = "WORKBENCH_RUN"
"""Set to :data:`RUN_MARKER` for the kernel of ``workbench run`` and ``workbench report``."""
RUN_MARKER = "papermill"


def in_report_run() -> bool:
    """True in a kernel that ``workbench run``/``report`` started (``WORKBENCH_RUN=papermill``).

    There no one is there to interact: charts are made export-safe and widgets keep their
    charts as state instead of drawing them.
    """
    return os.environ.get(RUN_ENV) == RUN_MARKER


def project_root() -> Path | None:
    """The source checkout workbench runs from: the folder holding ``pyproject.toml`` beside the package.

    None for an installed copy (the package in site-packages). Only the package's own parent
    is looked at: a ``pyproject.toml`` further up belongs to some other project.
    """
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() else None


def output_dir() -> Path:
    """Where live work writes outputs by default: ``build/`` in the project root, which git ignores.

    Exports hold personal data, so they must not land beside the notebooks. Without a
    checkout (an installed copy) it is ``build/`` in the current folder.
    """
    return (project_root() or Path.cwd()) / "build"

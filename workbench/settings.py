"""Names every layer shares: the time zones, and the environment a report run sets for its kernel.

Each is defined here once and imported wherever it is used (``tests/test_constants.py``
fails on a second definition). This module imports nothing from workbench, so any module,
however low, may import it.
"""

from __future__ import annotations

import os

__all__ = ["DISPLAY_TZ", "LOCAL_TZ", "OUT_DIR_ENV", "RUN_ENV", "RUN_MARKER", "in_report_run"]

LOCAL_TZ = "Europe/Stockholm"
"""The housing queue's local time: the clocks of its web and mail servers, its office hours."""
DISPLAY_TZ = LOCAL_TZ
"""The zone times are shown in: tables, charts, findings and slider labels."""

OUT_DIR_ENV = "WORKBENCH_OUT_DIR"
"""Set for the kernel of a report run: the folder the report is rendered into.

:class:`workbench.findings.Findings` writes ``findings.json`` there and
:func:`workbench.display.show` the CSV of a long table; unset in live JupyterLab.
"""
RUN_ENV = "WORKBENCH_RUN"
"""Set to :data:`RUN_MARKER` for the kernel of ``workbench run`` and ``workbench report``."""
RUN_MARKER = "papermill"


def in_report_run() -> bool:
    """True in a kernel that ``workbench run``/``report`` started (``WORKBENCH_RUN=papermill``).

    There no one is there to interact: charts are made export-safe and widgets keep their
    charts as state instead of drawing them.
    """
    return os.environ.get(RUN_ENV) == RUN_MARKER

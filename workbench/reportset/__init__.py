"""The report set: run notebooks with papermill, render offline HTML, index, provenance, verify.

``build_report`` runs every report notebook for one audience into a folder and writes its
index; ``verify`` checks such a folder against its ``report-set.json`` and the case.

Each name is imported from its module when first used: the kernel loads
:mod:`workbench.reportset.kernel` as an extension, and it must not pay for nbformat,
rendering and verification with every notebook it runs.
"""

from __future__ import annotations

import typing as _typing

from ..lazy import lazy_names as _lazy_names

if _typing.TYPE_CHECKING:
    from .build import AUDIENCES, build_report, notebook_paths
    from .contents import HEADLINES, load_set
    from .execution import Job, NotebookError, execute, execute_many
    from .leakscan import scan
    from .verification import Verification, VerificationError, verify

_MODULE = {
    "AUDIENCES": "build",
    "HEADLINES": "contents",
    "Job": "execution",
    "NotebookError": "execution",
    "Verification": "verification",
    "VerificationError": "verification",
    "build_report": "build",
    "execute": "execution",
    "execute_many": "execution",
    "load_set": "contents",
    "notebook_paths": "build",
    "scan": "leakscan",
    "verify": "verification",
}
"""Each public name -> the module of this package it is imported from when first used."""

__all__ = [
    "AUDIENCES",
    "HEADLINES",
    "Job",
    "NotebookError",
    "Verification",
    "VerificationError",
    "build_report",
    "execute",
    "execute_many",
    "load_set",
    "notebook_paths",
    "scan",
    "verify",
]


__getattr__, __dir__ = _lazy_names(__name__, _MODULE, __all__)

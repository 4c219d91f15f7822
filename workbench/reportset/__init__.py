"""The report set: run notebooks with papermill, render offline HTML, index, provenance, verify.

``build_report`` runs every report notebook for one audience into a folder and writes its
index; ``verify`` checks such a folder against its ``report-set.json`` and the case.
"""

from .build import AUDIENCES, build_report, notebook_paths
from .contents import HEADLINES, load_set
from .execution import Job, NotebookError, execute, execute_many
from .leakscan import scan
from .verification import Verification, VerificationError, verify

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

"""Exceptions: one base class, a few specific ones, each message saying what to do."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["CaseError", "EvidenceError", "GeneratorError", "UnknownNameError", "WorkbenchError"]


class WorkbenchError(Exception):
    """Base class of every error the workbench raises on purpose."""


class UnknownNameError(WorkbenchError, KeyError):
    """A name (table, query, scale, parameter) that is not declared."""

    def __init__(self, kind: str, name: str, known: Iterable[str]):
        known = sorted(known)
        close = difflib.get_close_matches(str(name), known, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        self.kind, self.name, self.known = kind, name, known
        super().__init__(f"unknown {kind} {name!r}.{hint} Known: {', '.join(known)}.")

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0]


class EvidenceError(WorkbenchError):
    """Evidence that cannot be used as a whole (unreadable file, wrong columns)."""


class GeneratorError(WorkbenchError):
    """Bad options to the scenario generator."""


class CaseError(WorkbenchError):
    """A case database that cannot be opened or written (bad URL, missing file)."""

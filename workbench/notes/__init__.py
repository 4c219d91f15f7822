"""Annotations and the journal: what investigators add to a case, kept beside it, never in it.

``annotate(case, kind, key, tag=…, note=…)`` tags and comments on a session, account,
support message, profile change, allocation or caseworker (:mod:`.store`); the journal
(:mod:`.journal`) chains every act that shaped a finding, and :func:`verify_journal`
names the first entry altered, inserted or removed.
"""

from .db import NotesError, notes_url
from .journal import ChainCheck, Entry, check_chain
from .record import configure
from .store import KINDS, VOCABULARY, Annotation, Notes, annotate, open_notes
from .verify import journal_entries, verify_journal

__all__ = [
    "KINDS",
    "VOCABULARY",
    "Annotation",
    "ChainCheck",
    "Entry",
    "Notes",
    "NotesError",
    "annotate",
    "check_chain",
    "configure",
    "journal_entries",
    "notes_url",
    "open_notes",
    "verify_journal",
]

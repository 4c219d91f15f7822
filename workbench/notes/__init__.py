"""Annotations and the journal: what investigators add to a case, kept beside it, never in it.

``annotate(case, kind, key, tag=…, note=…)`` tags and comments on a session, account,
support message, profile change, allocation or caseworker (:mod:`.store`); the journal
(:mod:`.journal`) chains every act that shaped a finding, and :func:`verify_journal`
names the first entry altered, inserted or removed.
"""

from __future__ import annotations

import typing as _typing

from ..lazy import lazy_names as _lazy_names

if _typing.TYPE_CHECKING:
    from .db import NotesError, notes_url
    from .journal import ChainCheck, Entry, check_chain
    from .record import configure
    from .store import KINDS, VOCABULARY, Annotation, Notes, annotate, open_notes
    from .verify import journal_entries, verify_journal

_MODULE = {
    "Annotation": "store",
    "ChainCheck": "journal",
    "Entry": "journal",
    "KINDS": "store",
    "Notes": "store",
    "NotesError": "db",
    "VOCABULARY": "store",
    "annotate": "store",
    "check_chain": "journal",
    "configure": "record",
    "journal_entries": "verify",
    "notes_url": "db",
    "open_notes": "store",
    "verify_journal": "verify",
}
"""Each public name -> its module, imported when first used: the command's parser needs no database."""

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

__getattr__, __dir__ = _lazy_names(__name__, _MODULE, __all__)

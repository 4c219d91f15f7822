"""The personal-data tags of every derived column in a fairness review's frames."""

from __future__ import annotations

from ..evidence import PII
from . import caseworkers as cw, fakes, groups, mde, power, redflags
from .replay import COLUMNS as REPLAY_COLUMNS

__all__ = ["TAGS"]

TAGS: dict[str, PII] = {  # personal-data tags of every derived column in the review's frames
    **REPLAY_COLUMNS,
    **cw.COLUMNS,
    **mde.COLUMNS,
    **power.COLUMNS,
    **redflags.COLUMNS,
    **fakes.COLUMNS,
    **groups.COLUMNS,
    "rank_bin": PII.NONE,
    "month": PII.NONE,
    "quarter": PII.NONE,
    "note": PII.NONE,
    "n": PII.NONE,
    "n_flags": PII.NONE,
    "caseworker": PII.NONE,
    "review": PII.NONE,
    "n_allocations": PII.NONE,
    "n_confirmed": PII.NONE,
    "n_dismissed": PII.NONE,
    "n_not_reviewed": PII.NONE,
    "rate_band": PII.NONE,
}

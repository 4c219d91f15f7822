"""Exposure and changes: who was put into whose account, what they saw and changed, whom to tell.

``exposure_headlines(case)`` answers the first question by itself, in one query: how many
sessions were bound into another member's account, to how many accounts, how many people
were put into someone else's account, how many changes non-owners saved
(:class:`ExposureHeadlines`, the proven counts). ``review_exposure(case)`` returns an
:class:`ExposureReview` holding the session binding,
the change log, the exposure tiers with bounds, the allocation check and the notification
list. The pieces live in ``binding``, ``changes``, ``tiers``, ``allocation_check`` and
``notify``; the figures notebook 02 records, in ``figures``.
"""

from .allocation_check import ACT_COLUMNS, AllocationCheck
from .binding import SessionBinding
from .changes import CHANGE_COLUMNS, RESTORE_COLUMNS, ChangeLog
from .headlines import ExposureHeadlines, exposure_headlines
from .notify import ART33_TEMPLATE, NOTICE_COLUMNS, Notifications
from .review import FIGURES, SECTIONS, ExposureReview, review_exposure
from .reviewed import REVIEWED_COLUMNS, reviewed_accounts, reviewed_sessions
from .tiers import ACCOUNT_COLUMNS, TIER_COLUMNS, Exposure

__all__ = [
    "ACCOUNT_COLUMNS",
    "ACT_COLUMNS",
    "ART33_TEMPLATE",
    "CHANGE_COLUMNS",
    "FIGURES",
    "NOTICE_COLUMNS",
    "RESTORE_COLUMNS",
    "REVIEWED_COLUMNS",
    "SECTIONS",
    "TIER_COLUMNS",
    "AllocationCheck",
    "ChangeLog",
    "Exposure",
    "ExposureHeadlines",
    "ExposureReview",
    "Notifications",
    "SessionBinding",
    "exposure_headlines",
    "review_exposure",
    "reviewed_accounts",
    "reviewed_sessions",
]

"""Widgets (ipywidgets, plain-Python state) and chart builders for live investigation.

Each name is imported from its module when first used, so ``from workbench.widgets import
setup`` loads the chart helpers and altair, not the triage review's scikit-learn and SciPy.
"""

from __future__ import annotations

import typing as _typing

from ..lazy import lazy_names as _lazy_names

if _typing.TYPE_CHECKING:
    from .account import AccountInspector
    from .caseworker import CaseworkerDashboard
    from .charts import activity_chart, milestones, setup
    from .fairness_charts import (
        caseworker_rate_chart,
        power_chart,
        queue_time_chart,
        red_flag_timeline_chart,
        winner_rank_chart,
    )
    from .links import AllocationApplicant, TimelineAccounts, hourly_brush_chart, link_brush, range_brush
    from .query_browser import QueryBrowser
    from .timeline import TimelineExplorer
    from .triage import TriageReview

_MODULE = {
    "AccountInspector": "account",
    "AllocationApplicant": "links",
    "CaseworkerDashboard": "caseworker",
    "QueryBrowser": "query_browser",
    "TimelineAccounts": "links",
    "TimelineExplorer": "timeline",
    "TriageReview": "triage",
    "activity_chart": "charts",
    "caseworker_rate_chart": "fairness_charts",
    "hourly_brush_chart": "links",
    "link_brush": "links",
    "milestones": "charts",
    "power_chart": "fairness_charts",
    "queue_time_chart": "fairness_charts",
    "range_brush": "links",
    "red_flag_timeline_chart": "fairness_charts",
    "setup": "charts",
    "winner_rank_chart": "fairness_charts",
}
"""Each public name -> the module of this package it is imported from when first used."""

__all__ = [
    "AccountInspector",
    "AllocationApplicant",
    "CaseworkerDashboard",
    "QueryBrowser",
    "TimelineAccounts",
    "TimelineExplorer",
    "TriageReview",
    "activity_chart",
    "caseworker_rate_chart",
    "hourly_brush_chart",
    "link_brush",
    "milestones",
    "power_chart",
    "queue_time_chart",
    "range_brush",
    "red_flag_timeline_chart",
    "setup",
    "winner_rank_chart",
]


__getattr__, __dir__ = _lazy_names(__name__, _MODULE, __all__)

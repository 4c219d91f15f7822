"""Widgets (ipywidgets, plain-Python state) and chart builders for live investigation."""

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

"""Widgets (ipywidgets, plain-Python state) and chart builders for live investigation."""

from .account import AccountInspector
from .caseworker import CaseworkerDashboard
from .charts import activity_chart, milestones
from .timeline import TimelineExplorer

__all__ = ["AccountInspector", "CaseworkerDashboard", "TimelineExplorer", "activity_chart", "milestones"]

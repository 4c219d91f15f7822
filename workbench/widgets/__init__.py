"""Widgets (ipywidgets, plain-Python state) and chart builders for live investigation."""

from .charts import activity_chart, milestones

__all__ = ["activity_chart", "milestones"]

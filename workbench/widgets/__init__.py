"""Widgets (ipywidgets, plain-Python state) and chart builders for live investigation."""

__all__: list[str] = []

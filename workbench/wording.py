"""The words the workbench itself writes around numbers and tables on a report page, in one place.

Units, yes/no, the "all N rows (CSV)" link, the search box, the table of contents: every such
string is here and nowhere else, so that a translation (issue 17, point 3) replaces one
mapping instead of hunting through the code. Notebook prose and finding descriptions are not
here; they belong to the notebooks and the figure declarations.

``say("all_rows_csv", n="1 204")`` gives ``"all 1 204 rows (CSV)"``.
"""

from __future__ import annotations

__all__ = ["WORDS", "say"]

WORDS: dict[str, str] = {
    # values (workbench.values.format_value)
    "yes": "yes",
    "no": "no",
    "none": "none",
    "bounds": "{likely} (between {low} and {high})",
    "hours": "{h} h",
    "hours_minutes": "{h} h {m} min",
    "minutes": "{m} min",
    "seconds": "{s} s",
    "percent": "{p}%",
    "percent_tiny": "<0.1%",
    "money": "{amount} kr",
    # tables (workbench.display)
    "showing_rows": "Showing {shown} of {total} rows.",
    "all_rows_csv": "all {n} rows (CSV)",
    "full_text_csv": "all {n} rows, full text (CSV)",
    "no_rows": "No rows.",
    "texts_cut": "{n} text(s) over {limit} characters cut here",
    "search_rows": "Search the rows shown",
    "sort_hint": "Click a column header to sort the rows shown.",
    # charts (workbench.widgets)
    "time_axis": "{what} ({zone})",
    "log_scale": "{title} (log scale)",
    # report pages (workbench.reportset.build)
    "contents": "Contents",
    "provenance": "Provenance",
}


def say(key: str, **values: object) -> str:
    """The text ``key`` of :data:`WORDS` with ``values`` filled in, e.g. ``say("money", amount="1 200")``."""
    return WORDS[key].format(**values)

"""The words the workbench itself writes around numbers and tables, in the report's language.

The texts live in the message catalogues (``workbench/locales/<language>.yaml``, read by
:mod:`workbench.i18n`); this module keeps the short name the rest of the code calls them by,
and what each report opens with. ``say("all_rows_csv", n="1 204")`` gives
``"all 1 204 rows (CSV)"`` in English and ``"alla 1 204 rader (CSV)"`` in Swedish, as
:func:`workbench.i18n.current_language` says.
"""

from __future__ import annotations

from .i18n import (
    singular_after_one as singular_after_one,  # the findings and the summary call it from here
    t,
)

__all__ = ["KEY_FIGURES", "how_to_read", "say"]

# What each report shows first: its key figures, and a short note on how to read it (the
# catalogue's ``how_to_read_note.<notebook>``, shown on the report page and beside it in the index).
# A report not listed here opens with its findings.
KEY_FIGURES: dict[str, tuple[str, ...]] = {
    "00_case_overview": ("files_ingested", "rows_loaded", "rows_quarantined", "evidence_tables_absent", "deployed_at"),
    "01_incident_reconstruction": (
        "onset_at",
        "sessions_mismatched",
        "first_report_at",
        "time_to_detect_hours",
        "time_to_contain_hours",
        "exposures_avoidable_with_on_call",
    ),
    "02_exposure_and_changes": (
        "accounts_exposed",
        "people_put_into_others_accounts",
        "accounts_changed_by_others",
        "field_changes_to_restore",
        "allocation_claim",
    ),
    "03_queue_fairness": (
        "allocations_replayed",
        "unexplained_deviations",
        "applicants_skipped",
        "caseworkers_flagged",
        "caseworkers_tested",
    ),
}


def say(key: str, language: str | None = None, /, **values: object) -> str:
    """The message ``key`` with ``values`` filled in, e.g. ``say("money", amount="1 200")``; see :func:`workbench.i18n.t`."""
    return t(key, language, **values)


def how_to_read(notebook: str, language: str | None = None) -> str | None:
    """The "how to read this" note of a report, or None for a report that has none."""
    from .i18n import current_language, messages

    return messages(language or current_language()).get(f"how_to_read_note.{notebook}")

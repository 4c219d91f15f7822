"""The words the workbench itself writes around numbers and tables on a report page, in one place.

Units, yes/no, the "all N rows (CSV)" link, the search box, the table of contents: every such
string is here and nowhere else, so that a translation (issue 17, point 3) replaces one
mapping instead of hunting through the code. Notebook prose and finding descriptions are not
here; they belong to the notebooks and the figure declarations.

``say("all_rows_csv", n="1 204")`` gives ``"all 1 204 rows (CSV)"``.
"""

from __future__ import annotations

__all__ = ["HOW_TO_READ", "KEY_FIGURES", "WORDS", "say"]

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
    # times in prose (workbench.values.format_when)
    "when": "{weekday} {day} {month} {year} at {time}",
    "weekdays": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
    "months": "January February March April May June July August September October November December",
    # ranges in prose (workbench.reportset.story)
    "range_words": "between {low} and {high}; most likely about {likely}",
    # the summary that opens each index.html (workbench.reportset.story)
    "summary_title": "What happened",
    "summary_intro": "A summary in plain words. Every figure in it is read from the reports' findings.json files.",
    "story_what": "A release of the housing queue's web site, deployed on {deployed_at}, put some members who logged in "
    "into another member's account: they saw, and could change, someone else's data.",
    "story_onset": "The first page showing a member someone else's account was served on {onset_at}.",
    "story_people": "The data of {accounts_exposed} accounts was shown to another person, and {people_put_into_others_accounts} "
    "people were put into someone else's account.",
    "story_population": "The organisation called everyone who logged in during the incident possibly affected: "
    "{people_possibly_affected} members.",
    "story_changed": "Someone other than the owner changed {field_changes_by_others} profile fields on "
    "{accounts_changed_by_others} accounts.",
    "story_restored": "{field_changes_to_restore} of those changes are to be restored; {restore_conflicts} of them the owner "
    "changed again later, and those are to be reviewed with the owner rather than overwritten.",
    "story_detect": "Users first reported the fault on {first_report_at}, {time_to_detect_hours} after it began.",
    "story_contain": "Login was disabled on {login_disabled_at}, {time_to_contain_hours} after the first report, and the fix "
    "was deployed on {fix_deployed_at}.",
    "story_allocation": "The organisation's statement that queue times and allocation were not affected "
    "{allocation_claim}: {allocation_affected} queue acts were made on another member's account "
    "({interests_registered_by_others} interests registered, {interests_withdrawn_by_others} withdrawn, "
    "{offers_answered_by_others} offers answered).",
    "story_fairness": "The fairness review replayed {allocations_replayed} contracts against queue order: "
    "{allocations_in_queue_order} followed it, {explained_deviations} departed from it with a recorded reason and "
    "{unexplained_deviations} without one.",
    "story_caseworkers": "{caseworkers_flagged} of the {caseworkers_tested} caseworkers tested were flagged for "
    "more departures than their peers.",
    "question_what": "What happened",
    "question_when": "When it began",
    "question_people": "How many people were affected",
    "question_changed": "What was changed and what is to be restored",
    "question_times": "How long it took to detect and contain",
    "question_allocation": "Whether allocation was affected",
    "question_fairness": "What the fairness review found",
    "story_unknown": "{question}: unknown ({reason}).",
    "story_not_covered": "{question}: not covered by the reports of this set.",
    "story_unanswered": "This case could not answer: {questions}.",
    # the index page (workbench/templates/reportset/index.html.j2)
    "index_title": "Reports for the {audience} audience",
    "index_rendered": "Rendered {when} by workbench {version}, from the case {case} ({n} evidence files).",
    "index_reports": "The reports",
    "index_parameters": "Parameters given",
    "index_files_note": "The SHA-256 of every file. {set_file} holds the same list, the SHA-256 of this page and the "
    "fingerprint of the evidence, so anyone with the workbench can check that these files are unaltered and belong "
    "to the case.",
    "not_given": "not given",
    "finding": "Finding",
    "value": "Value",
    "report": "Report",
    "why_unknown": "Why unknown",
    "file": "File",
    "size": "Size",
    "key_figures": "Key figures",
    "how_to_read": "How to read this",
    "open_report": "Read the report",
    "all_findings": "All {n} findings of this report",
    "no_findings": "This report records no findings.",
    "unanswered_title": "Questions this case could not answer",
    "unanswered_note": "These findings are recorded as unknown, not as 0: the evidence they need is not in the case.",
    "files_title": "Files in this set",
}

# What each report shows first: its key figures, and a short note on how to read it (shown on the
# report page and beside it in the index). A report not listed here opens with its findings.
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
HOW_TO_READ: dict[str, str] = {
    "00_case_overview": "What evidence the case holds and when the incident happened. The chain of custody (each "
    "file's SHA-256 and how its rows were read) comes last, for those who check the evidence.",
    "01_incident_reconstruction": "The incident hour by hour: when the fault began, when users reported it, when "
    "login was disabled and the fix deployed, and what an earlier shutdown would have spared. Times are local, "
    "with the zone named on every chart.",
    "02_exposure_and_changes": "Who was affected, in three tiers: everyone who logged in, the sessions bound to "
    "another account, and the accounts whose data was shown. A range (between … and …) says what the evidence "
    "proves and what it cannot settle.",
    "03_queue_fairness": "Each contract replayed against queue order. A departure without a recorded reason is a "
    "question, not proof of fraud; a caseworker is flagged only when their share of such departures is clearly "
    "higher than their peers'.",
}


def say(key: str, **values: object) -> str:
    """The text ``key`` of :data:`WORDS` with ``values`` filled in, e.g. ``say("money", amount="1 200")``."""
    return WORDS[key].format(**values)

"""How `make test` shares the suite between its two pytest-xdist workers (``-n 2 --dist loadscope``).

Each worker is a session of its own, with its own session fixtures: a build that both workers
use is paid twice. So under loadscope a worker takes whole files (a module's fixtures, e.g.
its Chromium or its PostgreSQL database, are built once), and the files of a group in
:data:`GROUPS` go to one worker together, so the expensive session build they share is made
once. A new test module that uses one of those builds joins its group
(tests/test_xdist_groups.py fails until it does). Cheap builds (a generated case, an
ingest: a few CPU seconds) are simply built by each worker that needs them.
"""

from __future__ import annotations

GROUPS = {
    # reportkit.report_set: the tiny case's sets in English and Swedish and the small case's sets.
    "reports": (
        "browser/test_reports_browser.py",
        "browser/test_screenshots_browser.py",
        "browser/test_story_browser.py",
        "test_disclosure_audit.py",
        "test_incident_notebook.py",
        "test_leak_scan.py",
        "test_notebook_03.py",
        "test_one_run_many_audiences.py",
        "test_one_run_many_languages.py",
        "test_outside_case2.py",
        "test_prose_numbers.py",
        "test_reader_check.py",
        "test_report_reading.py",
        "test_story.py",
        "test_swedish_reports.py",
    ),
    # lab_server (tests/browser/conftest.py): one JupyterLab for the session.
    "lab": ("browser/test_lab.py", "browser/test_notes_browser.py", "browser/test_triage_browser.py"),
}

# Handed out first, the longest first, so that no long unit starts when the other worker is
# nearly done. Only the order: every file runs, listed here or not.
FIRST = (
    "reports",
    "lab",
    "test_headless.py",
    "test_hostile_markup.py",
    "test_fairness_calibration.py",
    "test_missing_tables.py",
    "test_bench_run.py",
    "test_report_leaks.py",
    "test_triage.py",
    "test_swap_handwritten.py",
)

_GROUP_OF = {f"tests/{path}": group for group, paths in GROUPS.items() for path in paths}


def scope(nodeid: str) -> str:
    """The unit a worker takes whole: the group of the test's file, else the file."""
    path = nodeid.split("::", 1)[0]
    return _GROUP_OF.get(path, path)


def rank(unit: str) -> int:
    """Where ``unit`` comes in :data:`FIRST` (those not listed after, in collection order)."""
    name = unit.removeprefix("tests/")
    return FIRST.index(name) if name in FIRST else len(FIRST)


def scheduler(config, log):
    """xdist's loadscope scheduler with :func:`scope` as the scope, keeping the collection's order."""
    from xdist.scheduler import LoadScopeScheduling

    class FilesAndGroups(LoadScopeScheduling):
        def __init__(self, config, log=None):
            super().__init__(config, log)
            config.option.loadscopereorder = False  # FIRST's order, not "most tests first"

        def _split_scope(self, nodeid: str) -> str:
            return scope(nodeid)

    return FilesAndGroups(config, log)

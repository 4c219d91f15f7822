"""`make test` runs on two pytest-xdist workers: users of a shared session build stay on one worker."""

from __future__ import annotations

import re
from pathlib import Path

import xdistkit

TESTS = Path(__file__).parent
# What marks a module as a user of each group's build: a call of reportkit.report_set, the lab fixture.
USES = {
    "reports": re.compile(r"\breport_set\(tmp_path_factory"),
    "lab": re.compile(r"^from labkit import [^\n]*\blab\b", re.MULTILINE),
}


def _modules() -> dict[str, str]:
    return {p.relative_to(TESTS).as_posix(): p.read_text(encoding="utf-8") for p in TESTS.rglob("test_*.py")}


def test_every_module_that_uses_a_shared_build_is_in_its_group():
    modules = _modules()
    for group, uses in USES.items():
        users = sorted(name for name, text in modules.items() if uses.search(text))
        assert users, f"nothing found to use {group}: is the pattern out of date?"
        assert sorted(xdistkit.GROUPS[group]) == users, f"xdistkit.GROUPS[{group!r}]"


def test_the_groups_and_the_order_name_files_that_exist():
    for group, paths in xdistkit.GROUPS.items():
        for path in paths:
            assert (TESTS / path).is_file(), f"xdistkit.GROUPS[{group!r}] names {path}, which is not a test file"
    for name in xdistkit.FIRST:
        assert name in xdistkit.GROUPS or (TESTS / name).is_file(), f"xdistkit.FIRST names {name}"


def test_a_worker_takes_a_file_whole_and_a_group_whole():
    assert xdistkit.scope("tests/test_values.py::test_x[a-b]") == "tests/test_values.py"
    assert xdistkit.scope("tests/test_story.py::test_y") == "reports"
    assert xdistkit.scope("tests/browser/test_story_browser.py::test_z") == "reports"
    assert xdistkit.scope("tests/browser/test_lab.py::test_w") == "lab"
    ranks = [xdistkit.rank(u) for u in ("reports", "lab", "tests/test_headless.py", "tests/test_values.py")]
    assert ranks == sorted(ranks) and len(set(ranks)) == 4

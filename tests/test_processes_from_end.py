"""``shared(..., from_end=True)``: this thread goes forwards, the child backwards from the last item; results in input order."""

from __future__ import annotations

import time

import workbench.fairness.processes as PR


def _here(v: int) -> int:
    time.sleep(0.01)
    return v


def test_the_child_takes_from_the_end_and_this_thread_from_the_start():
    items = list(range(60))
    got = PR.shared(_here, str, items, 1, from_end=True)  # the child's results are text: where each ran shows
    assert [int(v) for v in got] == items  # every item once, in input order
    here = [i for i, v in enumerate(got) if isinstance(v, int)]
    there = [i for i, v in enumerate(got) if isinstance(v, str)]
    assert here and there  # both worked (the child starts while this thread sleeps on each item)
    assert here == list(range(len(here)))  # a run from the first item
    assert there == list(range(len(here), len(items)))  # and the child's, back from the last: they met once


def test_from_end_with_everything_here():
    assert PR.shared(_here, str, [1, 2, 3], 0, from_end=True) == [1, 2, 3]

"""workbench.fairness.threads: a map over threads that gives the plain map's results, in order."""

from __future__ import annotations

import threading
import time

import pytest

from workbench.fairness.threads import ahead, cores, in_threads, side_by_side


def test_results_come_back_in_input_order_whatever_finishes_first():
    def slow_first(i: int) -> int:
        time.sleep(0.02 * (5 - i))  # the first items finish last
        return i * i

    assert list(in_threads(slow_first, range(6), workers=3)) == [0, 1, 4, 9, 16, 25]


def test_work_runs_on_several_threads_and_one_worker_stays_in_this_thread():
    seen: set[str] = set()
    barrier = threading.Barrier(2, timeout=5)

    def meet(_: int) -> str:
        barrier.wait()  # passes only when two items run at the same time
        seen.add(threading.current_thread().name)
        return threading.current_thread().name

    list(in_threads(meet, range(2), workers=2))
    assert len(seen) == 2
    assert set(in_threads(lambda _: threading.current_thread().name, range(3), workers=1)) == {
        threading.current_thread().name
    }


def test_an_error_in_one_item_reaches_the_caller():
    def fail_on_two(i: int) -> int:
        if i == 2:
            raise ValueError("two")
        return i

    with pytest.raises(ValueError, match="two"):
        list(in_threads(fail_on_two, range(4), workers=2))


def test_no_items_and_the_core_count():
    assert list(in_threads(lambda i: i, [], workers=4)) == []
    assert cores() >= 1


def test_ahead_gives_every_item_in_order_producing_the_next_while_this_one_is_used():
    made: list[int] = []
    ready = threading.Event()

    def produce():
        for i in range(4):
            made.append(i)
            if i == 1:
                ready.set()  # the second item is made while the caller still holds the first
            yield i

    got = []
    for item in ahead(produce()):
        if item == 0:
            assert ready.wait(5)
        got.append(item)
    assert got == [0, 1, 2, 3] and made == [0, 1, 2, 3]


def test_ahead_raises_the_producers_error_after_the_items_before_it():
    def produce():
        yield 1
        raise ValueError("broken part")

    got = []
    with pytest.raises(ValueError, match="broken part"):
        for item in ahead(produce()):
            got.append(item)
    assert got == [1]
    assert list(ahead([])) == []


def test_side_by_side_gives_results_in_order_holding_at_most_workers_items():
    taken: list[int] = []
    running = 0
    most = 0
    lock = threading.Lock()

    def produce():
        for i in range(8):
            taken.append(i)
            yield i

    def work(i: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            # never more items taken than given back plus the workers
            assert len(taken) <= len(got) + 2
        time.sleep(0.02 * (i % 3))
        with lock:
            running -= 1
        return i * i

    got: list[int] = []
    for r in side_by_side(work, produce(), workers=2):
        got.append(r)
    assert got == [i * i for i in range(8)]
    assert most == 2
    assert list(side_by_side(lambda i: i + 1, iter([1, 2]), workers=1)) == [2, 3]
    assert list(side_by_side(lambda i: i, [], workers=2)) == []


def test_side_by_side_raises_an_items_error_after_the_results_before_it():
    def work(i: int) -> int:
        if i == 3:
            raise ValueError("part three")
        return i

    got = []
    with pytest.raises(ValueError, match="part three"):
        for r in side_by_side(work, range(6), workers=2):
            got.append(r)
    assert got == [0, 1, 2]

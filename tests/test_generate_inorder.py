"""The generator's in-order worker (:mod:`workbench.scenario.inorder`): calls run one at a time,
in the order they were made, with a bounded backlog; an error comes back to the caller.

The allocation hands its records to such a worker; that its output is unchanged by it is
checked by ``tests/test_generate_stream.py``'s content hashes, pinned before it existed.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from workbench.scenario.inorder import InOrder


def test_calls_run_in_submission_order_on_one_other_thread():
    seen: list[tuple[int, str]] = []
    worker = InOrder("t", depth=3)
    for i in range(50):
        # later calls are quicker: out of order if they ran side by side
        worker.submit(lambda i=i: (time.sleep(0.002 * (i % 3 == 0)), seen.append((i, threading.current_thread().name))))
    worker.join()
    assert [i for i, _ in seen] == list(range(50))
    names = {name for _, name in seen}
    assert len(names) == 1 and threading.current_thread().name not in names


def test_a_random_stream_drawn_in_the_worker_matches_drawing_it_directly():
    def draw(rng, out, n):
        out.append(rng.integers(0, 1_000, n))

    direct: list[np.ndarray] = []
    rng = np.random.default_rng(7)
    for n in (3, 1, 4, 1, 5):
        draw(rng, direct, n)
    deferred: list[np.ndarray] = []
    rng = np.random.default_rng(7)
    worker = InOrder("t")
    for n in (3, 1, 4, 1, 5):
        worker.submit(draw, rng, deferred, n)
    worker.join()
    assert [a.tolist() for a in deferred] == [a.tolist() for a in direct]


def test_the_backlog_is_bounded_by_depth():
    gate = threading.Event()
    started: list[int] = []
    worker = InOrder("t", depth=2)

    def job(i):
        started.append(i)
        gate.wait(5)

    worker.submit(job, 0)
    worker.submit(job, 1)  # two waiting: the next submit must block until the first is done
    blocked = threading.Thread(target=worker.submit, args=(job, 2))
    blocked.start()
    blocked.join(0.2)
    assert blocked.is_alive()  # held back while two calls wait
    gate.set()
    blocked.join(5)
    assert not blocked.is_alive()
    worker.join()
    assert started == [0, 1, 2]


def test_an_error_in_the_worker_is_raised_by_the_next_submit_or_join():
    worker = InOrder("t", depth=1)

    def fail():
        raise AssertionError("generator bug: planted")

    worker.submit(fail)
    with pytest.raises(AssertionError, match="planted"):
        worker.submit(lambda: None)  # depth 1: waits for the failed call and raises its error
    worker.close()

    worker = InOrder("t", depth=5)
    worker.submit(fail)
    with pytest.raises(AssertionError, match="planted"):
        worker.join()
    with pytest.raises(RuntimeError, match="after join"):
        worker.submit(lambda: None)


def test_depth_below_one_is_refused():
    with pytest.raises(ValueError, match="depth"):
        InOrder("t", depth=0)

"""The generator's shortcuts that must not change a row: skipping sorts of frames already in
order, and writing the page-view evidence and the mbox ahead, in the raw thread."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest

from workbench import evidence
from workbench.errors import GeneratorError
from workbench.scenario import build, generate
from workbench.scenario.mbox_process import MboxProcess
from workbench.scenario.raw import write_mbox
from workbench.scenario.writer import conform, in_order


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ({"a": [1, 1, 2, 2], "b": ["x", "y", "a", "a"]}, True),  # ties on both keys allowed
        ({"a": [1, 1, 2, 2], "b": ["y", "x", "a", "a"]}, False),  # second key out of order
        ({"a": [1, 2, 1], "b": ["a", "a", "a"]}, False),
        ({"a": [1, None, None], "b": ["a", "a", "b"]}, True),  # nulls last, then by the next key
        ({"a": [None, 1], "b": ["a", "a"]}, False),  # a null before a value
        ({"a": [1, 1], "b": [None, "a"]}, False),
        ({"a": [1, 1], "b": ["a", None]}, True),
        ({"a": [3], "b": [None]}, True),
        ({"a": [], "b": []}, True),
    ],
)
def test_in_order_on_handwritten_frames(rows, expected):
    frame = pl.DataFrame(rows, schema={"a": pl.Int64, "b": pl.String})
    assert in_order(frame, ["a", "b"]) is expected
    sorted_ = frame.sort(["a", "b"], maintain_order=True, nulls_last=True)
    assert sorted_.equals(frame) is expected  # the check agrees with what a sort would do


def test_conform_gives_the_sorted_frame_whether_or_not_it_was_in_order():
    rng = np.random.default_rng(5)
    n = 2_000
    frame = pl.DataFrame(
        {
            "time": pl.Series(rng.integers(0, 50, n) * 1_000_000).cast(pl.Datetime("us", "UTC")),
            "session_id": pl.Series([f"s{i}" for i in rng.integers(0, 30, n)]),
            "ip": pl.Series([None if i % 7 == 0 else f"10.0.0.{i % 9}" for i in range(n)]),
            "path": pl.Series([f"/p/{i}" for i in range(n)]),  # tells equal keys apart: stable order kept
            "status": pl.Series(rng.integers(200, 205, n)),
            "account_id": pl.Series([None if i % 5 == 0 else int(i) for i in rng.integers(0, 99, n)]),
        }
    )
    expected = frame.sort("time", maintain_order=True, nulls_last=True)  # page views: by time, no key
    shuffled = conform("page_views", frame)
    assert not in_order(frame, ["time"])
    assert shuffled.select(expected.columns).equals(expected.cast(shuffled.schema))
    again = conform("page_views", shuffled)
    assert again.equals(shuffled)


def test_page_views_in_the_raw_thread_and_mbox_in_its_process_beside_the_allocation(tmp_path, monkeypatch):
    seen: dict[str, tuple[str, bool]] = {}
    allocated = threading.Event()
    real_rows, real_world = build.write_rows, build.build_world

    class Mbox(build.MboxProcess):
        def submit(self, *args, **kwargs):
            assert self._proc is not None and self._proc.pid != os.getpid()
            seen["mbox"] = (f"process {self._proc.pid}", allocated.is_set())
            return super().submit(*args, **kwargs)

    def rows(*args, **kwargs):
        seen["page_views"] = (threading.current_thread().name, allocated.is_set())
        return real_rows(*args, **kwargs)

    def world(*args, after=None, **kwargs):
        def hook(step, w):
            if after is not None:
                after(step, w)
            if step == "incident":  # hold the allocation until the raw thread has started the page views
                for _ in range(600):
                    if len(seen) == 2:
                        break
                    threading.Event().wait(0.05)
            if step == "allocation":
                allocated.set()

        return real_world(*args, after=hook, **kwargs)

    monkeypatch.setattr(build, "write_rows", rows)
    monkeypatch.setattr(build, "MboxProcess", Mbox)
    monkeypatch.setattr(build, "build_world", world)
    generate(tmp_path / "case", scale="tiny", seed=1)
    assert seen["page_views"][0].startswith("raw") and seen["mbox"][0].startswith("process")
    assert seen["page_views"][1] is False and seen["mbox"][1] is False  # before the allocation ended
    assert (tmp_path / "case" / "raw" / "support.mbox").stat().st_size > 0
    assert pl.read_parquet(tmp_path / "case" / "evidence" / "page_views.parquet").height > 0
    assert not (tmp_path / "case" / ".spool").exists()


def _messages(bodies: list[str | None]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Hand-made support messages (one from a member with a non-ASCII name) and applicants."""
    n = len(bodies)
    messages = pl.DataFrame(
        {
            "message_id": [f"<m{i}@bostad.example>" for i in range(n)],
            "received_at": [datetime(2013, 12, 14, 8, i, tzinfo=UTC) for i in range(n)],
            "channel": ["email" if i % 2 else "web_form" for i in range(n)],
            "sender_applicant_id": [1_000_001 if i % 2 else None for i in range(n)],
            "sender_address": [f"user{i}@example.se" for i in range(n)],
            "subject": ["Fel konto – hjälp" for _ in range(n)],
            "body": bodies,
        },
        schema=evidence.polars_schema("support_messages"),
    )
    applicants = pl.DataFrame({"applicant_id": [1_000_001, 1_000_002], "name": ["Åsa Öberg", "Per Ek"]})
    return messages, applicants


def test_the_mbox_process_writes_the_bytes_of_write_mbox(tmp_path):
    messages, applicants = _messages(["Jag ser någon annans sidor.\n\nFrom now on?", "Hej", "Tack!"])
    process = MboxProcess()
    process.submit(messages, applicants, tmp_path / "child.mbox", tmp_path / "spool")
    assert process.result() == 3
    assert write_mbox(messages, applicants, tmp_path / "here.mbox") == 3
    assert (tmp_path / "child.mbox").read_bytes() == (tmp_path / "here.mbox").read_bytes()
    assert (tmp_path / "child.mbox").read_bytes().count(b"\nFrom ") == 2  # three messages


def test_the_mbox_process_raises_its_error_here_and_can_be_ended_unused(tmp_path):
    messages, applicants = _messages(["Hej", None])  # a message without a body cannot be written
    process = MboxProcess()
    process.submit(messages, applicants, tmp_path / "x.mbox", tmp_path / "spool")
    with pytest.raises(GeneratorError, match="has no body"):
        process.result()
    unused = MboxProcess()
    unused.close()  # killed while it waits for a job
    unused.close()


def test_quote_escapes_like_the_log_expression_and_passes_clean_values_through():
    from workbench.scenario.raw import _quote, _quoted

    clean = pl.Series("path", ["/sok", None, "/lagenhet/12"])
    assert _quote(clean) is clean  # nothing to escape: the same column, not a copy
    dirty = pl.Series("path", ['/sok?q="x"', "/a\\b", None, "/ok"])
    got = _quote(dirty)
    assert got.to_list() == ['/sok?q=\\"x\\"', "/a\\\\b", None, "/ok"]
    assert got.equals(dirty.to_frame().select(_quoted("path")).to_series())


def test_polars_sorts_give_numpys_order_and_values():
    from workbench.scenario.interest_draws import argsort_unique, sorted_values

    key = np.array([40, 7, 19, 3, 88, 21], dtype=np.int64)
    assert argsort_unique(key).tolist() == [3, 1, 2, 5, 0, 4]
    ties = np.array([5, 1, 5, 1, 0], dtype=np.int64)  # repeats: numpy's own order, whatever it is
    assert argsort_unique(ties).tolist() == np.argsort(ties).tolist()
    assert argsort_unique(np.zeros(0, np.int64)).size == 0
    draws = np.random.default_rng(3).random(1_001)
    assert np.array_equal(sorted_values(draws), np.sort(draws))
    assert sorted_values(np.array([3, -1, 3, 2])).tolist() == [-1, 2, 3, 3]


def test_time_then_orders_like_lexsort_ties_included():
    from workbench.scenario.pageviews import time_then

    time = np.array([5, 3, 5, 3, 5, 9], dtype=np.int64)
    rank = np.array([1, 2, 1, 0, 0, 1], dtype=np.int64)  # rows 0 and 2 tie on both: kept in order
    assert time_then(time, rank).tolist() == [3, 1, 4, 0, 2, 5]
    rng = np.random.default_rng(11)
    time = 1_386_000_000 + rng.integers(0, 500, 5_000)
    rank = rng.integers(0, 40, 5_000)
    assert time_then(time, rank).tolist() == np.lexsort((rank, time)).tolist()
    wide = np.array([0, 2**61, 0], dtype=np.int64)  # too wide to pack: the lexsort itself
    assert time_then(wide, np.array([3, 1, 2])).tolist() == [2, 0, 1]
    assert time_then(np.zeros(0, np.int64), np.zeros(0, np.int64)).size == 0


def test_tables_no_later_step_changes_are_written_in_the_raw_thread(tmp_path, monkeypatch):
    written: dict[str, str] = {}
    events: list[str] = []
    real_table, real_world = build._write_table, build.build_world

    def table(name, *args, **kwargs):
        written[name] = threading.current_thread().name
        return real_table(name, *args, **kwargs)

    def world(*args, after=None, **kwargs):
        def hook(step, w):
            events.append(step)
            if after is not None:
                after(step, w)

        return real_world(*args, after=hook, **kwargs)

    monkeypatch.setattr(build, "_write_table", table)
    monkeypatch.setattr(build, "build_world", world)
    got = generate(tmp_path / "case", scale="tiny", seed=1)
    # the fees are made final beside the incident, so "fees" may come before or after "incident"
    assert events[:2] == ["people", "listings"] and events[-1] == "allocation", events
    assert sorted(events[2:4]) == ["fees", "incident"], events
    assert sorted(written) == sorted(n for names in build.FINAL_AFTER.values() for n in names)
    assert all(thread.startswith("raw") for thread in written.values()), written
    for name in written:  # moved into the case, whole
        assert pl.read_parquet(tmp_path / "case" / "evidence" / f"{name}.parquet").height == got.evidence_rows[name]
    assert got.evidence_rows["fees"] > 0 and got.evidence_rows["logins"] > 0
    assert list(got.evidence_rows) == list(build.evidence.TABLES)  # in the declared order, as before


def test_the_mbox_process_imports_this_workbench_whatever_the_working_folder(tmp_path, monkeypatch):
    """``python -c`` puts the working folder first; another checkout there must not be imported."""
    other = tmp_path / "other-checkout"
    (other / "workbench").mkdir(parents=True)
    (other / "workbench" / "__init__.py").write_text("raise ImportError('the wrong workbench')\n")
    monkeypatch.chdir(other)
    messages, applicants = _messages(["Hej"])
    process = MboxProcess()
    process.submit(messages, applicants, tmp_path / "x.mbox", tmp_path / "spool")
    assert process.result() == 1

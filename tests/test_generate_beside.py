"""Work the generator moves off its main thread without changing a byte: the listings beside the
people step, the page views rendered in the raw thread beside the allocation, the allocation's
records on a worker of their own. That the files are unchanged is checked by
``tests/test_generate_stream.py``'s content hashes, pinned before any of this existed; here,
where each runs and that its errors still reach the caller."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import polars as pl
import pytest

from workbench.scenario import allocation, build, generate, incident, people
from workbench.scenario.records import Records


def _threads_of(monkeypatch, module, name: str, seen: dict[str, set[str]]) -> None:
    real = getattr(module, name)

    def spy(*args, **kwargs):
        seen.setdefault(name, set()).add(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)


def test_each_piece_runs_where_it_is_moved_to(tmp_path, monkeypatch):
    seen: dict[str, set[str]] = {}
    _threads_of(monkeypatch, incident, "render_page_views", seen)
    _threads_of(monkeypatch, allocation, "plan_listings", seen)
    _threads_of(monkeypatch, allocation, "prepare_allocation", seen)
    _threads_of(monkeypatch, people, "_fees", seen)
    _threads_of(monkeypatch, incident, "replay_changes", seen)
    for method in ("walked", "add_interests"):
        _threads_of(monkeypatch, Records, method, seen)
    got = generate(tmp_path / "case", scale="tiny", seed=1)
    assert {t.split("_")[0] for t in seen["render_page_views"]} == {"raw"}
    assert {t.split("_")[0] for t in seen["plan_listings"]} == {"listings"}
    assert {t.split("_")[0] for t in seen["prepare_allocation"] | seen["_fees"]} == {"beside-incident"}
    assert seen["replay_changes"] == {threading.current_thread().name}
    assert {t.split("_")[0] for t in seen["walked"] | seen["add_interests"]} == {"records"}
    views = pl.read_parquet(tmp_path / "case" / "evidence" / "page_views.parquet")
    assert views.height == got.evidence_rows["page_views"] > 0
    swapped = pl.read_parquet(tmp_path / "case" / "truth" / "swapped_sessions.parquet")
    assert swapped.height == got.truth_rows["swapped_sessions"] > 0
    assert swapped["bound_at"].null_count() == 0  # the first foreign page of each, from the rendered views
    assert not any(t.name.startswith(("records", "listings", "beside-incident")) for t in threading.enumerate())


def test_without_a_side_executor_the_page_views_are_rendered_in_place():
    seen: dict[str, set[str]] = {}
    with pytest.MonkeyPatch.context() as mp:
        _threads_of(mp, incident, "render_page_views", seen)
        world, _ = build.build_world("tiny", 1)
    assert seen["render_page_views"] == {threading.current_thread().name}
    assert world.table("page_views").height > 0 and world.truth["swapped_sessions"].height > 0


def test_the_same_world_with_or_without_the_side_executor():
    plain, _ = build.build_world("tiny", 3)
    with ThreadPoolExecutor(1, thread_name_prefix="side") as side:
        beside, _ = build.build_world("tiny", 3, side=side)
    for name in ("page_views", "interests", "offers", "handler_actions", "applicants"):
        assert beside.table(name).equals(plain.table(name)), name
    assert beside.truth["swapped_sessions"].equals(plain.truth["swapped_sessions"])


def test_an_error_rendering_the_page_views_reaches_generate(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("planted render failure")

    monkeypatch.setattr(incident, "render_page_views", broken)
    with pytest.raises(RuntimeError, match="planted render failure"):
        generate(tmp_path / "case", scale="tiny", seed=1)
    assert not (tmp_path / "case" / ".spool").exists()


def test_an_error_in_the_records_worker_reaches_generate(tmp_path, monkeypatch):
    def broken(self, *args, **kwargs):
        raise AssertionError("generator bug: planted in the records")

    monkeypatch.setattr(Records, "walked", broken)
    with pytest.raises(AssertionError, match="planted in the records"):
        generate(tmp_path / "case", scale="tiny", seed=1)
    assert not any(t.name.startswith("records") for t in threading.enumerate())


def test_an_error_planning_the_listings_reaches_the_caller(monkeypatch):
    def broken(world):
        raise RuntimeError("planted listings failure")

    monkeypatch.setattr(allocation, "plan_listings", broken)
    with pytest.raises(RuntimeError, match="planted listings failure"):
        build.build_world("tiny", 1)


def test_an_error_in_the_set_up_beside_the_incident_reaches_the_caller(monkeypatch):
    def broken(world, applicants):
        raise RuntimeError("planted set-up failure")

    monkeypatch.setattr(allocation, "prepare_allocation", broken)
    with pytest.raises(RuntimeError, match="planted set-up failure"):
        build.build_world("tiny", 1)
    assert not any(t.name.startswith("beside-incident") for t in threading.enumerate())

"""The duplicate-key tracker against a brute-force reference, on small hand-written batches.

The reference is a Python dict of key -> first line over every batch so far; the tracker
must load and quarantine exactly the rows it says, in the same order, naming the same first
line, whichever path it takes (exact 64-bit codes or verified hashes).
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from workbench import evidence
from workbench.ingest import integrity, keys as keys_module
from workbench.ingest.batch import LINE
from workbench.ingest.integrity import ParentKeys, check_references
from workbench.ingest.keys import KeyTracker, SortedRuns

FIRST = re.compile(r"first loaded from line (\d+);")


def _frame(table: str, rows: list[tuple], first_line: int) -> pl.DataFrame:
    names = [str(c.name) for c in evidence.table(table).primary_key.columns]
    schema = evidence.polars_schema(table)
    data = {n: pl.Series(n, [r[i] for r in rows], dtype=schema[n]) for i, n in enumerate(names)}
    data["note"] = pl.Series("note", [f"row {first_line + i}" for i in range(len(rows))])
    data[LINE] = pl.Series(LINE, range(first_line, first_line + len(rows)), dtype=pl.Int64)
    return pl.DataFrame(data)


def _run(table: str, batches: list[list[tuple]]) -> tuple[KeyTracker, list[tuple[list, list]]]:
    """Feed batches to the tracker and the reference; assert they agree batch by batch."""
    tracker, first, line, results = KeyTracker(table), {}, 2, []
    for rows in batches:
        frame = _frame(table, rows, line)
        want_loaded, want_dupes = [], []
        for i, key in enumerate(rows):
            if key in first:
                want_dupes.append((line + i, first[key]))
            else:
                first[key] = line + i
                want_loaded.append(line + i)
        loaded, dupes = tracker.check(frame)
        got_dupes = [(r[LINE], _first(r["reason"], want_dupes, r[LINE])) for r in dupes.iter_rows(named=True)]
        assert loaded[LINE].to_list() == want_loaded
        assert loaded.columns == frame.columns
        assert got_dupes == want_dupes
        results.append((want_loaded, want_dupes))
        line += len(rows)
    return tracker, results


def _first(reason: str | None, want: list[tuple[int, int]], line: int) -> int:
    """The first line a message names; a null key gives a null message (as before), so take the reference's."""
    if reason is None:
        return dict(want)[line]
    return int(FIRST.search(reason).group(1))


def _random_batches(rng: random.Random, make_key, batches: int = 8, size: int = 40) -> list[list[tuple]]:
    pool = [make_key() for _ in range(60)]
    return [[rng.choice(pool) for _ in range(rng.randint(0, size))] for _ in range(batches)]


@pytest.mark.parametrize("seed", range(6))
def test_two_integer_columns_exact_against_reference(seed):
    rng = random.Random(seed)
    tracker, results = _run(
        "interests", _random_batches(rng, lambda: (rng.randint(-50, 50), rng.randint(-(2**31), 2**31 - 1)))
    )
    assert tracker.exact  # every value fits in 32 bits: no hashes, no key frame kept
    assert tracker._seen == []
    assert any(d for _, d in results)  # the random batches did repeat keys


@pytest.mark.parametrize("seed", range(4))
def test_single_integer_key_exact_including_negative_and_wide(seed):
    rng = random.Random(seed)
    tracker, _ = _run("contracts", _random_batches(rng, lambda: (rng.choice([-1, 1]) * rng.randint(0, 2**62),)))
    assert tracker.exact


def test_timestamp_key_is_exact():
    t = datetime(2013, 12, 13, 17, 42, 5, tzinfo=UTC)
    keys = [(t,), (t + timedelta(microseconds=1),), (t,), (t - timedelta(days=400),)]
    tracker, results = _run("deployments", [keys[:2], keys[2:], keys[:1]])
    assert tracker.exact
    assert results[1][1] == [(4, 2)] and results[2][1] == [(6, 2)]


@pytest.mark.parametrize("seed", range(3))
def test_pair_beyond_32_bits_switches_to_hashed_and_keeps_what_was_loaded(seed):
    rng = random.Random(seed)
    small = _random_batches(rng, lambda: (rng.randint(0, 30), rng.randint(2000, 2003)), batches=4)
    wide = [[(k[0] + (2**40 if rng.random() < 0.3 else 0), k[1]) for k in b] for b in small]
    tracker, _ = _run("fees", small + wide + small)  # later batches repeat keys loaded while exact
    assert not tracker.exact


def test_wide_pair_in_first_batch_and_within_batch_repeats():
    big = 2**33
    batches = [[(big, 1), (big, 1), (1, big), (big, 1)], [(1, big), (big, 2), (-big, 1)], [(-big, 1), (big, 2)]]
    tracker, results = _run("interests", batches)
    assert not tracker.exact
    assert results[0][1] == [(3, 2), (5, 2)] and results[2][1] == [(9, 8), (10, 7)]


def test_nulls_in_a_key_are_equal_to_each_other_as_before():
    batches = [[(1, 2000), (None, 2000)], [(None, 2000), (1, None), (1, None)], [(1, 2000)]]
    tracker, results = _run("fees", batches)
    assert not tracker.exact  # nulls have no exact code: the file moves to the hashed path
    assert results[1][1] == [(4, 3), (6, 5)] and results[2][1] == [(7, 2)]


@pytest.mark.parametrize("seed", range(4))
def test_string_and_mixed_keys_against_reference(seed):
    rng = random.Random(seed)
    _run("logins", _random_batches(rng, lambda: (f"s{rng.randint(0, 80)}",)))
    t0 = datetime(2014, 1, 1, tzinfo=UTC)
    _run(
        "incident_actions",
        _random_batches(rng, lambda: (t0 + timedelta(seconds=rng.randint(0, 5)), rng.choice(["a", "b"]))),
    )


def test_forced_hash_collision_never_refuses_a_row(monkeypatch):
    monkeypatch.setattr(keys_module, "_hash", lambda names: pl.lit(7, dtype=pl.UInt64))
    _, results = _run("logins", [[("a",), ("b",), ("c",)], [("d",), ("a",), ("e",)], [("f",), ("d",)]])
    assert [loaded for loaded, _ in results] == [[2, 3, 4], [5, 7], [8]]
    assert [d for _, d in results] == [[], [(6, 2)], [(9, 5)]]


def test_message_names_key_value_and_first_line():
    tracker = KeyTracker("interests")
    tracker.check(_frame("interests", [(5, 7)], 2))
    _, dupes = tracker.check(_frame("interests", [(5, 7)], 3))
    assert dupes.row(0, named=True)["reason"] == (
        "duplicate key (listing_id, applicant_id)=(5, 7): first loaded from line 2; "
        "allowed: one row per key, the first is kept"
    )
    assert dupes["value"].to_list() == ["5, 7"]


def test_sorted_runs_stay_few_and_find_every_key():
    runs, rng = SortedRuns(), np.random.default_rng(0)
    keys = rng.permutation(np.arange(0, 10_000, 3, dtype=np.uint64))
    for part in np.array_split(keys, 37):
        part = np.sort(part)
        runs.add(part, part.astype(np.int64) * 10)
    assert len(runs.keys) <= 6  # about log2(37) runs, not one per batch
    assert all(np.all(k[1:] > k[:-1]) for k in runs.keys)
    query = np.arange(0, 10_000, dtype=np.uint64)
    found = runs.find(query)
    assert np.array_equal(found >= 0, query % 3 == 0)
    assert np.array_equal(found[found >= 0], query[query % 3 == 0].astype(np.int64) * 10)


def test_check_references_quarantines_exactly_the_orphans_with_the_first_broken_reference():
    parents = ParentKeys({"applicants", "listings", "interests"})
    parents.remember("applicants", pl.DataFrame({"applicant_id": [1, -5, 2**40]}))
    parents.remember("listings", pl.DataFrame({"listing_id": [10, 11]}))
    rows = [(10, 1), (12, 1), (11, 3), (99, 98), (11, -5), (10, 2**40), (10, 2**40 + 1)]
    good = _frame("interests", rows, 2)
    ok, orphans = check_references(good, "interests", parents)
    known_l, known_a = {10, 11}, {1, -5, 2**40}
    want = [(2 + i, "listing_id" if lid not in known_l else "applicant_id") for i, (lid, aid) in enumerate(rows)]
    want = [w for w, (lid, aid) in zip(want, rows, strict=True) if lid not in known_l or aid not in known_a]
    assert list(zip(orphans[LINE], orphans["column"], strict=True)) == want
    assert ok[LINE].to_list() == [2 + i for i, (lid, aid) in enumerate(rows) if lid in known_l and aid in known_a]
    assert orphans["reason"][0] == (
        "orphan: listing_id '12' has no row in listings; allowed: a listing_id loaded into listings.listing_id"
    )


def test_check_references_on_string_ids_and_nulls():
    parents = ParentKeys({"logins", "logouts"})
    parents.remember("logins", pl.DataFrame({"session_id": ["s1", "s2"]}))
    good = pl.DataFrame({"session_id": ["s1", None, "s3", "s2"], LINE: [2, 3, 4, 5]})
    ok, orphans = check_references(good, "logouts", parents)
    assert ok[LINE].to_list() == [2, 3, 5]
    assert orphans[LINE].to_list() == [4] and orphans["value"].to_list() == ["s3"]


@pytest.mark.parametrize("seed", range(4))
def test_file_sorted_by_key_with_seams_repeats_and_a_late_unsorted_batch(seed):
    """As interests and fees come: sorted by the first key column, one value spanning the seam
    of two batches, repeats within a batch, across a seam and of keys loaded long before;
    then a batch in no order. The spine must hold the sorted batches and agree with the dict."""
    rng = random.Random(seed)
    rows = sorted((listing, rng.randint(1, 9)) for listing in range(100, 160) for _ in range(rng.randint(1, 4)))
    batches = [rows[i : i + 17] for i in range(0, len(rows), 17)]  # cuts fall inside a listing's rows
    batches.append([rng.choice(rows) for _ in range(12)] + [(rng.randint(90, 170), 5) for _ in range(6)])
    batches.append([*rows[:5], (500, 1), (501, 1)])  # long-loaded keys again, then new ones above them all
    tracker, results = _run("interests", batches)
    assert tracker.exact
    assert any(d for _, d in results)
    runs = tracker._runs
    assert len(runs._chunks) >= len(batches) - 2  # the sorted batches were kept as chunks, not merged
    assert runs.rows == len({k for b in batches for k in b})


def test_sorted_runs_spine_and_runs_find_every_key_once():
    runs = SortedRuns()
    for start in range(0, 1000, 100):  # ascending batches: the spine
        part = np.arange(start, start + 100, 2, dtype=np.uint64)
        runs.add(part, part.astype(np.int64) * 10)
    assert len(runs._chunks) == 10 and runs.keys == []
    runs.add(
        np.arange(1, 1000, 50, dtype=np.uint64), np.arange(1, 1000, 50, dtype=np.int64) * 10
    )  # below the top: a run
    assert len(runs._chunks) == 10 and len(runs.keys) == 1
    query = np.arange(0, 1200, dtype=np.uint64)
    want = np.where((query < 1000) & ((query % 2 == 0) | (query % 50 == 1)), query.astype(np.int64) * 10, -1)
    assert np.array_equal(runs.find(query), want)
    shuffled = np.random.default_rng(1).permutation(query)  # a query in no order is answered the same
    assert np.array_equal(
        runs.find(shuffled), np.where(np.isin(shuffled, query[want >= 0]), shuffled.astype(np.int64) * 10, -1)
    )
    assert np.array_equal(runs.contains(query), want >= 0)
    keys, lines = runs.items()
    assert sorted(keys.tolist()) == query[want >= 0].tolist() and np.array_equal(lines, keys.astype(np.int64) * 10)


def test_strictly_ascending_batches_still_refuse_keys_of_earlier_batches():
    batches = [[(1, 1), (1, 2), (1, 5)], [(1, 2), (1, 3), (1, 5), (2, 1)], [(0, 9), (1, 1), (3, 3)], [(3, 3), (3, 3)]]
    tracker, results = _run("interests", batches)  # every batch but the last ascends strictly
    assert [d for _, d in results] == [[], [(5, 3), (7, 4)], [(10, 2)], [(12, 11), (13, 11)]]
    assert tracker.exact


def test_dense_parent_ids_answer_ids_below_above_and_far_outside_their_range():
    parents = ParentKeys({"listings", "contracts"})
    parents.remember("listings", pl.DataFrame({"listing_id": [10, 11, 13, 20]}))  # dense: a table of flags
    query = pl.Series("listing_id", [10, 12, 13, 20, 21, 9, -3, 0, 2**62, -(2**62), None, 11])
    missing = parents.missing("listings", "listing_id", query)
    assert missing.tolist() == [False, True, False, False, True, True, True, True, True, True, False, False]
    assert parents._lookup[("listings", "listing_id")].flags is not None


def _strings(rng: random.Random, n: int) -> list[str | None]:
    alphabet = ["a", "b", "å", "Ä", " ", "-", "0", "\u00a0", "😀"]
    return [None if rng.random() < 0.1 else "".join(rng.choices(alphabet, k=rng.randint(0, 4))) for _ in range(n)]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(
    "hash_",
    [
        None,  # polars' 64-bit hash: equal hashes are (almost) always equal values
        lambda s: np.zeros(len(s), dtype=np.uint64),  # every value shares one hash
        lambda s: s.str.len_bytes().fill_null(99).cast(pl.UInt64).to_numpy(),  # a few shared hashes
    ],
    ids=["polars", "one-hash", "by-length"],
)
def test_text_keys_found_exactly_as_is_in_whatever_the_hash(seed, hash_):
    rng = random.Random(seed)
    known = pl.Series("session_id", _strings(rng, 60), dtype=pl.String).drop_nulls().unique()
    parents = ParentKeys({"logins", "page_views"})
    parents.remember("logins", pl.DataFrame({"session_id": known}))
    if hash_ is not None:  # the lookup as missing() builds it, with the hash replaced
        parents._texts[("logins", "session_id")] = integrity._TextSet(known, hash_)
    for _ in range(3):  # the same lookup answers batch after batch
        query = pl.Series("session_id", _strings(rng, 200), dtype=pl.String)
        missing = parents.missing("logins", "session_id", query)
        want = [v is not None and v not in set(known.to_list()) for v in query.to_list()]
        assert missing.tolist() == want
    assert isinstance(parents._texts[("logins", "session_id")], integrity._TextSet)


def test_text_keys_against_no_loaded_parent_rows():
    parents = ParentKeys({"logins", "logouts"})
    parents.remember("logins", pl.DataFrame({"session_id": pl.Series([None], dtype=pl.String)}))
    query = pl.Series("session_id", ["s1", None, ""], dtype=pl.String)
    assert parents.missing("logins", "session_id", query).tolist() == [True, False, True]

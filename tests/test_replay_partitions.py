"""The replay ranks one (year, district) part at a time and gets what it got ranking every queue at once.

Issue 20: the replay used to build one candidate row per interest of the whole period before
ranking (about 115 million rows at ten times stockholm). Each listing's queue is ranked on its
own, so ``replay_allocations`` now goes part by part; ``partition_by=()`` is the old
everything-at-once replay, and every frame must equal it.
"""

from __future__ import annotations

import polars as pl
import pytest
from queuekit import HandCase, utc

from workbench.fairness import load_allocation_evidence, replay_allocations
from workbench.fairness.snapshot import PARTITION_BY, partitions, selected

CUTS = [PARTITION_BY, ("year",), ("district",), ("kind", "rooms")]


def _assert_same(evidence, **kw) -> None:
    whole = replay_allocations(evidence, partition_by=(), **kw)
    assert whole.allocations.height > 0
    for by in CUTS:
        parted = replay_allocations(evidence, partition_by=by, **kw)
        for name in ("allocations", "skipped", "passed_over"):
            assert getattr(parted, name).equals(getattr(whole, name)), (by, name)


def _two_years_two_districts() -> HandCase:
    """Outcomes of every kind, spread over 2013 and 2014 in Farsta and Solna, with a member
    who is housed in one part (Farsta 2013) and so ineligible in another (Solna 2014)."""
    case = HandCase()
    for i in range(1, 9):
        case.member(i, queue=f"200{i % 10}-01-01" if i < 10 else "2009-06-01")
    case.listing(100, tenant=1, interested=[1, 2, 3], district="Farsta", closes=utc(2013, 1, 10, 23))
    case.listing(101, tenant=4, interested=[2, 3, 4], district="Solna")  # 2 and 3 skipped: unexplained
    case.listing(102, tenant=3, interested=[2, 3], district="Solna")
    case.decision(102, 2, "declined")  # a recorded decline: in order
    case.listing(103, tenant=6, interested=[5, 6], district="Farsta", closes=utc(2014, 2, 1, 12))
    case.decision(103, 6, "priority")  # explained by a priority decision
    case.listing(104, tenant=8, interested=[1, 7, 8], district="Solna", closes=utc(2014, 5, 2, 12))
    case.decision(104, 7, "skip", "landlord: references")  # 1 housed by 100, 7 skipped with a record
    case.listing(105, tenant=5, interested=[2, 7], district="Solna", closes=utc(2014, 5, 2, 12))  # not in the queue
    return case


def test_the_parts_hold_every_selected_listing_once_with_exactly_its_queue_rows():
    evidence = _two_years_two_districts().evidence()
    listings = selected(evidence)
    parts = list(partitions(listings, evidence.queues))
    keys = [(p["closes_at"].dt.year().unique().to_list(), p["district"].unique().to_list()) for p, _ in parts]
    assert keys == [([2013], ["Farsta"]), ([2013], ["Solna"]), ([2014], ["Farsta"]), ([2014], ["Solna"])]
    assert sorted(i for p, _ in parts for i in p["listing_id"]) == sorted(listings["listing_id"])
    for part, queues in parts:
        assert set(queues["listing_id"]) <= set(part["listing_id"])
    got = pl.concat([q for _, q in parts]).sort(pl.all())
    assert got.equals(evidence.queues.select(got.columns).sort(pl.all()))


def test_the_parted_replay_equals_the_whole_one_on_hand_built_outcomes_of_every_kind():
    evidence = _two_years_two_districts().evidence()
    _assert_same(evidence)
    outcomes = replay_allocations(evidence).allocations.select("listing_id", "outcome").rows()
    assert outcomes == [
        (100, "in_order"),
        (101, "unexplained"),
        (102, "in_order"),
        (103, "explained"),
        (104, "explained"),
        (105, "unexplained"),
    ]


def test_a_period_with_no_contract_gives_the_same_empty_frames():
    evidence = _two_years_two_districts().evidence(districts=("Kista",))
    whole, parted = replay_allocations(evidence, partition_by=()), replay_allocations(evidence)
    assert parted.allocations.is_empty()
    for name in ("allocations", "skipped", "passed_over"):
        assert getattr(parted, name).equals(getattr(whole, name)), name


@pytest.mark.parametrize("block_after", [None, 1])
def test_the_parted_replay_equals_the_whole_one_on_the_generated_tiny_case(tiny_duckdb, block_after):
    evidence = load_allocation_evidence(tiny_duckdb, withdrawals=block_after is not None)
    _assert_same(evidence, block_after=block_after)

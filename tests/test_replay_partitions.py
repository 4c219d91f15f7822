"""The replay ranks one (year, district) part at a time and gets what it got ranking every queue at once.

Issue 20: the replay used to build one candidate row per interest of the whole period before
ranking (about 115 million rows at ten times stockholm). Each listing's queue is ranked on its
own, so ``replay_allocations`` now goes part by part; ``partition_by=()`` is the old
everything-at-once replay, and every frame must equal it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import polars as pl
import pytest
import sqlalchemy as sa
from queuekit import HandCase, utc

from workbench.case import case_metadata
from workbench.fairness import load_allocation_evidence, replay_allocations, snapshot as snapshot_module
from workbench.fairness.snapshot import PARTITION_BY, QueueReader, partitions, selected
from workbench.queries import last_params, run, runner as runner_module

CUTS = [PARTITION_BY, ("year",), ("district",), ("kind", "rooms")]


def _assert_same(evidence, reference=None, **kw) -> None:
    """Every cut gives what ``reference`` (default: ``evidence``) gives replayed all at once."""
    whole = replay_allocations(evidence if reference is None else reference, partition_by=(), **kw)
    assert whole.allocations.height > 0
    for by in [*CUTS, *([()] if reference is not None else [])]:
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
    assert isinstance(evidence.queues, QueueReader)  # nothing of the queues is loaded yet
    # the reference: every queue row loaded at once, as before issue 20, replayed all at once
    loaded = replace(evidence, queues=run("allocation_queues", tiny_duckdb))
    _assert_same(evidence, loaded, block_after=block_after)


def _on_sqlite(case: HandCase, path) -> sa.Engine:
    """``case``'s listings, contracts and queues written into a case database, with interests that are
    not in any replayed queue: registered after the close, withdrawn before it, on a listing without
    a contract, and one withdrawn after the close (which stays in the queue)."""
    engine = sa.create_engine(f"sqlite:///{path}")
    case_metadata.create_all(engine)
    listings = case.rows["listings"]
    lst_cols = ("listing_id", "landlord", "district", "rooms", "rent", "kind", "published_at", "closes_at")
    contract_cols = ("listing_id", "applicant_id", "signed_at", "handler_id")
    interests = [{**q, "withdrawn_at": None, "session_id": None} for q in case.rows["queues"]]
    first = listings[0]
    after_close = first["closes_at"] + timedelta(minutes=1)
    interests += [
        {"listing_id": first["listing_id"], "applicant_id": 7, "registered_at": after_close},  # too late
        {"listing_id": first["listing_id"], "applicant_id": 8, "registered_at": first["published_at"]}
        | {"withdrawn_at": first["closes_at"] - timedelta(hours=1)},  # withdrawn before the close
        {"listing_id": 999, "applicant_id": 1, "registered_at": first["published_at"]},  # no contract
    ]
    interests = [{"withdrawn_at": None, "session_id": None} | i for i in interests]
    with engine.begin() as conn:
        conn.execute(
            case_metadata.tables["listings"].insert(),
            [{k: r[k] for k in lst_cols} | {"income_rule": r["income_rule"]} for r in listings]
            + [{k: first[k] for k in lst_cols} | {"listing_id": 999, "income_rule": "none"}],
        )
        conn.execute(case_metadata.tables["contracts"].insert(), [{k: r[k] for k in contract_cols} for r in listings])
        conn.execute(case_metadata.tables["interests"].insert(), interests)
    return engine


def test_each_part_is_read_by_a_query_that_returns_only_its_own_queue_rows(tmp_path, monkeypatch):
    hand = _two_years_two_districts()
    hand.listing(106, tenant=2, interested=[1, 2], district="Solna", closes=utc(2013, 3, 14, 23))
    hand.rows["queues"].append(  # interest withdrawn after the close: still in the queue snapshot
        {"listing_id": 106, "applicant_id": 5, "registered_at": utc(2013, 3, 3, 23)}
    )
    engine = _on_sqlite(hand, tmp_path / "case.db")
    interests = case_metadata.tables["interests"]
    with engine.begin() as conn:
        conn.execute(
            interests.update()
            .where(interests.c.listing_id == 106, interests.c.applicant_id == 5)
            .values(withdrawn_at=utc(2013, 3, 20, 10))
        )
    evidence = hand.evidence()
    read: list[pl.DataFrame] = []

    def spying(*args, **kw):
        for frame in runner_module.run_parts(*args, **kw):
            read.append(frame)  # exactly what the part's query returned, before any filter
            yield frame

    monkeypatch.setattr(snapshot_module, "run_parts", spying)
    reader = QueueReader(engine)
    parts = list(partitions(selected(evidence), reader))
    assert len(read) == len(parts) == 4
    frame = evidence.queues.sort("listing_id", "applicant_id")
    for (part, rows), returned in zip(parts, read, strict=True):
        own = frame.filter(pl.col("listing_id").is_in(part["listing_id"].implode()))
        assert returned.equals(own), part["listing_id"].to_list()  # no other part's row, none left out
        assert rows.equals(own)
    assert sorted(r for _, q in parts for r in q["listing_id"]) == sorted(frame["listing_id"])


def test_the_replay_read_part_by_part_equals_the_one_with_every_queue_row_loaded(tmp_path, monkeypatch):
    hand = _two_years_two_districts()
    engine = _on_sqlite(hand, tmp_path / "case.db")
    loaded = hand.evidence()  # every queue row in a frame: the replay as before issue 20
    monkeypatch.setattr(runner_module, "_LAST_GIVEN", {})
    monkeypatch.setattr(runner_module, "_VARIED", set())
    _assert_same(replace(loaded, queues=QueueReader(engine)), loaded)
    # findings cite the query the parts answer together, not the last part's parameters
    assert last_params("allocation_queues") == ({}, False)
    start, end = date(2013, 1, 1), date(2014, 3, 1)
    in_period = replace(loaded, period_start=start, period_end=end)
    a = replay_allocations(replace(in_period, queues=QueueReader(engine, start, end)))
    assert a.allocations.equals(replay_allocations(in_period, partition_by=()).allocations)
    assert a.allocations["listing_id"].to_list() == [100, 101, 102, 103]
    assert last_params("allocation_queues") == ({"period_start": start, "period_end": end}, True)


def test_too_few_permutations_for_the_caseworkers_are_refused_before_the_replay(monkeypatch):
    """National has 400 caseworkers: 20,000 permutations cannot reach alpha there, and notebook 03 used
    to find out only after replaying every allocation (16 minutes at national)."""
    from workbench.errors import WorkbenchError
    from workbench.fairness import review as review_module

    evidence = _two_years_two_districts().evidence()  # contracts of one caseworker
    monkeypatch.setattr(review_module, "replay_allocations", lambda *a, **k: pytest.fail("replayed first"))
    with pytest.raises(WorkbenchError, match=r"permutations=50 cannot .* alpha=0\.01 for 1 caseworkers"):
        review_module.review_evidence(evidence, pl.DataFrame(), permutations=50)


def test_parts_ranked_side_by_side_give_the_same_frames(monkeypatch):
    from workbench.fairness import replay as replay_module

    evidence = _two_years_two_districts().evidence()
    one = replay_allocations(evidence)
    monkeypatch.setattr(replay_module, "PART_WORKERS", 2)
    two = replay_allocations(evidence)
    for name in ("allocations", "skipped", "passed_over"):
        assert getattr(two, name).equals(getattr(one, name)), name
    assert two.count("unexplained") == 2

"""The allocation's set-up made beside the incident, from the applicants as they were before the
incident's profile changes, gives the world made after it: it reads no column a change touches."""

from __future__ import annotations

import polars as pl
import pytest

from workbench import evidence
from workbench.scenario import allocation
from workbench.scenario.incident import simulate_incident
from workbench.scenario.people import simulate_people
from workbench.scenario.profile import FIELDS
from workbench.scenario.world import World, scale


def _world(seed: int) -> tuple[World, pl.DataFrame]:
    world = World(scale("tiny"), seed)
    make_fees = simulate_people(world, defer_fees=True)
    assert make_fees is not None and "fees" not in world.tables  # left to the function returned
    allocation.plan_listings(world)
    make_fees()
    return world, world.tables["applicants"]


def _tables(world: World) -> dict[str, pl.DataFrame]:
    out = {name: world.table(name) for name in evidence.TABLES if name in world.tables or name in world.streams}
    out.update({f"truth/{name}": frame for name, frame in world.truth.items()})
    return out


@pytest.mark.parametrize("seed", [1, 4])
def test_the_set_up_from_the_snapshot_before_the_incident_gives_the_same_world(seed):
    plain, _ = _world(seed)
    simulate_incident(plain)
    allocation.allocate(plain)  # set up after the incident, from its applicants

    early, before = _world(seed)
    # Every value a profile change may touch is blanked: the set-up must not read any of them.
    blank = before.with_columns(pl.lit(None, before.schema[f]).alias(f) for f in FIELDS)
    sim = allocation.prepare_allocation(early, blank)
    simulate_incident(early)
    changed = early.tables["profile_changes"]
    assert changed.height and set(changed["field"]) & {"annual_income", "address"}  # the test has teeth
    allocation.allocate(early, sim)

    want, got = _tables(plain), _tables(early)
    assert sorted(got) == sorted(want)
    for name, frame in want.items():
        assert got[name].equals(frame), name
    assert got["applicants"]["annual_income"].null_count() == 0  # the incomes came from after the incident


def test_an_incident_that_adds_an_applicant_is_refused():
    world, before = _world(1)
    sim = allocation.prepare_allocation(world, before)
    world.tables["applicants"] = pl.concat([before, before.tail(1)])
    with pytest.raises(AssertionError, match="added or removed applicants"):
        sim.after_incident()


def test_the_fees_made_later_are_the_fees_made_in_place():
    world = World(scale("tiny"), 2)
    simulate_people(world)
    later, _ = _world(2)
    assert later.tables["fees"].equals(world.tables["fees"])
    assert later.tables["applicants"].equals(world.tables["applicants"])

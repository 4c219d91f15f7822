"""The simulated world the generator builds up: scale, clock, randomness, tables and truth.

Each step of the simulation (people, allocation, incident, ...) reads what earlier steps
left in :class:`World` and adds its own tables. Randomness is split by step name, so a
change inside one step does not reshuffle the others.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
import zlib
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ..errors import UnknownNameError

__all__ = ["INCIDENT", "SCALES", "SWAP_MODES", "WEB_PERIOD", "Incident", "Scale", "World", "scale"]


@dataclass(frozen=True)
class Scale:
    """Sizes and rates of one scale of synthetic city."""

    name: str
    members: int
    handlers: int
    first_year: int  # first allocation year
    last_year: int  # last allocation year (inclusive)
    listings_per_year: int
    interests_per_listing: float  # mean over all listings; inner city draws more
    logins_per_day: float  # mean web logins a day in the logged web period
    pages_per_session: float
    swap_probability: float  # P(a login while the fault is live binds to another open session)
    corrupt_handlers: int
    fraud_share: float  # share of a corrupt caseworker's allocations sold out of order
    fake_profiles: int
    support_messages_per_day: float
    # Exponential mean (years) of queue time among members, anchored at the last allocation
    # year; calibrates queue time at allocation (8–10 years on average, ~16 inner city).
    queue_time_mean_years: float = 4.3


SCALES: dict[str, Scale] = {
    s.name: s
    for s in (
        Scale("tiny", 2_000, 6, 2013, 2013, 160, 40, 120, 9, 0.25, 1, 0.30, 3, 12, 4.3),
        Scale("small", 30_000, 12, 2013, 2015, 1_000, 90, 1_100, 10, 0.06, 2, 0.12, 6, 40, 4.3),
        Scale("stockholm", 450_000, 40, 2012, 2017, 12_500, 150, 15_000, 11, 0.04, 4, 0.06, 60, 300, 5.25),
        # Ten Stockholms: every count ×10. Rates stay: the same swap probability gives ten times
        # the swapped sessions (the fault scales with concurrent logins), the same share of
        # corrupt caseworkers and of fake profiles gives ten times the planted fraud.
        Scale("national", 4_500_000, 400, 2012, 2017, 125_000, 150, 150_000, 11, 0.04, 40, 0.06, 600, 3_000, 5.25),
    )
}


def scale(name: str) -> Scale:
    """The scale called ``name`` (``tiny``, ``small``, ``stockholm`` or ``national``)."""
    try:
        return SCALES[name]
    except KeyError:
        raise UnknownNameError("scale", name, SCALES) from None


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@dataclass(frozen=True)
class Incident:
    """Fixed times of the 2013 incident (UTC; Stockholm was UTC+1 in December)."""

    deployed_at: datetime = utc(2013, 12, 13, 17, 52)  # Friday 18:52 local
    login_disabled_at: datetime = utc(2013, 12, 16, 7, 41)  # Monday 08:41 local
    fix_deployed_at: datetime = utc(2013, 12, 18, 9, 20)  # Wednesday 10:20 local
    login_enabled_at: datetime = utc(2013, 12, 18, 10, 5)  # Wednesday 11:05 local
    notice_published_at: datetime = utc(2013, 12, 19, 14, 0)


INCIDENT = Incident()
# The period for which web logs (logins, page views, logouts, profile changes) exist.
WEB_PERIOD: tuple[datetime, datetime] = (utc(2013, 12, 8, 23, 0), utc(2013, 12, 22, 23, 0))
# When the fault shows the other member's account: from the login's first page, only after
# one or more of the member's own pages, or either (each swapped session picks one).
SWAP_MODES = ("login", "midsession", "mixed")
# Queue fees exist from this year on.
FEE_FIRST_YEAR = 2008
FEE_AMOUNT = 200


@dataclass
class World:
    """Everything simulated so far. Tables use the evidence column names and dtypes."""

    scale: Scale
    seed: int
    fraud: bool = True
    swap_mode: str = "login"  # one of SWAP_MODES
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    truth: dict[str, pl.DataFrame] = field(default_factory=dict)
    # Hand-offs between steps that are not evidence (e.g. web interest events).
    scratch: dict[str, pl.DataFrame] = field(default_factory=dict)
    # Evidence tables too large to hold as text, written a chunk at a time: page_views as a
    # pageviews.PageViewRows (not imported here: pageviews depends on this module), interests
    # as a spool.SpooledTable written batch by batch into spool_dir.
    streams: dict[str, Any] = field(default_factory=dict)
    # Where spooled tables are written while they are simulated; a temporary folder (removed
    # with the world) when not given. generate() puts it beside the case, on the same disk.
    spool_dir: Path | None = None
    # Told the name of a table once a step has made it final (``"fees"`` during the
    # allocation), so the generator can write it while the simulation goes on.
    on_final: Callable[[str], None] | None = None
    # A one-thread executor (first in, first out) for work no later step reads: generate()
    # passes its raw writer, and the incident renders the page views there beside the
    # allocation. Without one, that work is done in place. ``settle`` waits for it.
    side: Executor | None = None
    pending: list[Future[Any]] = field(default_factory=list)

    def beside(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the side executor, or now if there is none."""
        if self.side is None:
            fn(*args)
        else:
            self.pending.append(self.side.submit(fn, *args))

    def settle(self) -> None:
        """Wait for the work handed to the side executor, raising the first error."""
        while self.pending:
            self.pending.pop(0).result()

    def final(self, name: str) -> None:
        """Table ``name`` will not change any more."""
        if self.on_final is not None:
            self.on_final(name)

    def spool_path(self, name: str) -> Path:
        """The spool file of table ``name``."""
        if self.spool_dir is None:
            self.spool_dir = Path(tempfile.mkdtemp(prefix="workbench-spool-"))
            weakref.finalize(self, shutil.rmtree, self.spool_dir, True)
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        return self.spool_dir / f"{name}.parquet"

    def table(self, name: str) -> pl.DataFrame:
        """Evidence table ``name`` as a frame, a streamed one rendered whole (for tests and small scales)."""
        return self.streams[name].frame() if name in self.streams else self.tables[name]

    @property
    def allocation_start(self) -> date:
        return date(self.scale.first_year, 1, 1)

    @property
    def allocation_end(self) -> date:
        return date(self.scale.last_year, 12, 31)

    @property
    def export_at(self) -> datetime:
        """When the organisation exported the evidence: after the last allocation year."""
        return utc(self.scale.last_year + 1, 1, 15, 9, 0)

    def rng(self, step: str) -> np.random.Generator:
        """Independent, reproducible randomness for one named step."""
        return np.random.default_rng(np.random.SeedSequence([self.seed, zlib.crc32(step.encode())]))

"""Run every simulation step and write the case: evidence, raw, truth, scenario.json.

The generator imports nothing from the analysis side (``workbench.queries``, notebooks):
truth is recorded while events are simulated, never derived from the evidence afterwards.
"""

from __future__ import annotations

import ctypes
import json
import numbers
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from .. import evidence
from ..errors import GeneratorError
from .degrade import Degradation, apply_degradations, parse_degrade
from .mbox_process import MboxProcess
from .raw import RAW_NAMES, write_access_log_rows
from .world import SWAP_MODES, World, scale as get_scale
from .writer import FORMATS, conform, write_evidence, write_frame, write_rows, write_truth

if TYPE_CHECKING:
    from .allocation import _Simulation

__all__ = ["Generated", "build_world", "generate"]


@dataclass
class Generated:
    """What :func:`generate` wrote."""

    out: Path
    scale: str
    seed: int
    evidence_rows: dict[str, int]
    truth_rows: dict[str, int]
    seconds: float
    steps: dict[str, float] = field(default_factory=dict)

    @property
    def evidence_dir(self) -> Path:
        return self.out / "evidence"

    @property
    def truth_dir(self) -> Path:
        return self.out / "truth"

    def summary(self) -> str:
        lines = [f"Generated scale={self.scale} seed={self.seed} in {self.seconds:.1f} s into {self.out}"]
        lines.append(f"  evidence ({self.evidence_dir}):")
        lines += [f"    {k:<18} {v:>12,}" for k, v in self.evidence_rows.items()]
        lines.append(f"  truth ({self.truth_dir}), for tests only:")
        lines += [f"    {k:<24} {v:>6,}" for k, v in self.truth_rows.items()]
        return "\n".join(lines)


def build_world(
    scale: str = "small",
    seed: int = 1,
    fraud: bool = True,
    swap_mode: str = "login",
    spool_dir: Path | None = None,
    after: Callable[[str, World], None] | None = None,
    side: Executor | None = None,
) -> tuple[World, dict[str, float]]:
    """Simulate every step; returns the world and seconds per step.

    The interests are spooled to ``spool_dir`` (a temporary folder if not given) as they are
    drawn; ``world.table("interests")`` reads them back whole. ``after(step, world)`` is
    called after each step (``"people"``, ``"listings"``, ``"incident"``, ``"allocation"``),
    and with ``"fees"`` once the fees are final: on the thread beside the incident, before or
    after ``"incident"``, so ``after`` must be safe to call from two threads. ``side``, a one-thread
    executor, takes work no later step reads (the page views are rendered there beside the
    allocation): what ``after`` submits to it after a step comes after that step's work.
    """
    from .allocation import allocate, plan_listings, prepare_allocation
    from .incident import simulate_incident
    from .people import simulate_people

    world = World(get_scale(scale), seed, fraud=fraud, swap_mode=swap_mode, spool_dir=spool_dir, side=side)
    if after is not None:
        world.on_final = lambda name: after(name, world)
    steps = {}

    def done(name: str, t0: float) -> None:
        _release_memory()
        steps[name] = time.perf_counter() - t0
        if after is not None:
            after(name, world)

    # The listings draw from their own stream and read nothing the people step makes, so they
    # are planned on the second core while the people are simulated (the people step leaves it
    # idle); ``after`` is still called for "people" first, then for "listings".
    # Both steps import faker's providers, whose package imports its locales dynamically: two
    # threads importing it at once can deadlock on the module locks, so it is imported here first.
    import faker.providers.address.sv_SE
    import faker.providers.person.sv_SE  # noqa: F401

    with ThreadPoolExecutor(1, thread_name_prefix="listings") as beside_people:
        t0 = time.perf_counter()
        listings = beside_people.submit(plan_listings, world)
        try:
            make_fees = simulate_people(world, defer_fees=True)
        finally:
            listings.exception()  # wait for it whatever happens; its error is raised below
        done("people", t0)
        listings.result()
        done("listings", time.perf_counter())
    # The incident runs on one core. Beside it go the fees (the people stream's last draws)
    # and the allocation's set-up that reads nothing the incident makes: the fraud plan (its
    # fake profiles' fees make the fees final, so ``after`` hears "fees" during the incident)
    # and the member and listing columns, ranks and draws before its first batch. The set-up
    # gets the applicants from before the incident's profile changes (see prepare_allocation).
    with ThreadPoolExecutor(1, thread_name_prefix="beside-incident") as beside_incident:
        t0 = time.perf_counter()
        early = beside_incident.submit(
            _fees_then_setup, make_fees, prepare_allocation, world, world.tables["applicants"]
        )
        try:
            simulate_incident(world)
        finally:
            early.exception()  # wait for it whatever happens; its error is raised below
        done("incident", t0)
        t0 = time.perf_counter()
        allocate(world, early.result())
        done("allocation", t0)
    world.settle()
    return world, steps


def _fees_then_setup(
    make_fees: Callable[[], None] | None,
    prepare: Callable[[World, pl.DataFrame], _Simulation],
    world: World,
    applicants: pl.DataFrame,
) -> _Simulation:
    """Make the fees, then the allocation's set-up (which adds the fake profiles' fees)."""
    if make_fees is not None:
        make_fees()
    return prepare(world, applicants)


@dataclass
class WrittenAhead:
    """A file being written in a thread or process into the spool folder, moved into the case when done."""

    result: Callable[[], int]  # waits for the file; returns its rows or raises the writer's error
    path: Path

    def write_to(self, path: Path, fmt: str | None = None) -> int:
        """Wait for the file (raising the writer's error), move it to ``path``; returns its rows."""
        rows = self.result()
        shutil.move(self.path, path)
        return rows


# Evidence tables no later step changes, by the step (or ``World.final`` event) that makes
# them final: they are written in the raw thread while the simulation goes on. The
# applicants are written there too once the allocation is done, beside the tables it made.
FINAL_AFTER = {
    "listings": ("listings", "handlers"),
    "incident": ("deployments", "incident_actions", "logins", "logouts", "profile_changes", "support_messages"),
    "fees": ("fees",),
    "allocation": ("applicants",),
}


def _degrade_then_log(world: World, degradations: list[Degradation], path: Path) -> int:
    """Degrade the rendered page views, then write them as the access log; returns its lines."""
    rows = world.streams["page_views"]
    apply_degradations(world.tables, degradations, world.rng("degrade"), rows)
    lines = write_access_log_rows(rows, world.tables["logins"], path, world.rng("raw"))
    _release_memory()  # the log's per-row sizes and links (about 1 GB at national), as above
    return lines


def _write_table(name: str, frame: pl.DataFrame, path: Path, fmt: str) -> int:
    """Write evidence table ``name`` as :func:`.writer.write_evidence` would; returns its rows."""
    frame = conform(name, frame, evidence.polars_schema(name))
    write_frame(frame, path, fmt)
    return frame.height


@contextmanager
def _heap_kept() -> Iterator[None]:
    """Let glibc keep freed memory in the heap for the next array instead of unmapping it.

    By default every array above glibc's mmap threshold (at most 32 MB; a member-sized or
    page-view-sized numpy array at national is larger) is mapped when made and unmapped when
    freed, so each temporary is page-faulted in anew: most of national's system time. Here
    nothing is mapped by malloc and the heap's top is not trimmed while generating;
    :func:`_release_memory` still gives free pages back between steps. The defaults are set
    back afterwards. Elsewhere than glibc this does nothing.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        yield
        return
    m_trim_threshold, m_mmap_max = -1, -4
    mallopt(m_mmap_max, 0)
    mallopt(m_trim_threshold, 1 << 30)
    try:
        yield
    finally:
        mallopt(m_mmap_max, 65536)  # glibc's defaults
        mallopt(m_trim_threshold, 128 * 1024)
        _release_memory()


def _release_memory() -> None:
    """Give the C heap's free pages back to the system between steps (glibc ``malloc_trim``).

    A step frees most of what it made, but the heap keeps it; at national scale the next
    step's large arrays are mapped afresh, so what one step left behind would add to the
    next step's peak. Elsewhere than glibc this does nothing.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def generate(
    out: str | Path,
    scale: str = "small",
    seed: int = 1,
    fmt: str = "parquet",
    fraud: bool = True,
    degrade: tuple[str | Degradation, ...] = (),
    swap_mode: str = "login",
    handover: str | Path | None = None,
) -> Generated:
    """Generate a case into ``out``: ``evidence/``, ``raw/``, ``truth/`` and ``scenario.json``.

    Parameters
    ----------
    out : folder to write, e.g. ``"cases/small"``; its evidence, raw and truth folders are replaced.
    scale : ``"tiny"``, ``"small"``, ``"stockholm"`` or ``"national"``.
    fmt : ``"parquet"`` or ``"csv"``.
    fraud : plant corrupt caseworkers and fake profiles (``--no-fraud`` sets False).
    degrade : degradation specs such as ``"missing-account-id=0.3"``.
    swap_mode : when a swapped session shows the other account: ``"login"`` (from its first
        page, the cases made before swap modes existed), ``"midsession"`` (after one or more
        of the member's own pages) or ``"mixed"``.
    handover : also write the case as an organisation would hand it over into this folder,
        with the mapping that reads it (:mod:`workbench.scenario.handover`).
    """
    if fmt not in FORMATS:
        raise GeneratorError(f"format {fmt!r} is not supported; use one of: {', '.join(FORMATS)}")
    get_scale(scale)  # fail on a bad scale before doing any work
    if swap_mode not in SWAP_MODES:
        raise GeneratorError(f"swap mode {swap_mode!r} is not supported; use one of: {', '.join(SWAP_MODES)}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise GeneratorError(f"seed must be a whole number 0 or above (it seeds numpy's SeedSequence), got {seed!r}")
    degradations = [d if isinstance(d, Degradation) else parse_degrade(d) for d in degrade]
    out = Path(out)
    spool = out / ".spool"  # beside the case, so the interests spool is moved into place, not copied
    try:
        with _heap_kept():
            return _generate(out, spool, scale, seed, fmt, fraud, degradations, swap_mode, handover)
    finally:
        shutil.rmtree(spool, ignore_errors=True)


def _generate(
    out: Path,
    spool: Path,
    scale: str,
    seed: int,
    fmt: str,
    fraud: bool,
    degradations: list[Degradation],
    swap_mode: str,
    handover: str | Path | None,
) -> Generated:
    t0 = time.perf_counter()
    shutil.rmtree(spool, ignore_errors=True)
    mbox = MboxProcess()  # started now: its imports overlap the people step
    try:
        return _build_and_write(out, spool, scale, seed, fmt, fraud, degradations, swap_mode, handover, mbox, t0)
    finally:
        mbox.close()


def _build_and_write(
    out: Path,
    spool: Path,
    scale: str,
    seed: int,
    fmt: str,
    fraud: bool,
    degradations: list[Degradation],
    swap_mode: str,
    handover: str | Path | None,
    mbox: MboxProcess,
    t0: float,
) -> Generated:
    with ThreadPoolExecutor(1, thread_name_prefix="raw") as raw_writer:
        ahead: dict[str, WrittenAhead] = {}

        def write_ahead(step: str, world: World) -> None:
            """Write the tables ``step`` made final in the raw thread, into the spool folder."""
            spool.mkdir(parents=True, exist_ok=True)
            for name in FINAL_AFTER.get(step, ()):
                path = spool / f"{name}.{fmt}"
                ahead[name] = WrittenAhead(
                    raw_writer.submit(_write_table, name, world.tables[name], path, fmt).result, path
                )

        def after(step: str, world: World) -> None:
            """After the incident the page views and support messages are final: degrade them,
            then write the access log, the page-view evidence and the mbox in a thread beside
            the allocation (their polars and pyarrow work releases the GIL); so too every table
            no later step changes."""
            if step != "incident":
                write_ahead(step, world)
                return
            spool.mkdir(parents=True, exist_ok=True)
            log, box = (spool / RAW_NAMES[t] for t in ("page_views", "support_messages"))
            pv = spool / f"page_views.{fmt}"
            # The page views are being rendered in the raw thread (the world's side executor), so
            # these come after them there, the degradations first. The render's temporaries are
            # freed there while the allocation runs, where no step end trims the heap: without
            # giving them back the allocation ran about 1 GB higher at national (7.62 GB peak).
            raw_writer.submit(_release_memory)
            ahead[log.name] = WrittenAhead(raw_writer.submit(_degrade_then_log, world, degradations, log).result, log)
            ahead["page_views"] = WrittenAhead(
                raw_writer.submit(lambda: write_rows("page_views", world.streams["page_views"], pv, fmt)).result, pv
            )
            # The senders' names are final now: the allocation changes queue dates and status and
            # adds fake profiles (who send no messages), never a name.
            mbox.submit(world.tables["support_messages"], world.tables["applicants"], box, spool)
            ahead[box.name] = WrittenAhead(mbox.result, box)
            write_ahead(step, world)

        world, steps = build_world(scale, seed, fraud, swap_mode, spool_dir=spool, after=after, side=raw_writer)

        for sub in ("evidence", "raw", "truth"):
            shutil.rmtree(out / sub, ignore_errors=True)
        t1 = time.perf_counter()
        streams = {**world.streams, **{name: w for name, w in ahead.items() if name in evidence.TABLES}}
        ev_rows = write_evidence(world.tables, out / "evidence", fmt, streams)
        _release_memory()
        truth_rows = write_truth(world.truth, out / "truth", fmt)
        t2 = time.perf_counter()
        steps["write"] = t2 - t1
        # The raw forms carry exactly what the (degraded) evidence carries.
        (out / "raw").mkdir(parents=True)
        for name in (RAW_NAMES["page_views"], RAW_NAMES["support_messages"]):
            ahead[name].write_to(out / "raw" / name)
        steps["raw"] = time.perf_counter() - t2  # what was left of them once the evidence was written
    if handover is not None:
        from .handover import write_handover

        t3 = time.perf_counter()
        # The hand-over is written from whole tables: page views are rendered and the
        # interests read back here, once.
        tables = {**world.tables, **{name: world.table(name) for name in world.streams}}
        write_handover(tables, Path(handover), world.rng("handover"))
        steps["handover"] = time.perf_counter() - t3
    meta = {
        "format_version": evidence.FORMAT_VERSION,
        "scale": scale,
        "seed": seed,
        "format": fmt,
        "fraud": fraud,
        "degrade": [d.spec() for d in degradations],
    }
    if swap_mode != "login":  # absent means login, so cases made before swap modes stay byte-identical
        meta["swap_mode"] = swap_mode
    (out / "scenario.json").write_text(json.dumps(meta, indent=2) + "\n")
    return Generated(out, scale, seed, ev_rows, truth_rows, time.perf_counter() - t0, steps)

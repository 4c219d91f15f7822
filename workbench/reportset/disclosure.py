"""What an auditor or public report set may say about the run, and the leak scan that holds it to that.

Parameters: investigators see every value the run was given. The others see a value that
holds text only for the names in :data:`SHOWN_PARAMETERS`; any other, such as
``extra_report_phrases`` (the investigator's own words, which may name a person), is
summarised, ``3 extra phrases (withheld)``, in the provenance, ``index.html`` and
``report-set.json``. Numbers and true/false are shown: they cannot name anyone.

Leak scan: :func:`leak_check` makes the check that
:func:`~workbench.reportset.contents.write_set` runs on every auditor and public set after
its index is written and before ``report-set.json`` declares it complete. It searches every
file of the set (see :func:`workbench.reportset.leakscan.check_set`) for every direct
identifier of the case and every withheld parameter value. A hit removes ``index.html``,
marks the set failed and raises :class:`~workbench.reportset.leakscan.LeakError`, which
names file, line and kind, never the value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ..audience import Audience
from ..errors import WorkbenchError
from ..i18n import translate

if TYPE_CHECKING:
    import threading

    from ..case import Case
    from .leakscan import Identifiers, Prescanned, ScanResult

__all__ = [
    "EARLY_READ_MAX_ROWS",
    "LARGE_CASE_READ",
    "SHOWN_PARAMETERS",
    "LeakError",
    "SetCheck",
    "SharedIdentifiers",
    "check_set",
    "leak_check",
    "read_identifiers_early",
    "run_identifiers",
    "shared_identifiers",
    "shown_parameters",
]

# Set by `workbench report` itself, or settings the reports state anyway (the language they are
# written in, the zone of every time shown, the period and districts every table is cut to).
SHOWN_PARAMETERS = frozenset(
    {"case_url", "audience", "language", "out_dir", "timezone", "period_start", "period_end", "districts"}
)
_NOUNS = {"extra_report_phrases": ("extra phrase", "extra phrases")}
_PACKAGE = Path(__file__).resolve().parents[1]


class LeakError(WorkbenchError):
    """A report set for auditors or the public holds an identifier or a withheld parameter value."""


def check_set(
    root: str | Path,
    ids: Identifiers,
    *,
    audience: str,
    exclude: Iterable[str] = (),
    texts: Mapping[str, str] | None = None,
    known: Mapping[Path, Prescanned] | None = None,
) -> ScanResult:
    """Scan every file of the report set at ``root`` (and ``texts`` about to be written there); a LeakError on a hit.

    ``known``: files of the set already searched with ``ids`` (:func:`~workbench.reportset.leakscan.prescan`);
    those unchanged since are not searched again.

    The error names each hit's file, line and kind, never the identifier: it goes to a
    terminal and logs that people other than investigators may read.
    """
    from .leakscan import scan, without_figures

    root = Path(root)
    records = [text for name, text in (texts or {}).items() if Path(name).name == "report-set.json"]
    found = without_figures(ids, root, records)
    result = scan([root], found, exclude=exclude, every_file=True, texts=texts, known=known)
    if result.hits:
        shown = [h.where(root) for h in result.hits[:40]]
        more = len(result.hits) - len(shown)
        raise LeakError(
            f"leak scan: the {audience} report set in {root} holds {len(result.hits)} identifier(s) of the evidence "
            f"or value(s) of parameters withheld from {audience}s, so it is NOT complete and must not be "
            "distributed:\n"
            + "\n".join(f"  {w}" for w in shown)
            + (f"\n  … and {more} more" if more else "")
            + "\nOpen each file at its line to see what leaked (the values are not repeated here); fix the "
            "notebook or the parameter and render again."
        )
    return result


class _Summary(str):
    """What stands for a withheld value, e.g. "3 extra phrases (withheld)"; repr writes it without quotes."""

    def __repr__(self) -> str:
        return str(self)


def withheld(name: str, value: object) -> bool:
    """Whether parameter ``name`` with ``value`` is withheld from auditors and the public."""
    return name not in SHOWN_PARAMETERS and not (value is None or isinstance(value, (bool, int, float)))


def shown_parameters(values: Mapping[str, object], audience: str) -> dict[str, object]:
    """``values`` as ``audience`` may read them: each withheld value replaced by a summary of it."""
    if Audience.parse(audience).sees_free_text:
        return dict(values)
    out: dict[str, object] = {}
    for name, value in values.items():
        if not withheld(name, value):
            out[name] = value
        elif isinstance(value, (list, tuple)):
            one, many = _NOUNS.get(name, ("value", "values"))
            out[name] = _Summary(f"{len(value)} {one if len(value) == 1 else many} (withheld)")
        else:
            out[name] = _Summary(translate("text (withheld)"))
    return out


def _own_text(notebooks: Collection[Path]) -> str:
    """What reports say whatever the case: the notebooks, and the package's code and templates."""
    files = [*notebooks, *sorted(_PACKAGE.rglob("*.py")), *sorted((_PACKAGE / "templates").rglob("*.j2"))]
    return "\n".join(f.read_text(encoding="utf-8", errors="replace") for f in files)


EARLY_READ_MAX_ROWS = 50_000_000
"""A case of at most this many loaded rows has its identifiers read from the start of the notebooks' run.

Overlapping the read with the notebooks shortens the run, but the report process then holds
the identifiers while the kernels hold their data. At stockholm (17.7 M rows) the read peaks
at about 0.6 GB; at national (178 M rows) at about 3.7 GB in the report process (1.2 GB of it
DuckDB's cache of the case's blocks), which beside two kernels would take the run's processes
above 8 GB. A larger case reads them as :data:`LARGE_CASE_READ` says.
"""

LARGE_CASE_READ = "free"
"""When and where a case above :data:`EARLY_READ_MAX_ROWS` has its identifiers read.

``"free"``: once a worker is free, that is when only the last notebook is left running (at
national scale, notebook 03 after 00-02 are done), in a child process
(:mod:`workbench.reportset.keyprocess`) whose DuckDB has one thread and a small memory limit;
the report process loads its files when the first leak scan needs them, after the notebooks.
So the read takes the core the finished notebooks used, never runs beside two kernels, and
only the child's peak (about 1.2 GB at national) stands beside notebook 03's kernel.
``"end"``: after every notebook has ended, in the report process, alone (as before the child;
about 96 CPU-s, and up to 5.1 GB with the first-word index of before, at national).
"""


def read_identifiers_early(case: Case, max_rows: int | None = None) -> bool:
    """Whether the case is small enough (rows loaded, from its manifest) to read its identifiers beside the notebooks.

    ``max_rows`` defaults to :data:`EARLY_READ_MAX_ROWS`.
    """
    from ..queries import run

    loaded = run("manifest", case)["rows_loaded"].sum()
    return int(loaded or 0) <= (EARLY_READ_MAX_ROWS if max_rows is None else max_rows)


class SharedIdentifiers:
    """The case's identifiers, read once; each call gives a copy a check may extend.

    Reading them costs about 7-8 CPU-s and 0.6 GB at peak at Stockholm scale (3.9 M distinct
    keys; about 96 CPU-s and 3.7 GB at national): the auditor's and the public's leak scans of
    one run share one reading, held once in a :class:`~workbench.reportset.keytable.KeyTable`.
    :meth:`start` begins the reading in a thread, so it overlaps the notebooks' run instead of
    following it; otherwise the first call reads. With ``child`` the thread has a child process
    read them (:class:`~workbench.reportset.keyprocess.KeyReadProcess`) and the first call
    loads what it wrote. An error in the reading is raised by the first call. :meth:`close`
    ends a child still reading and removes its files.
    """

    def __init__(self, case: Case, *, child: bool = False) -> None:
        import threading
        from concurrent.futures import Future

        self._case = case
        self._lock = threading.Lock()
        self._started: Future[Callable[[], Identifiers]] | None = None
        self._held: Identifiers | None = None
        self.child = None
        if child:
            from .keyprocess import KeyReadProcess

            self.child = KeyReadProcess()

    @property
    def started(self) -> bool:
        return self._started is not None

    def _read(self) -> Callable[[], Identifiers]:
        """What gives the identifiers once read: them, or (in a child) the loading of its files."""
        if self.child is not None:
            from .keyprocess import load

            folder = self.child.run(self._case.url)
            return lambda: load(folder)
        from .leakscan import case_identifiers

        found = case_identifiers(self._case)
        found.prepare()  # the first words' index, once, here: every copy shares it
        return lambda: found

    def start(self) -> None:
        """Begin the reading in a background thread, once; later calls do nothing."""
        from concurrent.futures import ThreadPoolExecutor

        with self._lock:
            if self._started is None:
                pool = ThreadPoolExecutor(1, thread_name_prefix="case-identifiers")
                self._started = pool.submit(self._read)
                pool.shutdown(wait=False)  # the reading runs on; the thread ends with it

    def __call__(self) -> Identifiers:
        self.start()
        assert self._started is not None
        with self._lock:
            if self._held is None:
                self._held = self._started.result()()
                self.close()  # the child's files, loaded: removed
        return self._held.copy()

    def close(self) -> None:
        """End the child if it still reads, and remove its files (nothing without a child)."""
        if self.child is not None:
            self.child.stop()


def shared_identifiers(case: Case, *, background: bool = False, child: bool = False) -> SharedIdentifiers:
    """The case's identifiers, read once for every copy's leak scan (:class:`SharedIdentifiers`).

    With ``background`` the reading starts at once, beside the notebooks' run; with ``child``
    it is done in a child process once started.
    """
    shared = SharedIdentifiers(case, child=child)
    if background:
        shared.start()
    return shared


def run_identifiers(case: Case, scanned: bool) -> SharedIdentifiers:
    """The identifiers of ``workbench report``'s run (``scanned``: some set is leak-scanned).

    A case of at most :data:`EARLY_READ_MAX_ROWS` rows is read at once in a thread; a larger
    one as :data:`LARGE_CASE_READ` says: ``"free"`` in a child process, started by the run
    once a worker is free; ``"end"`` by the first leak scan.
    """
    early = scanned and read_identifiers_early(case)
    return shared_identifiers(case, background=early, child=scanned and not early and LARGE_CASE_READ == "free")


def leak_check(
    case: Case,
    audience: str,
    root: Path,
    plan: Mapping[Path, Mapping[str, object]],
    given: Collection[str],
    progress: Callable[[str], object] | None = None,
    exclude: Callable[[], Iterable[str]] = tuple,
    identifiers: Callable[[], Identifiers] | None = None,
    label: str | None = None,
) -> SetCheck:
    """The check for the set at ``root``: ``check(record)``, ``record`` being ``report-set.json`` about to be written.

    ``label`` names the set in the progress line (``"public-sv"`` for the Swedish public copy);
    default, the audience.

    ``plan`` is each notebook's parameters as read (``plan_parameters``); ``given`` names
    those the investigator gave, whose withheld values are searched for. ``exclude()`` gives
    the library code the pages inline, which is not searched. A value the
    reports' own text holds (a wording such as "kan inte logga in") cannot be told apart
    from that text; it is set aside and counted. :meth:`SetCheck.prescan` searches a
    notebook's pages of the set ahead, as soon as they are written.
    """
    return SetCheck(root, audience, plan, given, progress, exclude, identifiers or shared_identifiers(case), label)


class SetCheck:
    """The leak scan of one set (:func:`leak_check`): ``check(record)`` at its end, and ``prescan(folder)`` before.

    :meth:`prescan` searches files of the set while other notebooks still run, with the keys
    the check searches for before the set's own figures are set aside (more keys, never
    fewer); the check then searches only the files not searched ahead or changed since, and
    keeps, of the hits found ahead, those of its own keys: every file is searched for every
    key, with the hits a search at the end would give.
    """

    def __init__(
        self,
        root: Path,
        audience: str,
        plan: Mapping[Path, Mapping[str, object]],
        given: Collection[str],
        progress: Callable[[str], object] | None,
        exclude: Callable[[], Iterable[str]],
        read: Callable[[], Identifiers],
        label: str | None,
    ) -> None:
        import threading

        self.root, self.audience, self.plan, self.given = root, audience, plan, given
        self.progress, self.exclude, self.read, self.label = progress, exclude, read, label
        self._lock = threading.Lock()
        self._ids: Identifiers | None = None
        self.known: dict[Path, Prescanned] = {}

    def ids(self) -> Identifiers:
        """The case's identifiers and the withheld values of the parameters given, made once."""
        from .leakscan import add_values

        with self._lock:
            if self._ids is None:
                ids = self.read()
                values: dict[str, list[object]] = {}
                for params in self.plan.values():
                    for name, value in params.items():
                        if name in self.given and withheld(name, value):
                            values.setdefault(name, []).append(value)
                own = _own_text(self.plan) if values else ""
                for name, found in values.items():
                    add_values(ids, f"parameter {name}", found, own_text=own)
                self._ids = ids
            return self._ids

    def prescan(self, folder: Path, stop: threading.Event | None = None) -> None:
        """Search the files under ``folder`` (of this set) now; the check will not search them again unless changed."""
        from .leakscan import prescan

        prescan([folder], self.ids(), self.known, exclude=self.exclude(), every_file=True, stop=stop)

    def __call__(self, record: str) -> None:
        from .contents import INDEX_FILE, SET_FILE

        root = self.root
        ids = self.ids()
        try:
            result = check_set(
                root,
                ids,
                audience=self.audience,
                exclude=self.exclude(),
                texts={str(root / SET_FILE): record},
                known=dict(self.known),
            )
        except LeakError:
            (root / INDEX_FILE).unlink(missing_ok=True)  # nothing may look like a finished set
            marker = json.loads((root / SET_FILE).read_text(encoding="utf-8"))
            (root / SET_FILE).write_text(json.dumps({**marker, "failed": "leak scan"}) + "\n", encoding="utf-8")
            raise
        if self.progress:
            keys = sum(len(k) for k in ids.keys.values())
            self.progress(
                f"{self.label or self.audience} leak scan: {keys:,} keys searched in {len(result.files)} files: no hit"
            )

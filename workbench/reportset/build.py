"""Make a report set: run notebooks once for one or several audiences and render each page offline.

:func:`build_report` makes a whole report set: every report notebook (``notebooks/0?_*.ipynb``;
those numbered 10 and up are for live work in JupyterLab) run in parallel, rendered with its
provenance section to self-contained HTML (:mod:`workbench.reportset.render`; code cells are
hidden for every audience but investigators), then an index page and ``report-set.json``
(see :mod:`workbench.reportset.contents`).
For several audiences each notebook still runs once, and each audience's set is rendered from
that audience's outputs only (see :mod:`workbench.reportset.fanout`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

import nbformat

from ..audience import Audience
from ..errors import WorkbenchError
from ..i18n import DEFAULT_LANGUAGE, check_language, t, using
from .inputs import REPORT_GLOB, kernel_case_url, kernel_memory_env, notebook_paths
from .offline import external_references
from .render import MAX_REPORT_BYTES, RenderError, inlined_libraries, notebook_title, render_html
from .static import plain_markdown

__all__ = [
    "AUDIENCES",
    "MAX_REPORT_BYTES",
    "REPORT_GLOB",
    "RenderError",
    "build_report",
    "external_references",
    "inlined_libraries",
    "kernel_case_url",
    "notebook_paths",
    "notebook_title",
    "plain_markdown",
    "render_html",
]

AUDIENCES = tuple(a.value for a in Audience)

BANNERS = {a: t(f"banner.{a}", DEFAULT_LANGUAGE) for a in AUDIENCES}
"""The banner atop each page of a set, in English; ``t(f"banner.{audience}", language)`` in any language."""


def _tidy(folder: Path, executed: Path | None) -> None:
    """Leave only what a reader receives: lock files go, and ``executed`` (a notebook not to keep)."""
    for lock in folder.rglob("*.lock"):
        lock.unlink()
    if executed is not None:
        executed.unlink()


def _folders(root: Path, copies: list, force: bool) -> tuple[dict[str, Path], Path]:
    """Each copy's set folder, claimed, and the private work folder the notebooks run in.

    One copy: its set is ``root`` and the notebooks run there. Several: each set is
    ``root/<copy>`` (``root/public``, ``root/public-sv``), and the executed notebooks, which hold
    every copy's outputs, stay in ``root/.work``, outside every set.
    """
    import shutil

    from .contents import SET_FILE, claim_folder

    if len(copies) == 1:
        return {copies[0].name: claim_folder(root, copies[0].audience, force=force)}, root
    if (root / SET_FILE).is_file():
        raise WorkbenchError(
            f"--out {root} is a report set; with several audiences --out is the folder that gets one set per "
            f"audience ({', '.join(c.name for c in copies)}). Give another folder"
        )
    roots = {c.name: claim_folder(root / c.name, c.audience, force=force) for c in copies}
    work = root / ".work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    return roots, work


def build_report(
    case_url: str,
    audience: str | Sequence[str],
    out_dir: str | Path,
    notebooks: list[str] | None = None,
    parameters: dict | None = None,
    *,
    pdf: bool = False,
    workers: int | None = None,
    text_parameters: Collection[str] = (),
    progress=None,
    cell_timeout: float | None = None,
    force: bool = False,
    notes: str | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> Path:
    """Run each notebook once, render it for ``audience``, and write the report set; returns ``index.html``.

    ``language`` (``"en"`` or ``"sv"``) is passed to every notebook that declares a
    ``language`` parameter, and the pages, the index and ``report-set.json`` are written in it.

    ``audience`` is one audience (``"public"``) or several (``"investigator,auditor,public"``
    or a list); an entry may carry its own language (``"public:sv"``), else it is in
    ``language``. For one, ``out_dir`` is its set; for several, each gets its set in
    ``out_dir/<audience>/`` (``out_dir/public-sv/`` for ``public:sv``) and the index returned is
    the first's. Each notebook runs once whatever the number of sets: what each set shows is
    made in the same run (:mod:`workbench.reportset.fanout`), and each set is rendered from its
    own outputs only.

    Each notebook gets a folder ``<set>/<name>/`` with ``<name>.html``, its
    ``findings.json``, CSVs of long tables (investigator and auditor) and, with ``pdf``, a
    PDF. Investigators also get the executed notebook (their outputs only). A folder that holds a previous report
    set for the audience is replaced; one for another audience only with ``force``; any other
    non-empty folder is refused. ``progress(text)`` is told as
    each report is done. On a failure the failing notebook is kept and named. The values of
    the parameters named in ``text_parameters`` are command-line text, read as declared.
    ``cell_timeout`` (seconds) fails a notebook cell that runs longer.

    The case is fingerprinted before the first notebook, and each notebook checks that
    fingerprint at its start and end (see :mod:`workbench.reportset.fingerprint`): a case
    re-ingested or altered meanwhile stops the run instead of mixing two cases in one set.
    A failed run leaves each set marked incomplete, listing the files it wrote, so the next
    run may replace them. Where the case has a notes database (or ``notes`` names one), the
    notebooks' queries and each set itself are journalled and ``report-set.json`` records the
    journal's head (see :mod:`workbench.notes.journal`).
    """
    from ..audience import pseudonym_key
    from ..case import open_case
    from ..caselock import CaseLock
    from . import disclosure
    from .ahead import AheadScans
    from .contents import ReportEntry, mark_incomplete, write_set
    from .disclosure import leak_check, run_identifiers, shown_parameters
    from .execution import Job, execute_many, plan_parameters, start_order, worker_count
    from .fanout import audience_list, copies, outputs_for
    from .fingerprint import CASE_ENV, FINGERPRINT_ENV, digest, recorded_in
    from .provenance import case_fingerprint, case_label, environment, render_section
    from .story import opening_markdown

    check_language(language)
    sets = copies(audience_list(audience), language)
    audiences = [c.name for c in sets]  # each set by its folder's name: "public", "public-sv"
    copy_of = {c.name: c for c in sets}
    if any(Audience.parse(c.audience).pseudonymised for c in sets):
        pseudonym_key()  # fail now, not in every notebook, when the key is missing
    if pdf:
        from .pdf import find_chromium

        find_chromium()  # likewise a missing Chromium: refused before anything runs, not after
    paths = notebook_paths(notebooks)
    if not paths:
        raise WorkbenchError(f"no report notebooks ({REPORT_GLOB}) found to render")
    if len(audiences) > 1:  # a notebook whose cells cannot be placed fails now, naming the cell
        from .fanout import per_audience_cells

        for nb in paths:
            try:
                per_audience_cells(nbformat.read(str(nb), as_version=4))
            except WorkbenchError as exc:
                raise WorkbenchError(f"{nb.name}: {exc}") from None
    url, env = kernel_case_url(case_url)
    case = open_case(case_url)
    # Held shared for the whole run: an ingest into this case fails instead of replacing it
    # under the notebooks (the fingerprint below still catches a writer that takes no lock).
    lock = CaseLock(case.url, shared=True, purpose="workbench report")
    roots: dict[str, Path] = {}
    case_ids = None
    try:
        lock.acquire()
        fingerprint = case_fingerprint(case)
        env = {**env, FINGERPRINT_ENV: digest(fingerprint), CASE_ENV: url}
        env |= kernel_memory_env(url, large=not disclosure.read_identifiers_early(case))  # DuckDB's cache, per kernel
        root = Path(out_dir).resolve()
        from ..notes.record import report_set_journal

        journals = {}
        for a in audiences:
            out = root if len(audiences) == 1 else root / a
            journal_env, journals[a] = report_set_journal(
                case, notes, audience=copy_of[a].audience, out=out, case_digest=env[FINGERPRINT_ENV]
            )
        env = {**env, **journal_env}
        first = sets[0]
        fixed = {"case_url": url, "audience": first.audience, "language": first.language}
        plan = plan_parameters(paths, parameters or {}, fixed | {"out_dir": ""}, text=text_parameters)
        roots, work = _folders(root, sets, force)
        jobs = []
        for nb in paths:
            dirs = {a: str(roots[a] / nb.stem) for a in audiences}
            params = {**plan[nb], **({"out_dir": dirs[first.name]} if "out_dir" in plan[nb] else {})}
            fan_out = (
                {
                    a: {"audience": copy_of[a].audience, "out_dir": dirs[a], "language": copy_of[a].language}
                    for a in audiences
                }
                if len(audiences) > 1 and "audience" in plan[nb]
                else {}
            )
            jobs.append(Job(nb, work / nb.stem / nb.name, params, env, cell_timeout, fan_out))
        run_env = environment()
        entries: dict[str, dict[Path, ReportEntry]] = {a: {} for a in audiences}

        def render(job: Job, error: str | None) -> None:
            if error:
                return
            executed = nbformat.read(str(job.output), as_version=4)
            for a in audiences:
                entries[a][job.notebook] = _render_one(job, executed, a, roots[a])

        def _render_one(job: Job, executed, name: str, set_root: Path) -> ReportEntry:
            from ..findings import load
            from .translation import translated_cells

            a, language = copy_of[name].audience, copy_of[name].language
            folder, stem = set_root / job.notebook.stem, job.notebook.stem
            folder.mkdir(parents=True, exist_ok=True)
            findings = load(folder)
            given = dict(executed.metadata.get("papermill", {}).get("parameters", {}))
            values = (("audience", a), ("out_dir", str(folder)), ("language", language))
            mine = {k: v for k, v in values if k in given}
            given.update(mine)
            if len(audiences) == 1:  # run in the set's folder: the investigator keeps the executed notebook
                source, drop = job.output, None if a == "investigator" else job.output
            else:  # the executed notebook holds every copy's outputs: render from this copy's own
                own = folder / job.notebook.name if a == "investigator" else job.output.with_suffix(f".{name}.ipynb")
                source, drop = own, None
                nbformat.write(outputs_for(executed, name, mine), str(source))
            if not Audience.parse(a).sees_identifiers:  # local paths name the investigator's machine
                given.pop("out_dir", None)
                if "case_url" in given:
                    given["case_url"] = case_label(case_url, a)
            seen = recorded_in(executed)
            with using(language):  # the section's own words, in the report's language
                section = render_section(
                    audience=a,
                    case=case,
                    case_label=case_label(case_url, a),
                    fingerprint=fingerprint,
                    env=run_env,
                    parameters=shown_parameters(given, a),
                    findings=findings,
                    case_digest=seen,
                )
            try:
                html = render_html(
                    source,
                    folder / f"{stem}.html",
                    audience=a,
                    provenance=section,
                    opening=opening_markdown(stem, findings, language),
                    language=language,
                )
            except WorkbenchError as exc:  # something started that failed, not a bad input (exit 1)
                raise RenderError(str(exc)) from None
            set_journal = journals[name]
            if set_journal is not None:  # the run, before _tidy drops the executed copy of a non-investigator set
                set_journal.notebook(job.notebook.name, html, {**job.parameters, **mine}, seen)
            _tidy(folder, drop)
            if progress:
                progress(f"{name} report: {html}")
            return ReportEntry(
                notebook=stem,
                title=notebook_title(translated_cells(executed, language, stem)) or stem,
                html=f"{stem}/{html.name}",
                findings=f"{stem}/findings.json" if (folder / "findings.json").is_file() else None,
                case_fingerprint=seen,
            )

        try:
            # read once for every audience's leak scan: from the start of the notebooks' run, or for
            # a larger case once a worker is free or after the notebooks (disclosure.LARGE_CASE_READ)
            scanned = any(not Audience.parse(c.audience).sees_identifiers for c in sets)
            case_ids = run_identifiers(case, scanned)
            left, slots = [len(jobs)], worker_count(len(jobs), workers)
            given_names = list(parameters or {})
            checks = {  # the leak scan of each auditor and public set, begun ahead as its pages are rendered
                name: leak_check(
                    case,
                    copy_of[name].audience,
                    roots[name],
                    plan,
                    given_names,
                    progress,
                    exclude=inlined_libraries,
                    identifiers=case_ids,
                    label=name,
                )
                for name in audiences
                if not Audience.parse(copy_of[name].audience).sees_identifiers
            }
            ahead = AheadScans(checks, lambda: case_ids.started)

            def done(job: Job, error: str | None) -> None:
                left[0] -= 1
                if scanned and left[0] < slots and disclosure.LARGE_CASE_READ == "free":
                    case_ids.start()  # a worker is free: the read takes its core (does nothing if started)
                if not left[0]:
                    ahead.stop()  # the last notebook: its pages and the checks are this process's work now
                render(job, error)
                if left[0] and not error:
                    ahead.add({name: roots[name] / job.notebook.stem for name in checks})

            try:
                execute_many(start_order(jobs, workers), workers=workers, on_done=done)
            finally:
                ahead.stop()
            indexes = []
            for name in audiences:
                a, language = copy_of[name].audience, copy_of[name].language
                reports = [entries[name][nb] for nb in paths]
                if pdf:
                    from .pdf import print_pdfs

                    try:
                        printed_pdfs = print_pdfs([roots[name] / r.html for r in reports])
                    except WorkbenchError as exc:
                        raise RenderError(str(exc)) from None
                    for entry, printed in zip(reports, printed_pdfs, strict=True):
                        entry.pdf = printed.relative_to(roots[name]).as_posix()
                if Audience.parse(a).sees_identifiers:
                    shown, check = dict(parameters or {}), None
                else:  # the values as read, for auditors and the public summarised where withheld, and a leak scan
                    parsed = {k: v for nb in paths for k, v in plan[nb].items() if k in given_names}
                    shown = shown_parameters({k: parsed[k] for k in given_names}, a)
                    check = checks[name]
                indexes.append(
                    write_set(
                        roots[name],
                        audience=a,
                        banner=t(f"banner.{a}", language),
                        case_label=case_label(case_url, a),
                        env=run_env,
                        fingerprint=fingerprint,
                        parameters=shown,
                        reports=reports,
                        check=check,
                        journal=journals[name],
                        language=language,
                    )
                )
            return indexes[0]
        except BaseException:
            for name, set_root in roots.items():
                mark_incomplete(set_root, copy_of[name].audience)  # what this run wrote, so the next run may replace it
            raise
    finally:
        if case_ids is not None:
            case_ids.close()  # a child still reading the identifiers ends, its files go
        lock.release()
        case.close()

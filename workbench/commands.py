"""What each ``workbench`` subcommand does, once ``workbench.cli`` has parsed its arguments.

Each function takes the parsed arguments and returns the exit status; ``workbench.cli``
turns a ``WorkbenchError`` into one line on stderr (status 2).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import WorkbenchError

__all__ = ["docs", "findings", "generate", "report", "run", "verify"]


def generate(args: argparse.Namespace) -> int:
    from .scenario import generate

    result = generate(
        args.out,
        scale=args.scale,
        seed=args.seed,
        fmt=args.format,
        fraud=not args.no_fraud,
        degrade=tuple(args.degrade),
        swap_mode=args.swap_mode,
        handover=args.handover,
    )
    print(result.summary())
    if args.handover:
        print(
            f"  hand-over ({args.handover}): read it with `workbench ingest {args.handover} --mapping "
            f"{Path(args.handover) / 'mapping.yaml'}`"
        )
    return 0


def docs(args: argparse.Namespace) -> int:
    from .evidence_docs import render_markdown

    path = Path(args.path)
    text = render_markdown()
    if args.check:
        if not path.is_file() or path.read_text() != text:
            state = (
                "does not exist" if not path.exists() else "is not a file" if not path.is_file() else "is out of date"
            )
            print(
                f"workbench docs: error: {path} {state}; write it from workbench/evidence/tables.py with "
                f"`workbench docs --path {path}`",
                file=sys.stderr,
            )
            return 1
        print(f"{path} matches the declarations")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote {path}")
    return 0


def _given_parameters(args: argparse.Namespace) -> tuple[dict, set[str]]:
    """``--params FILE.yaml`` values (typed by YAML), then ``-p NAME VALUE`` on top.

    Returns the values and the names given with ``-p``, whose text is read as the type the
    notebook declares (``-p timezone 01`` stays text, ``-p alpha 0.05`` is a float).
    """
    given: dict = {}
    if args.params:
        import yaml

        path = Path(args.params)
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise WorkbenchError(f"--params {path}: cannot read it as YAML ({exc})") from None
        if not isinstance(loaded, dict) or not all(isinstance(k, str) for k in loaded):
            raise WorkbenchError(
                f"--params {path} must hold a mapping of parameter names to values, e.g. 'alpha: 0.01'"
            )
        # YAML dates become ISO text, as papermill passes them
        given.update({k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in loaded.items()})
    text = set()
    for name, value in args.p:
        given[name] = value
        text.add(name)
    return given, text


def run(args: argparse.Namespace) -> int:
    from .case import open_case
    from .reportset.build import kernel_case_url, notebook_paths
    from .reportset.execution import Job, NotebookError, execute_many, plan_parameters

    notebooks = notebook_paths(args.notebooks)
    if not notebooks:
        raise WorkbenchError("no notebooks to run")
    open_case(args.case).close()  # a missing case fails here, once, not in every notebook
    url, env = kernel_case_url(args.case)
    notes = _journal_notes(args.case, args.notes)
    if notes is not None:  # the notebooks' queries go to the same journal
        env = {**env, "WORKBENCH_NOTES_URL": notes.render_as_string(hide_password=False)}
    given, text = _given_parameters(args)
    if given.get("audience") == "auditor":
        from .audience import pseudonym_key

        pseudonym_key()  # fail now, with the how-to, rather than inside every notebook
    out = Path(args.out).resolve()
    fixed = {"case_url": url, "out_dir": "", "language": args.language}
    plan = plan_parameters(notebooks, given, fixed, text=text)
    jobs = []
    for nb in notebooks:
        folder = out / nb.stem
        params = {**plan[nb], **({"out_dir": str(folder)} if "out_dir" in plan[nb] else {})}
        for stale in ("findings.json", "findings.json.lock"):  # findings merge into an existing file
            (folder / stale).unlink(missing_ok=True)
        jobs.append(Job(nb, folder / nb.name, params, env, args.cell_timeout))

    def done(job: Job, error: str | None) -> None:
        if error is None:
            findings = job.output.parent / "findings.json"
            also = f"; findings → {findings}" if findings.is_file() else ""
            print(f"{job.notebook.name}: executed → {job.output}{also}")
            if notes is not None:
                from .notes.record import record_notebook

                record_notebook(args.case, notes, job.notebook.name, job.output, job.parameters)

    try:
        execute_many(jobs, workers=args.workers, on_done=done)
    except NotebookError as exc:
        print(f"workbench run: error: {exc}", file=sys.stderr)
        return 1
    return 0


def _journal_notes(case: str, notes: str | None):
    """The notes database a run's acts are journalled to: ``--notes``, else the case's if it has one, else None."""
    from .case import case_url
    from .notes import notes_url
    from .notes.record import location

    return notes_url(case_url(case), notes) if notes is not None else location(case_url(case))


def report(args: argparse.Namespace) -> int:
    from .reportset.build import RenderError, build_report
    from .reportset.disclosure import LeakError
    from .reportset.execution import NotebookError, ParameterError

    given, text = _given_parameters(args)
    try:
        index = build_report(
            args.case,
            args.audience,
            args.out,
            parameters=given,
            pdf=args.pdf,
            workers=args.workers,
            text_parameters=text,
            progress=print,
            cell_timeout=args.cell_timeout,
            force=args.force,
            notes=args.notes,
            language=args.language,
        )
    except ParameterError:
        raise  # a bad value, refused before anything ran: status 2 (main)
    except (NotebookError, RenderError, LeakError) as exc:  # something started that failed: status 1
        print(f"workbench report: error: {exc}", file=sys.stderr)
        return 1
    for entry in args.audience:
        name = entry.replace(":", "-")  # public:sv is written to OUT/public-sv
        print(f"{name} index: {index if len(args.audience) == 1 else index.parents[1] / name / index.name}")
    return 0


def verify(args: argparse.Namespace) -> int:
    from .reportset.verification import verify

    result = verify(args.dir, args.case, notes=args.notes)
    print(result.summary(), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def _shown(value, name: str | None = None) -> str:
    """A recorded value as the reports show it: times in the display zone, lists with their length."""
    from .values import format_value

    shown = format_value(value, name)
    return f"{len(value)} ({shown})" if isinstance(value, list) and value else shown


def findings(args: argparse.Namespace) -> int:
    from .findings import FILENAME, load

    root = Path(args.dir)
    files = sorted(root.rglob(FILENAME)) if root.is_dir() else []
    if not files:
        why = (
            "the folder does not exist"
            if not root.exists()
            else "it is a file, not a folder"
            if not root.is_dir()
            else f"it holds no {FILENAME}"
        )
        print(
            f"workbench findings: error: no findings under {root}: {why}; give the folder of a report set or "
            "of `workbench run`, e.g. build/demo/reports/investigator",
            file=sys.stderr,
        )
        return 1
    if args.headlines:
        return _headlines(files)
    for i, path in enumerate(files):
        if i:
            print()
        print(f"{path.parent.name} ({path}):")
        for name, entry in load(path.parent).items():
            print(f"  {entry['description']:<48} {_shown(entry['value'], name)}")
    return 0


def _headlines(files: list[Path]) -> int:
    """Print the headline figures (workbench.reportset.contents.HEADLINES) found in ``files``, in that order."""
    from .findings import load
    from .reportset.contents import HEADLINES

    recorded = [(path, load(path.parent)) for path in files]
    shown = 0
    for name in HEADLINES:
        found = next(((path, f[name]) for path, f in recorded if name in f), None)
        if found is None:
            continue
        path, entry = found
        print(f"  {entry['description']:<48} {_shown(entry['value'], name)}   [{name}, {path.parent.name}]")
        shown += 1
    if not shown:
        print(f"  none of the headline figures ({', '.join(HEADLINES)}) is recorded yet")
    return 0

"""The ``workbench`` command: generate cases, ingest evidence, run notebooks, render and verify reports.

A mistake in what a user typed (a missing case, an unknown notebook, a bad parameter) ends
with one line ``workbench COMMAND: error: ...`` on stderr and a non-zero exit status, never
a traceback: 2 for usage errors and refused input, 1 when something that was started
failed (a notebook, differences found by ``verify``, a file that could not be written).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .errors import WorkbenchError

__all__ = ["build_parser", "main"]

# Shown by `workbench --help`; the module docstring is for readers of the code.
_DESCRIPTION = (
    "The housing-queue investigation workbench: generate cases, ingest evidence, run notebooks, "
    "render and verify reports."
)
_EPILOG = """\
from evidence to a verified report set:
  workbench generate --scale small --seed 1 --out cases/small
  workbench ingest cases/small/evidence --case cases/small/case.duckdb
  workbench report --case cases/small/case.duckdb --audience public --out reports/public
  workbench verify reports/public --case cases/small/case.duckdb

Run 'workbench COMMAND --help' for a command's options and an example.
"""
_AUDIENCE_HELP = (
    "who the report set is for: investigator sees everything, personal data and code included; "
    "auditor sees every row with direct identifiers replaced by pseudonyms and free text withheld "
    "(needs WORKBENCH_PSEUDONYM_KEY); public sees aggregates only, with counts of 1-4 in breakdowns shown as 1-4. "
    "Several, comma-separated (investigator,auditor,public), run each notebook once and write one set per "
    "audience under --out"
)


def _generate(args: argparse.Namespace) -> int:
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


def _docs(args: argparse.Namespace) -> int:
    from .evidence_docs import render_markdown

    path = Path(args.path)
    text = render_markdown()
    if args.check:
        if not path.is_file() or path.read_text() != text:
            state = (
                "does not exist" if not path.exists() else "is not a file" if not path.is_file() else "is out of date"
            )
            print(
                f"workbench docs: error: {path} {state}; write it from workbench/evidence.py with "
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


def _run(args: argparse.Namespace) -> int:
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


def _audiences(text: str) -> list[str]:
    """``--audience``: one audience or several, comma-separated (``investigator,auditor,public``)."""
    from .reportset.fanout import audience_list

    try:
        return audience_list(text)
    except WorkbenchError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _report(args: argparse.Namespace) -> int:
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
    for audience in args.audience:
        print(f"{audience} index: {index if len(args.audience) == 1 else index.parents[1] / audience / index.name}")
    return 0


def _language_option(parser: argparse.ArgumentParser) -> None:
    from .i18n import DEFAULT_LANGUAGE, LANGUAGES

    parser.add_argument(
        "--language",
        choices=LANGUAGES,
        default=DEFAULT_LANGUAGE,
        help="the language the reports are written in: en (English, the default) or sv (Swedish); "
        "passed to every notebook as its language parameter",
    )


def _verify(args: argparse.Namespace) -> int:
    from .reportset.verification import verify

    result = verify(args.dir, args.case, notes=args.notes)
    print(result.summary(), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def _shown(value, name: str | None = None) -> str:
    """A recorded value as the reports show it: times in the display zone, lists with their length."""
    from .values import format_value

    shown = format_value(value, name)
    return f"{len(value)} ({shown})" if isinstance(value, list) and value else shown


def _findings(args: argparse.Namespace) -> int:
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


def _positive(kind: type):
    """An argparse type: a number of ``kind`` above zero, e.g. ``--workers 2``."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not value > 0:  # NaN is not above 0 either
            noun = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"must be {noun} above 0, got {text!r}")
        return value

    return parse


def _notebook_names() -> list[str]:
    """The notebooks ``workbench run`` knows by name: the stems of ``notebooks/*.ipynb``."""
    from .reportset.execution import NOTEBOOKS_DIR

    return sorted(p.stem for p in NOTEBOOKS_DIR.glob("*.ipynb"))


def _command(sub, name: str, summary: str, example: str) -> argparse.ArgumentParser:
    """A subcommand whose --help starts with the one-line ``summary`` and ends with ``example``."""
    return sub.add_parser(
        name,
        help=summary[0].lower() + summary[1:].rstrip("."),
        description=summary,
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .scenario import FORMATS, SCALES
    from .scenario.degrade import MODES
    from .scenario.world import SWAP_MODES

    parser = argparse.ArgumentParser(
        prog="workbench", description=_DESCRIPTION, epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    g = _command(
        sub,
        "generate",
        "Generate a synthetic case with planted truth: evidence/, raw/ and truth/ under --out.",
        "workbench generate --scale small --seed 1 --out cases/small",
    )
    g.add_argument("--scale", choices=list(SCALES), default="small", help="size of the city (default: small)")
    g.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives byte-identical files")
    g.add_argument("--out", required=True, help="folder to write evidence/, raw/, truth/ into")
    g.add_argument("--format", choices=FORMATS, default="parquet", help="file format (default: parquet)")
    g.add_argument("--no-fraud", action="store_true", help="plant no corrupt caseworkers or fake profiles")
    g.add_argument(
        "--swap-mode",
        choices=SWAP_MODES,
        default="login",
        help="when a swapped session shows the other account: from its first page (login, the default), "
        "only after one or more of the member's own pages (midsession), or either (mixed)",
    )
    g.add_argument(
        "--degrade",
        action="append",
        default=[],
        metavar="MODE",
        help="degrade the evidence, repeatable: " + "; ".join(MODES.values()),
    )
    g.add_argument(
        "--handover",
        metavar="DIR",
        default=None,
        help="also write the case as an organisation would hand it over (a SQLite queue system, Windows-1252 "
        "CSV exports in local time, an IIS log, .eml mail) into DIR, with DIR/mapping.yaml that reads it back",
    )
    g.set_defaults(func=_generate)

    d = _command(
        sub,
        "docs",
        "Render docs/evidence-format.md from the declarations in workbench/evidence.py.",
        "workbench docs --check",
    )
    d.add_argument(
        "--path", default="docs/evidence-format.md", help="where to write (default: docs/evidence-format.md)"
    )
    d.add_argument("--check", action="store_true", help="fail if the file differs instead of writing it")
    d.set_defaults(func=_docs)

    def notebook_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--case",
            required=True,
            help="case database: a SQLite or DuckDB file, or a URL such as duckdb:///case.duckdb; "
            "a relative path is looked for in the current folder, then in the project folder",
        )
        p.add_argument(
            "-p",
            nargs=2,
            action="append",
            default=[],
            metavar=("NAME", "VALUE"),
            help="a notebook parameter, read as the type the notebook declares (repeatable); "
            """a list is written as YAML in quotes, e.g. -p extra_report_phrases '["my phrase"]'""",
        )
        p.add_argument("--params", metavar="FILE.yaml", help="notebook parameters from a YAML mapping; -p wins")
        p.add_argument(
            "--workers",
            type=_positive(int),
            default=None,
            metavar="N",
            help="notebooks run at once in separate processes (default: the number of CPUs)",
        )
        p.add_argument(
            "--cell-timeout",
            type=_positive(float),
            default=None,
            metavar="SECONDS",
            help="fail a notebook cell that runs longer than this (default: no limit)",
        )

    names = _notebook_names()
    r = _command(
        sub,
        "run",
        "Execute notebooks headless with papermill; each gets OUT/<name>/ with its findings.json.",
        "workbench run 00_case_overview --case build/demo/case/case.duckdb -p timezone UTC --out runs/",
    )
    r.add_argument(
        "notebooks",
        nargs="+",
        metavar="NOTEBOOK",
        help=(f"a notebook name ({', '.join(names)}), " if names else "")
        + "a path to a .ipynb, or 'all' (every report notebook 00-09)",
    )
    notebook_options(r)
    _language_option(r)
    r.add_argument(
        "--out", required=True, help="folder for the executed notebooks; each gets OUT/<name>/ with findings.json"
    )
    r.set_defaults(func=_run)

    rp = _command(
        sub,
        "report",
        "Run every report notebook for one audience and write an offline report set.",
        "workbench report --case build/demo/case/case.duckdb --audience public --out build/demo/reports/public",
    )
    notebook_options(rp)
    _language_option(rp)
    rp.add_argument("--audience", required=True, type=_audiences, help=_AUDIENCE_HELP)
    rp.add_argument(
        "--out",
        required=True,
        help="folder for the report set: a new or empty folder, or a previous set for the same audience; "
        "with several audiences, the folder that gets one set per audience (OUT/public/, ...)",
    )
    rp.add_argument(
        "--force",
        action="store_true",
        help="replace a report set for another audience in --out (it is refused otherwise)",
    )
    rp.add_argument("--pdf", action="store_true", help="also print each report to PDF with headless Chromium")
    rp.set_defaults(func=_report)

    v = _command(
        sub,
        "verify",
        "Check a report set against its hashes and against the case's evidence.",
        "workbench verify build/demo/reports/public --case build/demo/case/case.duckdb",
    )
    v.add_argument("dir", metavar="DIR", help="a report set folder, e.g. build/demo/reports/public")
    v.add_argument("--case", required=True, help="the case the reports claim to come from (a path or a URL)")
    v.set_defaults(func=_verify)

    f = _command(
        sub,
        "findings",
        "Print the findings recorded under a report folder, as the reports show them.",
        "workbench findings build/demo/reports/investigator --headlines",
    )
    f.add_argument(
        "dir", metavar="DIR", help="a folder holding findings.json files, e.g. build/demo/reports/investigator"
    )
    f.add_argument(
        "--headlines",
        action="store_true",
        help="only the headline figures: exposed accounts, changes by others, time to contain, caseworkers flagged",
    )
    f.set_defaults(func=_findings)

    from .ingest import add_ingest_command
    from .mapping.command import add_map_command, add_mapping_option

    add_mapping_option(add_ingest_command(sub))
    add_map_command(sub)

    from .notes.command import add_journal_command, add_notes_command, add_notes_option

    add_notes_command(sub)
    add_journal_command(sub)
    for journalled in (r, rp, v):  # their acts are journalled, and verify checks the head a set recorded
        add_notes_option(journalled)
    return parser


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush into a closed pipe is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout without a file descriptor (captured): nothing to silence
        pass


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        status = args.func(args)
        sys.stdout.flush()  # a reader that went away (`| head`) shows here, not at exit
        return status
    except BrokenPipeError:
        # The reader has what it wanted; say nothing, and exit as a command killed by SIGPIPE would.
        _silence_stdout()
        return 141
    except WorkbenchError as exc:
        print(f"workbench {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a folder or file the user named that cannot be read or written
        reason = f"cannot use {exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc)
        print(f"workbench {args.command}: error: {reason}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())

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

from . import commands
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
    "audience under --out. An audience may carry its own language after a colon (public:sv, written to "
    "OUT/public-sv); the others are in --language: investigator,auditor,public,public:sv makes four sets "
    "from one run of each notebook"
)


def _audiences(text: str) -> list[str]:
    """``--audience``: one audience or several, comma-separated (``investigator,auditor,public``)."""
    from .reportset.fanout import audience_list

    try:
        return audience_list(text)
    except WorkbenchError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _language_option(parser: argparse.ArgumentParser) -> None:
    from .i18n import DEFAULT_LANGUAGE, LANGUAGES

    parser.add_argument(
        "--language",
        choices=LANGUAGES,
        default=DEFAULT_LANGUAGE,
        help="the language the reports are written in: en (English, the default) or sv (Swedish); "
        "passed to every notebook as its language parameter (for report: the language of each --audience "
        "entry that names none)",
    )


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
    g.set_defaults(func=commands.generate)

    d = _command(
        sub,
        "docs",
        "Render docs/evidence-format.md from the declarations in workbench/evidence/tables.py.",
        "workbench docs --check",
    )
    d.add_argument(
        "--path", default="docs/evidence-format.md", help="where to write (default: docs/evidence-format.md)"
    )
    d.add_argument("--check", action="store_true", help="fail if the file differs instead of writing it")
    d.set_defaults(func=commands.docs)

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
    r.set_defaults(func=commands.run)

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
    rp.set_defaults(func=commands.report)

    v = _command(
        sub,
        "verify",
        "Check a report set against its hashes and against the case's evidence.",
        "workbench verify build/demo/reports/public --case build/demo/case/case.duckdb",
    )
    v.add_argument("dir", metavar="DIR", help="a report set folder, e.g. build/demo/reports/public")
    v.add_argument("--case", required=True, help="the case the reports claim to come from (a path or a URL)")
    v.set_defaults(func=commands.verify)

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
    f.set_defaults(func=commands.findings)

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
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM during a report's notebooks (reportset/stopping.py)
        from .reportset.stopping import exit_status

        print(
            f"workbench {args.command}: stopped ({exc or 'SIGINT'}); what it was writing is incomplete", file=sys.stderr
        )
        return exit_status(exc)
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

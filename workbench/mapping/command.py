"""``workbench ingest SOURCE --mapping M`` and ``workbench map init|check``, for ``workbench/cli.py`` to mount."""

from __future__ import annotations

import argparse
import sys

from ..errors import WorkbenchError

__all__ = ["add_map_command", "add_mapping_option"]

_MAP_HELP = """\
Help writing a mapping for evidence as an organisation hands it over.

  workbench map init SOURCE [--out mapping.yaml]
      inspects the files (CSV in any dialect, Parquet, JSON Lines, IIS and nginx/Apache
      logs, .eml folders, Maildirs, mboxes) and SQLite databases under SOURCE, and writes a
      draft mapping: each v1 table's input by a global assignment (an input with under 60 %
      of a table's required columns is left unplaced, with the reason; a case database is
      skipped), each v1 column's source by name (Swedish and English synonyms) and values,
      value maps for yes/no and enumerated columns, and TODO only where a person must
      decide (an unknown value, a required column not found).
  workbench map check SOURCE --mapping mapping.yaml
      shows the first rows of every mapped table as the case would hold them, and every
      problem found (mapping errors, missing columns, quarantined rows with their reasons),
      without writing a case.
"""


def add_mapping_option(ingest_parser: argparse.ArgumentParser) -> None:
    """Give ``workbench ingest`` the ``--mapping`` option, dispatching to the mapped ingest when given."""
    ingest_parser.add_argument(
        "--mapping",
        metavar="MAPPING",
        default=None,
        help="a mapping file (YAML) saying how the files, logs, mail folders or database under EVIDENCE_DIR "
        "make the v1 tables; see `workbench map --help` and docs/evidence-format.md",
    )
    plain = ingest_parser.get_default("func")

    def run(args: argparse.Namespace) -> int:
        if args.mapping is None:
            return plain(args)
        from .run import ingest_mapped

        try:
            report = ingest_mapped(args.evidence_dir, args.mapping, case_url=args.case, progress=args.progress)
        except WorkbenchError as exc:
            print(f"workbench ingest: error: {exc}", file=sys.stderr)
            return 1
        print(report.format())
        return 0

    ingest_parser.set_defaults(func=run)


def add_map_command(subparsers: argparse._SubParsersAction) -> None:
    """Add ``workbench map init`` and ``workbench map check``."""
    parser = subparsers.add_parser(
        "map",
        help="draft and check a mapping for evidence as handed over",
        description=_MAP_HELP,
        epilog="example:\n  workbench map init handover --out handover/mapping.yaml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="map_command", required=True, metavar="ACTION")
    init = sub.add_parser("init", help="write a draft mapping for the evidence under SOURCE")
    init.add_argument("source", metavar="SOURCE", help="folder of the hand-over")
    init.add_argument(
        "--out", default=None, help="where to write the draft (default: SOURCE/mapping.yaml; never overwritten)"
    )
    init.set_defaults(func=_init)
    check = sub.add_parser("check", help="show the first rows of every mapped table and every problem")
    check.add_argument("source", metavar="SOURCE", help="folder of the hand-over")
    check.add_argument("--mapping", required=True, help="the mapping file")
    check.add_argument("--rows", type=int, default=5, help="rows shown per table (default: 5)")
    check.set_defaults(func=_check)


def _init(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .draft import write_draft

    out = Path(args.out) if args.out else Path(args.source) / "mapping.yaml"
    try:
        text, notes = write_draft(Path(args.source), out)
    except (WorkbenchError, FileExistsError) as exc:
        print(f"workbench map init: error: {exc}", file=sys.stderr)
        return 1
    todo = sum("TODO" in line for line in text.splitlines() if not line.startswith("#"))
    print(f"Wrote a draft mapping to {out}: {len(text.splitlines())} lines, {todo} with a TODO to fill in.")
    for note in notes:
        print(f"  {note}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .check import check

    text, ok = check(Path(args.source), Path(args.mapping), rows=args.rows)
    print(text)
    return 0 if ok else 1

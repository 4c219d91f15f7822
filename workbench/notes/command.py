"""``workbench notes add|list|export`` and ``workbench journal init|show|verify``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_journal_command", "add_notes_command", "add_notes_option"]

_CASE_HELP = "the case database (a path or URL); it is opened read-only"
_NOTES_HELP = (
    "the notes database: a SQLite file or a PostgreSQL URL for a team "
    "(default: WORKBENCH_NOTES_URL, else CASE.notes.sqlite beside a file case)"
)
_COLUMNS = ("annotation_id", "version", "kind", "key", "tags", "state", "note", "reason", "analyst", "at")


def add_notes_option(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--notes URL`` to a command."""
    p.add_argument("--notes", metavar="URL", default=None, help=_NOTES_HELP)
    return p


def _command(sub, name: str, summary: str, example: str) -> argparse.ArgumentParser:
    return sub.add_parser(
        name,
        help=summary[0].lower() + summary[1:].rstrip("."),
        description=summary,
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _case_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--case", required=True, help=_CASE_HELP)
    add_notes_option(p)


def _add(args: argparse.Namespace) -> int:
    from .store import annotate

    a = annotate(args.case, args.kind, args.key, tag=args.tag or None, note=args.note, notes=args.notes)
    print(f"annotation {a.annotation_id} on {a.kind} {a.key}: {', '.join(a.tags) or 'no tags'}")
    return 0


def _frame(args: argparse.Namespace):
    import polars as pl

    from .store import Notes

    with Notes(args.case, args.notes) as store:
        rows = store.history() if args.history else store.current(args.kind, withdrawn=args.withdrawn)
        if args.history and args.kind:
            rows = [a for a in rows if a.kind == args.kind.replace(" ", "_").replace("-", "_")]
    data = [{**a.as_dict(), "tags": " ".join(a.tags)} for a in rows]
    return pl.DataFrame(data, schema={c: pl.Int64 if c == "version" else pl.String for c in _COLUMNS})


def _list(args: argparse.Namespace) -> int:
    frame = _frame(args)
    if frame.is_empty():
        print("no annotations")
        return 0
    for r in frame.iter_rows(named=True):
        note = r["note"] if len(r["note"]) <= 60 else r["note"][:59] + "…"
        print(
            f"{r['annotation_id'][:8]} v{r['version']} {r['kind']:<15} {r['key']:<18} {r['state']:<9} "
            f"[{r['tags']}] {r['analyst']} {r['at']}  {note}"
        )
    return 0


def _export(args: argparse.Namespace) -> int:
    from ..csvout import csv_text, write_csv
    from .journal import file_sha256
    from .record import activate, record
    from .store import Notes

    frame = _frame(args)
    out = Path(args.out) if args.out else None
    if out is None:
        sys.stdout.write(
            json.dumps(frame.to_dicts(), indent=2, ensure_ascii=False) + "\n"
            if args.format == "json"
            else csv_text(frame)
        )
        return 0
    with Notes(args.case, args.notes) as store:  # the export is an act: its path and sha256 go to the journal
        fingerprint = store.fingerprint()
        if args.format == "json":
            out.write_text(json.dumps(frame.to_dicts(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            record(store.url, "export", {"path": str(out.resolve()), "sha256": file_sha256(out)}, fingerprint)
        else:
            activate(store.url, fingerprint)
            write_csv(frame, out)  # journalled by the CSV writer's hook
    print(f"wrote {frame.height} annotations to {out}")
    return 0


def add_notes_command(sub) -> None:
    """Mount ``workbench notes add|list|export``."""
    from .store import KINDS, VOCABULARY

    notes = _command(
        sub,
        "notes",
        "Annotations on a case: tags and comments kept beside it, never in it.",
        "workbench notes list --case build/demo/case/case.duckdb",
    )
    actions = notes.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = _command(
        actions,
        "add",
        "Tag or comment on a session, account, support message, profile change, allocation or caseworker.",
        "workbench notes add --case case.duckdb session 9f2c4e1a7b3d5f60 --tag confirmed --note 'seen in the log'",
    )
    _case_options(a)
    a.add_argument("kind", choices=list(KINDS), help="what is annotated")
    a.add_argument("key", help="its key in the case, e.g. a session_id or applicant_id")
    a.add_argument(
        "--tag", action="append", default=[], help=f"repeatable: {', '.join(VOCABULARY)}, or a free tag (a short slug)"
    )
    a.add_argument("--note", default=None, help="a comment")
    a.set_defaults(func=_add)
    for name, summary, func in (
        ("list", "Print the annotations on a case.", _list),
        ("export", "Export the annotations on a case as CSV or JSON.", _export),
    ):
        p = _command(actions, name, summary, f"workbench notes {name} --case build/demo/case/case.duckdb")
        _case_options(p)
        p.add_argument("--kind", choices=list(KINDS), default=None, help="only annotations of this kind")
        p.add_argument("--withdrawn", action="store_true", help="include withdrawn annotations")
        p.add_argument("--history", action="store_true", help="every version, not only the latest")
        if name == "export":
            p.add_argument("--format", choices=("csv", "json"), default="csv", help="(default: csv)")
            p.add_argument("--out", default=None, metavar="FILE", help="write here (default: standard output)")
        p.set_defaults(func=func)


def _summary(details: dict[str, Any], act: str) -> str:
    if act == "query":
        return f"{details.get('query')} on {details.get('engine')}: {details.get('rows')} rows"
    if act == "export":
        return f"{details.get('path')} sha256 {str(details.get('sha256'))[:16]}…"
    if act == "annotation":
        tags = ",".join(details.get("tags") or [])
        return f"{details.get('kind')} {details.get('key')} v{details.get('version')} {details.get('state')} [{tags}]"
    if act == "notebook":
        return f"{details.get('notebook')} → {details.get('output')}"
    if act == "report_set":
        return f"{details.get('audience')} set {details.get('out')}"
    return json.dumps(details, ensure_ascii=False)[:80]


def _show(args: argparse.Namespace) -> int:
    from .verify import journal_entries

    rows = journal_entries(args.case, args.notes)
    if args.json:
        print(json.dumps([e.as_dict() for e in rows], indent=2, ensure_ascii=False))
        return 0
    if not rows:
        print("the journal is empty")
    for e in rows:
        print(f"{e.seq:>5} {e.at} {e.analyst:<12} {e.act:<10} {_summary(json.loads(e.details), e.act)}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from .verify import verify_journal

    chain, annotations = verify_journal(args.case, args.notes, args.head)
    print(chain.summary(), file=sys.stdout if chain.ok else sys.stderr)
    for problem in annotations:
        print(f"annotations NOT verified: {problem}", file=sys.stderr)
    return 0 if chain.ok and not annotations else 1


def _init(args: argparse.Namespace) -> int:
    from .record import record
    from .store import Notes

    with Notes(args.case, args.notes) as store:
        entry = record(
            store.url, "start", {"case": store.case.url.render_as_string(hide_password=True)}, store.fingerprint()
        )
        print(f"journal of {store.url.database or store.url} started at entry {entry.seq}")
    return 0


def add_journal_command(sub) -> None:
    """Mount ``workbench journal init|show|verify``."""
    journal = _command(
        sub,
        "journal",
        "The case's journal: every query, export, annotation, notebook run and report set, hash-chained.",
        "workbench journal verify --case build/demo/case/case.duckdb",
    )
    actions = journal.add_subparsers(dest="action", required=True, metavar="ACTION")
    i = _command(
        actions,
        "init",
        "Start the journal (and notes database) of a case, so queries on it are journalled from now on.",
        "workbench journal init --case build/demo/case/case.duckdb",
    )
    _case_options(i)
    i.set_defaults(func=_init)
    s = _command(actions, "show", "Print the journal, oldest entry first.", "workbench journal show --case case.duckdb")
    _case_options(s)
    s.add_argument("--json", action="store_true", help="every field of every entry, as JSON")
    s.set_defaults(func=_show)
    v = _command(
        actions,
        "verify",
        "Recompute the journal's hash chain and name the first entry altered, inserted or removed.",
        "workbench journal verify --case case.duckdb --head 3f9a…",
    )
    _case_options(v)
    v.add_argument("--head", default=None, help="a head hash recorded elsewhere (a report set's journal_head)")
    v.set_defaults(func=_verify)

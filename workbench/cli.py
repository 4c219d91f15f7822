"""The ``workbench`` command: generate cases, ingest evidence, render the format docs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import WorkbenchError

__all__ = ["main", "build_parser"]


def _generate(args: argparse.Namespace) -> int:
    from .scenario import generate

    result = generate(
        args.out,
        scale=args.scale,
        seed=args.seed,
        fmt=args.format,
        fraud=not args.no_fraud,
        degrade=tuple(args.degrade),
    )
    print(result.summary())
    return 0


def _docs(args: argparse.Namespace) -> int:
    from .evidence import render_markdown

    path = Path(args.path)
    text = render_markdown()
    if args.check:
        if not path.exists() or path.read_text() != text:
            print(f"{path} is out of date with workbench/evidence.py: run `workbench docs`", file=sys.stderr)
            return 1
        print(f"{path} matches the declarations")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote {path}")
    return 0


def _parameters(pairs: list[list[str]]) -> dict:
    import yaml

    # YAML scalars, as papermill's -y does: 3 → int, 0.5 → float, true → bool, else text.
    return {name: yaml.safe_load(value) if value.strip() else value for name, value in pairs}


def _run(args: argparse.Namespace) -> int:
    from .execute import execute
    from .report import notebook_paths

    from .case import case_url

    params = {"case_url": case_url(args.case).render_as_string(hide_password=False), **_parameters(args.p)}
    for nb in notebook_paths(args.notebooks):
        folder = Path(args.out) / nb.stem
        executed = execute(nb, folder / nb.name, {**params, "out_dir": str(folder.resolve())})
        print(f"{nb.name}: executed → {executed}; findings → {folder / 'findings.json'}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from .report import build_report

    for page in build_report(args.case, args.audience, args.out, parameters=_parameters(args.p)):
        print(f"{args.audience} report: {page}")
    return 0


def _findings(args: argparse.Namespace) -> int:
    from .findings import FILENAME, load

    files = sorted(Path(args.dir).rglob(FILENAME))
    if not files:
        print(f"no {FILENAME} under {args.dir}", file=sys.stderr)
        return 1
    for path in files:
        print(f"Headline findings ({path}):")
        for name, entry in load(path.parent).items():
            value = entry["value"]
            if isinstance(value, dict):
                value = f"{value['likely']} (between {value['min']} and {value['max']})"
            print(f"  {entry['description']:<48} {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .scenario import FORMATS, SCALES
    from .scenario.degrade import MODES

    parser = argparse.ArgumentParser(prog="workbench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    g = sub.add_parser("generate", help="generate a synthetic case with planted truth")
    g.add_argument("--scale", choices=list(SCALES), default="small", help="size of the city (default: small)")
    g.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives byte-identical files")
    g.add_argument("--out", required=True, help="folder to write evidence/, raw/, truth/ into")
    g.add_argument("--format", choices=FORMATS, default="parquet", help="file format (default: parquet)")
    g.add_argument("--no-fraud", action="store_true", help="plant no corrupt caseworkers or fake profiles")
    g.add_argument(
        "--degrade",
        action="append",
        default=[],
        metavar="MODE",
        help="degrade the evidence, repeatable: " + "; ".join(MODES.values()),
    )
    g.set_defaults(func=_generate)

    d = sub.add_parser("docs", help="render docs/evidence-format.md from the declarations")
    d.add_argument("--path", default="docs/evidence-format.md")
    d.add_argument("--check", action="store_true", help="fail if the file differs instead of writing it")
    d.set_defaults(func=_docs)

    r = sub.add_parser("run", help="execute notebooks headless with papermill")
    r.add_argument("notebooks", nargs="+", metavar="NOTEBOOK", help="notebook names or paths, or 'all'")
    r.add_argument("--case", required=True, help="case database URL or SQLite path")
    r.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"), help="a notebook parameter")
    r.add_argument("--out", required=True, help="folder for executed notebooks and findings.json")
    r.set_defaults(func=_run)

    rp = sub.add_parser("report", help="run every notebook for one audience and render offline HTML")
    rp.add_argument("--case", required=True, help="case database URL or SQLite path")
    rp.add_argument("--audience", required=True, choices=["investigator", "auditor", "public"])
    rp.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"), help="a notebook parameter")
    rp.add_argument("--out", required=True, help="folder for the rendered reports")
    rp.set_defaults(func=_report)

    f = sub.add_parser("findings", help="print the recorded findings under a report folder")
    f.add_argument("dir", help="a folder holding findings.json files, e.g. build/demo/reports/investigator")
    f.set_defaults(func=_findings)

    from .ingest import add_ingest_command

    add_ingest_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except WorkbenchError as exc:
        print(f"workbench {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())

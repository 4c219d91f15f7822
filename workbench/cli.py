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

    try:
        from .ingest import add_ingest_command
    except ImportError:  # ingest not installed in this checkout
        pass
    else:
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

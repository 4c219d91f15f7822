"""The `workbench` command: --version, help that shows how, and one line for every mistake a user can type."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from workbench import __version__
from workbench.cli import build_parser, main
from workbench.reportset.execution import NOTEBOOKS_DIR

DATA = Path(__file__).parent / "data" / "notebooks"
COMMANDS = ("generate", "docs", "run", "report", "verify", "findings", "ingest", "map", "notes", "journal")


def _main(argv: list[str], capsys) -> tuple[int, str, str]:
    """Run the command line in this process: its exit status, stdout and stderr."""
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse exits on usage errors, --help and --version
        status = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def wide_help(monkeypatch):
    """Help text on one line per option, so assertions need not follow argparse's wrapping."""
    monkeypatch.setenv("COLUMNS", "1000")


def test_version_prints_the_package_version(capsys):
    assert _main(["--version"], capsys) == (0, f"workbench {__version__}\n", "")


def test_top_level_help_lists_every_command_without_rst_markup(capsys, wide_help):
    status, out, _ = _main(["--help"], capsys)
    assert status == 0
    assert "``" not in out and ":func:" not in out
    assert "The housing-queue investigation workbench: generate cases" in out
    listed = re.findall(r"^    (\w+)\s{2,}\S", out, re.MULTILINE)
    assert listed == list(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_help_has_a_one_line_description_and_an_example(command, capsys, wide_help):
    status, out, _ = _main([command, "--help"], capsys)
    assert status == 0
    description = out.split("\n\n")[1]
    assert "\n" not in description and description.endswith("."), description
    assert re.search(rf"\nexample:\n  workbench {command} \S.*\n$", out), out


def test_every_command_is_checked_here():
    parser = build_parser()
    [sub] = [a for a in parser._actions if a.dest == "command"]
    assert sorted(sub.choices) == sorted(COMMANDS)


def test_run_help_lists_the_notebooks_it_accepts(capsys, wide_help):
    _, out, _ = _main(["run", "--help"], capsys)
    names = sorted(p.stem for p in NOTEBOOKS_DIR.glob("*.ipynb"))
    assert len(names) >= 4
    assert f"a notebook name ({', '.join(names)}), a path to a .ipynb, or 'all' (every report notebook 00-09)" in out


def test_audience_help_says_what_each_audience_sees(capsys, wide_help):
    _, out, _ = _main(["report", "--help"], capsys)
    assert (
        "who the report set is for: investigator sees everything, personal data and code included; auditor sees "
        "every row with direct identifiers replaced by pseudonyms and free text withheld (needs "
        "WORKBENCH_PSEUDONYM_KEY); public sees aggregates only, with counts of 1-4 in breakdowns shown as 1-4"
    ) in out


@pytest.fixture
def places(tmp_path, monkeypatch, tiny_case, tiny_db, tiny_duckdb) -> dict[str, str]:
    """What the mistakes below refer to: cases, a report set whose case is wrong, a file that is no database.

    The current folder is a fresh one, not the project's: relative paths are looked for in both.
    """
    monkeypatch.chdir(tmp_path)
    report_set = tmp_path / "set"
    report_set.mkdir()
    (report_set / "report-set.json").write_text(
        json.dumps({"format": 1, "status": "complete", "audience": "public", "files": {}, "case_fingerprint": {}})
    )
    (tmp_path / "notes.txt").write_text("not a database\n")
    return {
        "db": tiny_db.removeprefix("sqlite:///"),
        "duckdb": tiny_duckdb.removeprefix("duckdb:///"),
        "set": str(report_set),
        "tmp": str(tmp_path),
        "text": str(tmp_path / "notes.txt"),
        "evidence": str(tiny_case.evidence_dir),
    }


TWO_CHARTS = str(DATA / "two_charts.ipynb")

# (command line, exit status, the message after "workbench COMMAND: error: ")
MISTAKES = {
    "verify: case path wrong": (
        ["verify", "{set}", "--case", "nowhere/case.duckdb"],
        2,
        r"no case database at nowhere/case\.duckdb, relative to the current folder /\S+ or the project folder /\S+; "
        r"check the path, or, if the case does not exist yet, create it with "
        r"`workbench ingest EVIDENCE_DIR --case nowhere/case\.duckdb`",
    ),
    "verify: wrong engine in the URL": (
        ["verify", "{set}", "--case", "sqlite:///{duckdb}"],
        2,
        r"/\S+/case\.duckdb is a DuckDB database, but the case URL says sqlite; give duckdb:////\S+ or the plain path",
    ),
    "verify: a file that is no database": (
        ["verify", "{set}", "--case", "{text}"],
        2,
        r"/\S+/notes\.txt is not a case database: it is neither a SQLite nor a DuckDB database file \(accepted: ",
    ),
    "verify: an engine the workbench does not use": (
        ["verify", "{set}", "--case", "mysql://u@h/db"],
        2,
        r"case URL 'mysql://u@h/db' uses 'mysql'; allowed: ",
    ),
    "report: unknown audience": (
        ["report", "--case", "{db}", "--audience", "everyone", "--out", "{tmp}/r"],
        2,
        r"argument --audience: unknown audience 'everyone'\. Known: auditor, investigator, public\.",
    ),
    "report: one unknown audience in a list": (
        ["report", "--case", "{db}", "--audience", "investigator,pubilc", "--out", "{tmp}/r"],
        2,
        r"argument --audience: unknown audience 'pubilc'\. Did you mean 'public'\? Known: auditor, investigator, public\.",
    ),
    "report: missing case": (
        ["report", "--case", "{tmp}/none.db", "--audience", "public", "--out", "{tmp}/r"],
        2,
        r"no case database at /\S+/none\.db; check the path",
    ),
    "report: --out is a file": (
        ["report", "--case", "{db}", "--audience", "public", "--out", "{text}"],
        2,
        r"--out /\S+/notes\.txt is a file; give a folder for the report set",
    ),
    "report: --out cannot be made": (
        ["report", "--case", "{db}", "--audience", "public", "--out", "{text}/r"],
        1,
        r"cannot use /\S+/notes\.txt/r: Not a directory",
    ),
    "run: unknown notebook": (
        ["run", "00_case_overveiw", "--case", "{db}", "--out", "{tmp}/o"],
        2,
        r"unknown notebook '00_case_overveiw'\. Did you mean '00_case_overview'\? Known: 00_case_overview, .*, all\.",
    ),
    "run: wrong engine": (
        ["run", TWO_CHARTS, "--case", "duckdb:///{db}", "--out", "{tmp}/o"],
        2,
        r"/\S+/case\.db is a SQLite database, but the case URL says duckdb; give sqlite:///",
    ),
    "run: unknown parameter": (
        ["run", TWO_CHARTS, "--case", "{db}", "--out", "{tmp}/o", "-p", "limt", "4"],
        2,
        r"two_charts\.ipynb does not declare parameter\(s\) \['limt'\]; it declares: .* Did you mean limit\?",
    ),
    "run: bad parameter value": (
        ["run", TWO_CHARTS, "--case", "{db}", "--out", "{tmp}/o", "-p", "limit", "four"],
        2,
        r"two_charts\.ipynb: parameter limit must be a whole number \(default 3\), got text 'four'",
    ),
    "run: unknown time zone": (
        ["run", "00_case_overview", "--case", "{db}", "--out", "{tmp}/o", "-p", "timezone", "Europe/Stockhlm"],
        2,
        r"00_case_overview\.ipynb: parameter timezone must be a time zone name such as 'Europe/Stockholm' or 'UTC', "
        r"got 'Europe/Stockhlm'\. Did you mean 'Europe/Stockholm'",
    ),
    "run: unknown audience": (
        ["run", "00_case_overview", "--case", "{db}", "--out", "{tmp}/o", "-p", "audience", "everyone"],
        2,
        r"00_case_overview\.ipynb: parameter audience: unknown audience 'everyone'\. Known: auditor, investigator, ",
    ),
    "run: --params file missing": (
        ["run", TWO_CHARTS, "--case", "{db}", "--out", "{tmp}/o", "--params", "{tmp}/p.yaml"],
        2,
        r"--params /\S+/p\.yaml: cannot read it as YAML",
    ),
    "run: no workers": (
        ["run", TWO_CHARTS, "--case", "{db}", "--out", "{tmp}/o", "--workers", "0"],
        2,
        r"argument --workers: must be a whole number above 0, got '0'",
    ),
    "run: negative cell timeout": (
        ["run", TWO_CHARTS, "--case", "{db}", "--out", "{tmp}/o", "--cell-timeout", "-1"],
        2,
        r"argument --cell-timeout: must be a number above 0, got '-1'",
    ),
    "run: --out cannot be made": (
        ["run", TWO_CHARTS, "--case", "{db}", "--out", "{text}/o"],
        1,
        r"cannot use /\S+/notes\.txt/\S+: Not a directory",
    ),
    "findings: no such folder": (
        ["findings", "{tmp}/nothing"],
        1,
        r"no findings under /\S+/nothing: the folder does not exist; give the folder of a report set or of "
        r"`workbench run`, e\.g\. build/demo/reports/investigator",
    ),
    "generate: unknown scale": (
        ["generate", "--scale", "huge", "--out", "{tmp}/g"],
        2,
        r"argument --scale: invalid choice: 'huge'",
    ),
    "generate: negative seed": (
        ["generate", "--seed", "-1", "--out", "{tmp}/g"],
        2,
        r"seed must be a whole number 0 or above \(it seeds numpy's SeedSequence\), got -1",
    ),
    "ingest: no such folder": (
        ["ingest", "{tmp}/evidence"],
        1,
        r"evidence folder '/\S+/evidence' does not exist or is not a folder",
    ),
    "ingest: a file that is no database as the case": (
        ["ingest", "{evidence}", "--case", "{text}"],
        1,
        r"/\S+/notes\.txt is not a case database: it is neither",
    ),
    "docs: --path cannot be made": (["docs", "--path", "{text}/doc.md"], 1, r"cannot use /\S+/notes\.txt: File exists"),
    "docs: --check on a missing file": (
        ["docs", "--check", "--path", "{tmp}/none.md"],
        1,
        r"/\S+/none\.md does not exist; write it from workbench/evidence/tables\.py with `workbench docs --path /\S+/none\.md`",
    ),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_a_mistake_ends_in_one_error_line_not_a_traceback(mistake, places, capsys):
    argv, expected_status, message = MISTAKES[mistake]
    command = argv[0]
    status, _, err = _main([a.format(**places) for a in argv], capsys)
    assert "Traceback" not in err
    last = err.rstrip("\n").split("\n")[-1]
    assert [line for line in err.splitlines() if "error:" in line] == [last], err
    assert re.fullmatch(rf"workbench {command}: error: (?:{message}).*", last), last
    assert status == expected_status


def test_an_unknown_command_is_a_usage_error(capsys):
    status, _, err = _main(["reprot"], capsys)
    assert status == 2
    assert err.splitlines()[-1].startswith("workbench: error: argument COMMAND: invalid choice: 'reprot'")

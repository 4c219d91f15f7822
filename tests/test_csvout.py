"""No formula in a CSV: every CSV for readers goes through workbench.csvout, which quotes formula starts."""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path

import casekit
import polars as pl
import pytest
import sqlalchemy as sa

from workbench.csvout import csv_text, neutralise, write_csv
from workbench.evidence import PII

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "workbench"

# The OWASP payloads, and ones that hide the formula character behind blanks or quotes.
PAYLOADS = [
    '=HYPERLINK("http://x","y")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "\n=1",
    " =1+1",
    '"=1+1',
    "'=1+1",
    "\uff1d1+1",  # full-width equals sign
]
HARMLESS = ["Bromma", "a-b", "user@example.com", "1+1", "", "Södermalm = centre"]


def _frame() -> pl.DataFrame:
    """A text column of payloads and harmless text, and number columns holding negative numbers."""
    text = PAYLOADS + HARMLESS + [None]
    return pl.DataFrame(
        {
            "district": text,
            "n": list(range(-len(text) // 2, len(text) - len(text) // 2)),
            "share": [-0.5 + i / 10 for i in range(len(text))],
            "kind": pl.Series(text, dtype=pl.Categorical),
        }
    )


def _is_safe(cell: str | None) -> bool:
    """What a spreadsheet would not read as a formula: no formula character first after blanks and quotes."""
    if cell is None or cell.startswith("'"):
        return True
    stripped = cell.lstrip(' \t\r\n"')
    return not cell.startswith(("\t", "\r", "\n")) and not stripped.startswith(("=", "+", "-", "@", "\uff1d"))


def test_payloads_get_a_quote_and_everything_else_is_unchanged():
    frame = _frame()
    out = neutralise(frame)
    for column in ("district", "kind"):
        cells = dict(zip(frame[column].cast(pl.String).to_list(), out[column].to_list(), strict=True))
        assert {p: cells[p] for p in PAYLOADS} == {p: "'" + p for p in PAYLOADS}
        assert {h: cells[h] for h in HARMLESS} == {h: h for h in HARMLESS}
        assert cells[None] is None
    assert out["n"].equals(frame["n"]) and out["share"].equals(frame["share"])
    assert out.schema["n"] == pl.Int64 and out.schema["share"] == pl.Float64


def test_the_written_file_reads_back_with_negative_numbers_as_numbers(tmp_path):
    frame = _frame()
    path = write_csv(frame, tmp_path / "t.csv")
    back = pl.read_csv(path)
    assert back.columns == frame.columns
    assert back.schema["n"] == pl.Int64 and back["n"].to_list() == frame["n"].to_list()
    assert back.schema["share"] == pl.Float64 and back["share"].to_list() == frame["share"].to_list()
    assert min(back["n"]) < 0 and min(back["share"]) < 0
    written = back["district"].to_list()
    assert written[: len(PAYLOADS)] == ["'" + p for p in PAYLOADS]
    assert [w or "" for w in written[len(PAYLOADS) : -1]] == HARMLESS  # "" reads back as null
    assert all(_is_safe(cell) for cell in written)
    # Stripping the one added quote gives back the evidence value exactly.
    assert [w[1:] for w in written[: len(PAYLOADS)]] == PAYLOADS


def test_a_column_name_that_could_start_a_formula_is_quoted_too():
    frame = pl.DataFrame({"=cmd|' /C calc'!A0": ["x"], "-n": [-1]})
    assert csv_text(frame).splitlines() == ["'=cmd|' /C calc'!A0,'-n", "x,-1"]


def test_the_writer_can_fail_a_cell_it_misses():
    """The check used above is not vacuous: an unneutralised payload is seen as unsafe."""
    assert not any(_is_safe(p) for p in PAYLOADS if not p.startswith("'"))
    assert all(_is_safe(h) for h in HARMLESS)


# ---- every writer of CSVs for readers uses csvout ----------------------------------------------


def test_long_table_csv_beside_a_report_is_neutralised(tmp_path, monkeypatch):
    from workbench.display import show

    monkeypatch.setenv("WORKBENCH_OUT_DIR", str(tmp_path))
    frame = _frame().drop("kind")
    table = show(frame, "investigator", columns=dict.fromkeys(frame.columns, PII.NONE), max_rows=3, caption="d")
    assert table.csv is not None and table.csv.startswith("tables/d-")
    back = pl.read_csv(tmp_path / table.csv)
    assert back["district"].to_list()[: len(PAYLOADS)] == ["'" + p for p in PAYLOADS]
    assert back["n"].to_list() == frame["n"].to_list()


def test_person_list_export_is_neutralised(tmp_path):
    from workbench.person_lists import export_csv

    people = pl.DataFrame(
        {"name": PAYLOADS, "email": [f"{p}@example.com" for p in PAYLOADS], "n": range(-5, len(PAYLOADS) - 5)}
    )
    tags = {"name": PII.DIRECT, "email": PII.DIRECT, "n": PII.NONE}
    path = export_csv(people, tmp_path, "notification_list.csv", "investigator", columns=tags)
    assert path is not None
    back = pl.read_csv(path)
    assert back["name"].to_list() == ["'" + p for p in PAYLOADS]
    assert back["email"].to_list() == ["'" + p + "@example.com" for p in PAYLOADS]
    assert back["n"].dtype == pl.Int64 and back["n"].to_list() == people["n"].to_list()


def test_query_browser_export_of_hand_made_evidence_is_neutralised(tmp_path, monkeypatch):
    """A hand-made case whose quarantine holds payloads as table and column names, exported as CSV."""
    from workbench.widgets.query_browser import QueryBrowser

    rows = copy.deepcopy(casekit.ROWS)
    for row, payload in zip(rows["quarantine"], PAYLOADS, strict=False):
        row["table"], row["column"] = payload, "-" + payload
    monkeypatch.setattr(casekit, "ROWS", rows)
    engine = casekit.fill(sa.create_engine(f"sqlite:///{tmp_path / 'case.db'}"))
    try:
        browser = QueryBrowser(engine, "investigator", out_dir=tmp_path)
        browser.selected = "quarantine_summary"
        browser.run()
        assert set(browser.result["table"]) == set(PAYLOADS[:3])  # the frame itself is the evidence, as it is
        back = pl.read_csv(browser.export("csv"))
    finally:
        engine.dispose()
    assert sorted(back["table"]) == sorted("'" + p for p in PAYLOADS[:3])
    assert sorted(back["column"]) == sorted("'-" + p for p in PAYLOADS[:3])
    assert back["n"].dtype == pl.Int64 and back["n"].sum() == 3


# ---- static check: no other module writes a CSV ----------------------------------------------

# Files that may write CSV themselves, and why. Everything else that writes a CSV must call
# workbench.csvout.
ALLOWED = {
    "csvout.py": "the one writer",
    "scenario/writer.py": "synthetic evidence files: data for the ingest, not a report",
    "scenario/raw.py": "the synthetic access log: raw log lines, not a report",
    "ingest/load.py": "the bulk-load stream into PostgreSQL: never a file for readers",
    "mapping/sql.py": "rows of a source database as CSV text, only to hash them for the manifest: never a file",
    "scenario/handover.py": "the synthetic hand-over: exports an organisation would give, data for the ingest, not a report",
}
_WRITERS = {"write_csv", "sink_csv", "to_csv", "writer", "DictWriter"}


def csv_writes(source: str) -> list[tuple[int, str]]:
    """(line, call) of every ``x.write_csv(...)``, ``x.sink_csv``, ``x.to_csv``, ``csv.writer``/``DictWriter`` call.

    A bare ``write_csv(...)`` (csvout's, imported by name) is not a write of its own.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            owner = node.func.value
            if name in ("writer", "DictWriter") and not (isinstance(owner, ast.Name) and owner.id == "csv"):
                continue
            if name in _WRITERS:
                found.append((node.lineno, name))
    return found


def _sources() -> list[tuple[str, str]]:
    files = [(p.relative_to(PACKAGE).as_posix(), p.read_text(encoding="utf-8")) for p in PACKAGE.rglob("*.py")]
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        files.append((f"notebooks/{nb.name}", "\n".join(line for line in code.splitlines() if line[:1] not in "%!")))
    return files


def test_only_the_allowed_modules_write_csv_directly():
    wrong = [
        f"{name}:{line} calls {call}(): write CSVs for readers with workbench.csvout.write_csv or csv_text"
        for name, source in _sources()
        if name not in ALLOWED
        for line, call in csv_writes(source)
    ]
    assert not wrong, "\n".join(wrong)
    # Each allowance is still needed: a stale entry would hide a future writer.
    assert all(csv_writes((PACKAGE / name).read_text(encoding="utf-8")) for name in ALLOWED)


@pytest.mark.parametrize(
    "source",
    [
        "frame.write_csv(path)",
        "self.result.write_csv(path)",
        "import csv\ncsv.writer(handle).writerows(rows)",
        "csv.DictWriter(handle, fields)",
        "frame.to_pandas().to_csv(path)",
        "frame.lazy().sink_csv(path)",
    ],
)
def test_the_scan_sees_a_direct_write(source):
    assert csv_writes(source)


def test_the_scan_lets_csvout_calls_through():
    assert csv_writes("from workbench.csvout import write_csv\nwrite_csv(frame, path)\ncsv_text(frame)") == []

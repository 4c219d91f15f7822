"""``workbench map init`` on hand-overs written by hand outside the project (tests/draftkit.py).

For each: the draft places the expected inputs and columns, leaves what is no evidence
unplaced with its reason, proposes the value maps, marks TODO exactly where the kit's
answers say an investigator must act; once those TODOs (and nothing else) are filled in,
``workbench map check`` finds no problem and ``workbench ingest --mapping`` loads every row.
A case left in the folder by that ingest is then passed over, not offered as a source.
"""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
import yaml
from draftkit import ENGLISH, SWEDISH

from workbench.cli import main
from workbench.mapping.check import check
from workbench.mapping.propose import name_key, shape
from workbench.mapping.valuemaps import value_map

KITS = {"swedish": (SWEDISH, "sqlite:///{root}/case.sqlite", "case.sqlite"), "english": (ENGLISH, "{root}/case.duckdb", "case.duckdb")}  # fmt: skip


def _todo_keys(text: str) -> list[tuple[str, str]]:
    """(table, column) of every mapping line that holds a TODO (the comments above and below are no lines)."""
    keys, table = [], None
    for line in text.splitlines():
        if re.match(r"  \w+:$", line):
            table = line.strip().rstrip(":")
        if "TODO" in line and not line.lstrip().startswith("#"):
            keys.append((table, line.strip().split(":")[0]))
    return keys


def _fill(text: str, answers: dict) -> str:
    """The draft with each TODO line replaced as an investigator would: nothing else is touched."""
    out, table = [], None
    for line in text.splitlines():
        if re.match(r"  \w+:$", line):
            table = line.strip().rstrip(":")
        if "TODO" in line and not line.lstrip().startswith("#"):
            column = line.strip().split(":")[0]
            answer = answers[(table, column)]
            line = line.split("  # ", 1)[0]
            if isinstance(answer, dict):
                for source, value in answer.items():
                    line = line.replace(
                        f"{json.dumps(source, ensure_ascii=False)}: TODO",
                        f'{json.dumps(source, ensure_ascii=False)}: "{value}"',
                    )
            else:
                line = f"      {column}: {json.dumps(answer)}"
            assert "TODO" not in line, line
        out.append(line)
    return "\n".join(out) + "\n"


def _label(source: dict) -> str:
    """An input as the draft's notes name it: the file, or database#table."""
    if "sql" in source:
        table = source["sql"].removeprefix("SELECT * FROM ").strip('"')
        return f"{source['url'].removeprefix('sqlite:///')}#{table}"
    return next(v for k, v in source.items() if k in ("csv", "jsonl", "parquet"))


@pytest.fixture(scope="module", params=sorted(KITS))
def drafted(request, tmp_path_factory):
    kit, url, case_name = KITS[request.param]
    root = tmp_path_factory.mktemp(request.param) / "handover"
    kit.write(root)
    draft = root.parent / "draft.yaml"
    assert main(["map", "init", str(root), "--out", str(draft)]) == 0
    return kit, root, draft, url.format(root=root), case_name


def test_the_draft_places_each_input_and_its_columns(drafted):
    kit, _, draft, _, _ = drafted
    tables = yaml.safe_load(draft.read_text(encoding="utf-8"))["tables"]
    labels = {table: _label(spec["source"]) for table, spec in tables.items()}
    assert labels == kit.placed
    for table, columns in kit.columns.items():
        assert {c: tables[table]["columns"][c] for c in columns} == columns, table


def test_what_is_no_evidence_is_left_unplaced_with_its_reason(drafted, tmp_path, capsys):
    kit, root, _, _, _ = drafted
    main(["map", "init", str(root), "--out", str(tmp_path / "again.yaml")])
    out = capsys.readouterr().out
    assert f"lines, {len(kit.answers)} with a TODO to fill in." in out
    for label, reason in kit.unplaced.items():
        line = next((x for x in out.splitlines() if x.strip().startswith(f"unplaced: {label}:")), None)
        assert line is not None and reason in line, (label, out)
    assert f"unplaced: {label}: " in (tmp_path / "again.yaml").read_text(encoding="utf-8")  # in the draft too
    unplaced = [x for x in out.splitlines() if x.strip().startswith("unplaced:")]
    assert len(unplaced) == len(kit.unplaced)


def test_todo_marks_exactly_what_the_investigator_must_fill_in(drafted):
    kit, root, draft, _, _ = drafted
    assert sorted(_todo_keys(draft.read_text(encoding="utf-8"))) == sorted(kit.answers)
    text, ok = check(root, draft)  # a fresh draft: every table's TODO named at once
    assert not ok
    for table, column in kit.answers:
        if isinstance(kit.answers[(table, column)], dict):
            assert f"tables.{table}.columns.{column}.values." in text, (table, column, text)


def test_filled_in_the_draft_checks_clean_and_ingests_every_row(drafted, tmp_path, capsys):
    kit, root, draft, url, case_name = drafted
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(_fill(draft.read_text(encoding="utf-8"), kit.answers), encoding="utf-8")
    text, ok = check(root, mapping)
    assert ok, text
    assert main(["ingest", str(root), "--mapping", str(mapping), "--case", url]) == 0
    from workbench.case import open_case

    case = open_case(url)
    try:
        frames = {table: case.read_table(table) for table in [*kit.rows, "quarantine"]}
    finally:
        case.close()
    assert {t: f.height for t, f in frames.items() if t != "quarantine"} == kit.rows
    assert frames["quarantine"].height == 0
    for key, value in kit.values.items():
        table, column, applicant = re.fullmatch(r"(\w+)\.(\w+)\[(\d+)\]", key).groups()
        (got,) = frames[table].filter(applicant_id=int(applicant))[column].to_list()
        assert (str(got) if column == "queue_start" else got) == value, key

    # The case now lies in the hand-over folder: a new draft passes over it, with the reason.
    capsys.readouterr()
    again = tmp_path / "again.yaml"
    assert main(["map", "init", str(root), "--out", str(again)]) == 0
    out = capsys.readouterr().out
    assert f"skipped: {case_name}: a workbench case (it has manifest and quarantine tables)" in out
    first, second = (yaml.safe_load(p.read_text(encoding="utf-8"))["tables"] for p in (draft, again))
    assert first == second


# ---- the parts, on tiny evidence ---------------------------------------------------------------
def test_names_are_compared_without_case_accents_separators_or_a_unit():
    assert name_key("Inkomst (kr)") == name_key("INKOMST") == "inkomst"
    assert name_key("Sökande_nr") == name_key("Sökande nr") == "sokandenr"
    assert name_key("cs(User-Agent)") == "csuseragent"  # an IIS field keeps its parentheses


def test_values_say_what_a_column_holds():
    assert shape(["19800101-0000", "19810202-1234"]).kind == "pnr"
    assert shape(["Ja", "Nej"]).kind == "bool" and shape(["0", "1"]).kind == "int"
    assert shape(["200,00", "12"]).kind == "decimal"
    assert shape(["2013-11-14 08:10", "2013-11-14T08:10:00Z"]).kind == "datetime"
    assert shape(["25/08/2011", "03/01/2004"]).formats == ("%d/%m/%Y",)
    assert shape(["03/01/2004"]).formats == ("%d/%m/%Y", "%m/%d/%Y")  # day and month cannot be told apart
    assert shape(["a@example.org"]).kind == "email" and shape(["192.0.2.1", "2001:db8::1"]).kind == "ip"


def test_value_maps_know_swedish_and_english_words_and_leave_the_rest_todo():
    assert value_map("applicants", "status", ["Aktiv", "Avslutad", "Okänd"], False) == {
        "Aktiv": "active",
        "Avslutad": "closed",
        "Okänd": "TODO",
    }
    assert value_map("support_messages", "channel", ["Webb", "E-post", "Telefon"], False) == {
        "E-post": "email",
        "Telefon": "TODO",  # v1 has no telephone channel: never guessed
        "Webb": "web_form",
    }
    assert value_map("applicants", "student", ["Sant"], True) == {"Falskt": False, "Sant": True}
    assert value_map("applicants", "student", ["true", "false"], True) is None  # nothing to map
    assert value_map("logins", "method", ["bankid"], False) is None


def test_a_draft_never_overwrites_and_a_hand_made_case_database_is_skipped(tmp_path, capsys):
    root = tmp_path / "h"
    root.mkdir()
    con = sqlite3.connect(root / "old.sqlite")  # the shape of a workbench case, nothing more
    con.executescript("CREATE TABLE manifest (x); CREATE TABLE quarantine (x); CREATE TABLE applicants (applicant_id);")
    con.close()
    (root / "Inloggningar.csv").write_text("Tid;Session;Kundnr;Metod\n2013-11-14 08:00;s1;1;BankID\n", encoding="utf-8")
    assert main(["map", "init", str(root)]) == 0
    out = capsys.readouterr().out
    assert "skipped: old.sqlite: a workbench case" in out and "logins: from Inloggningar.csv" in out
    assert "old.sqlite" not in yaml.safe_load((root / "mapping.yaml").read_text(encoding="utf-8"))["tables"].__repr__()
    assert main(["map", "init", str(root)]) == 1


def test_the_assignment_is_the_best_total_as_scipy_finds_it():
    import random

    from scipy.optimize import linear_sum_assignment

    from workbench.mapping.propose import best_assignment

    rng = random.Random(16)
    for rows, cols in [(15, 20), (15, 4), (3, 3), (1, 5), (6, 1)]:
        for _ in range(20):
            score = [[rng.choice([0.0, 0.0, rng.uniform(0.5, 20)]) for _ in range(cols)] for _ in range(rows)]
            pairs = best_assignment(score)
            assert len(set(pairs.values())) == len(pairs)  # an input makes one table at most
            r, c = linear_sum_assignment(score, maximize=True)
            best = sum(score[i][j] for i, j in zip(r, c, strict=True))
            assert abs(sum(score[i][j] for i, j in pairs.items()) - best) < 1e-9
    # greedy would take the 10 and leave 1; the best total is 9 + 9
    assert best_assignment([[10.0, 9.0], [9.0, 0.0]]) == {0: 1, 1: 0}


def test_a_value_map_holds_every_value_of_the_input_not_only_the_first_rows(tmp_path):
    from workbench.mapping.draft import write_draft

    (tmp_path / "h").mkdir()
    rows = ["Tid;Session;Orsak", *(f"2013-11-14 08:{i // 60:02d}:{i % 60:02d};s{i};Utloggad" for i in range(300))]
    rows.append("2013-11-14 09:00:00;s300;Tidsgräns")  # the only one, past the rows a draft samples
    (tmp_path / "h" / "utloggningar.csv").write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1252"))
    write_draft(tmp_path / "h", tmp_path / "draft.yaml")
    table = yaml.safe_load((tmp_path / "draft.yaml").read_text(encoding="utf-8"))["tables"]["logouts"]
    assert table["source"]["encoding"] == "cp1252"  # 'ä' only in the last line
    assert table["columns"]["reason"]["values"] == {"Tidsgräns": "timeout", "Utloggad": "user"}


def test_a_damaged_input_is_named_and_left_out_never_the_end_of_the_draft(tmp_path, capsys):
    root = tmp_path / "h"
    root.mkdir()
    (root / "sokande.parquet").write_bytes(b"PAR1 this is no parquet file")
    (root / "ko.sqlite").write_bytes(b"SQLite format 3\x00" + b"\x00" * 84 + b"damaged")
    (root / "Utloggningar.csv").write_text('Tid;Session;"Orsak\nTidsgräns"\n', encoding="utf-8")  # a header in quotes
    (root / "Inloggningar.csv").write_text("Tid;Session;Kundnr;Metod\n2013-11-14 08:00;s1;1;BankID\n", encoding="utf-8")
    assert main(["map", "init", str(root)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"skipped: sokande\.parquet: cannot be read \(\w+", out), out
    assert re.search(r"skipped: ko\.sqlite: cannot be read \(DatabaseError", out), out
    assert "logins: from Inloggningar.csv" in out
    yaml.safe_load((root / "mapping.yaml").read_text(encoding="utf-8"))  # still valid YAML


def test_dates_without_a_time_for_a_time_column_get_a_format_and_a_note(tmp_path):
    from workbench.mapping.draft import write_draft

    (tmp_path / "h").mkdir()
    rows = ["Kundnr;Avgiftsår;Belopp;Betald", "1;2013;200;2013-01-15", "1;2014;200;2014-01-31"]
    (tmp_path / "h" / "avgifter.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    write_draft(tmp_path / "h", tmp_path / "draft.yaml")
    text = (tmp_path / "draft.yaml").read_text(encoding="utf-8")
    paid = yaml.safe_load(text)["tables"]["fees"]["columns"]["paid_at"]
    assert paid == {"column": "Betald", "format": "%Y-%m-%d"} and "each is read as midnight" in text
    report, ok = check(tmp_path / "h", tmp_path / "draft.yaml")
    assert ok and "paid_at=datetime.datetime(2013, 1, 14, 23, 0" in report  # midnight in Stockholm, in UTC

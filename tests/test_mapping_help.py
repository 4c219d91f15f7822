"""``workbench map init`` and ``map check`` (issue 16) on the hand-written hand-over of tests/mappingkit.py."""

from __future__ import annotations

from pathlib import Path

import yaml
from mappingkit import write_handover

from workbench.cli import main
from workbench.mapping import load
from workbench.mapping.check import check


def test_map_init_proposes_columns_by_name_and_marks_what_it_could_not_place(tmp_path, capsys):
    root = tmp_path / "h"
    write_handover(root)
    assert main(["map", "init", str(root), "--out", str(tmp_path / "draft.yaml")]) == 0
    notes = capsys.readouterr().out
    assert "applicants: from export/sokande_2014.csv" in notes and "handlers: from ko.sqlite#handlaggare" in notes
    text = (tmp_path / "draft.yaml").read_text()
    draft = yaml.safe_load(text)["tables"]
    assert draft["applicants"]["source"] == {
        "csv": "export/sokande_2014.csv",
        "delimiter": ";",
        "encoding": "cp1252",
        "decimal_comma": True,
        "header": 2,
    }
    assert draft["applicants"]["columns"]["applicant_id"] == "Kundnr"  # Swedish name recognised
    assert draft["applicants"]["columns"]["student"]["values"] == {"Ja": True, "Kanske": "TODO", "Nej": False}
    assert draft["logins"]["columns"]["method"]["values"] == {"BankID": "bankid", "Lösenord": "password"}
    assert draft["page_views"]["columns"]["time"] == "datetime" and draft["page_views"]["source"] == {
        "iis": "logs/u_ex131213.log"
    }
    assert draft["support_messages"]["source"] == {"eml": "mail/*.eml"}
    # a first and a last name make name; a nullable column with nothing found stays null, no TODO
    assert draft["applicants"]["columns"]["name"] == {"concat": ["Fornamn", {"text": " "}, "Efternamn"]}
    assert "co_applicant_name: null  # no source column found for co_applicant_name (text); null is allowed" in text
    assert draft["applicants"]["columns"]["protected_identity"]["values"] == {"Ja": True, "Nej": False}  # "Ja" unseen
    todo = [line.split(":")[0].strip() for line in text.splitlines() if "TODO" in line and not line.startswith("#")]
    assert todo == ["student"]  # the only place the investigator must act
    # never overwrites a mapping
    assert main(["map", "init", str(root), "--out", str(tmp_path / "draft.yaml")]) == 1


def test_map_check_shows_rows_as_the_case_holds_them_and_every_problem(tmp_path, capsys):
    root = tmp_path / "h"
    mapping = write_handover(root)
    text, ok = check(root, mapping, rows=3)
    assert not ok
    assert "## applicants (first 3 rows" in text and "Åsa Öberg" in text
    assert "export/sokande_2014.csv: read 4, loaded 1, quarantined 3" in text
    assert "## Problems: 6 rows would be quarantined" in text
    assert "logs/u_ex131213.log:10: session_id: field 'cs(Cookie)' is not logged" in text
    assert "occurs twice in Europe/Stockholm" in text
    assert not list(tmp_path.glob("*.db")) and not list(root.glob("*.db"))  # no case written
    assert main(["map", "check", str(root), "--mapping", str(mapping)]) == 1
    assert "Problems" in capsys.readouterr().out


def test_map_check_reports_a_mapping_error_with_its_line(tmp_path):
    root = tmp_path / "h"
    mapping = write_handover(root)
    mapping.write_text(mapping.read_text().replace("employer: Arbetsgivare", "employer: Arbetsgivar"))
    text, ok = check(root, mapping)
    assert not ok and text.startswith("The mapping cannot be used: mapping.yaml:") and "'Arbetsgivar'" in text


def test_the_hand_written_mapping_is_valid_against_the_schema(tmp_path):
    mapping = load(write_handover(tmp_path / "h"))
    assert set(mapping.tables) == {"handlers", "applicants", "logins", "page_views", "support_messages"}
    assert mapping.tables["applicants"].timezone == "Europe/Stockholm"
    assert Path(mapping.path).name == "mapping.yaml"


def test_the_worked_example_in_the_evidence_format_docs_is_the_tested_mapping(tmp_path):
    from mappingkit import MAPPING

    from workbench.mapping import ingest_mapped

    doc = (Path(__file__).resolve().parents[1] / "docs" / "evidence-format.md").read_text(encoding="utf-8")
    chapter = doc.split("## Bringing your own evidence", 1)[1]
    example = chapter.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert example == MAPPING
    report = ingest_mapped(tmp_path / "h", write_handover(tmp_path / "h"), case_url=tmp_path / "c.db", progress=False)
    loaded, quarantined = sum(r["rows_loaded"] for r in report.rows()), report.rows_quarantined
    assert f"then loads {loaded} rows and\nquarantines {quarantined}," in chapter


def test_map_check_lists_problem_kinds_of_equal_count_in_one_order_every_run(tmp_path):
    root = tmp_path / "h"
    mapping = write_handover(root)
    texts = {check(root, mapping, rows=1)[0] for _ in range(6)}
    assert len(texts) == 1  # polars' group_by gives its groups in any order
    (text,) = texts
    counts = text.split("## Problems:")[1].split("First rows quarantined:")[0].strip().splitlines()[1:]
    keys = [(-int(line.split()[0].replace(",", "")), line.split(None, 1)[1]) for line in counts]
    assert len(keys) >= 3 and keys == sorted(keys)  # most first, then by table, column and reason

"""Long tables in reports: truncated with a note, written whole as an audience-fit CSV, numbers as people read them."""

from __future__ import annotations

import polars as pl
import pytest

from workbench.display import show

FRAME = pl.DataFrame({"applicant_id": list(range(1_000_001, 1_000_051)), "n_logins": [3] * 50})


@pytest.fixture
def report_run(tmp_path, monkeypatch):
    """What workbench.reportset.execution sets for a notebook run: the folder the report is rendered into."""
    monkeypatch.setenv("WORKBENCH_OUT_DIR", str(tmp_path))
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", "tables-test-key-0123456789")
    return tmp_path


@pytest.mark.parametrize("audience", ["investigator", "auditor"])
def test_long_table_gets_a_note_and_an_audience_fit_csv(report_run, audience):
    html = show(FRAME, audience, max_rows=10, caption="Logins per member")._repr_html_()
    [csv] = (report_run / "tables").glob("*.csv")
    assert csv.name.startswith("logins_per_member-")
    assert f'<a class="wb-csv" href="tables/{csv.name}">all 50 rows (CSV)</a>' in html
    assert "Showing 10 of 50 rows." in html
    written = pl.read_csv(csv, infer_schema=False)
    assert written.height == 50
    if audience == "auditor":
        assert written["applicant_id"].str.starts_with("P-").all()
    else:
        assert written["applicant_id"].to_list() == [str(i) for i in FRAME["applicant_id"]]


def test_public_gets_a_csv_of_what_its_page_holds(report_run):
    """The public CSV holds the public table's cells, all rows: the same columns, texts cut as on the page."""
    counts = pl.DataFrame(
        {"district": [f"d{i}" for i in range(50)], "note": ["x" * 1500] * 50, "n": list(range(10, 60))}
    )
    html = show(counts, "public", max_rows=10, columns={"district": "none", "note": "none"})._repr_html_()
    [csv] = (report_run / "tables").glob("*.csv")
    assert "Showing 10 of 50 rows." in html and f'href="tables/{csv.name}">all 50 rows (CSV)</a>' in html
    written = pl.read_csv(csv)
    assert written.columns == ["district", "note", "n"] and written.height == 50
    assert written["note"].str.len_chars().max() < 1100 and written["note"][0].startswith("x" * 1000 + "…")


def test_public_per_person_rows_write_no_csv(report_run):
    from workbench.display import show_rows

    shown = show_rows(FRAME, "public")
    assert "not shown in the public report" in shown.data
    assert not (report_run / "tables").exists()


def test_table_of_a_fit_frame_writes_its_csv_when_cut(report_run):
    from workbench.display import table

    html = table(FRAME, max_rows=5, caption="Already fit")._repr_html_()
    [csv] = (report_run / "tables").glob("already_fit-*.csv")
    assert f'href="tables/{csv.name}">all 50 rows (CSV)</a>' in html
    assert pl.read_csv(csv).height == 50


def test_short_tables_and_live_sessions_write_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("WORKBENCH_OUT_DIR", raising=False)
    show(FRAME, "investigator", max_rows=10)  # live JupyterLab: no folder to write into
    monkeypatch.setenv("WORKBENCH_OUT_DIR", str(tmp_path))
    show(FRAME, "investigator", max_rows=50)
    assert not (tmp_path / "tables").exists()


def test_cells_are_written_as_their_column_says():
    from datetime import UTC, datetime, timedelta

    from workbench.display import Table

    frame = pl.DataFrame(
        {
            "applicant_id": [1_000_051],
            "year": [2013],
            "n_logins": [12_345],
            "share_in_order": [0.09664],
            "annual_income": [312_000],
            "waited": [timedelta(hours=48, minutes=23)],
            "protected": [True],
            "district": ["Rinkeby-Kista"],
            "at": [datetime(2013, 12, 13, 17, 52, tzinfo=UTC)],
        }
    )
    html = Table(frame)._repr_html_()
    assert '<td class="wb-num" data-v="1000051">1000051</td>' in html
    assert '<td class="wb-num" data-v="2013">2013</td>' in html
    assert ">12\u202f345</td>" in html
    assert ">9.7%</td>" in html and ">312\u202f000 kr</td>" in html and ">48 h 23 min</td>" in html
    assert "<td>yes</td>" in html and "True" not in html
    assert "<td>Rinkeby-Kista</td>" in html  # text: no numeric class, so left-aligned
    assert "text-align:left" in html and ".wb-table .wb-num{text-align:right}" in html
    assert "2013-12-13 18:52:00 CET</td>" in html
    # headers read as the catalogue labels the columns (workbench/locales/en.yaml), the query's name kept in data-col
    assert (
        '<th class="wb-num" data-col="n_logins">Logins</th>' in html and '<th data-col="district">District</th>' in html
    )


def test_long_tables_are_marked_for_search_and_all_for_sorting():
    from workbench.display import SEARCH_FROM, Table

    long = Table(FRAME, max_rows=SEARCH_FROM + 1)._repr_html_()
    short = Table(FRAME.head(SEARCH_FROM))._repr_html_()
    assert "data-wb-sort=" in long and "data-wb-search=" in long
    assert "data-wb-sort=" in short and "data-wb-search=" not in short

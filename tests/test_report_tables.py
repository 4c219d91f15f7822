"""Long tables in reports: truncated with a note, and written whole as CSV for investigators and auditors."""

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
    assert f'All rows: <a href="tables/{csv.name}">' in html and "Showing 10 of 50 rows." in html
    written = pl.read_csv(csv, infer_schema=False)
    assert written.height == 50
    if audience == "auditor":
        assert written["applicant_id"].str.starts_with("P-").all()
    else:
        assert written["applicant_id"].to_list() == [str(i) for i in FRAME["applicant_id"]]


def test_public_gets_the_note_but_no_csv(report_run):
    counts = pl.DataFrame({"district": [f"d{i}" for i in range(50)], "n": list(range(10, 60))})
    html = show(counts, "public", max_rows=10, columns={"district": "none"})._repr_html_()
    assert "Showing 10 of 50 rows." in html and "<a href" not in html
    assert not (report_run / "tables").exists()


def test_short_tables_and_live_sessions_write_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("WORKBENCH_OUT_DIR", raising=False)
    show(FRAME, "investigator", max_rows=10)  # live JupyterLab: no folder to write into
    monkeypatch.setenv("WORKBENCH_OUT_DIR", str(tmp_path))
    show(FRAME, "investigator", max_rows=50)
    assert not (tmp_path / "tables").exists()

"""A case written by hand, as an outside tester would, from the README and the format reference only.

tests/data/outside_case/ holds 15 CSV files (about 70 rows) with what a real export may hold
while still being valid v1: names with non-Latin and combining characters (``Nguye\u0302\u0303n``),
quotes, semicolons and newlines inside text fields, empty optional columns, an empty table
(``fees.csv``: header only), two logins at the same second (s-b, s-c at 17:41:00Z), a session
without a logout (s-b), a login and a profile change at the night the clocks went back
(2013-10-27T01:00Z), a deployment log without the fix's release, an error page carrying an
account id, and eleven bad rows.

Worked out by hand (UTC):

- Sessions bound to another account: s-b (member 1002 shown 1005's profile at 17:42:00) and
  s-c (member 1003 shown 1001's pages from 17:41:03). s-d's /mina-sidor/profil for 1003 was
  served with status 500: an error page renders no account (docs/evidence-format.md), so
  s-d is not bound. Accounts exposed: 1001 and 1005.
- Protected identity exposed: 1005 (protected_identity true), by s-b.
- Changes to another account: s-c changed 1001's phone (17:44:30) and employer (17:45:00);
  1004's change at the DST night is in its own session.
- Incident window: deployed 17:00 (4.12.0), login disabled 19:00, fix 08:00 on the 14th,
  re-enabled 09:00. The deployment log has no release for the fix, so the incident log's clock
  cannot be estimated (offset unknown), and its times stay as logged.
- Quarantined: the eleven rows listed in QUARANTINED below (line = the physical line the record
  starts on; applicants 1002 spans lines 3-4, profile change 3 lines 4-5).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from workbench.case import open_case
from workbench.ingest import ingest
from workbench.queries import run

CASE_DIR = Path(__file__).parent / "data" / "outside_case"

# (file, line, column, value): every row ingest must quarantine, found by hand.
QUARANTINED = {
    ("outside_case/applicants.csv", 10, "status", "pending"),
    ("outside_case/applicants.csv", 11, "applicant_id", "1003"),
    ("outside_case/applicants.csv", 12, "student", "yes"),  # protected_identity 'no' too, under "also:"
    ("outside_case/handler_actions.csv", 7, "handler_id", "99"),
    ("outside_case/incident_actions.csv", 6, "action", "shrug"),
    ("outside_case/interests.csv", 7, "applicant_id", "9999"),
    ("outside_case/logins.csv", 7, "time", "2013-12-13 17:45:00"),
    ("outside_case/logins.csv", 8, "method", "sms"),
    ("outside_case/logouts.csv", 6, "session_id", "s-ghost"),
    ("outside_case/page_views.csv", 11, "session_id", "s-nobody"),
    ("outside_case/profile_changes.csv", 6, "field", "shoe_size"),
}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def outside_db(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("outside") / "case.db"
    ingest(CASE_DIR, path, progress=False)
    return str(path)


def test_quarantine_names_file_line_column_value_and_what_is_allowed(outside_db):
    con = sqlite3.connect(outside_db)
    rows = con.execute('SELECT file, line, "column", value, reason FROM quarantine').fetchall()
    found = {(Path(f).parent.name + "/" + Path(f).name, line, col, val) for f, line, col, val, _ in rows}
    assert found == QUARANTINED
    assert all("allowed" in reason for *_, reason in rows)
    # An empty table is loaded empty, not recorded as absent; text survives byte for byte.
    assert con.execute("SELECT count(*) FROM fees").fetchone() == (0,)
    names = {r[0] for r in con.execute("SELECT name FROM applicants")}
    assert "Åsa Öberg-Nguye\u0302\u0303n" in names and "Zoë O'Brien" in names
    (address,) = con.execute("SELECT address FROM applicants WHERE applicant_id = 1002").fetchone()
    assert address == "c/o Ström; lgh 1102\nHornsgatan 88"


def test_orphan_reason_reads_as_english(outside_db):
    con = sqlite3.connect(outside_db)
    reasons = [r[0] for r in con.execute("SELECT reason FROM quarantine WHERE reason LIKE '%orphan%'")]
    assert reasons and not any(" a applicant_id" in r for r in reasons), reasons
    assert any("an applicant_id" in r for r in reasons), reasons


def test_error_page_binds_no_session(outside_db):
    """s-d's 500 on 1003's profile rendered nothing: only s-b and s-c are bound to another account."""
    case = open_case(outside_db)
    bound = run("mismatched_sessions", case)
    assert sorted(zip(bound["session_id"], bound["account_id"], strict=True)) == [("s-b", 1005), ("s-c", 1001)]
    changes = run("mismatched_changes", case)
    assert changes.select("session_id", "account_id", "n_changes").rows() == [("s-c", 1001, 2)]


def test_fix_is_not_paired_with_the_release_that_opened_the_incident(outside_db):
    """Without the fix in the deployment log, the incident log's offset is unknown, not 15 hours."""
    from workbench.incident import clocks, reconstruct_incident

    case = open_case(outside_db)
    log = clocks.estimate_offsets(case).filter(pl.col("source") == "incident log").row(0, named=True)
    assert log["offset_seconds"] is None and log["pairs"] == 0
    # The longest pause in logins (17:41-17:50) brackets no shutdown: it bounds nothing.
    assert log["low_seconds"] is None and log["high_seconds"] is None
    incident = reconstruct_incident(case, timezone="UTC")  # raised QueryParameterError before
    assert incident.window == {"start": utc("2013-12-13T17:00:00"), "end": utc("2013-12-13T19:00:00")}


def test_public_skipped_members_of_a_case_without_skips(outside_db, monkeypatch):
    """A replay with no skipped member gives an empty public table, not a SchemaError."""
    from workbench.fairness import review_fairness
    from workbench.fairness.views import skipped_members

    review = review_fairness(open_case(outside_db))
    assert review.replay.skipped.height == 0
    assert skipped_members(review, "public").height == 0


def test_public_queue_time_of_a_small_case_is_withheld_not_a_failed_report(outside_db):
    """Two contracts (one per district, both 2013) cannot be published by district and year,
    nor by year (a single 1-4 cell is its own total): the public page says so instead of the
    report failing with TooFewToShow. Investigators keep every row."""
    from workbench.fairness import queue_time, review_fairness
    from workbench.i18n import set_language
    from workbench.widgets.fairness_charts import queue_time_chart

    review = review_fairness(open_case(outside_db))
    assert queue_time(review, "investigator")["n"].to_list() == [1, 1]  # Kungsholmen, Södermalm
    try:
        for language, words in (("en", "withheld: too few to show by district"), ("sv", "undanhållet")):
            set_language(language)
            public = queue_time(review, "public")
            assert public.height == 1 and public["median_queue_years"].null_count() == 1
            assert public["note"][0].startswith(words)
            assert "Södermalm" not in str(public.rows())
            spec = queue_time_chart(public).to_dict()
            assert words in str(spec)
    finally:
        set_language("en")


def test_audience_copy_of_a_notebook_is_rendered_in_swedish(tmp_path):
    """A multi-audience run renders the auditor and public pages from X.auditor.ipynb and
    X.public.ipynb; those must get the Swedish Markdown as X.ipynb does (an outside run with
    --language sv showed English headings and prose on both)."""
    import shutil

    from workbench.reportset.build import render_html

    notebook = Path(__file__).parents[1] / "notebooks" / "00_case_overview.ipynb"
    for name in ("00_case_overview.ipynb", "00_case_overview.public.ipynb", "00_case_overview.auditor.ipynb"):
        copy = tmp_path / name
        shutil.copy(notebook, copy)
        audience = name.split(".")[1] if name.count(".") == 2 else "investigator"
        html = render_html(copy, tmp_path / f"{name}.html", audience=audience, provenance="", opening="", language="sv")
        text = html.read_text(encoding="utf-8")
        assert "Vad ärendet innehåller" in text and "What the case holds" not in text, name


def test_quarantine_summary_quotes_no_value(outside_db):
    """The case overview (every audience) shows the summary: a duplicate customer number or a
    bad value must not be in it, only where and why. Found when an outside case with 7-digit
    customer numbers failed the auditor set's leak scan on 'duplicate key applicant_id=…'."""
    summary = run("quarantine_summary", open_case(outside_db))
    assert summary["n"].sum() == len(QUARANTINED)
    text = " ".join(summary["reason"].to_list())
    for *_, value in QUARANTINED:
        assert value not in text, value
    assert "duplicate key applicant_id=…: first loaded from line 5" in text
    assert "'no'" not in text and "protected_identity: '…' is not a boolean" in text


def test_a_figure_of_one_reads_in_the_singular(tmp_path):
    """The outside case's public page 02 read "1 sessions cannot be settled", "1 people made
    some change" and "1 accounts had 2 fields changed"; a figure of 1 takes the singular, in
    both languages, and other figures keep the plural."""
    from workbench.findings import Findings
    from workbench.i18n import set_language
    from workbench.wording import singular_after_one

    findings = Findings(tmp_path, audience="public")
    findings.record("n_people", 1, "People")
    findings.record("n_accounts", 1, "Accounts")
    findings.record("n_fields", 2, "Fields")
    text = findings.text("**{n_people}** people made some change; {n_accounts} accounts had {n_fields} fields changed.")
    assert text == "**1** person made some change; 1 account had 2 fields changed."
    assert singular_after_one("21 sessions, 1\u202f001 sessions, 0.1 accounts", "en") == (
        "21 sessions, 1\u202f001 sessions, 0.1 accounts"
    )
    try:
        set_language("sv")
        assert singular_after_one("**1** sessioner och 2 konton; 1 konton") == "**1** session och 2 konton; 1 konto"
        # A template may break its line between the figure and the noun (Art. 33 summary).
        assert singular_after_one("inkomster i 1\nkonton tills") == "inkomster i 1\nkonto tills"
    finally:
        set_language("en")

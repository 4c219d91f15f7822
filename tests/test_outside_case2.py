"""A second case written by hand from the README and docs/evidence-format.md, unlike a simulation.

tests/data/outside_case2/ (15 CSV files, 105 rows, all valid v1) is an export as a small
organisation might hand it over: the incident falls on the night the clocks went back
(2013-10-26/27), no logout was logged at all (logouts.csv has its header only), the support
mails carry no customer number, and the queue system holds three contracts in one district
(Farsta) and one year (2013). Times below are UTC; Stockholm is UTC+2 until 01:00Z on the
27th and UTC+1 after.

The incident: 4.12.0 deployed 20:00Z (22:00 CEST), login disabled 02:00Z (03:00 CET), fix
4.12.1 deployed 06:00Z (in both the deployment log and the incident log: the incident log's
offset is 0), login enabled 07:00Z. Sessions (no logout rows: each ends 20 min after its last
page; every session has its /logga-in page, so no page is missing):

- s-maja (2001), 21:55-01:30: spans local midnight (22:00Z) and the DST change (01:00Z);
  its /logga-in page is at the login's own second; own pages only. s-maja2 (2001 again,
  22:30-22:50) overlaps it: another session of the same member is no candidate, so no
  binding is possible and it shows its own pages.
- s-omar (2002), 23:00-23:23, own. s-karin (2003) logs in at 23:10 while s-omar is the
  last-opened session of another member: her own pages (and her own e-mail change, 23:10:40)
  first, then 2002's overview and profile from 23:12, where she changes 2002's phone
  (23:13). 2002 has a co-applicant, shown on that profile page.
- s-elin (2004, protected identity), 23:30, own. s-lena (2005) logs in at 23:40 with s-elin
  the last-opened other session: 2004's overview (23:40:03) and queue page (23:42) bracket a
  profile page served without account_id (23:41), which therefore counts as shown.
- s-deleted: a login by customer 2099, who is not in the applicants export (a deleted
  member), 00:10; s-sven (2006) logs in at 01:10:00Z = 02:10 CET, the same wall-clock time
  as 00:10Z (02:10 CEST). Both own. s-before and s-after are outside the window.

Worked out by hand, what notebooks 01-03 must say:

- 01: 2 mismatched sessions; onset 23:12Z (01:12 CEST), 2 min after s-karin's login; 7
  members logged in between deployment and fix (2001-2006 and 2099); 6 window logins with
  another member's session open (all but s-maja and s-maja2), 2 of them mismatched (33.3 %);
  2 fault reports (a2 23:20Z, a3 23:55Z; a1 and a4 are not reports); the mail clock cannot
  be estimated (no web-form message pairs with a contact-form request), so the first report
  stays at 23:20Z on the mail server's clock, 8 min after the onset with an unknown
  uncertainty; 2 h 40 min from that report to login disabled (across the DST change: 01:20
  CEST to 03:00 CET); 6 h 48 min from onset to the fix. Disabling login at the first report
  would have spared 1 account (2004: s-lena logged in at 23:40); on-call staff within 1 h
  (00:20Z) would have spared none.
- 02: tier 1: 7 members in 8 window sessions; tier 2: 2 accounts bound (2002, 2004) and 2
  people put into them (2003, 2005): 4 either side; tier 3: 2 accounts shown in 6 page views
  (3 by s-karin, 3 by s-lena), 1 co-applicant, 1 protected-identity member; nothing unsettled
  (min = likely = max); tier 4: 1 account (2002), 1 field (phone) to restore, no conflict;
  1 person made changes, both to her own data and to someone else's; no queue act: the claim
  holds; 4 people to inform (2004 protected identity, 2002 changed, 2002's co-applicant, 2003
  acted in another's account).
- 03: 3 contracts, all to the longest-queued interested member: 0 departures; 2 caseworkers,
  both too few allocations to judge (caseworker 11: 2, 12: 1), none flagged; the public
  groups table cannot break 3 contracts down by district, kind or year.

What running it as a user found, and is fixed (see README "A case written from outside"):
notebooks 01 and 02 said "from the Friday deployment to the Wednesday fix", "as they did on
the Monday", "logins from Friday evening to Monday morning" and "In December 2013 the
organisation said", true only of the demo case; and the public copy of notebook 02 stated the
number of protected-identity members exposed exactly (a table "Number 1", a notification
category "protected_identity 1") beside the findings that show it as 1–4; the milestone table
called mail times "corrected" that stayed on an unknown clock, and the summary stated "8 min
after it began" without saying that clock was unknown; the Swedish summary said "holds on this
evidence" and the notification table "certain"; the public provenance withheld the `language`
parameter as free text.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from tests.reportkit import report_set
from workbench.case import open_case
from workbench.ingest import ingest

CASE_DIR = Path(__file__).parent / "data" / "outside_case2"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def case2_db(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("outside2") / "case.db"
    ingest(CASE_DIR, path, progress=False)
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def exposure(case2_db):
    from workbench.exposure import review_exposure

    return review_exposure(open_case(case2_db))


@pytest.fixture(scope="module")
def public_set(case2_db, tmp_path_factory) -> Path:
    """The public set of the one English run of every audience (reportkit renders them together)."""
    return report_set(tmp_path_factory, case2_db, "public")


def _values(report_dir: Path) -> dict:
    return {k: v["value"] for k, v in json.loads((report_dir / "findings.json").read_text(encoding="utf-8")).items()}


def _page_text(path: Path) -> str:
    """The words a reader sees on a page: tags, scripts and styles removed."""
    html = path.read_text(encoding="utf-8")
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_every_row_loads_and_no_logout_is_an_empty_table_not_an_absent_one(case2_db):
    import sqlite3

    con = sqlite3.connect(case2_db.removeprefix("sqlite:///"))
    assert con.execute("SELECT count(*) FROM quarantine").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM manifest_absent").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM logouts").fetchone() == (0,)
    # The deleted member's login is kept: a login needs no applicant row.
    assert con.execute("SELECT applicant_id FROM logins WHERE session_id = 's-deleted'").fetchone() == (2099,)


def test_incident_as_worked_out_by_hand(case2_db):
    from workbench.incident import reconstruct_incident

    incident = reconstruct_incident(open_case(case2_db), timezone="UTC")
    assert incident.onset_at == utc("2013-10-26T23:12:00")
    assert incident.first_report_at == utc("2013-10-26T23:20:00")  # on the mail clock: it cannot be corrected
    assert incident.login_disabled_at == utc("2013-10-27T02:00:00")
    assert incident.clock("mail")["offset_seconds"] is None
    assert incident.clock("incident log")["offset_seconds"] == 0
    assert sorted(incident.mismatched["session_id"].to_list()) == ["s-karin", "s-lena"]
    # The milestone table said "support mail (corrected)" of times left on the mail clock.
    sources = dict(incident.marks.select("milestone", "source").iter_rows())
    assert sources["first fault report"] == "support mail (not corrected: its clock is unknown)"
    assert sources["login disabled"] == "incident log (corrected)"


def test_exposure_as_worked_out_by_hand(exposure):
    sessions = exposure.binding.sessions
    assert sessions.height == 8 and sessions["applicant_id"].n_unique() == 7
    bound = sessions.filter(pl.col("status") == "bound").sort("session_id")
    assert bound.select("session_id", "bound_account_id").rows() == [("s-karin", 2002), ("s-lena", 2004)]
    assert set(sessions.filter(pl.col("status") != "bound")["status"]) <= {"own", "ruled_out"}
    b = exposure.bounds
    for name, want in (
        ("accounts_exposed", 2),
        ("pages_shown_to_others", 6),
        ("co_applicants_exposed", 1),
        ("protected_identity_exposed", 1),
    ):
        assert (b[name].min, b[name].likely, b[name].max) == (want, want, want), name
    # The profile page without account_id, bracketed by 2004's pages, showed 2004's personnummer.
    (fields,) = exposure.exposure.protected()["fields"].to_list()
    assert "personnummer" in fields and "address" not in fields
    changed = exposure.changes.by_others
    assert changed.select("account_id", "field").rows() == [(2002, "phone")]
    assert exposure.restore.height == 1
    people = exposure.notices.people.sort("tier")
    assert sorted(people["message_category"].to_list()) == sorted(
        ["protected_identity", "changed_by_other", "co_applicant_shown", "acted_in_other_account"]
    )


def test_public_counts_of_the_notification_list_do_not_state_the_protected_identity_count(exposure):
    """The public sees "1–4 members with protected identity"; the categories of the list must
    not say 1 beside it. For the public the protected member is counted under the category
    their exposure gives otherwise (2004's personnummer was shown); other audiences keep it."""
    from workbench.exposure import ACCOUNT_COLUMNS, NOTICE_COLUMNS
    from workbench.person_lists import person_rows

    public = exposure.notices.for_audience("public")
    assert "protected_identity" not in public.by_category()["message_category"].to_list()
    assert public.by_category()["n_people"].sum() == exposure.notices.people.height == 4
    counts = person_rows(public.people, "public", columns=NOTICE_COLUMNS, by=["tier", "message_category"])
    assert dict(zip(counts["message_category"], counts["n"], strict=True))["identity_data_shown"] == 1
    assert exposure.notices.for_audience("investigator") is exposure.notices
    shown = person_rows(
        exposure.exposure.protected(),
        "public",
        columns=ACCOUNT_COLUMNS,
        by=["protected_identity"],
        rows_for=("investigator",),
    )
    assert shown["n"].to_list() == ["1–4"]


def test_fairness_as_worked_out_by_hand(case2_db):
    from workbench.fairness import review_fairness

    review = review_fairness(open_case(case2_db), permutations=2_000)
    assert review.replay.skipped.height == 0
    cw = review.caseworkers.sort("handler_id")
    assert cw["handler_id"].to_list() == [11, 12]
    assert cw["too_few"].to_list() == [True, True] and not cw["flagged"].any()


def test_findings_of_the_public_set_are_the_hand_worked_values(public_set):
    v01 = _values(public_set / "01_incident_reconstruction")
    assert v01["sessions_mismatched"] == 2 and v01["people_possibly_affected"] == 7
    assert v01["onset_at"] == "2013-10-26T23:12:00+00:00" and v01["onset_minutes_after_login"] == 2.0
    assert (v01["logins_with_another_session_open"], v01["logins_at_risk_bound"]) == (6, 2)
    assert v01["fault_reports"] == 2 and v01["first_report_at"] == "2013-10-26T23:20:00+00:00"
    assert v01["time_to_contain_hours"] == 2.67 and v01["onset_to_fix_hours"] == 6.8
    assert "unknown" in v01["time_to_detect_uncertainty_minutes"]
    assert "unknown" in v01["mail_clock_offset_seconds"]
    assert (v01["exposures_avoidable_at_first_report"], v01["exposures_avoidable_with_on_call"]) == (1, 0)
    v02 = _values(public_set / "02_exposure_and_changes")
    exact = {"min": 2, "likely": 2, "max": 2}
    assert v02["accounts_exposed"] == exact and v02["people_put_into_others_accounts"] == exact
    assert v02["pages_shown_to_others"] == {"min": 6, "likely": 6, "max": 6}
    assert v02["protected_identity_exposed"] == {"min": "1–4", "likely": "1–4", "max": "1–4"}
    assert (v02["people_possibly_affected"], v02["window_sessions"], v02["sessions_unsettled"]) == (7, 8, 0)
    assert (v02["accounts_changed_by_others"], v02["field_changes_to_restore"], v02["restore_conflicts"]) == (1, 1, 0)
    assert (v02["people_who_edited_own_data"], v02["people_who_changed_others_data"]) == (1, 1)
    assert v02["allocation_affected"] == 0 and v02["notifications"] == 4
    v03 = _values(public_set / "03_queue_fairness")
    assert (v03["allocations_replayed"], v03["allocations_in_queue_order"], v03["unexplained_deviations"]) == (3, 3, 0)
    assert (v03["caseworkers_too_few_to_judge"], v03["caseworkers_flagged"], v03["caseworkers_power_covers"]) == (
        2,
        0,
        0,
    )


def test_public_pages_read_true_for_this_case(public_set):
    """Sentences a journalist would quote, as this case makes them, and nothing of the demo case."""
    pages = {p.parent.name: _page_text(p) for p in public_set.glob("0*/*.html")}
    pages["index"] = _page_text(public_set / "index.html")
    everything = " ".join(pages.values())
    # the rendering time names today's weekday (this failed on Mondays): the case's own words only
    case_words, renderings = re.subn(r"Rendered \w+day \d+ \w+ \d{4} at \d\d:\d\d", "Rendered", everything)
    assert renderings >= len(pages)  # each page and the index say when they were rendered
    for demo_only in ("Friday", "Monday", "Wednesday", "In December 2013"):
        assert demo_only not in case_words, demo_only
    # ("None of this was entered by me." is an example message of the fault-report rules.)
    assert not re.search(r"\b(nan|null)\b|\bNone\b(?! of this)", everything)
    assert "Saturday 26 October 2013 at 22:00" in pages["index"]
    assert "2 h 40 min" in pages["01_incident_reconstruction"]
    assert "too few allocations to judge" in pages["03_queue_fairness"]
    exposure = pages["02_exposure_and_changes"]
    assert "1–4 members with protected identity" in exposure
    assert (
        "protected_identity"
        not in exposure.split("There is one row per person to inform", 1)[1].split("Nature of the breach", 1)[0]
    )
    # No name, personnummer or e-mail of the case on any public page.
    applicants = pl.read_csv(CASE_DIR / "applicants.csv")
    for column in ("name", "personnummer", "email", "co_applicant_name"):
        for value in applicants[column].drop_nulls():
            assert value not in everything, value


def test_summary_says_one_field_on_one_account_in_the_singular():
    """The index of this case read "changed 1 profile fields on 1 accounts"; other figures keep the plural."""
    from workbench.reportset.story import summary

    def said(changed: int, accounts: int) -> str:
        findings = {
            "02_exposure_and_changes": {
                "field_changes_by_others": {"value": changed},
                "accounts_changed_by_others": {"value": accounts},
            }
        }
        (sentence,) = [s for p in summary(findings, "en") for s in p if not s.unanswered]
        return "".join(x if isinstance(x, str) else x.text for x in sentence.parts)

    # it counts changes (a field changed twice is two), and the restore sentence counts fields
    assert said(1, 1) == "Someone other than the owner made 1 change to profile fields on 1 account."
    assert said(3, 1) == "Someone other than the owner made 3 changes to profile fields on 1 account."
    assert said(21, 2) == "Someone other than the owner made 21 changes to profile fields on 2 accounts."


def test_every_verdict_on_the_allocation_claim_reads_in_swedish(exposure):
    """The Swedish summary of this case read "… inte påverkades holds on this evidence": the
    verdict the workbench writes when nothing was affected had no Swedish (the tiny case's
    "does not hold" had). Every verdict must read in Swedish, in the summary and the pages."""
    from types import SimpleNamespace

    from workbench.exposure.allocation_check import AllocationCheck
    from workbench.i18n import translate
    from workbench.reportset.story import figure_text

    assert exposure.allocation.verdict() == "holds on this evidence"
    for counts, verdict in (
        ({"allocation_affected": 1, "allocation_possibly_affected": 0}, "does not hold"),
        ({"allocation_affected": 0, "allocation_possibly_affected": 2}, "cannot be confirmed"),
        ({"allocation_affected": 0, "allocation_possibly_affected": 0}, "holds on this evidence"),
    ):
        check = SimpleNamespace(counts=lambda c=counts: c)  # the verdict reads only these two counts
        assert AllocationCheck.verdict(check) == verdict  # type: ignore[arg-type]
        swedish = figure_text(verdict, "allocation_claim", "sv")
        assert swedish == translate(verdict, "sv") and swedish != verdict, verdict
    assert figure_text("holds on this evidence", "allocation_claim", "sv") == "stämmer enligt bevisen"


def test_the_language_a_public_report_is_written_in_is_not_withheld():
    """The public provenance of this case listed "language: text (withheld)": the report's own
    language names nobody and report-set.json records it anyway. Free text stays withheld."""
    from workbench.reportset.disclosure import shown_parameters

    shown = shown_parameters({"language": "sv", "note": "Karin Berg"}, "public")
    assert shown["language"] == "sv"
    assert str(shown["note"]) == "text (withheld)"


def test_certainty_of_a_notification_reads_in_swedish():
    """The Swedish public table of the notification list showed "certain" and "possible"."""
    from workbench.display import value_label
    from workbench.i18n import set_language

    try:
        set_language("sv")
        assert [value_label("certainty", v) for v in ("certain", "possible")] == ["säker", "möjlig"]
    finally:
        set_language("en")
    assert value_label("certainty", "certain") == "certain"


def test_public_fields_shown_do_not_give_away_the_protected_identity_count(exposure):
    # The address fields are hidden on protected members' pages: accounts shown the personnummer
    # (2) minus accounts shown the address (1) gave the protected count, 1, beside findings of 1–4.
    import json as _json

    from workbench.audience import fit
    from workbench.widgets.exposure_charts import fields_exposed_chart

    whole = dict(exposure.exposure.fields().select("field", "n_accounts").iter_rows())
    assert whole["personnummer"] - whole["address"] == 1  # what the public could work out
    public = fit(exposure.exposure.fields("public"), "public", counts=["n_accounts", "n_accounts_max"])
    shown = dict(public.select("field", "n_accounts").iter_rows())
    assert shown["personnummer"] == 2 and [shown[f] for f in ("address", "postal_code", "city")] == [None] * 3
    spec = _json.dumps(fields_exposed_chart(public).to_dict())
    # each withheld row says so in the chart, not with "[suppressed]" ("5 or more"): the address count is 1
    assert spec.count('"note": "withheld (would give a small group\'s count away)"') == 3
    assert "[suppressed]" not in spec


def test_summary_says_the_response_times_stand_on_an_unknown_clock():
    """This case's index said "first reported … 8 min after it began" as fact, though the
    mail clock could not be estimated; the summary now says how far off is unknown, and why."""
    from workbench.reportset.story import summary

    why = "the mail server's clock cannot be estimated"

    def said(uncertainty: object, language: str = "en") -> str:
        findings = {
            "01_incident_reconstruction": {
                "login_disabled_at": {"value": "2013-10-27T02:00:00+00:00"},
                "time_to_contain_hours": {"value": 2.67},
                "fix_deployed_at": {"value": "2013-10-27T06:00:00+00:00"},
                "time_to_detect_uncertainty_minutes": {"value": uncertainty},
            }
        }
        (sentence,) = [s for p in summary(findings, language) for s in p if not s.unanswered]
        return "".join(x if isinstance(x, str) else x.text for x in sentence.parts)

    assert said({"unknown": why}).endswith(f"How far these times may be off is unknown: {why}.")
    assert said({"unknown": why}, "sv").endswith(f"Hur mycket tiderna kan vara fel är okänt: {why}.")
    assert "unknown" not in said(2.0)


def test_fairness_verdict_of_a_case_too_small_to_judge_does_not_open_with_nothing_found(case2_db):
    from workbench.fairness import review_fairness

    review = review_fairness(open_case(case2_db), permutations=2_000)
    assert review.caseworkers["too_few"].all()
    assert not review.verdict("public").startswith("**Nothing was found.**")
    assert review.verdict("public").startswith(
        "**No allocation departed from queue order without a recorded exception, but no caseworker could be judged:**"
    )

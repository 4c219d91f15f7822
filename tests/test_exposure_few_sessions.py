"""Few settled sessions: an estimated rate never makes an unsettled session impossible.

A hand-written case of five sessions (built on tests/swapkit.py's members and incident
window), worked out by hand. Bo (2002) is logged in 10:00–11:30 CET throughout.

- Alva (2001) logs in at 10:10 and her pages name Bo's account: **bound**, proven.
- Cecilia (2003) logs in at 10:20 and her pages name only her own account, to the logout: **own**.
- David (2004) logs in at 10:30, sees his own overview, then a profile page whose account_id
  is missing: Bo's session was open at his login, so he **may have been swapped later**.
- Erik (2005) logs in at 10:45, the same as David.

Of the four candidate sessions whose pages settle something, three showed their owner's
pages and none of those went on to show another account: 0 of 3. The old estimate took that
share as it was, gave David's and Erik's sessions p_bound 0, and still listed them beside
Alva as viewers of Bo's account ("2001 2004 2005"), with no probability: a reader took them
as proven. Two of those three are David's and Erik's own sessions, whose later pages are the
question; they are left out, so the rate is Cecilia's 0 of 1, smoothed (Jeffreys:
(0 + ½) / (1 + 1) = 1/4). Each is possible with p 0.25, and only Alva is a proven viewer.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
from outside_handover import build
from swapkit import _session, case_frames, utc

from workbench import evidence
from workbench.audience import fit
from workbench.case import open_case
from workbench.exposure import ACCOUNT_COLUMNS, NOTICE_COLUMNS, review_exposure
from workbench.exposure.binding import _rate
from workbench.ingest import ingest
from workbench.mapping import ingest_mapped
from workbench.person_lists import person_rows

ALVA, BO, CECILIA, DAVID, ERIK = 2001, 2002, 2003, 2004, 2005
KEY = "a-test-pseudonym-key-0123456789abcdef"
LATE = (0 + 0.5) / (1 + 1)  # Cecilia's session, the one settled after its own pages, did not go on to another account


def _own_then_unnamed(sid: str, member: int, login, unnamed_at, logout):
    """A session that shows its owner's overview, then a profile page with account_id missing."""
    pages = [(login + timedelta(seconds=2), "/mina-sidor", member), (unnamed_at, "/mina-sidor/profil", None)]
    return _session(sid, member, login, pages, logout)


def _sessions() -> list:
    return [
        _session(
            "s-bo", BO, utc(9, 0), [(utc(9, 0, 2), "/mina-sidor", BO), (utc(9, 5), "/mina-sidor/ko", BO)], utc(10, 30)
        ),
        _session(
            "s-alva",
            ALVA,
            utc(9, 10),
            [(utc(9, 10, 2), "/mina-sidor", BO), (utc(9, 12), "/mina-sidor/profil", BO)],
            utc(9, 15),
        ),
        _session(
            "s-cecilia",
            CECILIA,
            utc(9, 20),
            [(utc(9, 20, 2), "/mina-sidor", CECILIA), (utc(9, 22), "/mina-sidor/ko", CECILIA)],
            utc(9, 25),
        ),
        _own_then_unnamed("s-david", DAVID, utc(9, 30), utc(9, 35), utc(9, 40)),
        _own_then_unnamed("s-erik", ERIK, utc(9, 45), utc(9, 50), utc(9, 55)),
    ]


@pytest.fixture(scope="module")
def review(tmp_path_factory):
    frames = case_frames("midsession_swap")
    sessions = _sessions()
    frames["logins"] = pl.DataFrame([s[0] for s in sessions], schema=evidence.polars_schema("logins"))
    frames["logouts"] = pl.DataFrame([s[1] for s in sessions], schema=evidence.polars_schema("logouts"))
    frames["page_views"] = pl.DataFrame(
        [row for s in sessions for row in s[2]], schema=evidence.polars_schema("page_views")
    )
    assert set(frames["applicants"]["applicant_id"]) == {ALVA, BO, CECILIA, DAVID, ERIK}
    root = tmp_path_factory.mktemp("few_sessions")
    (root / "evidence").mkdir()
    for table, frame in frames.items():
        frame.write_parquet(root / "evidence" / f"{table}.parquet")
    url = f"sqlite:///{root / 'case.db'}"
    ingest(root / "evidence", url, progress=False)
    case = open_case(url)
    found = review_exposure(case)
    case.close()
    return found


def test_a_smoothed_rate_is_never_0_or_1_and_approaches_the_share_with_more_sessions():
    assert _rate(0, 3) == 1 / 8 and _rate(3, 3) == 7 / 8 and _rate(0, 0) == 0.5
    assert 0 < _rate(0, 1000) < 0.001 and abs(_rate(97, 1000) - 0.097) < 0.001


def test_the_sessions_are_settled_as_worked_out_by_hand(review):
    status = dict(review.binding.sessions.select("session_id", "status").iter_rows())
    assert status == {"s-bo": "own", "s-alva": "bound", "s-cecilia": "own", "s-david": "unknown", "s-erik": "unknown"}
    late = dict(review.binding.sessions.select("session_id", "late_open").iter_rows())
    assert late["s-david"] and late["s-erik"] and not late["s-cecilia"]
    rates = review.binding.rates
    assert rates["settled_sessions"] == 4 and rates["swap_rate"] == 1 / 4  # the share the report states
    assert rates["late_swap_rate"] == LATE


def test_an_unsettled_session_is_possible_with_its_p_never_p_0(review):
    p = dict(review.binding.sessions.select("session_id", "p_bound").iter_rows())
    assert p["s-david"] == p["s-erik"] == LATE > 0
    links = review.binding.links
    assert set(links.select("session_id", "applicant_id", "account_id", "certain").iter_rows()) == {
        ("s-alva", ALVA, BO, True),
        ("s-david", DAVID, BO, False),
        ("s-erik", ERIK, BO, False),
    }
    assert (links["p_bound"] > 0).all()


def test_the_accounts_table_separates_proven_viewers_from_possible_ones_with_their_p(review):
    bo = review.exposure.accounts().filter(pl.col("account_id") == BO).row(0, named=True)
    assert bo["viewers"] == "2001" and bo["n_viewers"] == 1 and bo["sessions"] == "s-alva"
    assert bo["possible_viewers"] == "2004 (p 0.25), 2005 (p 0.25)" and bo["n_possible_viewers"] == 2
    assert bo["possible_sessions"] == "s-david (p 0.25), s-erik (p 0.25)"
    assert bo["certain"] and bo["tier"] == 3


def test_a_swedish_table_writes_each_possible_viewers_p_with_a_decimal_comma(review):
    from workbench.display import show
    from workbench.exposure import ACCOUNT_COLUMNS
    from workbench.i18n import using

    accounts = review.exposure.accounts().filter(pl.col("account_id") == BO)
    with using("sv"):
        page = show(accounts, "investigator", columns=ACCOUNT_COLUMNS)._repr_html_()
    assert "2004 (p 0,25), 2005 (p 0,25)" in page and "s-david (p 0,25)" in page and "0.25" not in page
    with using("en"):
        assert "2004 (p 0.25), 2005 (p 0.25)" in show(accounts, "investigator", columns=ACCOUNT_COLUMNS)._repr_html_()


def test_the_notification_list_names_possible_sessions_apart_with_their_p(review):
    people = review.notices.people
    bo = people.filter(pl.col("applicant_id") == BO).row(0, named=True)
    assert bo["certainty"] == "certain" and bo["sessions"] == "s-alva"
    assert bo["possible_sessions"] == "s-david (p 0.25), s-erik (p 0.25)"
    assert list(people.columns) == list(NOTICE_COLUMNS)


def test_expected_counts_add_each_possible_person_at_its_p_within_min_and_max(review):
    b = review.bounds["people_put_into_others_accounts"]
    assert (b.min, b.likely, b.max) == (1, round(1 + 2 * LATE), 3)
    b = review.bounds["accounts_bound_to_others"]
    assert (b.min, b.likely, b.max) == (1, 1, 1)  # Bo's account is proven; the possible viewers add no account


def test_the_new_columns_reach_no_auditor_or_public_in_clear(review):
    accounts = review.exposure.accounts()
    audited = person_rows(accounts, "auditor", columns=ACCOUNT_COLUMNS, key=KEY)
    text = " ".join(str(v) for row in audited.iter_rows() for v in row)
    assert not any(str(i) in text for i in (ALVA, DAVID, ERIK)) and "s-david" not in text
    assert audited["n_possible_viewers"].to_list() == accounts["n_possible_viewers"].to_list()
    public = person_rows(accounts, "public", columns=ACCOUNT_COLUMNS)
    assert public.columns == ["n"]
    notices = fit(review.notices.people, "auditor", columns=NOTICE_COLUMNS, key=KEY)
    assert not notices["possible_sessions"].drop_nulls().str.contains("s-").any()


def test_the_outside_hand_over_names_1101_as_viewer_of_1102_and_1104_1106_as_possible(tmp_path):
    # The outside tester's hand-over (tests/outside_handover.py): 1101's pages name 1102's account;
    # 1104 and 1106 show their own pages, then lose them in page-log gaps with 1102's session open.
    # The three sessions that showed their owner's pages all end in a gap: none settles the
    # later-swap rate, which is then ½ (0 of 0), where the old estimate said 0 of 3 and p 0.
    root = build(tmp_path / "handover")
    ingest_mapped(root, root / "mapping.yaml", case_url=tmp_path / "case.db", progress=False)
    case = open_case(f"sqlite:///{tmp_path / 'case.db'}")
    found = review_exposure(case)
    case.close()
    assert found.binding.rates["late_swap_rate"] == 0.5
    row = found.exposure.accounts().filter(pl.col("account_id") == 1102).row(0, named=True)
    assert (row["viewers"], row["possible_viewers"]) == ("1101", "1104 (p 0.50), 1106 (p 0.50)")


def test_with_no_session_settled_the_observed_swap_rate_is_unknown_not_the_priors_half(tmp_path):
    # Every page lacks its account_id: no session is settled, so the share the report states
    # ("of those with a candidate, … were bound") has no sessions behind it. It was reported as
    # 50 %, the smoothing prior's value.
    from workbench.findings import Findings

    sessions = [
        _session("s-1", BO, utc(9, 0), [(utc(9, 0, 2), "/mina-sidor/profil", None)], utc(9, 30)),
        _session("s-2", ALVA, utc(9, 10), [(utc(9, 10, 2), "/mina-sidor/profil", None)], utc(9, 20)),
    ]
    frames = case_frames("midsession_swap")
    frames["logins"] = pl.DataFrame([s[0] for s in sessions], schema=evidence.polars_schema("logins"))
    frames["logouts"] = pl.DataFrame([s[1] for s in sessions], schema=evidence.polars_schema("logouts"))
    frames["page_views"] = pl.DataFrame(
        [row for s in sessions for row in s[2]], schema=evidence.polars_schema("page_views")
    )
    (tmp_path / "evidence").mkdir()
    for table, frame in frames.items():
        frame.write_parquet(tmp_path / "evidence" / f"{table}.parquet")
    url = f"sqlite:///{tmp_path / 'case.db'}"
    ingest(tmp_path / "evidence", url, progress=False)
    with open_case(url) as case:
        found = review_exposure(case)
        findings = Findings(tmp_path / "out")
        found.record(findings, "bounds")
    rates = found.binding.rates
    assert rates["settled_sessions"] == 0 and rates["swap_rate"] is None
    assert 0 < rates["swap_estimate"] < 1  # the probabilities still have their smoothed prior
    recorded = findings.load()["swap_rate"]
    assert recorded["value"] == {"unknown": "the evidence holds no value for it"}, recorded
    sentence = findings.text("Of those with a candidate, {swap_rate} were bound.")
    assert "50" not in sentence and "evidence holds no value" in sentence, sentence

"""Notebook 02 against hand-written sessions an outside tester built, each worked out by hand.

Invented members 301-303 and 503-504; the release 2013-12-13 17:00 UTC, the fix 2013-12-18 09:00.

- **One session shows two other members' accounts** (s302: 303's profile, then 301's). The
  binding kept one account per session, the least id, so 303, a member with protected
  identity, was lost from every count of notebook 02 while notebook 01 listed both pairs.
  Right: 2 accounts bound and exposed, 2 pages shown, 1 protected identity exposed, both
  owners notified.
- **An error page naming another account** (s504's only account-naming page is a 500). "A page
  served with an error status renders none" (docs/evidence-format.md), and notebook 01 binds no
  session on it; notebook 02 bound s504 to 503 and notified 503 as certain. Right: nothing bound
  or exposed for certain, 503 possibly (s504 had a candidate).
"""

from __future__ import annotations

from pathlib import Path

from workbench import evidence
from workbench.case import open_case
from workbench.exposure import review_exposure
from workbench.incident import reconstruct_incident
from workbench.ingest import ingest
from workbench.queries import run

DEPLOYMENTS = "2013-12-13T17:00:00Z,4.12.0,Ny sessionshantering\n2013-12-18T09:00:00Z,4.12.1,Fix"
ACTIONS = "2013-12-16T07:00:00Z,login_disabled,stängd\n2013-12-18T09:00:00Z,fix_deployed,fix\n2013-12-18T10:00:00Z,login_enabled,öppen"


def _person(i: int, protected: bool = False) -> str:
    return (
        f"{i},19800101-00{i % 100:02d},Person{i} Prov,Gata {i},123 45,Farsta,p{i}@example.se,070-000 00 {i % 100:02d},"
        f"Firma{i} AB,{300000 + i},,,false,{str(protected).lower()},2005-01-01,2005-01-01T10:00:00Z,active,"
    )


def _case(tmp_path: Path, tables: dict[str, str]):
    folder = tmp_path / "evidence"
    folder.mkdir()
    tables = {"deployments": DEPLOYMENTS, "incident_actions": ACTIONS, **tables}
    for table, rows in tables.items():
        header = ",".join(evidence.polars_schema(table))
        (folder / f"{table}.csv").write_text(header + "\n" + (rows.strip() + "\n" if rows.strip() else ""))
    ingest(folder, tmp_path / "case.db", progress=False)
    return open_case(tmp_path / "case.db")


def _figures(review) -> dict:
    bounds = review.exposure.bounds()
    return {name: (b.min, b.max) for name, b in bounds.items()}


def test_a_session_showing_two_other_accounts_counts_both(tmp_path):
    case = _case(
        tmp_path,
        {
            "applicants": "\n".join([_person(301), _person(302), _person(303, protected=True)]),
            "logins": "2013-12-13T18:00:00Z,s301,301,bankid,10.0.0.1,\n"
            "2013-12-13T18:05:00Z,s303,303,bankid,10.0.0.3,\n2013-12-13T18:10:00Z,s302,302,bankid,10.0.0.2,",
            "logouts": "2013-12-13T18:20:00Z,s301,user\n2013-12-13T18:15:00Z,s303,user\n2013-12-13T18:12:00Z,s302,user",
            "page_views": "2013-12-13T18:00:00Z,s301,10.0.0.1,/logga-in,200,\n"
            "2013-12-13T18:00:05Z,s301,10.0.0.1,/mina-sidor,200,301\n"
            "2013-12-13T18:14:00Z,s301,10.0.0.1,/mina-sidor,200,301\n"
            "2013-12-13T18:20:00Z,s301,10.0.0.1,/logga-ut,200,\n"
            "2013-12-13T18:05:00Z,s303,10.0.0.3,/logga-in,200,\n"
            "2013-12-13T18:05:05Z,s303,10.0.0.3,/mina-sidor,200,303\n"
            "2013-12-13T18:15:00Z,s303,10.0.0.3,/logga-ut,200,\n"
            "2013-12-13T18:10:00Z,s302,10.0.0.2,/logga-in,200,\n"
            "2013-12-13T18:10:05Z,s302,10.0.0.2,/mina-sidor/profil,200,303\n"
            "2013-12-13T18:11:00Z,s302,10.0.0.2,/mina-sidor/profil,200,301\n"
            "2013-12-13T18:12:00Z,s302,10.0.0.2,/logga-ut,200,",
        },
    )
    review = review_exposure(case)
    figures = _figures(review)
    assert figures["accounts_bound_to_others"] == (2, 2) and figures["accounts_exposed"] == (2, 2)
    assert figures["pages_shown_to_others"] == (2, 2) and figures["protected_identity_exposed"] == (1, 1)
    assert figures["people_put_into_others_accounts"] == (1, 1)
    assert sorted(review.notices.people["applicant_id"].to_list()) == [301, 303]
    assert review.exposure.protected()["account_id"].to_list() == [303]
    # notebook 01 and the focused headlines say the same
    pairs = reconstruct_incident(case).mismatched.select("session_id", "account_id").sort("account_id").rows()
    assert pairs == [("s302", 301), ("s302", 303)]
    headlines = run("exposure_headlines", case).row(0, named=True)
    assert headlines["sessions_bound"] == 1 and headlines["accounts_bound_to_others"] == 2


def test_an_error_page_naming_another_account_binds_nothing_for_certain(tmp_path):
    case = _case(
        tmp_path,
        {
            "applicants": _person(503) + "\n" + _person(504),
            "logins": "2013-12-13T19:00:00Z,s503,503,bankid,10.0.0.1,\n2013-12-13T19:02:00Z,s504,504,bankid,10.0.0.2,",
            "logouts": "2013-12-13T19:10:00Z,s503,user\n2013-12-13T19:04:00Z,s504,user",
            "page_views": "2013-12-13T19:00:00Z,s503,10.0.0.1,/logga-in,200,\n"
            "2013-12-13T19:00:05Z,s503,10.0.0.1,/mina-sidor,200,503\n"
            "2013-12-13T19:09:00Z,s503,10.0.0.1,/mina-sidor,200,503\n"
            "2013-12-13T19:10:00Z,s503,10.0.0.1,/logga-ut,200,\n"
            "2013-12-13T19:02:00Z,s504,10.0.0.2,/logga-in,200,\n"
            "2013-12-13T19:02:05Z,s504,10.0.0.2,/mina-sidor/profil,500,503\n"
            "2013-12-13T19:04:00Z,s504,10.0.0.2,/logga-ut,200,",
        },
    )
    review = review_exposure(case)
    figures = _figures(review)
    assert figures["accounts_bound_to_others"][0] == 0 and figures["accounts_exposed"] == (0, 0)
    status = dict(review.binding.sessions.select("session_id", "status").rows())
    assert status == {"s503": "own", "s504": "unknown"}  # a candidate existed; no page settles it
    assert reconstruct_incident(case).mismatched.height == 0
    assert run("exposure_headlines", case).row(0, named=True)["sessions_bound"] == 0
    assert not review.notices.people.filter(review.notices.people["certainty"] == "certain").height


def test_a_login_at_the_very_instant_login_was_disabled_counts_as_it_happened(tmp_path):
    # Found from outside: notebook 01 listed the mismatched session (s551, 07:00:00, the
    # login_disabled instant) but left it out of "as it happened", the binding rate and the
    # sessions beside it; notebook 02 counted its exposure.
    pages = [
        ("2013-12-16T06:50:00Z", "s550", "/logga-in", ""), ("2013-12-16T06:50:05Z", "s550", "/mina-sidor", 550),
        ("2013-12-16T07:09:00Z", "s550", "/mina-sidor", 550), ("2013-12-16T07:10:00Z", "s550", "/logga-ut", ""),
        ("2013-12-16T07:00:00Z", "s551", "/logga-in", ""), ("2013-12-16T07:00:05Z", "s551", "/mina-sidor/profil", 550),
        ("2013-12-16T07:02:00Z", "s551", "/logga-ut", ""),
    ]  # fmt: skip
    case = _case(
        tmp_path,
        {
            "applicants": _person(550) + "\n" + _person(551),
            "logins": "2013-12-16T06:50:00Z,s550,550,bankid,10.0.0.1,\n2013-12-16T07:00:00Z,s551,551,bankid,10.0.0.2,",
            "logouts": "2013-12-16T07:10:00Z,s550,user\n2013-12-16T07:02:00Z,s551,user",
            "page_views": "\n".join(f"{t},{s},10.0.0.1,{p},200,{a}" for t, s, p, a in pages),
        },
    )
    incident = reconstruct_incident(case)
    assert incident.mismatched["session_id"].to_list() == ["s551"]
    assert incident.alternative("actual")["n_exposed_accounts"] == 1
    assert incident.binding_rate["logins_at_risk"] == 1 and incident.binding_rate["mismatched"] == 1
    assert incident.curve["n_exposed_accounts"][-1] == 1  # the curve ends where "actual" is
    assert _figures(review_exposure(case))["accounts_exposed"] == (1, 1)


def test_a_long_pause_before_the_owners_last_own_page_leaves_the_session_settled(tmp_path):
    # Found from outside: s402 shows only 402's pages, with a 30-minute pause before its last
    # own page and nothing after it but the logout page; 401's session was open at its login.
    # "Settled only up to the last of them" (the binding's rule): s402 is its owner's, not
    # "unknown" (it counted in every maximum and a possible notification).
    case = _case(
        tmp_path,
        {
            "applicants": _person(401) + "\n" + _person(402),
            "logins": "2013-12-13T18:00:00Z,s401,401,bankid,10.0.0.1,\n2013-12-13T18:10:00Z,s402,402,bankid,10.0.0.2,",
            "logouts": "2013-12-13T18:45:00Z,s401,user\n2013-12-13T18:41:00Z,s402,user",
            "page_views": "2013-12-13T18:00:00Z,s401,10.0.0.1,/logga-in,200,\n"
            "2013-12-13T18:00:05Z,s401,10.0.0.1,/mina-sidor,200,401\n"
            "2013-12-13T18:15:00Z,s401,10.0.0.1,/mina-sidor,200,401\n"
            "2013-12-13T18:30:00Z,s401,10.0.0.1,/mina-sidor,200,401\n"
            "2013-12-13T18:45:00Z,s401,10.0.0.1,/logga-ut,200,\n"
            "2013-12-13T18:10:00Z,s402,10.0.0.2,/logga-in,200,\n"
            "2013-12-13T18:10:05Z,s402,10.0.0.2,/mina-sidor,200,402\n"
            "2013-12-13T18:40:05Z,s402,10.0.0.2,/mina-sidor,200,402\n"
            "2013-12-13T18:41:00Z,s402,10.0.0.2,/logga-ut,200,",
        },
    )
    review = review_exposure(case)
    status = dict(review.binding.sessions.select("session_id", "status").rows())
    assert status == {"s401": "own", "s402": "own"}
    figures = _figures(review)
    assert figures["accounts_bound_to_others"] == (0, 0) and figures["people_put_into_others_accounts"] == (0, 0)
    assert review.notices.people.height == 0

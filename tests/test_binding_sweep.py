"""The binding candidates by a sweep over login times equal the registered range-join query.

``workbench.exposure.candidates.binding_candidates`` replaced the ``binding_candidates``
query in notebook 02 (issue 20): the query's work grows with logins × concurrent sessions,
the sweep's with sessions × log sessions. The two must give the same rows: on random
session sets against a brute-force reading of the definition, on hand-written edge cases
and on the generated tiny case, on SQLite and DuckDB.
"""

from __future__ import annotations

import random
from datetime import timedelta

import polars as pl
import pytest
from evidence_frames import _at, handmade_frames, write_evidence

from workbench.exposure.candidates import binding_candidates, candidates_from_spans, latest_open_other
from workbench.ingest import ingest
from workbench.queries import run

A, B, C = 1001, 1002, 2**62 + 12345  # the three members of the hand-made evidence
WINDOW = {"start": _at(0), "end": _at(600)}


def _brute(spans: pl.DataFrame, start, end) -> set[tuple]:
    """The query's definition, read literally: every login against every session."""
    rows = spans.to_dicts()
    out = set()
    for login in rows:
        t, a = login["login_at"], login["applicant_id"]
        if not (start <= t < end) or a is None:
            continue
        open_ = [
            o["login_at"] for o in rows if o["login_at"] < t < o["ended_at"] and o["applicant_id"] not in (a, None)
        ]
        if not open_:
            continue
        latest = max(open_)
        for c in rows:
            if c["login_at"] == latest and c["applicant_id"] not in (a, None):
                if c["logout_at"] is None or c["logout_at"] > t:
                    out.add((login["session_id"], c["session_id"], c["applicant_id"], c["login_at"]))
    return out


def _random_spans(rng: random.Random) -> pl.DataFrame:
    rows = []
    for i in range(rng.randint(0, 30)):
        login = rng.randint(0, 40)  # few distinct minutes: many equal timestamps
        end = login + rng.choice([0, 1, 2, 5, 10, 30])
        logout = rng.choice([None, _at(end)])
        rows.append(
            {
                "session_id": f"s{i:02d}",
                "applicant_id": rng.choice([1, 2, 3, None]) if rng.random() < 0.05 else rng.choice([1, 2, 3]),
                "login_at": _at(login),
                "ended_at": _at(end),
                "logout_at": logout,
            }
        )
    schema = {
        "session_id": pl.String(),
        "applicant_id": pl.Int64(),
        "login_at": pl.Datetime("us", "UTC"),
        "ended_at": pl.Datetime("us", "UTC"),
        "logout_at": pl.Datetime("us", "UTC"),
    }
    return pl.DataFrame(rows, schema=schema)


def test_the_sweep_equals_the_definition_on_random_session_sets():
    rng = random.Random(20)
    nonempty = 0
    for case in range(400):
        spans = _random_spans(rng)
        start, end = _at(rng.randint(0, 20)), _at(rng.randint(20, 45))
        got = candidates_from_spans(spans, start, end)
        want = _brute(spans, start, end)
        assert set(got.iter_rows()) == want, (case, spans)
        assert got.height == len(want)  # no row twice
        nonempty += bool(want)
    assert nonempty > 200  # the random sets do exercise candidates


def test_latest_open_other_searches_below_the_members_own_sessions():
    # sessions by login time: B 0–100, A 1–100, A 2–100, C 3–4 (closed by 5)
    login = pl.Series([0, 1, 2, 3]).to_numpy()
    ended = pl.Series([100, 100, 100, 4]).to_numpy()
    who = pl.Series([2, 1, 1, 3]).to_numpy()
    at, member = pl.Series([5, 5, 4, 3, 0]).to_numpy(), pl.Series([1, 2, 1, 1, 1]).to_numpy()
    # A at 5: own sessions 2 and 1 on top, C closed: B's (index 0); B at 5: A's latest (2);
    # A at 4: C ended at 4, not after; A at 3: C logged in at 3, not before; A at 0: nothing before.
    assert latest_open_other(login, ended, who, at, member).tolist() == [0, 2, 0, 0, -1]


def _session_frames() -> dict[str, pl.DataFrame]:
    """Sessions written to pin the edge cases (minutes after the deployment at 0).

    p0 (C) logs in at -30 with no logout and a page at -25, so it ends before the window at
    an idle timeout of 20; p1 (B) logs in at the same instant and stays open till 50: a
    window login that finds p1 gets p0 too, as a tie without a logout. A has two overlapping
    sessions (s1, s2); s4 (C) and s5 (A) log in at 20, exactly when s3 (B) logged out; s6 (B)
    and s7 (C) log in together at 25; s10 (C) and s11 (B) together at 55, s10 out at 56 before
    s12 (A) logs in at 57.
    """
    frames = handmade_frames()
    sessions = [  # id, member, login, logout (None: none logged), reason
        ("p0", C, -30, None, None),
        ("p1", B, -30, 50, "user"),
        ("s1", A, 10, 40, "user"),
        ("s2", A, 12, None, None),
        ("s3", B, 15, 20, "user"),
        ("s4", C, 20, 45, "timeout"),
        ("s5", A, 20, None, None),
        ("s6", B, 25, 60, "user"),
        ("s7", C, 25, 60, "user"),
        ("s8", A, 30, 35, "user"),
        ("s10", C, 55, 56, "user"),
        ("s11", B, 55, 70, "user"),
        ("s12", A, 57, 58, "user"),
        ("s13", C, 70, None, None),
        ("s14", B, 71, None, None),
    ]
    logins = frames["logins"]
    frames["logins"] = pl.DataFrame(
        {
            "time": [_at(m) for _, _, m, _, _ in sessions],
            "session_id": [s for s, *_ in sessions],
            "applicant_id": [a for _, a, *_ in sessions],
            "method": ["bankid"] * len(sessions),
            "ip": [None] * len(sessions),
            "user_agent": [None] * len(sessions),
        },
        schema=logins.schema,
    )
    out = [(s, m, r) for s, _, _, m, r in sessions if m is not None]
    frames["logouts"] = pl.DataFrame(
        {"time": [_at(m) for _, m, _ in out], "session_id": [s for s, _, _ in out], "reason": [r for *_, r in out]},
        schema=frames["logouts"].schema,
    )
    pages = [("p0", -25), ("s2", 30), ("s2", 31), ("s13", 72)]
    frames["page_views"] = pl.DataFrame(
        {
            "time": [_at(m) for _, m in pages],
            "session_id": [s for s, _ in pages],
            "ip": [None] * len(pages),
            "path": ["/mina-sidor"] * len(pages),
            "status": [200] * len(pages),
            "account_id": [None] * len(pages),
        },
        schema=frames["page_views"].schema,
    )
    frames["profile_changes"] = frames["profile_changes"].clear()
    return frames


@pytest.fixture(scope="module", params=["sqlite", "duckdb"])
def edge_case(request, tmp_path_factory):
    folder = write_evidence(_session_frames(), tmp_path_factory.mktemp("sweep") / "evidence")
    url = (
        f"sqlite:///{folder.parent / 'case.db'}"
        if request.param == "sqlite"
        else f"duckdb:///{folder.parent / 'case.duckdb'}"
    )
    ingest(folder, url, progress=False)
    return url


def _pairs(frame: pl.DataFrame) -> set[tuple[str, str]]:
    return set(frame.select("session_id", "candidate_session_id").iter_rows())


@pytest.mark.parametrize("idle", [1, 20, 60])
def test_the_sweep_equals_the_query_on_hand_written_edge_cases(edge_case, idle):
    params = {**WINDOW, "idle_timeout_minutes": idle}
    old = run("binding_candidates", edge_case, **params)
    new = binding_candidates(edge_case, **params)
    assert new.equals(old)
    assert new.schema == old.schema


def test_the_hand_written_edge_cases_give_the_candidates_the_rules_say(edge_case):
    got = _pairs(binding_candidates(edge_case, **WINDOW, idle_timeout_minutes=20))
    # s5 (A at 20): A's own s1, s2 stand on top, s3 (B) ended at 20 exactly, s4 logged in at 20:
    # B's p1, and C's p0 tied with it without a logout although it ended at -5.
    assert {("s5", "p1"), ("s5", "p0")} <= got
    assert ("s5", "s3") not in got and ("s5", "s4") not in got
    assert ("s4", "s2") in got  # C at 20: A's s2 (12) is the latest open; s3 ended at 20
    assert {("s8", "s6"), ("s8", "s7")} <= got  # two members tied at 25
    assert ("s12", "s11") in got and ("s12", "s10") not in got  # s10 logged out at 56
    assert not {p for p in got if p[0] == "s1"} - {("s1", "p1"), ("s1", "p0")}


@pytest.fixture(scope="module")
def tiny_lost_logouts(tiny_case, tmp_path_factory):
    """The tiny case with every third logout lost, so idle timeouts and tie rules matter."""
    folder = tmp_path_factory.mktemp("sweep_lost") / "evidence"
    folder.mkdir()
    for path in tiny_case.evidence_dir.iterdir():
        if path.name == "logouts.parquet":
            pl.read_parquet(path).filter(pl.int_range(pl.len()) % 3 != 0).write_parquet(folder / path.name)
        elif path.is_file():
            (folder / path.name).write_bytes(path.read_bytes())
    url = f"duckdb:///{folder.parent / 'case.duckdb'}"
    ingest(folder, url, progress=False)
    return url


@pytest.mark.parametrize("idle", [5, 20])
def test_the_sweep_equals_the_query_on_the_generated_tiny_case(tiny_duckdb, tiny_lost_logouts, idle):
    window = run("incident_window", tiny_duckdb)
    start, end = window["deployed_at"].item(), window["fix_deployed_at"].item()
    for url in (tiny_duckdb, tiny_lost_logouts):
        for lo, hi in ((start, end), (start - timedelta(days=2), end + timedelta(days=1))):
            params = {"start": lo, "end": hi, "idle_timeout_minutes": idle}
            old = run("binding_candidates", url, **params)
            assert old.height > 10
            assert binding_candidates(url, **params).equals(old), (url, lo, hi)


def test_the_unexplained_bindings_name_the_query_they_were_swept_from_with_its_parameters(tiny_duckdb, tmp_path):
    import json

    from workbench.case import open_case
    from workbench.exposure import review_exposure
    from workbench.findings import Findings

    with open_case(tiny_duckdb) as case:
        review = review_exposure(case, idle_timeout_minutes=25)
        findings = Findings(tmp_path, audience="investigator", case=case)
        review.record(findings, "tier 2")
    entry = json.loads((tmp_path / "findings.json").read_text())["bindings_unexplained"]
    assert entry["query"] == "candidate_sessions"
    assert entry["params"]["idle_timeout_minutes"] == 25

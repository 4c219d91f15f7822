"""The streamed generator writes the same content as the in-memory one it replaced.

The expected hashes were computed from the generator before it streamed (main at 0f94ddf):
Parquet by content (schema and every row, in file order), every other file by its bytes.
A change that alters what a seed generates must update them on purpose.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

from workbench.scenario import generate

TINY = {
    "evidence/applicants.parquet": "3ce9fd74304fa510",
    "evidence/contracts.parquet": "8443118e1329171e",
    "evidence/deployments.parquet": "5b30836960e60dbf",
    "evidence/fees.parquet": "54c23bb7162cea30",
    "evidence/handler_actions.parquet": "58fcdb7cdbea2bbe",
    "evidence/handlers.parquet": "0ad5ff11757d4db0",
    "evidence/incident_actions.parquet": "1a89833a6e6d9831",
    "evidence/interests.parquet": "9f0a1cf0935c8bfe",
    "evidence/listings.parquet": "ac376f2a8ec729be",
    "evidence/logins.parquet": "7dd629ceaccf9878",
    "evidence/logouts.parquet": "2c74c99b5c2a2284",
    "evidence/offers.parquet": "ba65a0e92683d886",
    "evidence/page_views.parquet": "c5b7a83017246de5",
    "evidence/profile_changes.parquet": "add9fbdc1abc1fa9",
    "evidence/support_messages.parquet": "1eee17bae0f48140",
    "raw/access.log": "922b2aa45e60bcb7",
    "raw/support.mbox": "f26a45d7d8ea65b4",
    "scenario.json": "3c2280c98d297883",
    "truth/allocation_touched.parquet": "0e13df2335e5d10b",
    "truth/clock_offsets.parquet": "fda54558f9f41d18",
    "truth/corrupt_handlers.parquet": "6b2542d514163e9f",
    "truth/fake_profiles.parquet": "b8a4cf8e37e651e6",
    "truth/fault_reports.parquet": "97e3228c30f798d1",
    "truth/fraudulent_allocations.parquet": "8e37fb38a49852b7",
    "truth/priority_allocations.parquet": "f0f42ba95734241a",
    "truth/swapped_sessions.parquet": "7a9ce9703ca09e90",
    "truth/unauthorized_changes.parquet": "3d41db537b118b5e",
}

SMALL = {
    "evidence/applicants.parquet": "2a4310dbf2a9ec08",
    "evidence/contracts.parquet": "1998ce5ffea4b6a1",
    "evidence/deployments.parquet": "5b30836960e60dbf",
    "evidence/fees.parquet": "526d9bac889205d8",
    "evidence/handler_actions.parquet": "25711743f1c5c175",
    "evidence/handlers.parquet": "1a09b89827351939",
    "evidence/incident_actions.parquet": "1a89833a6e6d9831",
    "evidence/interests.parquet": "c25de12a95156ce0",
    "evidence/listings.parquet": "463ffcf72316eb1b",
    "evidence/logins.parquet": "5b08ebd18ee7bdd6",
    "evidence/logouts.parquet": "61f1c8bab8965ba6",
    "evidence/offers.parquet": "f9d9e82666adc6e5",
    "evidence/page_views.parquet": "89587d6f006e6538",
    "evidence/profile_changes.parquet": "9da3d9d84460611c",
    "evidence/support_messages.parquet": "1a23f1a3960fe132",
    "raw/access.log": "c5f1c20a87b2e694",
    "raw/support.mbox": "964e88c0572ed1bf",
    "scenario.json": "486dc64724c68364",
    "truth/allocation_touched.parquet": "fb1e77a84b211d20",
    "truth/clock_offsets.parquet": "fda54558f9f41d18",
    "truth/corrupt_handlers.parquet": "f09171151e59b945",
    "truth/fake_profiles.parquet": "5e5e16b239dad6a0",
    "truth/fault_reports.parquet": "d9830b5a4dc4d8d3",
    "truth/fraudulent_allocations.parquet": "278a3e5aeaa5322c",
    "truth/priority_allocations.parquet": "399d8c2cac0b23f2",
    "truth/swapped_sessions.parquet": "f20eef86ee080559",
    "truth/unauthorized_changes.parquet": "ac80383a28609733",
}

# seed 3, CSV, both degradations, mixed swap mode, with the hand-over written too.
TINY_DEGRADED_CSV_HANDOVER = {
    "case/evidence/applicants.csv": "547f8b6f17cf5051",
    "case/evidence/contracts.csv": "fec044fe3b561220",
    "case/evidence/deployments.csv": "2fc2a44872f7167f",
    "case/evidence/fees.csv": "649e6160132b1e90",
    "case/evidence/handler_actions.csv": "cfa387bda160f2f4",
    "case/evidence/handlers.csv": "663dab53673277fd",
    "case/evidence/incident_actions.csv": "78565132e9060faf",
    "case/evidence/interests.csv": "9123dc1c64b4b5e7",
    "case/evidence/listings.csv": "63e0fc20300759e5",
    "case/evidence/logins.csv": "89c2d60949bda6a4",
    "case/evidence/logouts.csv": "0c0fb55ae6c6b3d4",
    "case/evidence/offers.csv": "ab2e831b963d9f91",
    "case/evidence/page_views.csv": "b731e501d0fec43a",
    "case/evidence/profile_changes.csv": "ab71d7560f723ca1",
    "case/evidence/support_messages.csv": "a886094a55ffdfa2",
    "case/raw/access.log": "fcaf822015755ff8",
    "case/raw/support.mbox": "d75a351c5f0a2c28",
    "case/scenario.json": "e52cd521c98d7c00",
    "case/truth/allocation_touched.csv": "8c99634ce21176e6",
    "case/truth/clock_offsets.csv": "3f0561db7b171e87",
    "case/truth/corrupt_handlers.csv": "fb4bddb19df62e47",
    "case/truth/fake_profiles.csv": "7de0c11680686efd",
    "case/truth/fault_reports.csv": "fdb3b438b53bd777",
    "case/truth/fraudulent_allocations.csv": "8994a9f38c6e75e5",
    "case/truth/priority_allocations.csv": "78551e80d3cf2949",
    "case/truth/swapped_sessions.csv": "371801f542652035",
    "case/truth/unauthorized_changes.csv": "b11fb09a39e7e8ef",
    "handover/export/avgifter.csv": "64bd4ed26ffb50d6",
    "handover/export/driftsattningar.csv": "c54736a6ed524a10",
    "handover/export/incidentlogg.csv": "6877ed88b5fc1f21",
    "handover/export/inloggningar.csv": "9967f41034fe65ac",
    "handover/export/sokande.csv": "59be3614a11493b4",
    "handover/export/utloggningar.csv": "1f68225ee5e68c22",
    "handover/ko.sqlite": "558d08c0ca7c39bd",
    "handover/logs/W3SVC1/u_ex131208.log": "04eae77a77a2c6b1",
    "handover/logs/W3SVC1/u_ex131209.log": "1a6e91e556ce269f",
    "handover/logs/W3SVC1/u_ex131210.log": "62957f91ee944880",
    "handover/logs/W3SVC1/u_ex131211.log": "f2d01335c86e7078",
    "handover/logs/W3SVC1/u_ex131212.log": "ce3ae443097a95a0",
    "handover/logs/W3SVC1/u_ex131213.log": "6adcdd9dbd03aa8d",
    "handover/logs/W3SVC1/u_ex131214.log": "ca88e3773d5a52c3",
    "handover/logs/W3SVC1/u_ex131215.log": "25bc7316ea8eb001",
    "handover/logs/W3SVC1/u_ex131216.log": "390fa5380d5f82bd",
    "handover/logs/W3SVC1/u_ex131218.log": "12da2c6bf5a6c321",
    "handover/logs/W3SVC1/u_ex131219.log": "c6faecf5a6b7889a",
    "handover/logs/W3SVC1/u_ex131220.log": "61cc20863427aee6",
    "handover/logs/W3SVC1/u_ex131221.log": "862a315f62975ffe",
    "handover/logs/W3SVC1/u_ex131222.log": "ae201d33e3959f78",
    "handover/mail/*": "7bc8430f11bff2df",
    "handover/mapping.yaml": "2fd20194f550013e",
}


def content_hash(path: Path) -> str:
    """Hash of a file's content: a Parquet file's schema and rows, any other file's bytes."""
    if path.suffix == ".parquet":
        frame = pl.read_parquet(path)
        h = hashlib.sha256(json.dumps([[c, str(t)] for c, t in frame.schema.items()]).encode())
        h.update(frame.write_csv(datetime_format="%Y-%m-%dT%H:%M:%S%.6f%z").encode())
        return h.hexdigest()[:16]
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def tree_hashes(root: Path) -> dict[str, str]:
    """Content hash of every file the generator wrote under ``root``; the hand-over's mail as one hash.

    Only what generate writes counts (other tests may add files to a shared case folder).
    """
    written = ("evidence/", "raw/", "truth/", "scenario.json", "case/", "handover/")
    files = [p for p in sorted(root.rglob("*")) if p.is_file() and str(p.relative_to(root)).startswith(written)]
    hashes = {str(p.relative_to(root)): content_hash(p) for p in files}
    mail = {k: v for k, v in hashes.items() if "/mail/" in k}
    out = {k: v for k, v in hashes.items() if "/mail/" not in k}
    if mail:
        joined = "".join(f"{k}={v}\n" for k, v in sorted(mail.items()))
        out["handover/mail/*"] = hashlib.sha256(joined.encode()).hexdigest()[:16]
    return out


def _differences(got: dict[str, str], want: dict[str, str]) -> list[str]:
    return [f"{k}: {got.get(k)} != {want.get(k)}" for k in sorted(set(got) | set(want)) if got.get(k) != want.get(k)]


def test_tiny_streamed_equals_in_memory_build(tiny_case):
    assert _differences(tree_hashes(tiny_case.root), TINY) == []


def test_small_streamed_equals_in_memory_build(small_case):
    assert _differences(tree_hashes(small_case.root), SMALL) == []


def test_parquet_in_row_groups_equals_in_memory_build(tmp_path, monkeypatch):
    """Chunks of 4,999 rows: page_views.parquet is written a row group at a time."""
    import pyarrow.parquet as pq

    from workbench.scenario import pageviews

    monkeypatch.setattr(pageviews, "CHUNK_ROWS", 4_999)
    generate(tmp_path, scale="tiny", seed=1)
    assert _differences(tree_hashes(tmp_path), TINY) == []
    assert pq.ParquetFile(tmp_path / "evidence" / "page_views.parquet").num_row_groups >= 3


def test_degraded_csv_and_handover_equal_in_memory_build(tmp_path, monkeypatch):
    """In chunks of 997 rows, so rows, sessions and referers cross chunk boundaries."""
    from workbench.scenario import pageviews

    monkeypatch.setattr(pageviews, "CHUNK_ROWS", 997)
    chunks = []
    real = pageviews.PageViewRows.frame
    monkeypatch.setattr(
        pageviews.PageViewRows, "frame", lambda self, lo=0, hi=None: chunks.append(hi) or real(self, lo, hi)
    )
    generate(
        tmp_path / "case",
        scale="tiny",
        seed=3,
        fmt="csv",
        degrade=("missing-account-id=0.3", "log-gap=2013-12-14T10:00/PT1H"),
        swap_mode="mixed",
        handover=tmp_path / "handover",
    )
    assert _differences(tree_hashes(tmp_path), TINY_DEGRADED_CSV_HANDOVER) == []
    assert len([hi for hi in chunks if hi is not None]) >= 2 * 10  # evidence and access log, 10+ chunks each


def test_a_different_seed_changes_the_hashes(case_factory):
    """The hashes can fail: another seed gives other page views and another access log."""
    other = tree_hashes(case_factory(scale="tiny", seed=2).root)
    assert other["evidence/page_views.parquet"] != TINY["evidence/page_views.parquet"]
    assert other["raw/access.log"] != TINY["raw/access.log"]


@pytest.mark.parametrize("name", ["national"])
def test_national_scale_is_ten_stockholms(name):
    from workbench.scenario.world import SCALES

    big, base = SCALES[name], SCALES["stockholm"]
    for field in ("members", "handlers", "listings_per_year", "logins_per_day", "corrupt_handlers", "fake_profiles"):
        assert getattr(big, field) == 10 * getattr(base, field), field
    assert big.support_messages_per_day == 10 * base.support_messages_per_day
    # rates stay, so the planted incident and fraud grow with the counts they apply to
    for field in ("swap_probability", "fraud_share", "interests_per_listing", "pages_per_session"):
        assert getattr(big, field) == getattr(base, field), field


def _handmade_rows():
    """Five page views of two sessions (one of them bound to account 7 from its second page)."""
    import numpy as np

    from workbench.scenario.pageviews import PageViewRows
    from workbench.scenario.web import Page

    t0 = 1386960000  # 2013-12-13T18:40:00Z
    return PageViewRows(
        time=np.array([t0, t0 + 2, t0 + 2, t0 + 9, t0 + 60], dtype=np.int64),
        sid=np.array([0, 0, 1, 1, 0], dtype=np.int32),
        code=np.array([Page.LOGIN, Page.MINE, Page.LISTING, Page.SEARCH_AREA, Page.PROFILE], dtype=np.int8),
        listing=np.array([-1, -1, 4711, -1, -1], dtype=np.int64),
        area=np.array([-1, -1, -1, 0, -1], dtype=np.int16),
        status=np.array([302, 200, 404, 200, 200], dtype=np.int16),
        account=np.array([-1, 5, -1, -1, 7], dtype=np.int64),
        sessions=pl.DataFrame({"session_id": ["aa", "bb"], "ip": ["10.0.0.1", None]}),
        districts={0: "S%C3%B6dermalm"},
    )


def test_handmade_rows_render_as_the_evidence_frame():
    rows = _handmade_rows()
    frame = rows.frame()
    assert frame["path"].to_list() == [
        "/logga-in",
        "/mina-sidor",
        "/lagenhet/4711",
        "/sok?omrade=S%C3%B6dermalm",
        "/mina-sidor/profil",
    ]
    assert frame["session_id"].to_list() == ["aa", "aa", "bb", "bb", "aa"]
    assert frame["ip"].to_list() == ["10.0.0.1", "10.0.0.1", None, None, "10.0.0.1"]
    assert frame["account_id"].to_list() == [None, 5, None, None, 7]
    assert rows.frame(3, 5).equals(frame.slice(3, 2))
    assert rows.previous_in_session().tolist() == [-1, 0, -1, 2, 1]
    bound = rows.first_bound(pl.DataFrame({"sid": [0], "account": [7]}))
    assert bound["session_id"].to_list() == ["aa"] and bound["bound_at"][0] == frame["time"][4]


def test_handmade_degradations_act_on_the_rows():
    from datetime import UTC, datetime

    import numpy as np

    rows = _handmade_rows()
    rows.drop_account_ids(np.array([False, True, False, False, False]))
    rows.drop_between(datetime(2013, 12, 13, 18, 40, 2, tzinfo=UTC), datetime(2013, 12, 13, 18, 40, 9, tzinfo=UTC))
    frame = rows.frame()
    assert frame["account_id"].to_list() == [None, None, 7]  # rows at +2 s went with the gap; +9 s stays
    assert frame["path"].to_list() == ["/logga-in", "/sok?omrade=S%C3%B6dermalm", "/mina-sidor/profil"]


def test_streamed_access_log_equals_the_in_memory_writer(tmp_path, monkeypatch):
    """Chunks of two rows: referers and agents carried across chunk boundaries."""
    import numpy as np

    from workbench.scenario import pageviews
    from workbench.scenario.raw import write_access_log, write_access_log_rows

    monkeypatch.setattr(pageviews, "CHUNK_ROWS", 2)
    rows = _handmade_rows()
    logins = pl.DataFrame({"session_id": ["aa", "bb"], "user_agent": ['Bot "x"', "UA\nnext"]})
    assert write_access_log_rows(rows, logins, tmp_path / "streamed.log", np.random.default_rng(5)) == 5
    write_access_log(rows.frame(), logins, tmp_path / "whole.log", np.random.default_rng(5))
    streamed = (tmp_path / "streamed.log").read_text()
    assert streamed == (tmp_path / "whole.log").read_text()
    assert '"https://bostad.example/mina-sidor" "Bot \\"x\\"" session=aa account=7' in streamed


def test_every_scale_is_accepted_by_the_cli_and_the_benchmark():
    import ast

    from workbench.cli import build_parser
    from workbench.scenario.world import SCALES

    assert build_parser().parse_args(["generate", "--scale", "national", "--out", "x"]).scale == "national"
    run_py = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
    calls = [n for n in ast.walk(ast.parse(run_py.read_text())) if isinstance(n, ast.Call)]
    scale_arg = next(
        c for c in calls if c.args and isinstance(c.args[0], ast.Constant) and c.args[0].value == "--scale"
    )
    choices = next(k.value for k in scale_arg.keywords if k.arg == "choices")
    assert ast.literal_eval(choices) == list(SCALES)

"""The audience layer: every rule for auditors and the public, driven by the column tags."""

from __future__ import annotations

import re

import polars as pl
import pytest
from casekit import sqlite_case  # noqa: F401 - fixture
from polars.testing import assert_frame_equal

from workbench import queries
from workbench.audience import KEY_ENV, WITHHELD, Audience, AudienceError, fit, pseudonym, tags
from workbench.errors import UnknownNameError
from workbench.evidence import PII
from workbench.suppression import HIDDEN, SuppressionError

KEY = "case-key-0123456789abcdef"
OTHER_KEY = "another-case-key-fedcba9876543210"
PSEUDONYM = re.compile(r"^[A-Z]-[0-9a-f]{12}$")


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)


# --- which audience, which tags ------------------------------------------------------------


def test_investigator_sees_the_frame_unchanged():
    frame = pl.DataFrame({"applicant_id": [1001], "body": ["Jag såg fel konto"], "mystery": [1]})
    assert fit(frame, "investigator") is frame


def test_unknown_audience_suggests_the_close_one():
    with pytest.raises(UnknownNameError, match=r"unknown audience 'auditors'\. Did you mean 'auditor'"):
        fit(pl.DataFrame({"n": [1]}), "auditors")


def test_parse_takes_a_name_or_an_audience():
    assert Audience.parse("auditor") is Audience.AUDITOR
    assert Audience.parse(Audience.PUBLIC) is Audience.PUBLIC
    assert [Audience.parse(a.value) for a in Audience] == list(Audience)


def test_parse_refuses_an_unknown_name_and_suggests_the_close_one():
    with pytest.raises(
        UnknownNameError,
        match=r"^unknown audience 'publik'\. Did you mean 'public'\? Known: auditor, investigator, public\.$",
    ):
        Audience.parse("publik")


@pytest.mark.parametrize("bad", ["Public", "", "everyone", None, 1])
def test_parse_refuses_anything_else(bad):
    with pytest.raises(
        UnknownNameError, match=rf"^unknown audience {re.escape(repr(bad))}\..* Known: auditor, investigator, public\.$"
    ):
        Audience.parse(bad)


# What each audience sees: (sees_rows, sees_identifiers, sees_free_text, sees_sql, pseudonymised).
SEES = {
    Audience.INVESTIGATOR: (True, True, True, True, False),
    Audience.AUDITOR: (True, False, False, True, True),
    Audience.PUBLIC: (False, False, False, False, False),
}


@pytest.mark.parametrize("audience", list(Audience))
def test_what_each_audience_sees(audience):
    assert set(SEES) == set(Audience)
    assert (
        audience.sees_rows,
        audience.sees_identifiers,
        audience.sees_free_text,
        audience.sees_sql,
        audience.pseudonymised,
    ) == SEES[audience]


@pytest.mark.parametrize("audience", list(Audience))
def test_fit_does_what_the_properties_say(audience):
    frame = pl.DataFrame({"applicant_id": [1001, 1002], "body": ["Jag såg fel konto", None], "n": [7, 9]})
    if not audience.sees_rows:
        with pytest.raises(AudienceError, match="aggregates only"):
            fit(frame, audience)
        return
    out = fit(frame, audience)
    assert out.height == frame.height
    assert (out["applicant_id"].to_list() == frame["applicant_id"].to_list()) is audience.sees_identifiers
    assert all(PSEUDONYM.match(str(v)) for v in out["applicant_id"]) is audience.pseudonymised
    assert (out["body"].to_list() == frame["body"].to_list()) is audience.sees_free_text
    assert out["body"].to_list() == (frame["body"].to_list() if audience.sees_free_text else [WITHHELD, None])


def test_tags_come_from_the_declarations_by_column_name():
    frame = pl.DataFrame({"applicant_id": [1], "postal_code": ["118 25"], "time": [1], "body": ["x"], "reason": ["y"]})
    assert tags(frame) == {
        "applicant_id": PII.DIRECT,
        "postal_code": PII.QUASI,
        "time": PII.NONE,
        "body": PII.FREE_TEXT,
        "reason": PII.FREE_TEXT,  # free text in offers, plain in logouts: the stricter tag wins
    }
    assert tags(frame.select("reason"), table="logouts") == {"reason": PII.NONE}
    assert tags(pl.DataFrame({"victim_account_id": [1], "x": [1]})) == {"victim_account_id": PII.DIRECT, "x": None}


def test_untagged_columns_are_refused_until_declared():
    frame = pl.DataFrame({"owner": [1001], "time": [1]})
    with pytest.raises(
        AudienceError, match=r"column\(s\) \['owner'\] have no personal-data tag.*columns=\{'owner': PII.NONE\}"
    ):
        fit(frame, "auditor")
    out = fit(frame, "auditor", columns={"owner": PII.DIRECT})
    assert PSEUDONYM.match(out["owner"][0]) and out["owner"][0].startswith("X-")


# --- auditor -----------------------------------------------------------------------------------


def test_auditor_needs_the_key_and_says_how_to_set_it(monkeypatch):
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(
        AudienceError,
        match=r"needs a pseudonym key, and WORKBENCH_PSEUDONYM_KEY is not set.*export WORKBENCH_PSEUDONYM_KEY=",
    ):
        fit(pl.DataFrame({"applicant_id": [1001]}), "auditor")
    with pytest.raises(AudienceError, match=r"the pseudonym key is 4 bytes; use at least 16"):
        fit(pl.DataFrame({"applicant_id": [1001]}), "auditor", key="demo")


@pytest.mark.parametrize(
    ("key", "distinct"),
    [(" " * 16, 1), ("\0" * 16, 1), ("a" * 16, 1), (b"\x00\x01" * 32, 2), ("abcdefghiabcdefghi", 9)],
    ids=["16 spaces", "16 NULs", "aaaaaaaaaaaaaaaa", "64 bytes of 2 values", "9 letters"],
)
def test_a_key_of_few_different_bytes_is_refused_and_the_message_says_how_to_make_one(key, distinct, monkeypatch):
    pattern = (
        rf"^the pseudonym key has only {distinct} different byte value\(s\) in {len(key)} bytes; use a random key "
        r"with at least 10 .*make one with: export WORKBENCH_PSEUDONYM_KEY=\$\(openssl rand -hex 32\)$"
    )
    with pytest.raises(AudienceError, match=pattern):
        fit(pl.DataFrame({"applicant_id": [1001]}), "auditor", key=key)
    text = key if isinstance(key, str) else key.decode()
    if "\0" not in text:  # the same from the environment (which cannot hold a NUL)
        monkeypatch.setenv(KEY_ENV, text)
        with pytest.raises(AudienceError, match=pattern):
            pseudonym(1001, "applicant_id")


def test_keys_with_ten_different_bytes_pass_and_so_do_the_demo_and_test_keys():
    from pathlib import Path

    from reportkit import PSEUDONYM_KEY

    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    demo_key = re.search(r"^DEMO_KEY \?= (\S+)$", makefile, re.MULTILINE)
    assert demo_key is not None
    for key in ("abcdefghijabcdefghij", "3f9a2c1b7d0e4a6b8c5d3f9a2c1b7d0e", KEY, OTHER_KEY, PSEUDONYM_KEY, demo_key[1]):
        assert PSEUDONYM.match(pseudonym(1001, "applicant_id", key)), key


def test_auditor_keeps_every_row_pseudonymises_direct_withholds_free_text_keeps_quasi():
    frame = pl.DataFrame(
        {
            "applicant_id": [1001, 1002, None],
            "personnummer": ["19850412-2383", "19830102-1234", "19900101-0017"],
            "email": ["Anna@Example.com", "b@example.com", None],
            "ip": ["10.0.0.1", "10.0.0.2", "10.0.0.3"],
            "body": ["Jag såg Erik Bergs sida", None, "x"],
            "postal_code": ["118 25", "118 26", "118 27"],
            "status": ["active", "active", "lapsed"],
        }
    )
    out = fit(frame, "auditor")
    assert out.height == 3 and out.columns == frame.columns
    assert out["applicant_id"][2] is None
    for col in ("applicant_id", "personnummer", "email", "ip"):
        assert all(PSEUDONYM.match(v) for v in out[col].drop_nulls()), col
        assert not set(out[col].drop_nulls()) & set(frame[col].cast(pl.String).drop_nulls())
    assert out["body"].to_list() == [WITHHELD, None, WITHHELD]
    assert_frame_equal(out.select("postal_code", "status"), frame.select("postal_code", "status"))
    assert out["applicant_id"][0].startswith("P-") and out["personnummer"][0].startswith("N-")


def test_the_same_person_gets_the_same_pseudonym_in_every_frame_and_column():
    logins = fit(pl.DataFrame({"applicant_id": [1001, 1002]}), "auditor")
    views = fit(pl.DataFrame({"account_id": [1002, 1001]}), "auditor")
    messages = fit(pl.DataFrame({"sender_applicant_id": ["1001"], "sender_address": ["ANNA@example.com"]}), "auditor")
    truth = fit(pl.DataFrame({"authenticated_applicant_id": [1001], "email": ["anna@example.com"]}), "auditor")
    anna = logins["applicant_id"][0]
    assert (
        views["account_id"][1] == messages["sender_applicant_id"][0] == truth["authenticated_applicant_id"][0] == anna
    )
    assert views["account_id"][0] == logins["applicant_id"][1] != anna
    assert messages["sender_address"][0] == truth["email"][0]
    assert pseudonym(1001, "account_id") == anna
    # A caseworker numbered 1001 is not applicant 1001.
    assert fit(pl.DataFrame({"handler_id": [1001]}), "auditor")["handler_id"][0] != anna


def test_another_key_gives_other_pseudonyms():
    frame = pl.DataFrame({"applicant_id": [1001, 1002]})
    mine, theirs = fit(frame, "auditor", key=KEY), fit(frame, "auditor", key=OTHER_KEY)
    assert mine["applicant_id"][0] != theirs["applicant_id"][0]
    assert fit(frame, "auditor")["applicant_id"].to_list() == mine["applicant_id"].to_list()


def test_auditor_uses_the_query_tags(sqlite_case):  # noqa: F811
    window = queries.run("incident_window", sqlite_case)
    assert_frame_equal(fit(window, "auditor", query="incident_window"), window)


# --- public --------------------------------------------------------------------------------------


def test_public_refuses_per_person_rows():
    with pytest.raises(AudienceError, match=r"aggregates only.*'applicant_id': 'direct identifier'.*Aggregate first"):
        fit(pl.DataFrame({"applicant_id": [1001], "n": [7]}), "public")
    with pytest.raises(AudienceError, match=r"'subject': 'free text'"):
        fit(pl.DataFrame({"subject": ["Fel konto?"], "n": [7]}), "public")
    with pytest.raises(
        AudienceError, match=r"quasi-identifier column\(s\) \['postal_code'\] may only reach the public as group keys"
    ):
        fit(pl.DataFrame({"postal_code": ["118 25"]}), "public")


def test_small_counts_show_as_one_to_four_a_zero_as_zero_and_the_column_becomes_text():
    out = fit(pl.DataFrame({"district": ["a", "b", "c", "d"], "n": [0, 4, 5, 40], "rooms": [1, 2, 3, 4]}), "public")
    assert out.schema["n"] == pl.String and out.schema["rooms"] == pl.Int64  # only counts are suppressed
    # A true zero is 0; 4 is "1–4", never "<5"; the column total would give 4 back from 5 alone.
    assert out["n"].to_list() == ["0", "1–4", HIDDEN, "40"]


def test_a_count_table_that_is_no_breakdown_is_shown_exactly():
    # Incident-wide figures (by hour, by alternative, by tier) point at no small group: the policy shows them.
    frame = pl.DataFrame({"alternative": ["actual", "on call", "first report"], "n_sessions": [123, 15, 2]})
    assert fit(frame, "public", columns={"alternative": "none"}).equals(frame)
    assert fit(frame, "public", columns={"alternative": "none"}, breakdown=True)["n_sessions"].to_list() == [
        "123",
        HIDDEN,
        "1–4",
    ]


def test_float_columns_are_measures_not_keys_and_are_blanked_beside_a_hidden_count():
    # The bug: share_in_order taken for a key split every line into one-cell lines, so a
    # kind was the total minus the other kinds, and share × n gave the hidden count back.
    frame = pl.DataFrame(
        {"district": ["Farsta", "Kista", "Solna"], "n_allocations": [3, 40, 52], "share_in_order": [0.67, 0.9, 0.95]}
    )
    out = fit(frame, "public", columns={"district": "none", "share_in_order": "none"})
    assert out["n_allocations"].to_list() == ["1–4", HIDDEN, "52"]  # 3 + 40 = 95 - 52: 1–4 and 5 or more
    assert out["share_in_order"].to_list() == [None, None, 0.95]  # a blank marks no more than the label does


def test_a_total_would_give_a_lone_suppressed_cell_back_so_another_is_hidden():
    frame = pl.DataFrame({"district": ["a", "b", "c", "Alla"], "n": [3, 10, 12, 25]})
    # Small-count suppression alone would publish b, c and the total: 25 - 10 - 12 = 3.
    out = fit(frame, "public", totals=[{"district": "Alla"}])
    assert out["n"].to_list() == ["1–4", HIDDEN, "12", "25"]
    # Without a published total row the column sum is still treated as known.
    assert fit(frame.head(3), "public")["n"].to_list() == ["1–4", HIDDEN, "12"]


def _lone_hidden_lines(out: pl.DataFrame, counts: list[str]) -> list[str]:
    """Rows and columns with exactly one hidden cell: each would be recovered from its total."""
    hidden = out.select(pl.col(counts).is_in(["1–4", HIDDEN]))
    bad = [f"row {i}" for i, row in enumerate(hidden.iter_rows()) if sum(row) == 1]
    return bad + [f"column {c}" for c in counts if hidden[c].sum() == 1]


def test_complementary_suppression_in_a_table_with_row_and_column_totals():
    frame = pl.DataFrame(
        {
            "district": ["a", "b", "c", "Alla"],
            "n_regular": [3, 20, 15, 38],
            "n_student": [8, 6, 9, 23],
            "n_total": [11, 26, 24, 61],
        }
    )
    out = fit(frame, "public", totals=["n_total", {"district": "Alla"}])
    counts = ["n_regular", "n_student", "n_total"]
    assert _lone_hidden_lines(out, counts) == []
    # The hidden cells form a rectangle: four unknowns, three equations, margins kept.
    assert out.rows() == [
        ("a", "1–4", HIDDEN, "11"),
        ("b", "20", "6", "26"),
        ("c", HIDDEN, HIDDEN, "24"),
        ("Alla", "38", "23", "61"),
    ]


def test_a_small_cell_beside_a_five_is_not_given_back_by_their_sum():
    # 1 + 5 = 45 - 39: "[suppressed]" means 5 or more, so the "1–4" cell could only be 1.
    frame = pl.DataFrame({"district": ["a", "b", "c"], "n": [1, 5, 39]})
    assert fit(frame, "public")["n"].to_list() == ["1–4", HIDDEN, HIDDEN]
    assert fit(frame.with_columns(n=pl.Series([1, 9, 39])), "public")["n"].to_list() == ["1–4", HIDDEN, "39"]


def test_complementary_suppression_in_long_form_along_every_key():
    frame = pl.DataFrame({"district": ["a", "a", "b", "b"], "kind": ["regular", "student"] * 2, "n": [3, 9, 7, 11]})
    # A 2x2 table with one small cell: any cell left visible would give the others back.
    assert fit(frame, "public")["n"].to_list() == ["1–4", HIDDEN, HIDDEN, HIDDEN]


def test_protected_identity_groups_are_never_singled_out():
    frame = pl.DataFrame({"protected_identity": [False, True], "n": [120, 40]})
    assert fit(frame, "public")["n"].to_list() == [HIDDEN, HIDDEN]


def test_counts_can_be_declared_and_must_be_integers():
    frame = pl.DataFrame({"district": ["a", "b", "c"], "exposed": [2, 30, 40]})
    with pytest.raises(AudienceError, match=r"\['exposed'\] have no personal-data tag"):
        fit(frame, "public")
    assert fit(frame, "public", counts=["exposed"])["exposed"].to_list() == ["1–4", HIDDEN, "40"]
    with pytest.raises(SuppressionError, match=r"count column 'share' must hold integers, got dtype Float64"):
        fit(pl.DataFrame({"district": ["a"], "share": [0.5]}), "public", counts=["share"])


def test_inconsistent_totals_are_refused():
    frame = pl.DataFrame({"district": ["a", "b", "Alla"], "n": [3, 10, 14]})
    with pytest.raises(SuppressionError, match=r"total row district == 'Alla' does not equal the sum of 'n'"):
        fit(frame, "public", totals=[{"district": "Alla"}])
    with pytest.raises(SuppressionError, match=r"totals column 'n_total' is not the row sum"):
        fit(pl.DataFrame({"district": ["a"], "n_x": [3], "n_y": [4], "n_total": [8]}), "public", totals=["n_total"])


def test_null_counts_stay_null_and_threshold_is_adjustable():
    out = fit(pl.DataFrame({"district": ["a", "b", "c", "d"], "n": [None, 2, 9, 30]}), "public", threshold=10)
    # 2 + 9 = 11 would narrow each to 2–9, so 30 is hidden too.
    assert out["n"].to_list() == [None, "1–9", "1–9", HIDDEN]


def test_public_activity_chart_frame_from_the_registry(sqlite_case):  # noqa: F811
    activity = queries.run("activity_per_hour", sqlite_case)
    out = fit(activity, "public", query="activity_per_hour")
    assert out.height == activity.height and out["hour"].equals(activity["hour"])
    assert out.equals(activity)  # activity per hour is incident-wide: shown exactly, small or not

"""Issue 14, findings 5 and 6: what the investigator types and what ids can hold never reach auditors or the public.

- ``message_id`` and ``session_id`` are direct identifiers: auditors see keyed pseudonyms
  (``B-…``, ``S-…``), the public neither. A tiny case whose Message-IDs embed the sender's
  address renders auditor and public sets holding no address, Message-ID or session id.
- ``extra_report_phrases`` holding a name and a personnummer from the evidence appear in
  the investigator set only; the others read "2 extra phrases (withheld)".
- Every auditor and public set is leak-scanned before it is declared complete: a leaking
  file planted by a notebook, or a parameter echoed into a report, fails the build with the
  file, line and kind named, the value not repeated, and no set ``verify`` would accept.
"""

from __future__ import annotations

import json
import re
import shutil

import nbformat
import polars as pl
import pytest
from casekit import sqlite_case  # noqa: F401 - fixture
from reportkit import PSEUDONYM_KEY, pseudonym_key

from workbench.audience import AudienceError, fit, tags
from workbench.evidence import PII
from workbench.queries import column_tags
from workbench.reportset.build import build_report
from workbench.reportset.contents import INDEX_FILE, SET_FILE, load_set
from workbench.reportset.disclosure import LeakError, check_set, shown_parameters
from workbench.reportset.leakscan import Identifiers, add_values, scan_text

INCIDENT = "01_incident_reconstruction"


def _texts(root):
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8", errors="replace")
        for p in root.rglob("*")
        if p.is_file()
    }


# --- finding 6: what the ids are tagged as, and what each audience sees of them ---


def test_session_and_message_ids_are_direct_identifiers_pseudonymised_for_auditors():
    frame = pl.DataFrame({"session_id": ["9f2c4e1a7b3d5f60"], "message_id": ["<1.anna.lindqvist@example.se>"]})
    found = tags(frame)
    assert found == {"session_id": PII.DIRECT, "message_id": PII.DIRECT}
    # by name, too: a derived column such as response_session_id
    assert tags(pl.DataFrame({"candidate_session_id": ["x"]}))["candidate_session_id"] is PII.DIRECT
    out = fit(frame, "auditor", key=PSEUDONYM_KEY)
    assert re.fullmatch(r"S-[0-9a-f]{12}", out["session_id"][0])
    assert re.fullmatch(r"B-[0-9a-f]{12}", out["message_id"][0])
    with pytest.raises(AudienceError, match="per-person column"):
        fit(frame, "public")


def test_query_tags_follow_the_table_tags():
    assert column_tags("mismatched_sessions")["session_id"] is PII.DIRECT
    assert column_tags("support_inbox")["message_id"] is PII.DIRECT


# --- finding 5: parameters as each audience reads them ---


def test_text_parameters_are_summarised_for_others_and_settings_shown():
    given = {
        "extra_report_phrases": ["Anna Lindqvist", "19850101-1234", "fel konto"],
        "note": "Anna",
        "timezone": "Europe/Stockholm",
        "idle_timeout_minutes": 30,
        "districts": ["Farsta"],
    }
    assert shown_parameters(given, "investigator") == given
    for audience in ("auditor", "public"):
        shown = shown_parameters(given, audience)
        assert shown["extra_report_phrases"] == "3 extra phrases (withheld)"
        assert repr(shown["extra_report_phrases"]) == "3 extra phrases (withheld)"  # the provenance table's form
        assert shown["note"] == "text (withheld)"
        assert {k: shown[k] for k in ("timezone", "idle_timeout_minutes", "districts")} == {
            k: given[k] for k in ("timezone", "idle_timeout_minutes", "districts")
        }


def test_parameter_values_are_searched_unless_the_reports_own_text_holds_them():
    ids = Identifiers()
    add_values(ids, "parameter p", [["Kalle Anka", "kan inte logga in", "fel"]], own_text="Prose: Kan inte logga in.")
    assert ids.keys["parameter p"] == {"kalle anka"}
    assert ids.set_aside == ids.short == {"parameter p": 1}
    assert [k for k, _, _ in scan_text("<td>KALLE&nbsp;anka</td>", ids)] == ["parameter p"]
    assert scan_text("kalle ankan", ids) == []


def test_hits_are_located_by_line_in_files_larger_than_a_piece(tmp_path):
    ids = Identifiers()
    add_values(ids, "parameter p", ["Kalle Anka"])
    filler = "x,1,2\n" * 400_000  # 2.4 MB: three pieces
    (tmp_path / "big.csv").write_text(filler + "Kalle\nAnka,3\n" + filler, encoding="utf-8")
    with pytest.raises(LeakError) as err:
        check_set(tmp_path, ids, audience="auditor")
    assert "big.csv line 400001: parameter p" in str(err.value)
    assert "kalle" not in str(err.value).lower()


def test_a_count_equal_to_a_customer_number_is_not_a_leak_but_the_number_elsewhere_is(tmp_path):
    # At stockholm, 2 210 728 page views is also some member's customer number: the auditor
    # set failed the leak scan on its own count (benchmarks/run.py --steps demo).
    ids = Identifiers(keys={"applicants.applicant_id": {"2210728", "2210729"}})
    (tmp_path / "00").mkdir()
    (tmp_path / "00" / "findings.json").write_text(
        json.dumps({"page_views": {"value": 2210728, "description": "Page views"}, "flag": {"value": True}}),
        encoding="utf-8",
    )
    (tmp_path / "00" / "00.html").write_text("<p>Page views: 2\u202f210\u202f728</p>\n", encoding="utf-8")
    result = check_set(tmp_path, ids, audience="auditor")
    assert result.hits == [] and result.identifiers.figures == {"2210728"}
    assert "not searched: 1 customer number(s) equal to a figure the set records" in result.summary()
    # the other member's number in a page is still found
    (tmp_path / "00" / "00.html").write_text("<td>2 210 729</td>\n", encoding="utf-8")
    with pytest.raises(LeakError, match=r"00\.html line 1: applicants\.applicant_id"):
        check_set(tmp_path, ids, audience="auditor")
    assert ids.keys["applicants.applicant_id"] == {"2210728", "2210729"}  # the caller's keys are untouched


def test_one_run_reads_the_case_identifiers_once_and_each_audience_extends_its_own_copy(monkeypatch):
    # Reading them costs about 35 s at stockholm; the auditor's and the public's scans read them twice.
    import workbench.reportset.leakscan as leakscan
    from workbench.reportset.disclosure import shared_identifiers

    reads = []

    def read(case):
        reads.append(case)
        return Identifiers(keys={"applicants.name": {"kalle anka"}})

    monkeypatch.setattr(leakscan, "case_identifiers", read)
    get = shared_identifiers("the case")
    first, second = get(), get()
    assert reads == ["the case"]
    add_values(first, "parameter p", ["Musse Pigg"])
    assert [k for k, _, _ in scan_text("Musse Pigg och Kalle Anka", first)] == ["applicants.name", "parameter p"]
    assert second.keys == {"applicants.name": {"kalle anka"}}
    assert [k for k, _, _ in scan_text("Musse Pigg och Kalle Anka", second)] == ["applicants.name"]

    # read in the background while the notebooks run: its error comes out of the first call
    def fail(case):
        raise OSError(f"cannot read {case}")

    monkeypatch.setattr(leakscan, "case_identifiers", fail)
    get = shared_identifiers("the lost case", background=True)
    with pytest.raises(OSError, match="cannot read the lost case"):
        get()


# --- the leak scan at build time, on the hand-written case ---

_LEAKY = [
    "from pathlib import Path\n"
    "from workbench.case import open_case\n"
    "person = open_case(case_url).read_table('applicants').row(0, named=True)\n"
    "if leak:\n"
    "    Path(out_dir, 'extra.csv').write_text(f\"n,pnr\\n1,{person['personnummer']}\\n\")\n"
    "print(note)",
]


@pytest.fixture(scope="module")
def leaky_notebook(tmp_path_factory):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        'case_url = ""\naudience = "investigator"\nout_dir = "."\nleak = False\nnote = ""'
    )
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Leaky"), params, *map(nbformat.v4.new_code_cell, _LEAKY)]
    path = tmp_path_factory.mktemp("leaky") / "09_leaky.ipynb"
    nbformat.write(nb, str(path))
    return path


def _sqlite_url(engine) -> str:
    return f"sqlite:///{engine.url.database}"


def _assert_no_complete_set(root):
    with pytest.raises(Exception, match="incomplete"):
        load_set(root)
    assert json.loads((root / SET_FILE).read_text())["failed"] == "leak scan"
    assert not (root / INDEX_FILE).exists()


def test_a_file_planted_before_the_scan_fails_the_auditor_build(sqlite_case, leaky_notebook, tmp_path):  # noqa: F811
    out = tmp_path / "auditor"
    with pseudonym_key(), pytest.raises(LeakError) as err:
        build_report(_sqlite_url(sqlite_case), "auditor", out, [str(leaky_notebook)], {"leak": True})
    message = str(err.value)
    assert "09_leaky/extra.csv line 2: applicants.personnummer" in message
    assert "19850101" not in message and "1234" not in message
    _assert_no_complete_set(out)


def test_a_parameter_echoed_into_a_public_report_fails_the_build(sqlite_case, leaky_notebook, tmp_path):  # noqa: F811
    out = tmp_path / "public"
    with pytest.raises(LeakError) as err:
        build_report(_sqlite_url(sqlite_case), "public", out, [str(leaky_notebook)], {"note": "Kalle Anka här"})
    assert re.search(r"09_leaky/09_leaky\.html line \d+: parameter note", str(err.value))
    assert "Kalle" not in str(err.value)
    _assert_no_complete_set(out)


def test_a_leak_found_by_report_exits_1_naming_where_not_what(
    sqlite_case,  # noqa: F811
    leaky_notebook,
    tmp_path,
    capsys,
    monkeypatch,
):
    import workbench.reportset.execution
    from workbench.cli import main

    monkeypatch.setattr(workbench.reportset.execution, "NOTEBOOKS_DIR", leaky_notebook.parent)
    out = tmp_path / "public"
    args = ["report", "--case", _sqlite_url(sqlite_case), "--audience", "public", "--out", str(out)]
    assert main([*args, "-p", "note", "Kalle Anka här"]) == 1  # a step that ran failed: 1, not 2 (bad input)
    err = capsys.readouterr().err
    assert "parameter note" in err and "Kalle" not in err
    _assert_no_complete_set(out)


def test_a_clean_public_build_is_complete_and_shows_parameters_summarised(sqlite_case, leaky_notebook, tmp_path):  # noqa: F811
    out = tmp_path / "public"
    seen: list[str] = []
    build_report(_sqlite_url(sqlite_case), "public", out, [str(leaky_notebook)], {"leak": False}, progress=seen.append)
    assert load_set(out)["parameters"] == {"leak": False}
    assert any(re.search(r"public leak scan: [\d,]+ keys searched in \d+ files: no hit", s) for s in seen)


def test_each_copy_names_itself_in_its_leak_scan_line(sqlite_case, leaky_notebook, tmp_path):  # noqa: F811
    seen: list[str] = []
    build_report(
        _sqlite_url(sqlite_case),
        "public,public:sv",
        tmp_path,
        [str(leaky_notebook)],
        {"leak": False},
        progress=seen.append,
    )
    scans = sorted(s.split(" leak scan:")[0] for s in seen if " leak scan: " in s)
    assert scans == ["public", "public-sv"]  # the Swedish copy's line said "public" too


# --- the real incident notebook on a tiny case whose Message-IDs embed the sender's address ---


@pytest.fixture(scope="module")
def mailed_case(tiny_case, tmp_path_factory):
    """The tiny case with each Message-ID made as many mailers make it: ``<1000.anna.lindqvist@example.se>``."""
    from workbench.ingest import ingest

    root = tmp_path_factory.mktemp("mailed")
    evidence = root / "evidence"
    shutil.copytree(tiny_case.evidence_dir, evidence)
    path = evidence / "support_messages.parquet"
    messages = pl.read_parquet(path)
    messages = messages.with_columns(
        message_id=pl.format("<{}.{}>", pl.int_range(1000, 1000 + pl.len()), pl.col("sender_address"))
    )
    messages.write_parquet(path)
    url = f"duckdb:///{root / 'case.duckdb'}"
    ingest(evidence, url, progress=False)
    person = pl.read_parquet(evidence / "applicants.parquet").row(0, named=True)
    sessions = pl.read_parquet(evidence / "logins.parquet")["session_id"].to_list()
    return url, messages, [person["name"], person["personnummer"]], sessions


@pytest.fixture(scope="module")
def mailed_sets(mailed_case, tmp_path_factory):
    url, _, phrases, _ = mailed_case
    audiences = ("investigator", "auditor", "public")
    out = tmp_path_factory.mktemp("mailed_sets")
    with pseudonym_key():  # one run of the notebook renders every audience's set: out/<audience>/
        build_report(url, audiences, out, [INCIDENT], {"extra_report_phrases": phrases})
    return {audience: out / audience for audience in audiences}


@pytest.mark.parametrize("audience", ["auditor", "public"])
def test_no_sender_address_message_id_session_id_or_phrase_reaches_others(mailed_case, mailed_sets, audience):
    _, messages, phrases, sessions = mailed_case
    assert messages["message_id"][0].endswith(messages["sender_address"][0] + ">")
    root = mailed_sets[audience]
    texts = _texts(root)
    assert INDEX_FILE in texts and load_set(root)["status"] == "complete"
    for name, text in texts.items():
        lowered = text.lower()
        assert not [a for a in messages["sender_address"] if a.lower() in lowered], name
        assert not [m for m in messages["message_id"] if m[1:-1] in text], name
        assert not [s for s in sessions if s in text], name
        assert not [p for p in phrases if p.lower() in lowered], name
    assert load_set(root)["parameters"] == {"extra_report_phrases": "2 extra phrases (withheld)"}
    report = texts[f"{INCIDENT}/{INCIDENT}.html"]
    assert "2 extra phrases (withheld)" in report
    if audience == "auditor":  # the rows are there, keyed
        assert re.search(r"B-[0-9a-f]{12}", report)
        assert re.search(r"\bS-[0-9a-f]{12}", texts[f"{INCIDENT}/sessions.csv"])


def test_the_phrases_reach_the_investigator_set(mailed_case, mailed_sets):
    _, _, phrases, _ = mailed_case
    texts = _texts(mailed_sets["investigator"])
    for name in (INDEX_FILE, SET_FILE, f"{INCIDENT}/{INCIDENT}.html"):
        assert all(p in texts[name] for p in phrases), name

"""One analysis, every language (issue 20, point 1): ``--audience investigator,auditor,public,public:sv``.

The Swedish public set is one more copy of the English run (tests/reportkit.py renders the
tiny case's sets that way, as ``make demo`` does): each notebook's analysis runs once, and each
copy's cells run in its own language. The proof is against runs of their own: the Swedish
copy equals ``report --audience public --language sv`` and the English public copy equals
``report --audience public``, file by file (findings.json and CSVs byte for byte, pages but for
the run's time, the hashes that follow from it and papermill's random cell ids). So no word of
one language reaches the other copy, and no analysis wrote words while it computed (it ran with
the Swedish copy's language set, after the English copies' cells).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest
from reportkit import mixed_copy, report_set, separate_set

from workbench.errors import WorkbenchError
from workbench.reportset.fanout import audience_list, copies

_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z)?")
# The set's rendering time as prose says it (index, provenance): "söndag 6 december 2026 kl. 19.16",
# "Sunday 6 December 2026 at 19:16". The case's own times in words are blanked too; findings.json
# and the CSVs still compare them exactly.
_WHEN = re.compile(r"\b\w+ \d{1,2} \w+ \d{4} (at|kl\.) \d{2}[:.]\d{2}")
_HASH = re.compile(r"\b[0-9a-f]{12,64}\b")  # sha256 of files, the journal head, the commit
_CELL_ID = re.compile(r'id="cell-id=[0-9a-f]{8}"')  # papermill's injected-parameters cell


def _files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}


def _page(path: Path) -> str:
    text = _HASH.sub("<hash>", _WHEN.sub("<time>", _TIME.sub("<time>", path.read_text(encoding="utf-8"))))
    text = text.replace("<hash>+modified", "<hash>")  # the commit: a file edited between the two runs
    return _CELL_ID.sub('id="cell-id=<id>"', text)


def _differences(copy: Path, alone: Path) -> list[str]:
    """What differs between a copy of a run of several and a set rendered alone, beyond the run's time."""
    mine, theirs = _files(copy), _files(alone)
    out = [f"only in one: {sorted(set(mine) ^ set(theirs))}"] if set(mine) != set(theirs) else []
    for name in sorted(set(mine) & set(theirs)):
        if name.endswith((".csv", "findings.json")):
            if mine[name].read_bytes() != theirs[name].read_bytes():
                out.append(f"{name}: bytes differ")
        elif name.endswith(".html"):
            a, b = _page(mine[name]).split("\n"), _page(theirs[name]).split("\n")
            if a != b:
                lines = [(x[:160], y[:160]) for x, y in zip(a, b, strict=False) if x != y]
                out.append(f"{name}: {lines[:3] or 'lengths differ'}")
    return out


@pytest.fixture(scope="module")
def swedish_copy(tmp_path_factory, tiny_duckdb) -> Path:
    return mixed_copy(tmp_path_factory, tiny_duckdb, "public:sv")


def test_the_swedish_copy_is_a_set_of_its_own_beside_the_english_ones(
    swedish_copy, tmp_path_factory, tiny_duckdb, capsys
):
    from workbench.case import open_case
    from workbench.cli import main
    from workbench.reportset.build import inlined_libraries
    from workbench.reportset.leakscan import case_identifiers, scan

    english = report_set(tmp_path_factory, tiny_duckdb, "public")
    assert swedish_copy.name == "public-sv" and swedish_copy.parent == english.parent
    record = json.loads((swedish_copy / "report-set.json").read_text(encoding="utf-8"))
    assert record["status"] == "complete" and record["audience"] == "public" and record["language"] == "sv"
    assert json.loads((english / "report-set.json").read_text(encoding="utf-8"))["language"] == "en"
    assert main(["verify", str(swedish_copy), "--case", tiny_duckdb]) == 0, capsys.readouterr().err
    with open_case(tiny_duckdb) as case:
        result = scan([swedish_copy], case_identifiers(case), exclude=inlined_libraries())
    assert not result.hits and len(result.files) > 5
    # the one executed notebook per report holds every copy's outputs: the Swedish one among them
    work = english.parent / ".work" / "03_queue_fairness"
    assert (work / "03_queue_fairness.public-sv.ipynb").is_file()


def test_the_swedish_copy_equals_a_swedish_run_of_its_own(swedish_copy, tmp_path_factory, tiny_duckdb):
    alone = separate_set(tmp_path_factory, tiny_duckdb, "public", "sv")
    assert len(_files(alone)) >= 10  # four pages, their findings, the index, report-set.json
    assert _differences(swedish_copy, alone) == []


def test_the_english_copy_equals_an_english_run_of_its_own(swedish_copy, tmp_path_factory, tiny_duckdb):
    english = report_set(tmp_path_factory, tiny_duckdb, "public")
    alone = separate_set(tmp_path_factory, tiny_duckdb, "public", "en")
    assert _differences(english, alone) == []
    # the two languages do differ: the comparison above could fail
    assert _page(english / "index.html") != _page(swedish_copy / "index.html")


def test_the_comparison_sees_a_sentence_of_the_other_language(swedish_copy, tmp_path):
    """The check can fail: an English sentence left in one Swedish page is reported."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(swedish_copy, copy)
    page = copy / "03_queue_fairness" / "03_queue_fairness.html"
    text = page.read_text(encoding="utf-8")
    swedish = "för få kontrakt för att bedömas"
    assert swedish in text  # the tiny case has caseworkers with too few allocations to judge
    page.write_text(text.replace(swedish, "too few allocations to judge", 1), encoding="utf-8")
    found = _differences(copy, swedish_copy)
    assert len(found) == 1 and found[0].startswith("03_queue_fairness/03_queue_fairness.html")


# The --audience list: an audience may carry a language.


def test_an_audience_may_carry_its_language_and_the_others_take_the_default():
    entries = audience_list("investigator, public,public:sv")
    assert entries == ["investigator", "public", "public:sv"]
    made = copies(entries, "en")
    assert [(c.name, c.audience, c.language) for c in made] == [
        ("investigator", "investigator", "en"),
        ("public", "public", "en"),
        ("public-sv", "public", "sv"),
    ]
    assert [(c.name, c.language) for c in copies(["public", "public:en"], "sv")] == [
        ("public", "sv"),
        ("public-en", "en"),
    ]


@pytest.mark.parametrize(
    "given, message",
    [
        ("public:de", r"--audience 'public:de': unknown language 'de'.*en, sv.*public:sv"),
        ("public:", r"unknown language ''"),
        ("publik:sv", r"unknown audience 'publik'.*Did you mean 'public'"),
    ],
)
def test_an_unknown_audience_or_language_is_named_with_what_is_allowed(given, message):
    with pytest.raises(WorkbenchError, match=message):
        audience_list(f"investigator,{given}")


def test_the_same_set_asked_for_twice_is_refused():
    with pytest.raises(WorkbenchError, match=r"public set in en twice \(public and public:en"):
        copies(audience_list("public,public:en"), "en")


def test_the_command_line_refuses_an_unknown_language_before_anything_runs(tmp_path, capsys):
    from workbench.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["report", "--case", "x.duckdb", "--audience", "public,public:fi", "--out", str(tmp_path / "r")])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "unknown language 'fi'" in err and "en, sv" in err
    assert not (tmp_path / "r").exists()


def test_switching_copies_switches_the_report_language_and_each_copys_values(monkeypatch):
    from workbench.i18n import current_language, set_language
    from workbench.reportset import fanout
    from workbench.settings import OUT_DIR_ENV

    monkeypatch.setenv(OUT_DIR_ENV, "unset")  # restored after the test: switch sets it, as in a kernel

    saved = dict(fanout._state), dict(fanout._state["stash"])
    ns: dict = {}
    try:
        fanout._state.update(current=None, stash={})
        fanout.switch(ns, "public", {"audience": "public", "out_dir": "/o/public", "language": "en"}, ["findings"])
        ns["findings"] = "english findings"
        assert current_language() == "en"
        fanout.switch(
            ns, "public-sv", {"audience": "public", "out_dir": "/o/public-sv", "language": "sv"}, ["findings"]
        )
        assert current_language() == "sv" and "findings" not in ns and ns["language"] == "sv"
        assert ns["out_dir"] == "/o/public-sv" == __import__("os").environ[OUT_DIR_ENV]
        fanout.switch(ns, "public", {"audience": "public", "out_dir": "/o/public", "language": "en"}, ["findings"])
        assert current_language() == "en" and ns["findings"] == "english findings"
    finally:
        set_language("en")
        fanout._state.update(current=saved[0]["current"], stash=saved[1])


def test_the_analyses_write_no_words_in_the_report_language_and_the_views_do(tiny_duckdb):
    """Run with Swedish set, the analyses keep English and codes; shown, the same rows read in either language."""
    from workbench.case import open_case
    from workbench.fairness import review_fairness
    from workbench.fairness.redflags import with_details
    from workbench.i18n import set_language, translate, using
    from workbench.incident import reconstruct_incident
    from workbench.incident.triage_case import evidence_in_language
    from workbench.incident.triage_review import review_window

    set_language("sv")
    try:
        with open_case(tiny_duckdb) as case:
            review = review_fairness(case, permutations=500)
            incident = reconstruct_incident(case)
            ranked = review_window(case, incident.inbox, incident.window["start"], incident.window["end"])
            with using("en"):
                times_en = incident.times
            times_sv = incident.times  # made when asked: in the language set
    finally:
        set_language("en")
    too_few = review.caseworkers.filter("too_few")["effect_label"].to_list()
    assert too_few and all(v.startswith("too few allocations to judge (n = ") for v in too_few)
    assert "detail" not in review.red_flags.columns and review.red_flags.height
    evidence = ranked["evidence"].drop_nulls().to_list()
    assert evidence and all(e.startswith(("sender's session", "the message names", "the session of")) for e in evidence)
    assert times_en["from_local"][0].split()[0] in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    assert times_sv["from_local"][0].split()[0] in ("mån", "tis", "ons", "tors", "fre", "lör", "sön")
    offers = review.red_flags.filter(pl.col("flag") == "edit before offer")
    assert offers.height  # the tiny case has edits before offers: the check below can fail
    with using("sv"):
        shown_sv = with_details(offers)["detail"].to_list()
        evidence_sv = evidence_in_language(ranked)["evidence"].drop_nulls().to_list()
    with using("en"):
        shown_en = with_details(offers)["detail"].to_list()
    days = offers["detail_parts"].struct.field("n").to_list()
    assert shown_en == [f"offer {n} days after the edit" for n in days]
    assert shown_sv == [translate("offer {} days after the edit", "sv").replace("{}", str(n)) for n in days]
    assert shown_sv != shown_en
    assert len(evidence_sv) == len(evidence) and evidence_sv != evidence
    assert not any(e.startswith("sender's session") for e in evidence_sv)

"""No direct identifier of the evidence reaches an auditor or public report.

The small case is rendered for both audiences (every report notebook), and every HTML, CSV
and findings.json file is searched, chart data included, for every direct identifier the
evidence format tags: personnummer with and without hyphen, names, addresses, e-mail,
phone, customer numbers and IP addresses.
"""

from __future__ import annotations

import json
import re

import pytest
from reportkit import report_set

from workbench.evidence import PII, metadata
from workbench.reportset.build import REPORT_GLOB, inlined_libraries, notebook_paths
from workbench.reportset.leakscan import identifiers, scan, scan_text


@pytest.fixture(scope="module")
def small_identifiers(small_case):
    return identifiers(small_case.evidence_dir)


def test_identifiers_come_from_every_direct_column_of_the_format(small_identifiers):
    direct = {
        f"{t.name}.{c.name}" for t in metadata.sorted_tables for c in t.columns if c.info.get("pii") is PII.DIRECT
    }
    searched = set(small_identifiers.keys) | set(small_identifiers.skipped)
    assert searched == direct
    # Only caseworker numbers (1-2 digits) are too short to search.
    assert all(col.endswith("handler_id") for col in small_identifiers.skipped)
    kinds = small_identifiers.kinds()
    for column in (
        "applicants.personnummer",
        "applicants.name",
        "applicants.address",
        "applicants.email",
        "applicants.phone",
        "applicants.applicant_id",
        "logins.ip",
        "handlers.name",
    ):
        assert kinds[column] > 0, column


def test_the_scan_finds_identifiers_in_every_disguise(tiny_case):
    ids = identifiers(tiny_case.evidence_dir)
    person = tiny_case.evidence("applicants").row(0, named=True)
    ip = tiny_case.evidence("logins")["ip"][0]
    n = person["applicant_id"]
    grouped = f"{n:,}".replace(",", "\u202f")
    chart_data = json.dumps({"datasets": {"d": [{"who": person["name"] + "\u00e5", "n": 3}]}})  # \u00e5 escaped
    page = (
        f"<p>{person['personnummer'].replace('-', '')}</p><td>{grouped}</td>"
        f"<script>var spec = {chart_data};</script><p>{person['email'].upper()}</p><p>ip {ip}.</p>"
    )
    kinds = {kind for kind, _, _ in scan_text(page, ids)}
    assert {"applicants.personnummer", "applicants.applicant_id", "applicants.name", "applicants.email"} <= kinds
    assert any(k.endswith(".ip") for k in kinds)


def test_an_identifier_shown_with_invisible_character_markers_is_found(tiny_case):
    from workbench.markup import inline_json, visible

    ids = identifiers(tiny_case.evidence_dir)
    name = tiny_case.evidence("applicants")["name"][0]
    first, _, last = name.partition(" ")
    hidden = f"{first[:2]}\u200b{first[2:]} {last}"  # as a hostile writer would type it: a zero-width space inside
    assert "\u200b" not in name and scan_text(f"<td>{visible(hidden)}</td>", ids) == []
    ids = identifiers(tiny_case.evidence_dir)
    ids.keys.setdefault("applicants.name", set()).add(" ".join(w.lower() for w in re.findall(r"\w+", hidden)))
    for page in (f"<td>{visible(hidden)}</td>", f"<script>var s = {inline_json({'who': visible(hidden)})};</script>"):
        assert {kind for kind, _, _ in scan_text(page, ids)} == {"applicants.name"}


def test_whole_tokens_only(tiny_case):
    ids = identifiers(tiny_case.evidence_dir)
    person = tiny_case.evidence("applicants").row(0, named=True)
    n, ip = person["applicant_id"], tiny_case.evidence("logins")["ip"][0]
    longer_ip = next(
        f"{ip}{d}"
        for d in "0123456789"
        if f"{ip}{d}" not in set().union(*(v for k, v in ids.keys.items() if k.endswith(".ip")))
    )
    page = f"id {n}0 hash a{n}b sha {n}ff {longer_ip} {ip}.5 P-{str(n)[:3]}x"
    assert scan_text(page, ids) == []
    assert scan_text("library constant 1114111", ids, exclude=["1114111"]) == []


def test_no_direct_identifier_in_auditor_or_public_reports(small_db, small_identifiers, tmp_path_factory, capsys):
    assert notebook_paths(["all"]), f"no report notebooks ({REPORT_GLOB}) to render"
    roots = [report_set(tmp_path_factory, small_db, audience) for audience in ("auditor", "public")]
    result = scan(roots, small_identifiers, exclude=inlined_libraries())
    html = [f for f in result.files if f.suffix == ".html"]
    # every report and its findings, in both sets, plus an index page each
    assert len(html) == 2 * (len(notebook_paths(["all"])) + 1)
    assert sum(f.name == "findings.json" for f in result.files) == 2 * len(notebook_paths(["all"]))
    with capsys.disabled():
        print(
            f"\nleak scan: {small_identifiers.count} identifiers searched, {len(result.files)} files scanned "
            f"({len(html)} HTML, {sum(f.suffix == '.csv' for f in result.files)} CSV, "
            f"{sum(f.name == 'findings.json' for f in result.files)} findings.json)\n{result.summary()}"
        )
    assert small_identifiers.count > 200_000
    assert result.hits == [], result.summary()
    assert max(f.stat().st_size for f in html) < 5_000_000  # nowhere near 50 MB


def test_customer_numbers_that_are_also_listing_numbers_are_set_aside(tiny_case):
    ids = identifiers(tiny_case.evidence_dir)
    customers = set(tiny_case.evidence("applicants")["applicant_id"].cast(str))
    listings = set(tiny_case.evidence("listings")["listing_id"].cast(str))
    assert ids.ambiguous == customers & listings
    assert not ids.ambiguous & ids.keys["applicants.applicant_id"]


def test_a_recorded_figure_is_set_aside_only_where_it_is_a_key(tmp_path):
    """Hand-written: 2 210 728 page views is also a customer number; the other kinds' keys stay as they are."""
    import json

    from workbench.reportset.leakscan import Identifiers, without_figures

    numbers, names = {"2210728", "1048213"}, {"anna lindqvist", "2210728 storgatan"}
    ids = Identifiers(keys={"applicants.applicant_id": set(numbers), "applicants.name": set(names)})
    (tmp_path / "00_x").mkdir()
    (tmp_path / "00_x" / "findings.json").write_text(
        json.dumps({"page_views": {"value": 2210728}, "members": {"value": 1234}}), encoding="utf-8"
    )
    out = without_figures(ids, tmp_path)
    assert out.keys["applicants.applicant_id"] == {"1048213"}
    assert out.keys["applicants.name"] == names  # a phrase that holds the number is not the number
    assert out.figures == {"2210728"}
    assert ids.keys["applicants.applicant_id"] == numbers  # the shared identifiers are left as they were
    only = without_figures(Identifiers(keys={"k": {"2210728"}}), tmp_path)
    assert "k" not in only.keys and only.figures == {"2210728"}  # a kind left empty is dropped


def test_columns_read_whole_give_the_keys_a_value_by_value_reading_gives():
    """casekeys reads numbers and ASCII text as columns; hostile values must come out as one at a time would."""
    import polars as pl

    from workbench.evidence import PII, metadata
    from workbench.reportset import casekeys

    odd = [
        "Anna-Karin Öberg",
        "ANNA karin",
        "e\u0301lise d'Arc",  # a combining accent
        'O\'Brien; "quoted"\nnext line',
        "",
        "ab",
        "snake_case_name",
        "١٢٣٤٥٦٧",  # Arabic-Indic digits: isdigit, not ASCII
        "19800101-1234",
        "198001011234",
        "800101-1234",
        "070-123 45 67",
        "+46 70 1234567",
        "\uff21\uff4e\uff4e\uff41",  # full-width letters
        "x" * 3,
        "A.B@Example.ORG",
    ]
    numbers = ["1048213", "1048214", "12", "777", "2002"]  # 2002 is also a listing number below
    public = {"listing_id": ["2002", "9"]}

    def reader(table: str, column: str) -> pl.Series | None:
        if column in public:
            return pl.Series(public[column], dtype=pl.String)
        info = metadata.tables[table].columns[column].info.get("pii")
        if info is not PII.DIRECT:
            return None
        if column.endswith("_id") or column == "applicant_id":
            return pl.Series(numbers, dtype=pl.String)
        return pl.Series(odd, dtype=pl.String)

    found = casekeys._collect(reader)

    expected = casekeys.Identifiers()
    for table in metadata.sorted_tables:
        for name in [c.name for c in table.columns if c.info.get("pii") is PII.DIRECT]:
            column = reader(table.name, name)
            if column is None:
                continue
            values = column.to_list()
            kind = f"{table.name}.{name}"
            digits_only = all(v.isdigit() for v in values)
            if digits_only and max(len(v) for v in values) < casekeys.MIN_NUMBER_DIGITS:
                expected.skipped[kind] = (
                    f"numbers of at most {max(len(v) for v in values)} digits would match any count"
                )
                continue
            keys = expected.keys.setdefault(kind, set())
            if name == "ip":
                keys.update(v.strip() for v in values)
                continue
            if digits_only:
                expected.ambiguous.update(v for v in values if v in public["listing_id"])
                values = [v for v in values if v not in public["listing_id"]]
            for value in values:
                for variant in casekeys._variants(name, value):
                    key = casekeys.normalise(variant)
                    if casekeys._searchable(expected, kind, key):
                        keys.add(key)
    assert found.keys == expected.keys
    assert (found.short, found.skipped, found.ambiguous) == (expected.short, expected.skipped, expected.ambiguous)
    assert "2002" in found.ambiguous and "1048213" in found.keys["applicants.applicant_id"]

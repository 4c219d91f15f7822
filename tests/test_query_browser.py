"""QueryBrowser and the widget links, headless: set a child's value, assert the state and what it shows."""

from __future__ import annotations

import calendar
import subprocess
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import ipywidgets as w
import polars as pl
import pytest

import workbench
from workbench import settings
from workbench.audience import AudienceError, fit, pseudonym, pseudonym_key
from workbench.case import open_case
from workbench.errors import UnknownNameError, WorkbenchError
from workbench.exposure import review_exposure
from workbench.fairness import review_fairness
from workbench.incident import reconstruct_incident
from workbench.queries import list_queries, run
from workbench.widgets import AccountInspector, CaseworkerDashboard, TimelineExplorer
from workbench.widgets.caseworker import OUTCOME_ORDER
from workbench.widgets.links import (
    AllocationApplicant,
    TimelineAccounts,
    hourly_brush_chart,
    link_brush,
)
from workbench.widgets.query_browser import QueryBrowser

KEY = "test-key-0123456789abcdef"
ROOT = Path(workbench.__file__).resolve().parents[1]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(scope="module")
def case(tiny_db):
    with open_case(tiny_db) as opened:
        yield opened


@pytest.fixture
def browser(case, tmp_path):
    return QueryBrowser(case, "investigator", out_dir=tmp_path, page_size=10)


# ---- QueryBrowser ------------------------------------------------------------------------


def test_lists_every_query_with_its_description_and_filters_by_name_domain_or_words(browser):
    catalogue = list_queries()
    assert browser.queries.equals(catalogue)
    assert list(browser._w_queries.options) == catalogue["name"].to_list()
    assert f"{catalogue.height} of {catalogue.height} queries" in browser._w_count.value
    assert all(d.replace("'", "&#x27;") in browser._w_catalogue.value for d in catalogue["description"])
    browser._w_search.value = "rebuilt"  # a word of the sessions query's description only
    assert browser.queries["name"].to_list() == ["sessions"]
    browser._w_search.value = ""
    browser._w_domain.value = "overview"
    assert set(browser.queries["domain"]) == {"overview"}
    assert browser.queries["name"].to_list() == list(browser._w_queries.options)
    assert "incident_window" in browser._w_queries.options and "sessions" not in browser._w_queries.options


def test_choosing_a_query_shows_typed_inputs_and_its_sql(browser):
    browser._w_queries.value = "sessions"
    inputs = browser._w_param
    assert list(inputs) == ["idle_timeout_minutes", "start", "end"]
    assert isinstance(inputs["idle_timeout_minutes"], w.IntText) and inputs["idle_timeout_minutes"].value == 20
    assert isinstance(inputs["start"], w.Text) and "incident_window.deployed_at - 1 day" in inputs["start"].placeholder
    assert browser.params == {"idle_timeout_minutes": 20}
    assert "SQL (sqlite):" in browser.sql and "FROM" in browser.sql
    inputs["start"].value = "2013-12-13 18:00"  # read in Stockholm time, as the tables show it
    assert browser.params["start"] == utc(2013, 12, 13, 17)
    assert "start=2013-12-13T17:00:00+00:00" in browser.sql
    assert "start=2013-12-13T17:00:00+00:00" in browser._w_sql.value
    browser.selected = "allocated_listings"
    assert isinstance(browser._w_param["period_start"], w.DatePicker)
    browser._w_param["period_start"].value = date(2013, 6, 1)
    assert browser.params == {"period_start": date(2013, 6, 1)}
    browser.selected = "contact_form_pairs"
    assert isinstance(browser._w_param["path"], w.Text) and browser._w_param["path"].value == "/kundtjanst/kontakt"


def test_run_shows_the_audience_fit_result_a_page_at_a_time(browser, case):
    browser.selected = "sessions"
    browser._w_param["start"].value = "2013-12-13T17:00:00+00:00"
    browser._w_param["end"].value = "2013-12-14T11:00:00Z"
    browser._w_run.click()
    expected = run("sessions", case, start=utc(2013, 12, 13, 17), end=utc(2013, 12, 14, 11))
    assert expected.height > 20, "needs three pages of ten"
    assert browser.error is None and browser.result.equals(expected)
    assert browser.page_count == -(-expected.height // 10)
    assert browser.page_rows.equals(expected.head(10))
    assert f"Rows 1–10 of {expected.height} (page 1 of {browser.page_count})" in browser._w_page.value
    assert expected["session_id"][0] in browser._w_table.value
    assert browser._w_prev.disabled and not browser._w_next.disabled
    browser._w_next.click()
    assert browser.page == 1 and browser.page_rows.equals(expected.slice(10, 10))
    assert (
        expected["session_id"][10] in browser._w_table.value and expected["session_id"][0] not in browser._w_table.value
    )
    browser.show_page(99)
    assert browser.page == browser.page_count - 1 and browser._w_next.disabled


def test_a_bad_value_names_its_parameter_and_runs_nothing(browser):
    browser.selected = "sessions"
    browser._w_param["start"].value = "Friday evening"
    assert "start" in browser.errors and "Friday evening" in browser.errors["start"]
    assert "Friday evening" in browser._w_sql.value  # said next to the SQL, before running
    browser._w_run.click()
    assert browser.result is None
    assert "parameter 'start'" in browser.error and "Friday evening" in browser.error
    assert "Friday evening" in browser._w_status.value


def test_choosing_another_query_clears_the_result(browser):
    browser.selected = "table_counts"
    browser.run()
    assert browser.result.height > 0 and not browser._w_export.disabled
    browser.selected = "incident_window"
    assert browser.result is None and browser._w_table.value == "" and browser._w_export.disabled
    with pytest.raises(UnknownNameError, match="Did you mean 'incident_window'"):
        browser.selected = "incident_windw"


def test_export_writes_the_audience_fit_result_as_csv_or_parquet(case, tmp_path):
    browser = QueryBrowser(case, "auditor", out_dir=tmp_path, key=KEY)
    browser.selected = "possibly_affected"
    browser.run()
    expected = fit(run("possibly_affected", case), "auditor", query="possibly_affected", key=KEY)
    assert browser.result.equals(expected)
    assert browser.result["applicant_id"][0].startswith("P-")  # pseudonyms, never customer numbers
    browser._w_format.value = "parquet"
    browser._w_export.click()
    assert browser.exported.parent == tmp_path / "exports" and browser.exported.suffix == ".parquet"
    assert pl.read_parquet(browser.exported).equals(expected)
    assert str(browser.exported) in browser._w_exported.value
    path = browser.export("csv")
    assert pl.read_csv(path)["applicant_id"].to_list() == expected["applicant_id"].to_list()
    with pytest.raises(WorkbenchError, match="not one of: csv, parquet"):
        browser.export("xlsx")


def test_the_result_can_be_sorted_by_a_column_either_way(browser, case):
    browser.selected = "sessions"
    assert browser._w_sort.disabled and browser._w_order.disabled  # nothing to sort yet
    browser.run()
    query_order = run("sessions", case)
    assert browser.sort_by is None and browser.result.equals(query_order)
    assert [v for _, v in browser._w_sort.options] == [None, *query_order.columns]
    assert not browser._w_sort.disabled and browser._w_order.disabled
    browser.show_page(1)
    browser._w_sort.value = "n_requests"
    n_requests = browser.result["n_requests"].to_list()
    assert n_requests == sorted(query_order["n_requests"].to_list()) and n_requests[0] < n_requests[-1]
    assert browser.result.sort("session_id").equals(query_order.sort("session_id"))  # the same rows
    assert browser.page == 0 and browser.page_rows.equals(browser.result.head(10))
    assert browser.result["session_id"][0] in browser._w_table.value
    browser._w_order.value = "descending"
    assert browser.descending and browser.result["n_requests"].to_list() == sorted(n_requests, reverse=True)
    top = browser.result["session_id"][0]
    assert top in browser._w_table.value and top not in query_order.head(10)["session_id"].to_list()
    assert pl.read_csv(browser.export("csv"))["session_id"].to_list() == browser.result["session_id"].to_list()
    browser._w_param["idle_timeout_minutes"].value = 30  # a new run keeps the sort
    browser.run()
    assert browser.sort_by == "n_requests" and browser.result["n_requests"].is_sorted(descending=True)
    browser._w_sort.value = None  # back to the query's own order
    assert browser.result.equals(run("sessions", case, idle_timeout_minutes=30))
    browser._w_sort.value = "login_at"
    browser.selected = "table_counts"  # another query: nothing sorted, nothing to sort by
    assert browser.sort_by is None and browser._w_sort.disabled and browser.result is None


def test_exports_go_to_the_projects_ignored_build_folder_by_default(case, tmp_path, monkeypatch):
    assert settings.project_root() == ROOT and (ROOT / "pyproject.toml").is_file()
    assert QueryBrowser(case).out_dir == ROOT / "build"  # not the kernel's folder, notebooks/
    ignored = subprocess.run(
        ["git", "-C", str(ROOT), "check-ignore", "--no-index", "build/exports/sessions-0123abcd.csv"],
        capture_output=True,
        text=True,
    )
    assert ignored.returncode == 0, f"build/exports/ is not ignored by git: {ignored.stderr}"
    # An installed copy has no project: its exports go to build/ in the current folder.
    monkeypatch.setattr(settings, "__file__", str(tmp_path / "site-packages" / "workbench" / "settings.py"))
    monkeypatch.chdir(tmp_path)
    assert settings.project_root() is None
    browser = QueryBrowser(case)
    browser.selected = "table_counts"
    browser.run()
    assert browser.export("csv").parent == tmp_path / "build" / "exports"


def test_the_public_sees_aggregates_and_is_told_why_not_rows(case, tmp_path):
    browser = QueryBrowser(case, "public", out_dir=tmp_path)
    browser.selected = "possibly_affected"
    browser._w_run.click()
    assert browser.result is None and "public" in browser.error
    with pytest.raises(AudienceError):  # the same refusal the audience layer gives
        fit(run("possibly_affected", case), "public", query="possibly_affected")
    browser.selected = "table_counts"
    browser.run()
    assert browser.error is None
    assert browser.result.equals(fit(run("table_counts", case), "public", query="table_counts"))


# ---- links -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def parts(case):
    found = reconstruct_incident(case)
    exposure = review_exposure(case).exposure
    review = review_fairness(case, permutations=500, seed=1)
    return {
        "events": found.events(),
        "marks": found.marks,
        "mismatched": found.mismatched,
        "exposure": exposure,
        "review": review,
        "activity": run("activity_per_hour", case),
    }


def test_accounts_follow_the_timeline_range_and_open_in_the_inspector(parts):
    timeline = TimelineExplorer(parts["events"], parts["marks"])
    inspector = AccountInspector(parts["exposure"])
    accounts = TimelineAccounts(timeline, inspector, parts["mismatched"])
    assert set(accounts.options) == {str(a) for a in parts["mismatched"]["account_id"].unique()}
    first = parts["mismatched"].sort("bound_at").row(0, named=True)
    timeline.set_range(first["bound_at"], first["bound_at"] + timedelta(hours=1))
    in_range = parts["mismatched"].filter(pl.col("session_id").is_in(timeline.in_range()["session_id"].to_list()))
    assert set(accounts.options) == {str(a) for a in in_range["account_id"]}
    assert str(first["account_id"]) in accounts.options
    accounts._w_account.value = str(first["account_id"])
    assert inspector.value == str(first["account_id"])
    assert first["session_id"] in inspector.sessions["session_id"].to_list()
    assert "Opened" in accounts._w_status.value
    timeline.set_kinds(["fault report", "milestone"])  # events that belong to no session
    assert accounts.options == [] and accounts.value is None
    with pytest.raises(WorkbenchError, match="not rendered by any session in the timeline's range"):
        accounts.select(first["account_id"])


def test_auditors_open_accounts_by_pseudonym_and_the_public_has_none(parts, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", KEY)
    timeline = TimelineExplorer(parts["events"], parts["marks"], audience="auditor")
    inspector = AccountInspector(parts["exposure"], "auditor")
    accounts = TimelineAccounts(timeline, inspector, parts["mismatched"])
    assert accounts.options and all(o.startswith("P-") for o in accounts.options)
    accounts.select(accounts.options[0])
    assert inspector.value == accounts.options[0]
    public = TimelineAccounts(
        TimelineExplorer(parts["events"], parts["marks"], audience="public"),
        AccountInspector(parts["exposure"], "public"),
        parts["mismatched"],
    )
    assert public.options == [] and public._w_account.disabled


def test_an_allocation_opens_its_applicant_and_their_exposed_account(parts):
    review, inspector = parts["review"], AccountInspector(parts["exposure"])
    allocations = review.replay.allocations
    exposed = allocations.filter(pl.col("applicant_id").cast(pl.String).is_in(inspector.options))
    assert exposed.height, "the tiny case should hold an allocation to a member whose account was exposed"
    target = exposed.row(0, named=True)
    dashboard = CaseworkerDashboard(review)
    applicant = AllocationApplicant(dashboard, review, inspector)
    assert applicant.options == dashboard.allocations["listing_id"].to_list()
    dashboard.value = target["handler_id"]  # the options follow the dashboard's caseworker
    assert (
        sorted(applicant.options)
        == allocations.filter(pl.col("handler_id") == target["handler_id"])["listing_id"].sort().to_list()
    )
    applicant._w_allocation.value = target["listing_id"]
    assert applicant.applicant == str(target["applicant_id"])
    assert applicant.member["applicant_id"].to_list() == [target["applicant_id"]]
    decisions = review.evidence.decisions.filter(pl.col("applicant_id") == target["applicant_id"])
    assert applicant.decisions.height == decisions.height
    assert inspector.value == str(target["applicant_id"])
    assert "open in the account inspector" in applicant._w_summary.value
    with pytest.raises(WorkbenchError, match="not among the dashboard's allocations"):
        applicant.selected_listing = -1


def _ms(t: datetime) -> int:
    return calendar.timegm(t.utctimetuple()) * 1000


def test_the_hourly_brush_chart_declares_an_interval_on_time_and_keeps_its_input(parts):
    activity = parts["activity"]
    before = activity.clone()
    spec = hourly_brush_chart(activity).to_dict()
    assert activity.equals(before)
    assert spec["params"] == [{"name": "brush", "select": {"type": "interval", "encodings": ["x"]}}]
    rows = next(iter(spec["datasets"].values()))
    assert {r["kind"] for r in rows} == {"logins", "page views", "profile changes", "support messages"}
    assert len(rows) == activity.height * 4


def test_brushing_sets_the_timeline_range_in_whole_hours_and_clearing_resets_it(parts):
    import altair as alt

    timeline = TimelineExplorer(parts["events"], parts["marks"])
    whole = timeline.range
    chart = alt.JupyterChart(hourly_brush_chart(parts["activity"]))
    link_brush(chart, timeline)
    # A browser in New York read the wall-clock time 19:10 Stockholm as 19:10 New York time.
    chart.local_tz = "America/New_York"
    lo, hi = datetime(2013, 12, 13, 19, 10), datetime(2013, 12, 13, 21, 30)
    ny = timezone(timedelta(hours=-5))
    chart._vl_selections = {
        "brush": {"value": {"hour": [_ms(lo.replace(tzinfo=ny)), _ms(hi.replace(tzinfo=ny))]}, "store": []}
    }
    assert timeline.range == (utc(2013, 12, 13, 18), utc(2013, 12, 13, 21))  # Stockholm 19:00-22:00
    chart._vl_selections = {"brush": {"value": {}, "store": []}}
    assert timeline.range == whole


def _listed(rows: pl.DataFrame) -> list[int]:
    """Listing ids in the order an investigator wants: unexplained, explained, then in order; by listing id."""
    rank = {outcome: i for i, outcome in enumerate(OUTCOME_ORDER)}
    return [
        r["listing_id"] for r in sorted(rows.iter_rows(named=True), key=lambda r: (rank[r["outcome"]], r["listing_id"]))
    ]


class _Dashboard:
    """Stands in for a CaseworkerDashboard showing ``allocations`` in their own (listing) order."""

    def __init__(self, allocations: pl.DataFrame, audience: str = "investigator"):
        self.allocations, self.audience = allocations.sort("listing_id"), audience

    def on_change(self, callback):
        return callback


def test_allocations_are_listed_unexplained_first_then_explained_then_in_order(parts):
    review = parts["review"]
    allocations = review.replay.allocations
    assert set(allocations["outcome"]) == set(OUTCOME_ORDER), "the tiny case should hold every outcome"
    applicant = AllocationApplicant(_Dashboard(allocations), review)
    assert applicant.options == _listed(allocations)
    outcomes = [label.split(" · ")[3].split(" → ")[0] for label, value in applicant._w_allocation.options if value]
    assert outcomes[0] == "unexplained" and outcomes[-1] == "in_order"
    assert outcomes.index("explained") > outcomes.index("unexplained")
    dashboard = CaseworkerDashboard(review)
    applicant = AllocationApplicant(dashboard, review)
    for handler in review.caseworkers["handler_id"]:  # the dashboard's table lists them the same way
        dashboard.value = handler
        mine = allocations.filter(pl.col("handler_id") == handler)
        assert dashboard.allocations["listing_id"].to_list() == applicant.options == _listed(mine)


def test_the_search_box_keeps_allocations_by_listing_district_or_tenant(parts):
    review = parts["review"]
    allocations = review.replay.allocations
    applicant = AllocationApplicant(_Dashboard(allocations), review)
    every = applicant.options
    assert f"{len(every)} of {allocations.height} allocation(s)" == applicant._w_count.value
    district = allocations["district"].mode().sort()[0]
    applicant._w_find.value = f" {district.upper()} "  # any case, spaces around
    in_district = allocations.filter(pl.col("district") == district)
    assert applicant.search == f" {district.upper()} " and applicant.options == _listed(in_district)
    assert (
        applicant._w_count.value
        == f"{in_district.height} of {allocations.height} allocation(s) match “{district.upper()}”"
    )
    row = allocations.row(0, named=True)
    applicant._w_find.value = str(row["applicant_id"])  # the tenant's customer number
    matches = allocations.filter(
        pl.col("applicant_id").cast(pl.String).str.contains(str(row["applicant_id"]))
        | pl.col("listing_id").cast(pl.String).str.contains(str(row["applicant_id"]))
    )
    assert row["listing_id"] in applicant.options and applicant.options == _listed(matches)
    applicant._w_find.value = str(row["listing_id"])
    assert applicant.options == [
        i
        for i in every
        if str(row["listing_id"]) in str(i)
        or str(row["listing_id"]) in str(allocations.filter(pl.col("listing_id") == i)["applicant_id"].item())
    ]
    applicant.selected_listing = row["listing_id"]
    assert applicant.member["applicant_id"].to_list() == [row["applicant_id"]]
    applicant._w_find.value = str(row["listing_id"])[:2]  # still matching: the applicant stays open
    assert applicant.selected_listing == row["listing_id"] and applicant.member.height == 1
    applicant._w_find.value = "no such district"
    assert applicant.options == [] and applicant.selected_listing is None and applicant.member.is_empty()
    applicant._w_find.value = ""
    assert applicant.options == every


def test_auditors_search_allocations_by_the_tenants_pseudonym(parts, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", KEY)
    review = parts["review"]
    allocations = review.replay.allocations
    applicant = AllocationApplicant(_Dashboard(allocations, "auditor"), review)
    row = allocations.row(0, named=True)
    label = pseudonym(row["applicant_id"], "account_id", pseudonym_key(None))
    applicant._w_find.value = label.lower()
    assert applicant.options == _listed(allocations.filter(pl.col("applicant_id") == row["applicant_id"]))
    applicant._w_find.value = str(row["applicant_id"])  # the customer number finds nothing: auditors never see it
    assert row["listing_id"] not in applicant.options


# ---- labels and readouts are wide enough to read ------------------------------------------------

_CHAR_PX = 7.5  # the width of an average character of the widgets' 13 px font
_LABEL_PX = 80  # ipywidgets' default description width


def _described(obj) -> list:
    """The ipywidgets among ``obj``'s private ``_w_*`` attributes (dicts of them too) that carry a label."""
    found = []
    for name, value in vars(obj).items():
        if name.startswith("_w_"):
            found += [
                x
                for x in (value.values() if isinstance(value, dict) else [value])
                if isinstance(x, w.DOMWidget)
                and not isinstance(x, (w.Button, w.ToggleButtons))
                and getattr(x, "description", "")
            ]
    return found


def _cut(widget) -> str | None:
    """Why ``widget``'s label or slider readout would be cut short, or None."""
    width = widget.style.description_width
    room = _LABEL_PX if not width else None if width == "initial" else float(width.removesuffix("px"))
    if room is not None and len(widget.description) * _CHAR_PX > room:
        return f"label {widget.description!r} in {room:.0f} px"
    if isinstance(widget, (w.SelectionRangeSlider, w.SelectionSlider)) and widget.readout:
        longest = max(len(str(label)) for label in widget._options_labels)
        parts_ = 2 if isinstance(widget, w.SelectionRangeSlider) else 1
        if (longest * parts_ + 3) * _CHAR_PX > 148:  # the readout box: half the 300 px inline width, less margins
            return f"readout of {widget.description!r} ({longest} characters a label) in 148 px"
    return None


def test_labels_and_readouts_show_their_full_text(parts, case, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", KEY)
    timeline = TimelineExplorer(parts["events"], parts["marks"])
    inspector = AccountInspector(parts["exposure"])
    dashboard = CaseworkerDashboard(parts["review"])
    browser = QueryBrowser(case, out_dir=tmp_path)
    browser.selected = "sessions"  # its inputs carry the longest parameter name, idle_timeout_minutes
    browser.run()
    shown = [
        browser,
        timeline,
        inspector,
        AccountInspector(parts["exposure"], "auditor"),
        dashboard,
        TimelineAccounts(timeline, inspector, parts["mismatched"]),
        AllocationApplicant(dashboard, parts["review"]),
    ]
    described = [x for widget in shown for x in _described(widget)]
    assert {x.description for x in described} >= {
        "Customer no.",
        "Pseudonym",
        "Range",
        "Caseworker",
        "Sort by",
        "idle_timeout_minutes",
        "Search",
        "Open the applicant of",
    }
    assert [f"{type(x).__name__}: {why}" for x in described if (why := _cut(x))] == []
    # The check sees what the screenshots showed cut: the old 80 px "Customer no." and the range readout.
    assert _cut(w.Dropdown(description="Customer no.")) == "label 'Customer no.' in 80 px"
    assert _cut(w.SelectionRangeSlider(options=timeline._w_range.options, index=(0, 1), description="Range"))

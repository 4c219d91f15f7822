"""Numbers as people read them (issue 17, point 4): the name of a figure or column says how it is written."""

from __future__ import annotations

from datetime import timedelta

import pytest

from workbench.values import Bounds, format_duration, format_value, value_kind


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("applicant_id", "id"),
        ("page_views_missing_account_id", "id"),
        ("year", "year"),
        ("birth_year", "year"),
        ("swap_rate", "rate"),
        ("share_in_order", "rate"),
        ("fault_report_precision_generated", "rate"),
        ("fault_report_target", "rate"),  # the precision and recall asked for, beside the ones reached
        ("threshold", "rate"),  # a caseworker's flag threshold, beside their share
        ("mde", "rate"),  # the smallest share of allocations sold that the test would flag
        ("mde_ceiling", "rate"),
        ("effect", "points"),  # a caseworker's share minus their peers'
        ("min_effect", "points"),
        ("effect_label", None),
        ("alpha", None),  # a significance level reads as statisticians write it
        ("binding_rate_percent", "percent"),
        ("smoke_test_confidence_percent", "percent"),
        ("annual_income", "money"),
        ("rent", "money"),
        ("time_to_detect_hours", "duration"),
        ("onset_minutes_after_login", "duration"),
        ("mail_clock_offset_seconds", "duration"),
        # counts whose names hold a unit word in another place stay plain numbers
        ("income_changed_by_others", None),
        ("n_hours", None),
        ("median_queue_years", None),
        ("people_possibly_affected", None),
        (None, None),
    ],
)
def test_the_name_says_what_kind_of_number_it_is(name, kind):
    assert value_kind(name) == kind


def test_years_and_ids_have_no_thousands_separator():
    assert format_value(2013, "year") == "2013"
    assert format_value(1_000_051, "applicant_id") == "1000051"
    assert format_value([1_000_051, 1_000_052], "account_ids") == "1000051, 1000052"
    assert format_value(1_000_051) == "1\u202f000\u202f051"  # a count keeps its separator


def test_rates_are_percentages_with_one_convention():
    # a fraction and a figure already in percent read the same way: one decimal and "%"
    assert format_value(0.09664, "swap_rate") == "9.7%"
    assert format_value(5.5, "binding_rate_percent") == "5.5%"
    assert format_value(0.055, "swap_rate") == format_value(5.5, "binding_rate_percent")
    assert format_value(95, "smoke_test_confidence_percent") == "95.0%"
    assert format_value(0.0, "swap_rate") == "0.0%"
    assert format_value(0.0001, "swap_rate") == "<0.1%"
    assert format_value({"min": 0.05, "likely": 0.1, "max": 0.2}, "swap_rate") == "10.0% (between 5.0% and 20.0%)"
    # the target the rules must reach reads as the precision and recall it is compared with, not "0.9"
    assert format_value(0.9, "fault_report_target") == format_value(0.9, "fault_report_precision_generated") == "90.0%"
    assert format_value(0.9, "fault_report_target", "sv") == "90,0\u202f%"


def test_a_caseworkers_threshold_mde_and_excess_read_like_the_shares_beside_them():
    # the caseworker table showed "Threshold 0.02466", "Excess 0.0575" beside "Share 6.2%"
    assert format_value(0.02466, "threshold") == "2.5%"
    assert format_value(0.005, "mde") == "0.5%"
    assert format_value(0.0575, "effect") == "5.8 percentage points"
    assert format_value(0.02, "min_effect", "sv") == "2,0 procentenheter"
    assert format_value(-0.004, "effect") == "-0.4 percentage points"


def test_durations_read_in_hours_and_minutes():
    assert format_value(48.39, "time_to_detect_hours") == "48 h 23 min"
    assert format_value("PT48H23M") == "48 h 23 min"  # as findings.json holds a timedelta
    assert format_value(timedelta(hours=48, minutes=23)) == "48 h 23 min"
    assert format_value("P1DT2H") == "26 h"
    assert format_value(23, "onset_minutes_after_login") == "23 min"
    assert format_value(37.2, "mail_clock_offset_seconds") == "37 s ahead"  # a clock's offset says its direction
    assert format_duration(-90) == "-2 min"
    assert format_value("PT0S") == "0 s"
    assert format_value("Pelle") == "Pelle" and format_value("P") == "P"  # text that only starts like one


def test_money_carries_its_unit():
    assert format_value(312_000, "annual_income") == "312\u202f000 kr"
    assert format_value(4_250.4, "rent") == "4\u202f250 kr"
    assert format_value(Bounds(1_000, 2_000, 3_000), "fee") == "2\u202f000 kr (between 1\u202f000 kr and 3\u202f000 kr)"


def test_booleans_are_words():
    assert format_value(True) == "yes" and format_value(False) == "no"
    assert format_value([True, False]) == "yes, no"


def test_prose_bound_to_findings_uses_the_name(tmp_path):
    from workbench.findings import Findings

    findings = Findings(tmp_path)
    findings.record("time_to_detect_hours", 48.39, "Hours from onset to first report")
    findings.record("swap_rate", 0.09664, "Share of sessions bound to another account")
    findings.record("first_year", 2013, "First year")
    text = findings.text("Detected after {time_to_detect_hours}; {swap_rate} swapped; since {first_year}.")
    assert text == "Detected after 48 h 23 min; 9.7% swapped; since 2013."


def test_bounds_that_collapse_read_as_the_one_number():
    # The "122 (between 122 and 122)": exact bounds are one figure, in both languages.
    assert format_value(Bounds(122, 122, 122), "sessions_mismatched") == "122"
    assert format_value({"min": 0.5, "likely": 0.5, "max": 0.5}, "swap_rate", "sv") == format_value(
        0.5, "swap_rate", "sv"
    )
    assert format_value(Bounds(121, 122, 122), "sessions_mismatched") == "122 (between 121 and 122)"

"""Numeric parameters out of range get the normal parameter error before anything runs, exit status 2."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.reportset.bounds import INT64, RANGES, Range, out_of_range
from workbench.reportset.execution import (
    NOTEBOOKS_DIR,
    ParameterError,
    check_parameters,
    declared_type,
    notebook_parameters,
)

TWO_CHARTS = str(Path(__file__).parent / "data" / "notebooks" / "two_charts.ipynb")

# As papermill declares them: the literal default, no annotation.
DECLARED = {
    name: {"default": default, "inferred_type_name": "None"}
    for name, default in [
        ("idle_timeout_minutes", "20"),
        ("on_call_delay_hours", "1.0"),
        ("alpha", "0.01"),
        ("min_effect", "0.02"),
        ("permutations", "20000"),
        ("seed", "1"),
        ("limit", "3"),  # no range by name: only its type's
        ("share", "0.5"),
    ]
}


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("idle_timeout_minutes", -5, "a whole number from 1 to 1440 minutes"),
        ("idle_timeout_minutes", 0, "a whole number from 1 to 1440 minutes"),
        ("idle_timeout_minutes", 10**30, "a whole number from 1 to 1440 minutes"),
        ("on_call_delay_hours", -0.5, "a number from 0 to 168 hours"),
        ("alpha", 0, "a number above 0 and below 1"),
        ("alpha", 1.0, "a number above 0 and below 1"),
        ("alpha", float("nan"), "a finite number above 0 and below 1"),
        ("min_effect", 1.5, "a number from 0 to 1"),
        ("permutations", 0, "a whole number from 1 to 1e\\+07"),
        ("seed", -1, "a whole number 0 or more"),
        ("seed", 2**64, "a whole number 0 or more"),
        ("limit", 10**30, f"a whole number from {INT64[0]} to {INT64[1]} \\(64 bits\\)"),
        ("limit", -(2**63) - 1, f"a whole number from {INT64[0]} to {INT64[1]} \\(64 bits\\)"),
        ("share", float("inf"), "a finite number"),
        ("share", float("-inf"), "a finite number"),
        ("share", 10**400, "a finite number"),
    ],
)
def test_a_value_out_of_range_names_the_parameter_the_value_and_the_range(name, value, allowed):
    default = DECLARED[name]["default"]
    with pytest.raises(
        ParameterError,
        match=rf"^nb\.ipynb: parameter {name} must be {allowed} \(default {re.escape(default)}\), "
        rf"got {re.escape(repr(value))}$",
    ):
        check_parameters("nb.ipynb", {name: value}, DECLARED)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("idle_timeout_minutes", 1),
        ("idle_timeout_minutes", 1440),
        ("on_call_delay_hours", 0),
        ("on_call_delay_hours", 0.25),
        ("alpha", 0.05),
        ("min_effect", 0.0),
        ("permutations", 1),
        ("seed", 0),
        ("seed", INT64[1]),
        ("limit", -3),  # a negative number is fine where no range says otherwise
        ("limit", INT64[0]),
        ("share", -1e300),
    ],
)
def test_values_in_range_pass(name, value):
    check_parameters("nb.ipynb", {name: value}, DECLARED)
    assert out_of_range(name, declared_type(DECLARED[name]), value) is None


def test_a_range_reads_as_it_checks():
    assert Range(1, 1440, "minutes").describe() == "from 1 to 1440 minutes"
    assert Range(0, 1, open_low=True, open_high=True).describe() == "above 0 and below 1"
    assert Range(0).describe() == "0 or more" and Range(0, open_low=True).describe() == "above 0"
    assert [v in Range(0, 1, open_low=True) for v in (0, 0.5, 1, 1.01)] == [False, True, True, False]


def _numeric_parameters() -> list[tuple[str, str, str, str]]:
    found = []
    for nb in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        for name, declared in notebook_parameters(nb).items():
            if declared_type(declared) in ("int", "float"):
                found.append((nb.name, name, declared_type(declared), declared["default"]))
    return found


def test_every_numeric_parameter_of_a_project_notebook_has_a_range_its_default_lies_in():
    numeric = _numeric_parameters()
    assert {name for _, name, _, _ in numeric} == set(RANGES), "add a range to workbench/reportset/bounds.py"
    for notebook, name, type_name, default in numeric:
        assert out_of_range(name, type_name, ast.literal_eval(default)) is None, (notebook, name, default)


# ---- on the command line: exit status 2, nothing run ------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-5", r"must be a whole number from 1 to 1440 minutes \(default 20\), got -5"),
        (
            "1000000000000000000000000000000",
            r"must be a whole number from 1 to 1440 minutes \(default 20\), got 10{30}",
        ),
    ],
)
def test_run_refuses_an_out_of_range_value_before_anything_runs(value, message, tiny_db, tmp_path, capsys):
    argv = ["run", "02_exposure_and_changes", "--case", tiny_db, "--out", str(tmp_path / "o")]
    assert main([*argv, "-p", "idle_timeout_minutes", value]) == 2
    err = capsys.readouterr().err
    assert re.fullmatch(
        rf"workbench run: error: 02_exposure_and_changes\.ipynb: parameter idle_timeout_minutes {message}\n", err
    )
    assert not (tmp_path / "o").exists()


def test_report_refuses_a_bad_parameter_with_status_2_and_writes_no_set(tiny_db, tmp_path, capsys, monkeypatch):
    """A bad value is refused input for `report` as for `run` (it used to exit 1, like a failed notebook)."""
    import shutil

    import workbench.reportset.execution

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(TWO_CHARTS, notebooks / "00_two_charts.ipynb")
    monkeypatch.setattr(workbench.reportset.execution, "NOTEBOOKS_DIR", notebooks)
    out = tmp_path / "set"
    argv = ["report", "--case", tiny_db, "--audience", "public", "--out", str(out), "--workers", "1"]
    assert main([*argv, "-p", "limit", str(10**30)]) == 2
    assert capsys.readouterr().err == (
        f"workbench report: error: 00_two_charts.ipynb: parameter limit must be a whole number from {INT64[0]} to "
        f"{INT64[1]} (64 bits) (default 3), got {10**30}\n"
    )
    assert main([*argv, "-p", "limt", "3"]) == 2
    assert "does not declare parameter(s) ['limt']" in capsys.readouterr().err
    assert not out.exists()

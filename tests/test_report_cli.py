"""`workbench run`: parameter validation before anything runs, failures, outputs, parallel runs."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import nbformat
import pytest

from workbench.cli import main
from workbench.reportset.build import notebook_paths
from workbench.reportset.execution import NotebookError, check_parameters, parse_value, plan_parameters

DATA = Path(__file__).parent / "data" / "notebooks"
TWO_CHARTS = str(DATA / "two_charts.ipynb")
BROKEN = str(DATA / "broken1.ipynb")


def test_unknown_parameter_lists_the_declared_ones_and_runs_nothing(tiny_db, tmp_path, capsys):
    assert main(["run", TWO_CHARTS, "--case", tiny_db, "--out", str(tmp_path), "-p", "limt", "4"]) == 2
    err = capsys.readouterr().err
    assert (
        "two_charts.ipynb does not declare parameter(s) ['limt']; it declares: case_url (str), audience (str), "
        "out_dir (str), limit (int), share (float). Did you mean limit?"
    ) in err
    assert not any(tmp_path.iterdir())


def test_wrong_type_is_an_error(tiny_db, tmp_path, capsys):
    assert main(["run", TWO_CHARTS, "--case", tiny_db, "--out", str(tmp_path), "-p", "limit", "four"]) == 2
    assert capsys.readouterr().err == (
        "workbench run: error: two_charts.ipynb: parameter limit must be a whole number (default 3), got text 'four'\n"
    )


# As papermill declares them: the literal default, no annotation.
DECLARED = {
    "timezone": {"default": '"Europe/Stockholm"', "inferred_type_name": "None"},
    "audience": {"default": '"investigator"', "inferred_type_name": "None"},
    "extra_report_phrases": {"default": "[]", "inferred_type_name": "None"},
    "share": {"default": "0.5", "inferred_type_name": "None"},
}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Europe/Stockhlm", r"got 'Europe/Stockhlm'\. Did you mean 'Europe/Stockholm'"),
        ("utc", r"got 'utc'\. Did you mean 'UTC'"),
        ("Mars/Olympus", r"got 'Mars/Olympus'\.$"),
    ],
)
def test_a_time_zone_is_checked_before_the_run_and_close_names_suggested(value, message):
    with pytest.raises(
        NotebookError,
        match=r"^nb\.ipynb: parameter timezone must be a time zone name such as "
        rf"'Europe/Stockholm' or 'UTC', {message}",
    ):
        check_parameters("nb.ipynb", {"timezone": value}, DECLARED)
    check_parameters("nb.ipynb", {"timezone": "America/New_York"}, DECLARED)
    check_parameters("nb.ipynb", {"timezone": "UTC"}, DECLARED)


def test_an_audience_is_checked_before_the_run():
    with pytest.raises(
        NotebookError,
        match=r"^nb\.ipynb: parameter audience: unknown audience 'auditors'\. "
        r"Did you mean 'auditor'\? Known: auditor, investigator, public\.$",
    ):
        check_parameters("nb.ipynb", {"audience": "auditors"}, DECLARED)
    check_parameters("nb.ipynb", {"audience": "public"}, DECLARED)


def test_a_list_parameter_error_shows_how_to_write_a_list():
    with pytest.raises(
        NotebookError,
        match=re.escape(
            "nb.ipynb: parameter extra_report_phrases must be a list (default []), got text 'min sida'. Write a list "
            "in brackets: on the command line quoted for the shell, e.g. -p extra_report_phrases '[\"min sida\"]'; "
            'in a --params file extra_report_phrases: ["min sida"]'
        ),
    ):
        check_parameters("nb.ipynb", {"extra_report_phrases": "min sida"}, DECLARED)
    check_parameters("nb.ipynb", {"extra_report_phrases": ["min sida"]}, DECLARED)
    assert parse_value('["min sida"]', "list") == ["min sida"]  # the example the message gives reads as the list


def test_a_type_error_names_both_types_plainly():
    with pytest.raises(
        NotebookError,
        match=r"^nb\.ipynb: parameter share must be a number \(default 0\.5\), "
        r"got a boolean True$",
    ):
        check_parameters("nb.ipynb", {"share": True}, DECLARED)


def test_parameters_the_command_sets_cannot_be_given(tiny_db, tmp_path, capsys):
    assert main(["run", TWO_CHARTS, "--case", tiny_db, "--out", str(tmp_path), "-p", "case_url", "x.db"]) == 2
    assert "parameter(s) ['case_url'] are set by the command itself" in capsys.readouterr().err


def test_a_name_no_notebook_declares_lists_what_each_declares():
    with pytest.raises(
        NotebookError,
        match=r"no notebook declares parameter\(s\) \['alpah'\]; they declare: "
        r"two_charts.ipynb: case_url \(str\).*; broken1.ipynb: ",
    ):
        plan_parameters([Path(TWO_CHARTS), Path(BROKEN)], {"alpah": 1})


def test_a_name_goes_only_to_the_notebooks_that_declare_it():
    plan = plan_parameters(
        [Path(TWO_CHARTS), Path(DATA / "long_table_and_findings.ipynb")],
        {"share": "0.25"},
        {"case_url": "x"},
        text={"share"},
    )
    assert plan[Path(TWO_CHARTS)] == {"case_url": "x", "share": 0.25}
    assert plan[Path(DATA / "long_table_and_findings.ipynb")] == {"case_url": "x"}


@pytest.mark.parametrize(
    "text, declared, value",
    [
        ("01", "str", "01"),
        ("30", "int", 30),
        ("0.05", "float", 0.05),
        ("true", "bool", True),
        ("[1, 2]", "list", [1, 2]),
        ("2013-12-13", "None", "2013-12-13"),
        ("four", "int", "four"),
    ],
)
def test_command_line_text_is_read_as_the_declared_type(text, declared, value):
    assert parse_value(text, declared) == value


def test_params_file_and_p_together(tiny_db, tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("limit: 2\nshare: 0.75\n")
    out = tmp_path / "out"
    args = ["run", TWO_CHARTS, "--case", tiny_db, "--out", str(out), "--params", str(params), "-p", "limit", "6"]
    assert main(args) == 0
    nb = nbformat.read(out / "two_charts" / "two_charts.ipynb", as_version=4)
    [injected] = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert "limit = 6" in injected.source and "share = 0.75" in injected.source
    assert f'out_dir = "{out / "two_charts"}"' in injected.source


def test_a_failure_exits_non_zero_names_the_cell_keeps_the_notebook_and_others_still_run(tiny_db, tmp_path, capsys):
    assert main(["run", BROKEN, TWO_CHARTS, "--case", tiny_db, "--out", str(tmp_path), "--workers", "2"]) == 1
    captured = capsys.readouterr()
    # In [4]: the injected parameters cell comes before it
    assert "broken1.ipynb failed in cell 4 with ValueError: broken on purpose, limit=3." in captured.err
    assert f"The executed notebook is kept at {tmp_path / 'broken1' / 'broken1.ipynb'}" in captured.err
    assert "raise ValueError" in captured.err  # the cell's first line
    assert nbformat.read(tmp_path / "broken1" / "broken1.ipynb", as_version=4).metadata.papermill.exception is True
    assert "two_charts.ipynb: executed" in captured.out
    # the two ran at the same time, in two processes
    times = [
        nbformat.read(tmp_path / n / f"{n}.ipynb", as_version=4).metadata.papermill for n in ("broken1", "two_charts")
    ]
    (s1, e1), (s2, e2) = [(datetime.fromisoformat(t.start_time), datetime.fromisoformat(t.end_time)) for t in times]
    assert s1 < e2 and s2 < e1, times


def test_all_means_the_report_notebooks(tmp_path, monkeypatch):
    import workbench.reportset.execution

    for name in ("00_case_overview", "03_queue_fairness", "10_explore", "scratch"):
        (tmp_path / f"{name}.ipynb").write_text("{}")
    monkeypatch.setattr(workbench.reportset.execution, "NOTEBOOKS_DIR", tmp_path)
    assert [p.name for p in notebook_paths(["all"])] == ["00_case_overview.ipynb", "03_queue_fairness.ipynb"]
    assert [p.name for p in notebook_paths(["10_explore"])] == ["10_explore.ipynb"]
    with pytest.raises(Exception, match=r"unknown notebook '04_nothing'"):
        notebook_paths(["04_nothing"])


def test_the_project_report_notebooks_declare_the_runner_parameters():
    for nb in notebook_paths(["all"]):
        declared = plan_parameters([nb], {}, {"case_url": "x", "audience": "public", "out_dir": "."})[nb]
        assert set(declared) == {"case_url", "audience", "out_dir"}, nb.name


def test_findings_headlines_prints_the_key_figures_in_order(tmp_path, capsys):
    import json

    (tmp_path / "03_queue_fairness").mkdir()
    (tmp_path / "03_queue_fairness" / "findings.json").write_text(
        json.dumps(
            {
                "caseworkers_flagged": {
                    "value": ["H-1a2b", "H-3c4d"],
                    "description": "Caseworkers flagged",
                    "query": None,
                }
            }
        )
    )
    (tmp_path / "02_exposure").mkdir()
    (tmp_path / "02_exposure" / "findings.json").write_text(
        json.dumps(
            {
                "accounts_exposed": {
                    "value": {"min": 1200, "likely": 1340, "max": 1500},
                    "description": "Accounts exposed",
                    "query": None,
                },
                "people_who_made_changes": {"value": 674, "description": "People who made changes", "query": None},
            }
        )
    )
    assert main(["findings", str(tmp_path), "--headlines"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("  Accounts exposed ")
    assert lines[0].endswith("1\u202f340 (between 1\u202f200 and 1\u202f500)   [accounts_exposed, 02_exposure]")
    assert "Caseworkers flagged" in lines[1] and "2 (H-1a2b, H-3c4d)" in lines[1]


def _recorded(folder: Path, findings: dict) -> Path:
    import json

    folder.mkdir(parents=True)
    (folder / "findings.json").write_text(
        json.dumps(
            {
                name: {"value": value, "description": description, "query": None}
                for name, (value, description) in findings.items()
            }
        )
    )
    return folder


def test_findings_shows_each_report_by_name_with_values_as_the_reports_show_them(tmp_path, capsys):
    _recorded(
        tmp_path / "00_case_overview",
        {"rows_read": (35018, "Rows read"), "deployed_at": ("2013-12-13T17:52:00+00:00", "Deployment")},
    )
    _recorded(
        tmp_path / "02_exposure", {"accounts_exposed": ({"min": 1200, "likely": 1340, "max": 1500}, "Accounts exposed")}
    )
    assert main(["findings", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"00_case_overview ({tmp_path / '00_case_overview' / 'findings.json'}):",
        f"  {'Rows read':<48} 35\u202f018",
        f"  {'Deployment':<48} 2013-12-13 18:52:00 CET",  # the reports' zone, not the stored UTC
        "",
        f"02_exposure ({tmp_path / '02_exposure' / 'findings.json'}):",
        f"  {'Accounts exposed':<48} 1\u202f340 (between 1\u202f200 and 1\u202f500)",
    ]


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("missing", "the folder does not exist"),
        ("empty", "it holds no findings.json"),
    ],
)
def test_findings_errors_name_the_command_the_folder_and_why(tmp_path, capsys, given, why):
    (tmp_path / "empty").mkdir()
    assert main(["findings", str(tmp_path / given)]) == 1
    assert capsys.readouterr().err == (
        f"workbench findings: error: no findings under {tmp_path / given}: {why}; give the folder of a report set "
        "or of `workbench run`, e.g. build/demo/reports/investigator\n"
    )


def test_findings_into_a_closed_pipe_exits_quietly(tmp_path):
    import subprocess
    import sys

    # More than a pipe holds, so the writes meet the closed pipe, as under `| head -1`
    _recorded(tmp_path / "01_big", {f"figure_{i}": (i, f"Figure {i}") for i in range(3000)})
    reader = subprocess.Popen(
        [sys.executable, "-m", "workbench.cli", "findings", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None and reader.stderr is not None
    first = reader.stdout.readline()
    reader.stdout.close()
    err = reader.stderr.read().decode()
    assert reader.wait(timeout=60) == 141, err
    assert first.decode().startswith("01_big (")
    assert err == ""


def test_a_cell_over_the_cell_timeout_fails_instead_of_waiting(tiny_db, tmp_path, capsys):
    slow = str(DATA / "slow_cell.ipynb")
    assert main(["run", slow, "--case", tiny_db, "--out", str(tmp_path), "--cell-timeout", "2"]) == 1
    err = capsys.readouterr().err
    assert (
        "slow_cell.ipynb: cell 4 of 4 (it begins: 'time.sleep(seconds)') ran longer than the cell timeout "
        "of 2 s and was stopped"
    ) in err


def test_a_report_that_cannot_be_rendered_exits_1_and_leaves_the_set_incomplete(tiny_db, tmp_path, capsys, monkeypatch):
    """Rendering is something started that failed, as a failing notebook is: status 1, not 2 (README)."""
    import json
    import shutil

    import workbench.reportset.execution
    import workbench.reportset.render

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(TWO_CHARTS, notebooks / "00_two_charts.ipynb")
    monkeypatch.setattr(workbench.reportset.execution, "NOTEBOOKS_DIR", notebooks)
    monkeypatch.setattr(workbench.reportset.render, "MAX_REPORT_BYTES", 1_000)  # every page is over it
    out = tmp_path / "set"
    argv = ["report", "--case", tiny_db, "--audience", "public", "--out", str(out), "--workers", "1"]
    assert main(argv) == 1
    last = capsys.readouterr().err.rstrip("\n").split("\n")[-1]  # after the progress lines
    assert last.startswith(f"workbench report: error: {out}/00_two_charts/00_two_charts.html is "), last
    assert "limit" in last and "Traceback" not in last
    assert json.loads((out / "report-set.json").read_text())["status"] == "incomplete"
    assert main(["verify", str(out), "--case", tiny_db]) == 2  # an incomplete set is refused

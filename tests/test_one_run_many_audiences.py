"""One analysis, many audiences (issue 20, point 1): each notebook runs once, every audience gets its own set.

The tiny case's three sets come from one ``build_report(..., ("investigator", "auditor",
"public"), ...)`` run (tests/reportkit.py, shared with the other report tests). Each set must
verify on its own, pass the leak scan and the disclosure audit, and hold nothing of another
audience's copy: the personal data the investigator set shows is checked against the
generator's evidence, not a figure typed here.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from reportkit import ledger, report_set

from workbench.reportset.fanout import TAG, audience_list, outputs_for, per_audience_cells, tag_outputs

AUDIENCES = ("investigator", "auditor", "public")


@pytest.fixture(scope="module")
def sets(tmp_path_factory, tiny_duckdb) -> dict[str, Path]:
    return {a: report_set(tmp_path_factory, tiny_duckdb, a) for a in AUDIENCES}


def _text(root: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(root.rglob("*")) if p.is_file())


def test_each_notebook_ran_once_and_its_executed_copy_stays_outside_every_set(sets):
    parent = sets["public"].parent
    assert {p.name for p in parent.iterdir() if p.is_dir()} >= {*AUDIENCES, ".work"}
    for stem in ("00_case_overview", "03_queue_fairness"):
        executed = nbformat.read(str(parent / ".work" / stem / f"{stem}.ipynb"), as_version=4)
        tagged = {
            o.metadata[TAG]["copy"]
            for c in executed.cells
            if c.cell_type == "code"
            for o in c.outputs
            if TAG in o.get("metadata", {}) and "copy" in o.metadata[TAG]
        }
        assert tagged == {*AUDIENCES, "public-sv"}, stem  # one run made every copy's outputs (tests/reportkit.py)
        once = [c for c in executed.cells if c.cell_type == "code" and "review_fairness(" in c.source]
        assert len(once) <= 1 and all(c.execution_count is not None for c in once)
    for a, root in sets.items():
        notebooks = sorted(p.name for p in root.rglob("*.ipynb"))
        assert notebooks == ([f"{s}.ipynb" for s in _stems(root)] if a == "investigator" else []), a


def _stems(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.is_dir())


def test_the_investigator_notebook_holds_only_its_own_outputs_and_parameters(sets):
    root = sets["investigator"]
    nb = nbformat.read(str(root / "03_queue_fairness" / "03_queue_fairness.ipynb"), as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert outputs and not any(o.get("metadata", {}).get(TAG, {}).get("copy") for o in outputs)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert 'audience = "investigator"' in injected.source
    assert str(root / "03_queue_fairness") in injected.source


@pytest.mark.parametrize("audience", AUDIENCES)
def test_each_set_verifies_on_its_own(sets, tiny_duckdb, audience, capsys):
    from workbench.cli import main

    assert main(["verify", str(sets[audience]), "--case", tiny_duckdb]) == 0, capsys.readouterr().err
    record = json.loads((sets[audience] / "report-set.json").read_text(encoding="utf-8"))
    assert record["status"] == "complete" and record["audience"] == audience


def test_the_auditor_and_public_sets_pass_the_leak_scan(sets, tiny_duckdb):
    from workbench.case import open_case
    from workbench.reportset.build import inlined_libraries
    from workbench.reportset.leakscan import case_identifiers, scan

    with open_case(tiny_duckdb) as case:
        ids = case_identifiers(case)
    result = scan([sets["auditor"], sets["public"]], ids, exclude=inlined_libraries())
    assert not result.hits, result.hits[:3]
    assert len(result.files) > 10


def test_the_public_set_passes_the_disclosure_audit(sets):
    from workbench.reportset.disclosure_audit import audit

    result = audit(ledger(sets["public"]), sets["public"])
    assert result.passed, result.problems
    assert result.breakdowns > 0 and result.hidden_cells > 0 and result.files_read > 0


def test_personal_data_the_investigator_set_shows_reaches_no_other_set(sets, tiny_case):
    applicants = tiny_case.evidence("applicants")
    messages = tiny_case.evidence("support_messages")
    personal = {
        "personnummer": applicants["personnummer"].drop_nulls().to_list(),
        "email": applicants["email"].drop_nulls().to_list(),
        # free text: whole message bodies long enough not to be a rule-set phrase
        "message body": [b for b in messages["body"].drop_nulls().to_list() if len(b) > 60],
    }
    investigator = _text(sets["investigator"])
    for kind, values in personal.items():
        shown = [v for v in values if v in investigator]
        if kind != "message body":  # a long body is cut on the page; personnummer and e-mail are whole
            assert shown, f"the investigator set shows no {kind}: nothing to check the other sets against"
        for other in ("auditor", "public"):
            text = _text(sets[other])
            leaked = [v for v in shown if v in text]
            assert not leaked, (other, kind, leaked[:3])


# Hand-written notebooks: which cells run per audience, and what each audience gets back.


def _nb(*sources: str, parameters: str = 'audience = "investigator"\nout_dir = "."'):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(s) for s in sources)]
    return nb


def test_cells_that_read_the_audience_or_what_it_made_run_per_audience_the_rest_once():
    nb = _nb(
        "case = open_case(case_url)",  # 1: once
        "review = review_fairness(case)",  # 2: once: the costly analysis
        "findings = Findings(out_dir, audience=audience)",  # 3: per audience
        "rates = caseworker_rates(review, audience)",  # 4: per audience
        "table(rates)",  # 5: reads what a per-audience cell made
        "chart(review.frame)",  # 6: once
        "for name, value in rows(audience):\n    findings.record(name, value)",  # 7: per audience
    )
    cells, names = per_audience_cells(nb)
    assert cells == {3, 4, 5, 7}
    assert set(names) == {"findings", "rates", "name", "value"}


NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.mark.parametrize(
    "stem, call",
    [
        ("01_incident_reconstruction", "reconstruct_incident("),
        ("01_incident_reconstruction", "review_window("),  # 41 s at stockholm: ranks the window's mail
        ("02_exposure_and_changes", "review_exposure("),
        ("03_queue_fairness", "review_fairness("),
    ],
)
def test_the_costly_analyses_of_the_report_notebooks_run_once_for_all_audiences(stem, call):
    nb = nbformat.read(str(NOTEBOOKS / f"{stem}.ipynb"), as_version=4)
    per_audience, _ = per_audience_cells(nb)
    cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and call in c.source]
    assert len(cells) == 1
    assert cells[0] not in per_audience


@pytest.mark.parametrize("cell", ["%time rates = caseworker_rates(review, audience)", "review = 1 +"])
def test_a_cell_that_is_not_plain_python_is_refused_naming_it(cell):
    from workbench.errors import WorkbenchError

    with pytest.raises(WorkbenchError, match=r"code cell 3 \(it begins: .{5}.*not plain Python"):
        per_audience_cells(_nb("case = 1", cell))


def test_a_cell_that_rebinds_a_per_audience_name_runs_per_audience_too():
    nb = _nb("label = audience.upper()", "label = 'same for all'", "show(label)")
    assert per_audience_cells(nb)[0] == {1, 2, 3}


def test_an_audience_reads_untagged_outputs_and_its_own_only():
    nb = _nb("x", parameters='# Parameters\naudience = "investigator"\nout_dir = "/cases/x/investigator"\n')
    nb.cells[0].metadata["tags"] = ["injected-parameters"]
    cell = nb.cells[1]
    mine = [
        nbformat.v4.new_output("display_data", data={"text/plain": "public table"}),
        nbformat.v4.new_output("stream", name="stderr", text="a warning\n"),
    ]
    theirs = [nbformat.v4.new_output("display_data", data={"text/plain": "Anna Andersson 19800101-1234"})]
    shared = nbformat.v4.new_output("display_data", data={"text/plain": "shared chart"})
    cell.outputs = [shared, *tag_outputs(theirs, "investigator"), *tag_outputs(mine, "public")]
    nbformat.validate(nb)  # a tagged stream is a valid display output
    public = outputs_for(nb, "public", {"audience": "public"})
    kept = public.cells[1].outputs
    assert [o.get("data", {}).get("text/plain") or o.get("text") for o in kept] == [
        "shared chart",
        "public table",
        "a warning\n",
    ]
    assert kept[2].output_type == "stream" and kept[2].name == "stderr"
    assert "19800101-1234" not in json.dumps(public)
    assert public.cells[0].source.split("\n")[1:3] == ['audience = "public"', 'out_dir = "/cases/x/investigator"']
    assert nb.cells[1].outputs[1].metadata[TAG]["copy"] == "investigator"  # the original is left as it was


def test_the_audience_list_is_read_in_order_once_each_and_a_typo_is_named():
    from workbench.errors import WorkbenchError

    assert audience_list("public, auditor,public") == ["public", "auditor"]
    assert audience_list(["investigator"]) == ["investigator"]
    with pytest.raises(WorkbenchError, match=r"unknown audience 'auditors'.*Did you mean 'auditor'"):
        audience_list("investigator,auditors")
    with pytest.raises(WorkbenchError, match="no audience"):
        audience_list(" , ")


def test_the_report_set_starts_its_longest_notebook_first(tiny_duckdb, tmp_path, monkeypatch):
    """With two workers and four notebooks the set is done soonest when 03 (the longest) starts first."""
    import workbench.reportset.execution as execution
    from workbench.reportset.build import build_report
    from workbench.reportset.inputs import notebook_paths

    started: list[str] = []

    def record(jobs, workers=None, on_done=None):
        started.extend(job.notebook.stem for job in jobs)
        raise RuntimeError("stop before running")

    monkeypatch.setattr(execution, "execute_many", record)
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", "a-test-key-for-the-start-order-test")
    with pytest.raises(RuntimeError, match="stop before running"):
        build_report(tiny_duckdb, list(AUDIENCES), tmp_path / "sets")
    catalogue = [p.stem for p in notebook_paths()]
    assert sorted(started) == sorted(catalogue) and len(catalogue) >= 2
    assert started == sorted(catalogue, reverse=True)
    assert started[0].startswith("03_")
    # one worker: no order is quicker, so the catalogue's order is kept
    started.clear()
    with pytest.raises(RuntimeError, match="stop before running"):
        build_report(tiny_duckdb, list(AUDIENCES), tmp_path / "one", workers=1)
    assert started == catalogue

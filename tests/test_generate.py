"""The generator end to end: files, declarations, determinism, truth vs evidence, degrade."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import polars as pl
import pytest

from workbench import evidence
from workbench.errors import GeneratorError, UnknownNameError
from workbench.scenario import generate


def _hashes(root):
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_writes_evidence_raw_truth_and_options(tiny_case):
    root = tiny_case.root
    assert sorted(p.stem for p in (root / "evidence").iterdir()) == sorted(evidence.TABLES)
    assert (root / "raw").is_dir()
    assert sorted(p.stem for p in (root / "truth").iterdir()) == sorted(evidence.TRUTH_TABLES)
    meta = json.loads((root / "scenario.json").read_text())
    assert meta == {"format_version": 1, "scale": "tiny", "seed": 1, "format": "parquet", "fraud": True, "degrade": []}


@pytest.mark.parametrize("name", evidence.TABLES)
def test_every_table_matches_its_declaration(tiny_case, name):
    frame = tiny_case.evidence(name)
    assert frame.schema == evidence.polars_schema(name)
    table = evidence.table(name)
    for col in table.columns:
        if not col.nullable:
            assert frame[col.name].null_count() == 0, f"{name}.{col.name} has nulls"
        allowed = evidence.allowed_values(name, col.name)
        if allowed:
            assert set(frame[col.name].drop_nulls().unique()) <= set(allowed), f"{name}.{col.name}"
    keys = [c.name for c in table.primary_key.columns]
    if keys:  # page_views is a log without a key
        assert frame.select(pl.struct(keys).is_unique().all()).item(), f"{name}: duplicate key {keys}"


@pytest.mark.parametrize("name", list(evidence.TRUTH_TABLES))
def test_truth_tables_have_their_fixed_shape(tiny_case, name):
    assert tiny_case.truth(name).schema == pl.Schema(evidence.TRUTH_TABLES[name])


def test_every_kind_of_planted_truth_is_present_at_tiny(tiny_case):
    for name in evidence.TRUTH_TABLES:
        assert tiny_case.truth(name).height > 0, f"truth {name} is empty at tiny"
    kinds = set(tiny_case.truth("allocation_touched")["kind"])
    assert {"interest_registered", "interest_withdrawn"} <= kinds


def test_same_seed_gives_byte_identical_files(tiny_case, tmp_path):
    generate(tmp_path / "again", scale="tiny", seed=1)
    assert _hashes(tmp_path / "again") == _hashes(tiny_case.root)


def test_other_seed_gives_other_evidence(tiny_case, tmp_path):
    generate(tmp_path / "other", scale="tiny", seed=2)
    a, b = _hashes(tmp_path / "other"), _hashes(tiny_case.root)
    assert a["evidence/applicants.parquet"] != b["evidence/applicants.parquet"]


def test_csv_format_reads_back_equal_to_parquet(tiny_case, tmp_path):
    generate(tmp_path / "csv", scale="tiny", seed=1, fmt="csv")
    for name in evidence.TABLES:
        schema = evidence.polars_schema(name)
        text = {c: pl.String for c in schema}
        raw = pl.read_csv(tmp_path / "csv" / "evidence" / f"{name}.csv", schema=text)
        ts = [c for c, t in schema.items() if isinstance(t, pl.Datetime)]
        assert all(raw[c].drop_nulls().str.ends_with("Z").all() for c in ts), f"{name}: a timestamp lacks its zone"
        parsed = raw.with_columns(
            [pl.col(c).str.to_datetime(time_zone="UTC", time_unit="us") for c in ts]
            + [pl.col(c).str.to_date() for c, t in schema.items() if t == pl.Date]
            + [pl.col(c).cast(t) for c, t in schema.items() if t in (pl.Int64, pl.Float64)]
            + [
                pl.col(c).replace_strict({"true": True, "false": False}, return_dtype=pl.Boolean)
                for c, t in schema.items()
                if t == pl.Boolean
            ]
        )
        assert parsed.equals(tiny_case.evidence(name)), name


def test_no_fraud_plants_no_wrongdoing(tiny_case_no_fraud):
    c = tiny_case_no_fraud
    for name in ("corrupt_handlers", "fraudulent_allocations", "fake_profiles"):
        assert c.truth(name).height == 0, name
    assert c.evidence("applicants")["created_by_handler_id"].null_count() == c.evidence("applicants").height
    actions = set(c.evidence("handler_actions")["action"])
    assert "manual_offer" not in actions and "profile_created" not in actions
    assert c.truth("priority_allocations").height > 0  # legitimate exceptions remain
    assert c.truth("swapped_sessions").height > 0  # the incident is not fraud


def test_bad_options_are_clear_errors(tmp_path):
    with pytest.raises(UnknownNameError, match=r"unknown scale 'tiney'\. Did you mean 'tiny'"):
        generate(tmp_path, scale="tiney")
    with pytest.raises(GeneratorError, match=r"format 'xlsx' is not supported; use one of: parquet, csv"):
        generate(tmp_path, scale="tiny", fmt="xlsx")


def test_cli_generate_prints_summary_and_rejects_bad_input(tmp_path):
    def run(*a):
        return subprocess.run([sys.executable, "-m", "workbench.cli", *a], capture_output=True, text=True)

    ok = run("generate", "--scale", "tiny", "--seed", "4", "--out", str(tmp_path / "c"), "--format", "csv")
    assert ok.returncode == 0, ok.stderr
    assert "page_views" in ok.stdout and (tmp_path / "c" / "evidence" / "page_views.csv").exists()
    bad = run("generate", "--scale", "tiny", "--out", str(tmp_path / "d"), "--degrade", "missing-account-id=2")
    assert bad.returncode == 2
    assert "share 2.0 is outside 0..1" in bad.stderr

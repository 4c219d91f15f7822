"""Shared fixtures: generated cases, built once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

pytest_plugins = ["pytester"]


class Case:
    """A generated case on disk, with readers for its evidence and truth."""

    def __init__(self, root: Path, fmt: str = "parquet"):
        self.root, self.fmt = root, fmt

    @property
    def evidence_dir(self) -> Path:
        return self.root / "evidence"

    def evidence(self, name: str) -> pl.DataFrame:
        return pl.read_parquet(self.evidence_dir / f"{name}.parquet")

    def truth(self, name: str) -> pl.DataFrame:
        return pl.read_parquet(self.root / "truth" / f"{name}.parquet")


def _generate(root: Path, **kw) -> Case:
    from workbench.scenario import generate

    generate(root, **kw)
    return Case(root)


@pytest.fixture(scope="session")
def tiny_case(tmp_path_factory) -> Case:
    """The tiny case, seed 1, with fraud: generated once for the whole session."""
    return _generate(tmp_path_factory.mktemp("tiny") / "case", scale="tiny", seed=1)


@pytest.fixture(scope="session")
def tiny_case_no_fraud(tmp_path_factory) -> Case:
    return _generate(tmp_path_factory.mktemp("tiny_nofraud") / "case", scale="tiny", seed=1, fraud=False)


@pytest.fixture(scope="session")
def small_case(tmp_path_factory) -> Case:
    """The small (demo) case, seed 1: generated once, for calibration tests."""
    return _generate(tmp_path_factory.mktemp("small") / "case", scale="small", seed=1)


@pytest.fixture(scope="session")
def case_factory(tmp_path_factory):
    """Generate further cases on demand: ``case_factory(scale="tiny", seed=2, degrade=(...))``."""

    def make(**kw) -> Case:
        return _generate(tmp_path_factory.mktemp("case") / "case", **kw)

    return make


def _ingest(case: Case, url: str) -> str:
    from workbench.ingest import ingest

    ingest(case.evidence_dir, url, progress=False)
    return url


@pytest.fixture(scope="session")
def tiny_db(tiny_case, tmp_path_factory) -> str:
    """The tiny case ingested into SQLite (read it with ``open_case(tiny_db)``)."""
    return _ingest(tiny_case, f"sqlite:///{tmp_path_factory.mktemp('tiny_db') / 'case.db'}")


@pytest.fixture(scope="session")
def tiny_duckdb(tiny_case, tmp_path_factory) -> str:
    """The tiny case ingested into DuckDB."""
    return _ingest(tiny_case, f"duckdb:///{tmp_path_factory.mktemp('tiny_duckdb') / 'case.duckdb'}")


@pytest.fixture(scope="session")
def small_db(small_case, tmp_path_factory) -> str:
    """The small case ingested into DuckDB, for calibration-scale analysis tests."""
    return _ingest(small_case, f"duckdb:///{tmp_path_factory.mktemp('small_db') / 'case.duckdb'}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true nothing may skip: a test that would skip (no PostgreSQL, no browser) fails."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI", "").lower() == "true" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, where every test must run: {reason}"


# --- pytest-xdist: whole files, and groups of files that share a build, to one worker (tests/xdistkit.py)


def pytest_configure(config):
    """With xdist workers, register the ``workbench`` kernel once here, before they can race to (``make install`` has)."""
    if getattr(config.option, "numprocesses", None) and not os.environ.get("PYTEST_XDIST_WORKER"):
        from workbench.reportset.kernel import ensure_kernel

        ensure_kernel()


def pytest_collection_modifyitems(config, items):
    """Under xdist, the groups and files of ``xdistkit.FIRST`` first (each worker collects the same order)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        from xdistkit import rank, scope

        items.sort(key=lambda item: rank(scope(item.nodeid)))  # stable: the files keep their order


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: no error when it is not installed
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadscope`` (scripts/test.sh): whole files and ``xdistkit.GROUPS`` to one worker, in collection order."""
    if config.getoption("dist") != "loadscope":
        return None
    from xdistkit import scheduler

    return scheduler(config, log)

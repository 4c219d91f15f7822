"""A large DuckDB case's report kernels open it with a memory limit (``WORKBENCH_DUCKDB_MEMORY_LIMIT``).

DuckDB's default limit is 80 % of the machine; its cache of the case's blocks grows towards
it in every kernel. ``workbench report`` sets the variable for the kernels of a large case;
read-only DuckDB connections take it when the case URL sets no ``memory_limit`` of its own.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from workbench.case import DUCKDB_MEMORY_ENV, open_case
from workbench.reportset.inputs import KERNEL_DUCKDB_MEMORY, kernel_memory_env

_UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "KB": 1e3, "MB": 1e6, "GB": 1e9}


def _limit_bytes(url: str) -> float:
    with open_case(url) as case, case.engine.connect() as conn:
        shown = conn.execute(sa.text("SELECT current_setting('memory_limit')")).scalar_one()
    number, unit = re.fullmatch(r"([\d.]+)\s*(\w+)", str(shown)).groups()  # e.g. "244.1 MiB"
    return float(number) * _UNITS[unit]


def test_the_variable_sets_the_limit_of_a_read_only_duckdb_case(tiny_duckdb, monkeypatch):
    monkeypatch.delenv(DUCKDB_MEMORY_ENV, raising=False)
    default = _limit_bytes(tiny_duckdb)
    monkeypatch.setenv(DUCKDB_MEMORY_ENV, "256MB")
    limited = _limit_bytes(tiny_duckdb)
    assert limited == pytest.approx(256e6, rel=0.01)
    assert default > 2 * limited  # DuckDB's own default is far larger: the variable made the difference


def test_the_urls_own_limit_wins_over_the_variable(tiny_duckdb, monkeypatch):
    monkeypatch.setenv(DUCKDB_MEMORY_ENV, "256MB")
    assert _limit_bytes(f"{tiny_duckdb}?memory_limit=512MB") == pytest.approx(512e6, rel=0.01)


def test_report_kernels_get_the_limit_only_for_a_large_duckdb_case(monkeypatch):
    monkeypatch.delenv(DUCKDB_MEMORY_ENV, raising=False)
    duck = "duckdb:////tmp/case.duckdb"
    assert kernel_memory_env(duck, large=True) == {DUCKDB_MEMORY_ENV: KERNEL_DUCKDB_MEMORY}
    assert kernel_memory_env(duck, large=False) == {}
    assert kernel_memory_env("sqlite:////tmp/case.db", large=True) == {}
    assert kernel_memory_env(f"{duck}?memory_limit=4GB", large=True) == {}  # the URL says
    monkeypatch.setenv(DUCKDB_MEMORY_ENV, "3GB")  # the user's setting reaches the kernels as it is
    assert kernel_memory_env(duck, large=True) == {}


@pytest.mark.parametrize("bad", ["lots", "1 elephant", "GB", "-1GB"])
def test_a_bad_value_names_the_variable_the_value_and_what_is_allowed(tiny_duckdb, monkeypatch, bad):
    from workbench.errors import CaseError

    monkeypatch.setenv(DUCKDB_MEMORY_ENV, bad)
    with pytest.raises(CaseError) as raised:
        _limit_bytes(tiny_duckdb)
    assert DUCKDB_MEMORY_ENV in str(raised.value) and repr(bad) in str(raised.value) and "e.g. 1GB" in str(raised.value)

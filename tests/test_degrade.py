"""--degrade options: parsing, errors, and what they do to page views."""

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from workbench.errors import GeneratorError
from workbench.scenario.degrade import apply_degradations, parse_degrade


def _views(n=10_000):
    """One page view every 3 seconds from 08:00 UTC."""
    t0 = datetime(2013, 12, 14, 8, tzinfo=UTC)
    return pl.DataFrame({"time": [t0 + timedelta(seconds=3 * i) for i in range(n)], "account_id": np.arange(n)})


def test_parse_log_gap_utc_and_zoned():
    d = parse_degrade("log-gap=2013-12-14T10:00/PT1H")
    assert d.start == datetime(2013, 12, 14, 10, tzinfo=UTC)
    assert d.end == datetime(2013, 12, 14, 11, tzinfo=UTC)
    local = parse_degrade("log-gap=2013-12-14T11:00+01:00/PT30M")
    assert local.start == datetime(2013, 12, 14, 10, tzinfo=UTC)
    assert (local.end - local.start).total_seconds() == 1800


@pytest.mark.parametrize(
    "spec, message",
    [
        ("missing-account-id=1.5", r"share 1.5 is outside 0..1"),
        ("missing-account-id=lots", r"share 'lots' is not a number"),
        ("log-gap=yesterday/PT1H", r"start 'yesterday' is not an ISO 8601 time"),
        ("log-gap=2013-12-14T10:00/1 hour", r"duration '1 hour' is not an ISO 8601 duration"),
        ("drop-everything=1", r"unknown mode 'drop-everything'.*Allowed: missing-account-id=SHARE"),
    ],
)
def test_bad_specs_say_what_is_allowed(spec, message):
    with pytest.raises(GeneratorError, match=message):
        parse_degrade(spec)


def test_missing_account_id_blanks_that_share():
    tables = {"page_views": _views()}
    apply_degradations(tables, [parse_degrade("missing-account-id=0.3")], np.random.default_rng(1))
    share = tables["page_views"]["account_id"].null_count() / 10_000
    assert 0.27 < share < 0.33
    assert tables["page_views"].height == 10_000


def test_log_gap_removes_exactly_that_interval():
    tables = {"page_views": _views()}
    apply_degradations(tables, [parse_degrade("log-gap=2013-12-14T10:00/PT1H")], np.random.default_rng(1))
    pv = tables["page_views"]
    start, end = datetime(2013, 12, 14, 10, tzinfo=UTC), datetime(2013, 12, 14, 11, tzinfo=UTC)
    assert pv.filter((pl.col("time") >= start) & (pl.col("time") < end)).height == 0
    assert pv.height == 10_000 - 1200  # one view every 3 s

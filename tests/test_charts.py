"""Chart builders: pure, local wall-clock time, suppressed cells drawn as gaps."""

from datetime import UTC, datetime, timedelta

import polars as pl

from workbench.widgets import activity_chart, milestones

T0 = datetime(2013, 12, 13, 16, tzinfo=UTC)  # 17:00 in Stockholm


def _activity():
    return pl.DataFrame(
        {
            "hour": [T0 + timedelta(hours=i) for i in range(4)],
            "logins": [12, 30, 25, 9],
            "support_messages": ["<5", "7", "<5", "11"],
        }
    )


def _rows(spec):
    (rows,) = [v for k, v in spec["datasets"].items() if len(v) == 8]
    return rows


def test_activity_chart_does_not_mutate_and_shows_stockholm_hours():
    frame = _activity()
    before = frame.clone()
    spec = activity_chart(frame).to_dict()
    assert frame.equals(before)
    rows = _rows(spec)
    assert rows[0]["hour"].startswith("2013-12-13T17:00:00")  # UTC 16:00 shown as local 17:00
    assert {r["kind"] for r in rows} == {"logins", "support_messages"}
    by = {(r["kind"], r["hour"][:16]): r["count"] for r in rows}
    assert by[("logins", "2013-12-13T18:00")] == 30
    assert by[("support_messages", "2013-12-13T17:00")] is None  # "<5" is a gap, not a number
    assert by[("support_messages", "2013-12-13T18:00")] == 7
    assert len(spec["vconcat"]) == 2


def test_milestones_from_window_and_rules_in_chart():
    window = pl.DataFrame(
        {
            "deployed_at": [T0 + timedelta(minutes=52)],
            "login_disabled_at": [T0 + timedelta(days=2, hours=15)],
            "fix_deployed_at": [None],
        },
        schema_overrides={"fix_deployed_at": pl.Datetime("us", "UTC")},
    )
    m = milestones(window)
    assert m["name"].to_list() == ["deployed", "login disabled"]
    spec = activity_chart(_activity(), m).to_dict()
    layer = spec["vconcat"][0]["layer"]
    marks = [part["mark"]["type"] for part in layer[1]["layer"]]  # the milestone lines and their labels
    assert marks == ["rule", "text"]
    rule_rows = spec["datasets"][layer[1]["data"]["name"]]
    assert rule_rows[0]["time"].startswith("2013-12-13T17:52")

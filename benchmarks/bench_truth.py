"""The investigator set's findings against the generator's truth, at any scale (for ``run.py``).

The same comparisons as the notebook tests make at tiny and small (``tests/test_incident_notebook.py``,
``tests/test_exposure_notebook.py``, ``tests/test_notebook_03.py``), read from a finished report
set and the case folder, so a case too large for the test suite (``national``) is checked too.
Evidence is scanned lazily, one table at a time; truth tables are small.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

NOTEBOOKS = {
    "01": "01_incident_reconstruction",
    "02": "02_exposure_and_changes",
    "03": "03_queue_fairness",
}


def _values(report: Path, stem: str) -> dict:
    from workbench.findings import load

    return {k: v["value"] for k, v in load(report / stem).items()}


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def check_findings(case: str | Path, report: str | Path) -> dict:
    """Each compared figure as ``{name: [found, truth, equal]}``, plus ``all_equal`` and what was missing.

    ``case``: the generated case folder (``evidence/``, ``truth/``); ``report``: an investigator
    report set (one folder per notebook, each with its ``findings.json``).
    """
    case, report = Path(case), Path(report)
    ev = lambda t: pl.scan_parquet(case / "evidence" / f"{t}.parquet")  # noqa: E731
    tr = lambda t: pl.read_parquet(case / "truth" / f"{t}.parquet")  # noqa: E731
    out: dict[str, list] = {}
    missing: list[str] = []

    def cmp(name: str, found, truth) -> None:
        out[name] = [found, truth, found == truth]

    swapped = tr("swapped_sessions")
    logins = ev("logins").select("session_id", login_at="time").collect()
    swapped_l = swapped.join(logins, on="session_id")
    unauthorized = tr("unauthorized_changes")
    accounts = swapped["bound_account_id"].n_unique()
    exact = lambda n: {"min": n, "likely": n, "max": n}  # noqa: E731

    f1 = _values(report, NOTEBOOKS["01"])
    if f1:
        offset = dict(tr("clock_offsets").iter_rows())["mail"]
        reports = (
            ev("support_messages")
            .select("message_id", "received_at")
            .collect()
            .join(tr("fault_reports"), on="message_id")
            .with_columns(web=pl.col("received_at") - timedelta(seconds=offset))
            .sort("web")
        )
        cmp("01.sessions_mismatched", f1.get("sessions_mismatched"), swapped.height)
        cmp("01.onset_at", f1.get("onset_at") and _t(f1["onset_at"]), swapped["bound_at"].min())
        cmp("01.fault_reports", f1.get("fault_reports"), reports.height)
        first = reports["web"][0] if reports.height else None
        found_first = f1.get("first_report_at") and _t(f1["first_report_at"])
        within = (
            first is not None
            and found_first is not None
            and abs((found_first - first).total_seconds()) <= f1.get("mail_clock_uncertainty_seconds", 0)
        )
        out["01.first_report_at (within the mail clock's uncertainty)"] = [
            str(found_first),
            str(first),
            bool(within),
        ]
        cmp("01.exposures_actual", f1.get("exposures_actual"), accounts)
        if first is not None:
            t = first + timedelta(hours=1)
            spared = accounts - swapped_l.filter(pl.col("login_at") < t)["bound_account_id"].n_unique()
            cmp("01.exposures_avoidable_with_on_call", f1.get("exposures_avoidable_with_on_call"), spared)
    else:
        missing.append(NOTEBOOKS["01"])

    f2 = _values(report, NOTEBOOKS["02"])
    if f2:
        cmp("02.accounts_bound_to_others", f2.get("accounts_bound_to_others"), exact(accounts))
        people = swapped["authenticated_applicant_id"].n_unique()
        cmp("02.people_put_into_others_accounts", f2.get("people_put_into_others_accounts"), exact(people))
        cmp("02.accounts_exposed", f2.get("accounts_exposed"), exact(accounts))
        cmp(
            "02.people_who_changed_others_data",
            f2.get("people_who_changed_others_data"),
            unauthorized["actor_applicant_id"].n_unique(),
        )
        cmp(
            "02.accounts_changed_by_others",
            f2.get("accounts_changed_by_others"),
            unauthorized["owner_account_id"].n_unique(),
        )
        cmp("02.field_changes_by_others", f2.get("field_changes_by_others"), unauthorized.height)
        cmp("02.allocation_affected", f2.get("allocation_affected"), tr("allocation_touched").height)
        cmp("02.sessions_bound", f2.get("sessions_bound"), swapped.height)
        cmp("02.bindings_unexplained", f2.get("bindings_unexplained"), 0)
        cmp("02.sessions_unsettled", f2.get("sessions_unsettled"), 0)
    else:
        missing.append(NOTEBOOKS["02"])

    f3 = _values(report, NOTEBOOKS["03"])
    if f3:
        contracts = ev("contracts").select(pl.len()).collect().item()
        fraud = tr("fraudulent_allocations")
        cmp("03.allocations_replayed", f3.get("allocations_replayed"), contracts)
        cmp("03.unexplained_deviations", f3.get("unexplained_deviations"), fraud.height)
        corrupt = sorted(tr("corrupt_handlers")["handler_id"].to_list())
        cmp("03.caseworkers_flagged", sorted(f3.get("caseworkers_flagged") or []), corrupt)
        cmp("03.fake_profiles_suspected", f3.get("fake_profiles_suspected"), tr("fake_profiles").height)
        priority = tr("priority_allocations").height
        explained = f3.get("explained_deviations")
        out["03.explained_deviations (at least the planted priority decisions)"] = [
            explained,
            priority,
            isinstance(explained, int) and explained >= priority,
        ]
    else:
        missing.append(NOTEBOOKS["03"])

    return {
        "figures": {k: [str(a) if isinstance(a, datetime) else a for a in v] for k, v in out.items()},
        "all_equal": all(v[2] for v in out.values()) and not missing,
        "unequal": sorted(k for k, v in out.items() if not v[2]),
        "notebooks_without_findings": missing,
    }

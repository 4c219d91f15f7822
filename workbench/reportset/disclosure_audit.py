"""The disclosure audit: can a reader of the public set pin a hidden cell by differencing?

During an audited public run every breakdown made fit for the public is appended, true and
shown, to a ledger outside the set (``WORKBENCH_DISCLOSURE_LEDGER``, see
:func:`workbench.audience.fit`); the true values never reach the set. The audit then:

- collects, per breakdown, the linear relations a reader has: the sum of every line (each
  row across its counts, each count column, each column along every key) is taken as known,
  whether or not it is printed, since incident-wide totals are shown exactly elsewhere; a
  share or median left visible on a row with a hidden count is a relation too (share × n);
- bounds each hidden cell by what its label tells the reader (``"1–4"``: 1 to 4; ``"[suppressed]"``,
  ``"[undertryckt]"``: the threshold or more) and tightens the bounds by interval propagation
  (:mod:`workbench.intervals`); a hidden cell whose true value its label does not cover (the
  marker on a zero) fails: the page states something false, and a reader who trusts it can
  tell;
- reads every ``findings.json``, CSV and page of the set: a breakdown figure recorded as a
  number from 1 to 4, the old ``"<5"`` marker anywhere, or the hidden-cell marker of another
  language than the set's (``"[suppressed]"`` in a Swedish set), fails;
- reads every rate of a caseworker the set publishes (tables, charts' data, CSVs) and works
  back to the caseworker's allocations n and departures k from it
  (:mod:`workbench.reportset.rate_audit`): a row that pins n or k fails.

It passes when no hidden cell can be pinned to fewer values than its label gives
(threshold - 1: the "1–4" band). Interval propagation is the differencing a reader does by
hand; a solver over all relations at once could be sharper, so this is a floor, not a proof.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ..intervals import propagate, width
from ..suppression import (
    BREAKDOWN_FINDINGS,
    THRESHOLD,
    hidden_marker,
    hidden_markers,
    is_hidden_label,
    known_lines,
    small_marker,
)
from .rate_audit import audit_rates

__all__ = ["AuditResult", "audit", "audit_breakdown", "read_ledger"]

_OLD_MARKER = "&lt;5"


@dataclass
class AuditResult:
    """What the audit found: ``problems`` (empty when it passes) and how much it looked at."""

    breakdowns: int = 0
    hidden_cells: int = 0
    files_read: int = 0
    rate_rows: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def read_ledger(path: str | Path) -> list[dict[str, Any]]:
    """The breakdowns an audited run appended to the ledger at ``path``, one per line."""
    p = Path(path)
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]


def audit_breakdown(entry: Mapping[str, Any], where: str = "breakdown") -> tuple[int, list[str]]:
    """Hidden cells of one ledger entry, and the problems: each cell a reader pins too narrowly."""
    counts, keys, threshold = list(entry["counts"]), list(entry["keys"]), int(entry["threshold"])
    true, shown = entry["true"], entry["shown"]
    small = small_marker(threshold)
    frame = pl.DataFrame(
        {
            **{k: [row[i] for row in entry["key_values"]] for i, k in enumerate(keys)},
            **{c: [0] * len(true) for c in counts},
        },
        schema={**dict.fromkeys(keys, pl.String), **dict.fromkeys(counts, pl.Int64)},
    )
    hidden = {
        (r, c): label for r, row in enumerate(shown) for c, label in enumerate(row) if is_hidden_label(label, threshold)
    }
    problems = []
    for r, row in enumerate(shown):
        for c, label in enumerate(row):
            if label is not None and (r, c) not in hidden and str(label) != str(true[r][c]):
                problems.append(f"{where}: row {r} {counts[c]} is shown as {label!r}, which is not its value")
    # What the report tells a reader a hidden cell is: "1–4" is 1 to 4, the marker 5 or more.
    bounds = {
        cell: (1.0, threshold - 1.0) if label == small else (float(threshold), math.inf)
        for cell, label in hidden.items()
    }
    for (r, c), label in hidden.items():
        low, high = bounds[(r, c)]
        if not low <= true[r][c] <= high:
            problems.append(
                f"{where}: hidden cell row {r} ({', '.join(entry['key_values'][r])}) {counts[c]} is {true[r][c]}, but "
                f"its label {label!r} tells the reader {small_marker(threshold) if label == small else f'{threshold} or more'}"
            )
    relations = []
    for line in known_lines(frame, counts, keys):
        line = [(r, c) for r, c in line if true[r][c] is not None]
        inside = [cell for cell in line if cell in hidden]
        if inside:
            total = sum(true[r][c] for r, c in line)
            seen = sum(true[r][c] for r, c in line if (r, c) not in hidden)
            relations.append(({cell: 1.0 for cell in inside}, float(total - seen)))
    for r, values in enumerate(entry.get("shown_measures") or []):
        beside = [(r, c) for c in range(len(counts)) if (r, c) in hidden]
        shown_measures = [m for m, v in zip(entry["measures"], values, strict=True) if v is not None]
        if beside and shown_measures:
            problems.append(
                f"{where}: row {r} shows {shown_measures} beside hidden {[counts[c] for _, c in beside]}: "
                "a share or median gives the count back or marks it"
            )
    found = propagate(bounds, relations)
    for (r, c), interval in found.items():
        if width(interval) < threshold - 1:
            low, high = interval
            problems.append(
                f"{where}: hidden cell row {r} ({', '.join(entry['key_values'][r])}) {counts[c]} shown as "
                f"{hidden[(r, c)]!r} is pinned to {int(low)}–{int(high) if math.isfinite(high) else '∞'} by its lines"
            )
    return len(hidden), problems


def _set_language(root: Path) -> str | None:
    """The language the set at ``root`` records (report-set.json), or None."""
    record = root / "report-set.json"
    if not record.is_file():
        return None
    language = json.loads(record.read_text(encoding="utf-8")).get("language")
    return language if isinstance(language, str) else None


def _scan_files(root: Path, result: AuditResult) -> None:
    language = _set_language(root)
    own = hidden_marker(language) if language else None
    foreign = sorted(hidden_markers() - {own}) if own else []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix not in (".json", ".csv", ".html"):
            continue
        result.files_read += 1
        text = path.read_text(encoding="utf-8", errors="replace")
        rel = path.relative_to(root)
        if path.name == "findings.json":
            data = json.loads(text)
            for name in BREAKDOWN_FINDINGS & set(data):
                value = data[name]["value"]
                parts = value.values() if isinstance(value, dict) else [value]
                if any(isinstance(v, int) and not isinstance(v, bool) and 0 < v < 5 for v in parts):
                    result.problems.append(f"{rel}: {name} is a breakdown cell recorded as {value!r}")
        for marker in foreign:
            if marker in text:
                result.problems.append(
                    f"{rel}: holds {marker!r}, the hidden-cell marker of another language; this set's is {own!r}"
                )
        if '"<5"' in text or _OLD_MARKER in text or ">&lt;5<" in text:
            result.problems.append(f'{rel}: holds "<5", which states a zero as a small count; use "1–4" and 0')


def audit(ledger: str | Path | Iterable[Mapping[str, Any]], report_set: str | Path | None = None) -> AuditResult:
    """Audit every breakdown in ``ledger`` (a path or entries) and every file of ``report_set``."""
    entries = read_ledger(ledger) if isinstance(ledger, (str, Path)) else list(ledger)
    result = AuditResult(breakdowns=len(entries))
    for i, entry in enumerate(entries):
        where = f"breakdown {i + 1} by {entry['keys']}"
        n, problems = audit_breakdown(entry, where)
        result.hidden_cells += n
        result.problems += problems
    if report_set is not None:
        _scan_files(Path(report_set), result)
        result.rate_rows, problems = audit_rates(Path(report_set), THRESHOLD)
        result.problems += problems
    return result

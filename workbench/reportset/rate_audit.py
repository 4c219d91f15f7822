"""Rates per caseworker in a public set: can a reader work back to how many allocations a caseworker had?

A caseworker's rate is k / n (unexplained departures over allocations); the public set
withholds n and k (caseworker is a breakdown key, ``docs/disclosure.md``). But a rate with
its 95 % Wilson interval gives them back: for x = 0 the upper bound is z² / (n + z²), so
"0.0 % (0.0–9.4 %)" is n = 37; in general only one (n, k) fits a rate and both bounds. This
is the reader's side of that relation:

- :func:`rate_rows` collects every published row that holds a rate (``rate``, ``rate_low``,
  ``rate_high``, a band ``rate_band`` such as "10–20 %", or its edges ``rate_from`` /
  ``rate_to``) from every page's tables and charts' data and every CSV of the set;
- :func:`candidates` enumerates every (n, k), 1 ≤ n ≤ the contracts replayed and 0 ≤ k ≤ the
  unexplained departures (both case-wide totals the public sees exactly), that gives what
  the row shows, to the precision it shows it (a chart's data in full, "16.7%" to ±0.05
  points);
- :func:`audit_rates` fails a row that leaves fewer than threshold - 1 values of n or of k
  (as few as the "1–4" band of a breakdown leaves) where the totals alone leave more; and a
  per-caseworker row that publishes a figure the policy withholds from the public
  (:data:`WITHHELD`: p-values, minimum detectable effect, peers' rate, threshold, the
  interval, the counts).

Each row is judged alone; a reader combining rows (their sums are the totals) could do
better, so a pass is a floor, as for the breakdowns.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator, Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

__all__ = ["RATE_FIELDS", "WITHHELD", "Z", "audit_rates", "candidates", "rate_rows", "shown_range", "wilson"]

Z = 1.96
"""The normal quantile of the 95 % interval (workbench.fairness.caseworkers.wilson_interval)."""
RATE_FIELDS = ("rate", "rate_low", "rate_high", "rate_band", "rate_from", "rate_to")
WITHHELD = frozenset(
    {
        "rate_low",
        "rate_high",
        "peer_rate",
        "threshold",
        "effect",
        "p_value",
        "p_holm",
        "mde",
        "n_allocations",
        "n_unexplained",
        "n_with_peers",
    }
)
"""Figures of a caseworker the public copy does not show (docs/disclosure.md, "Rates per caseworker")."""
_EXACT = 1e-9
_NULL = {"", "–", "-", "—", "None", "null", "nan"}
_BAND = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*[–-]\s*(\d+(?:[.,]\d+)?)\s*%\s*$")
_NUMBER = re.compile(r"^\s*(<)?\s*(-?\d+(?:[.,]\d+)?)\s*(%)?\s*$")


def wilson(k: int, n: int, z: float = Z) -> tuple[float, float]:
    """The 95 % Wilson interval of k / n, computed as the workbench computes it (0 and 1 at the ends)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = 0.0 if k == 0 else max(centre - half, 0.0)
    high = 1.0 if k == n else min(centre + half, 1.0)
    return low, high


def shown_range(value: Any) -> tuple[float, float] | None:
    """The interval a shown figure pins a rate to: a float exactly; "16.7%" to ±0.05 points; "10–20 %" to 10–20 %."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return None if math.isnan(value) else (value - _EXACT, value + _EXACT)
    text = str(value).replace("\u202f", " ").replace("\u00a0", " ").strip()
    if text in _NULL:
        return None
    band = _BAND.match(text)
    if band:
        low, high = (float(g.replace(",", ".")) / 100 for g in band.groups())
        return low - _EXACT, high + _EXACT
    m = _NUMBER.match(text)
    if not m:
        return None
    below, digits, percent = m.groups()
    number = float(digits.replace(",", "."))
    decimals = len(digits.replace(",", ".").partition(".")[2])
    scale = 100 if percent else 1
    half = 0.5 * 10**-decimals / scale
    if below:
        return 0.0, number / scale
    return number / scale - half - _EXACT, number / scale + half + _EXACT


def candidates(
    shown: Mapping[str, tuple[float, float]], max_n: int, max_k: int | None = None, enough: int | None = None
) -> tuple[set[int], set[int]]:
    """The values of n and of k that fit what a row shows (``shown``: field -> the range it pins the figure to).

    ``rate``, ``rate_band`` and ``rate_from``/``rate_to`` bound k / n; ``rate_low`` and
    ``rate_high`` bound the Wilson interval's ends. Stops early once both sets hold ``enough``.
    """
    low, high = 0.0, 1.0
    for name in ("rate", "rate_band"):
        if name in shown:
            low, high = max(low, shown[name][0]), min(high, shown[name][1])
    if "rate_from" in shown and "rate_to" in shown:
        low, high = max(low, shown["rate_from"][0]), min(high, shown["rate_to"][1])
    ends = [(i, shown[f]) for i, f in enumerate(("rate_low", "rate_high")) if f in shown]
    ns: set[int] = set()
    ks: set[int] = set()
    top_k = max_n if max_k is None else max_k
    for n in range(1, max_n + 1):
        first, last = max(0, math.ceil(low * n - 1e-9)), min(n, top_k, math.floor(high * n + 1e-9))
        for k in range(first, last + 1):
            if ends:
                interval = wilson(k, n)
                if not all(lo <= interval[i] <= hi for i, (lo, hi) in ends):
                    continue
            ns.add(n)
            ks.add(k)
        if enough is not None and len(ns) >= enough and len(ks) >= enough:
            break
    return ns, ks


class _Tables(HTMLParser):
    """Each table's rows as {data-col: cell text}."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[dict[str, str]] = []
        self._columns: list[str] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "thead":
            self._columns = []
        elif tag == "th" and a.get("data-col") is not None:
            self._columns.append(a["data-col"] or "")
        elif tag == "tr":
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row:
            self.rows.append(dict(zip(self._columns, self._row, strict=False)))
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _chart_rows(page: str) -> Iterator[tuple[str, dict[str, Any]]]:
    decoder = json.JSONDecoder()
    for m in re.finditer(r"\}\)\(\{", page):
        try:
            spec, _ = decoder.raw_decode(page, m.start() + 3)
        except json.JSONDecodeError:
            continue
        title = spec.get("title")
        title = title.get("text") if isinstance(title, dict) else title
        for rows in (spec.get("datasets") or {}).values():
            for row in rows:
                if isinstance(row, dict):
                    yield f"chart {title!r}", row


def rate_rows(root: Path) -> Iterator[tuple[Path, str, dict[str, Any]]]:
    """(folder, where, row) for every published row of the set that holds a rate."""
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix not in (".html", ".csv"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        rel = path.relative_to(root).as_posix()
        if path.suffix == ".csv":
            found: Iterator[tuple[str, dict[str, Any]]] = (("CSV", row) for row in csv.DictReader(io.StringIO(text)))
        else:
            parser = _Tables()
            parser.feed(text)
            found = iter([*(("table", row) for row in parser.rows), *_chart_rows(text)])
        for where, row in found:
            if any(f in row for f in RATE_FIELDS):
                folder = path.parent.parent if path.parent.name == "tables" else path.parent
                yield folder, f"{rel}, {where}, {row.get('caseworker', 'a row')}", row


def _totals(folder: Path) -> tuple[int | None, int | None]:
    """The contracts replayed and the unexplained departures recorded beside the page, if any."""
    path = folder / "findings.json"
    if not path.exists():
        return None, None
    data = json.loads(path.read_text(encoding="utf-8"))

    def value(name: str) -> int | None:
        got = data.get(name, {}).get("value")
        return got if isinstance(got, int) and not isinstance(got, bool) else None

    return value("allocations_replayed"), value("unexplained_deviations")


DEFAULT_MAX_N = 10_000
"""Contracts a caseworker may have had when the set records no total."""


def audit_rates(root: Path, threshold: int) -> tuple[int, list[str]]:
    """Rows with a rate read, and the problems: rows that pin a caseworker's n or k, or publish a withheld figure."""
    need = threshold - 1
    problems: list[str] = []
    read = 0
    for folder, where, row in rate_rows(root):
        read += 1
        if "caseworker" in row:
            withheld = sorted(f for f in WITHHELD & set(row) if shown_range(row[f]) is not None)
            if withheld:
                problems.append(f"{where}: publishes {withheld} of a caseworker, which the public copy withholds")
        shown = {f: r for f in RATE_FIELDS if f in row and (r := shown_range(row[f])) is not None}
        if not shown:
            continue
        max_n, max_k = _totals(folder)
        max_n = max_n or DEFAULT_MAX_N
        ns, ks = candidates(shown, max_n, max_k, enough=need)
        k_total = min(max_n, max_k if max_k is not None else max_n) + 1
        for name, found, alone in (("n", ns, max_n), ("k", ks, k_total)):
            if len(found) < need and len(found) < alone:
                values = ", ".join(str(v) for v in sorted(found)) or "none"
                problems.append(
                    f"{where}: the rate as shown ({', '.join(f'{f}={row[f]!r}' for f in shown)}) leaves "
                    f"{name} in {{{values}}}: fewer than {need} values, so {name} can be worked back"
                )
    return read, problems

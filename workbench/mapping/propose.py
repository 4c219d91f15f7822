"""What ``workbench map init`` proposes: a source column for each v1 column, and an input for each v1 table.

A source column is proposed for a v1 column when its name says so (:mod:`.names`) and its values fit (:mod:`.shapes`):

- **names** are compared after normalising case, ``å ä ö`` to ``a a o``, spaces, underscores
  and hyphens, a unit in parentheses (``Inkomst (kr)`` is ``inkomst``) and a mail or log
  header's ``X-`` prefix; a name is the v1 name or one of its Swedish or English synonyms
  (:data:`.names.SYNONYMS`);
- **values** (the first rows) must fit the v1 type: whole numbers (a decimal comma allowed)
  for an integer, ISO times or a recognised format for a time (the ``format`` is then
  proposed), yes/no words for a boolean. A column whose values alone say what it holds
  (personnummer, e-mail addresses, IP addresses, browser user agents) is proposed by its
  values where no name matches. A first and a last name make ``name`` as a concatenation;
  an IIS cookie holding a session cookie gives ``session_id`` by an ``extract``.

Each v1 table then takes one input by a global assignment (:func:`assign`, maximising the
total score, the Hungarian algorithm), and only where the input supplies at least
:data:`MIN_REQUIRED` of the table's required columns: an input that fits no table that well
(a staff phone list) is left unplaced with the reason, never forced into a weak table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import polars as pl

from .. import evidence
from .names import (
    FIRST_NAMES,
    LAST_NAMES,
    OFFSET_NAMES,
    SESSION_COOKIES,
    SYNONYMS,
    TABLE_NAMES,
    name_key,
    name_keys,
    target_names,
)
from .shapes import BY_VALUES, Shape, fits, shape
from .survey import Found
from .valuemaps import value_map

__all__ = ["MIN_REQUIRED", "SYNONYMS", "Column", "Fit", "assign", "best_assignment", "fit", "name_key"]

MIN_REQUIRED = 0.6
"""The share of a table's required columns an input must supply to be placed in it."""

_OFFSET = re.compile(r"Z|[+-]\d{2}:?\d{2}")


def _offset_column(name: str, found: Found, taken: set[str]) -> str | None:
    """A column beside a time holding its UTC offset (``RegistreradOffset``: ``+01:00``), to concatenate."""
    for other in found.columns:
        key = name_key(other)
        if other not in taken and key.startswith(name_key(name)) and key[len(name_key(name)) :] in OFFSET_NAMES:
            values = found.samples.get(other, [])
            if values and all(_OFFSET.fullmatch(v) for v in values):
                return other
    return None


# ---- one input against one table -----------------------------------------------------------
@dataclass
class Column:
    """The proposal for one v1 column: the mapping's value (a source column name or an object) and its note."""

    spec: str | dict
    note: str = ""
    todo: bool = False


@dataclass
class Fit:
    """How well one input makes one v1 table."""

    table: str
    columns: dict[str, Column | None]
    score: float
    required: list[str]
    missing: list[str] = field(default_factory=list)  # required columns not found

    @property
    def placed(self) -> int:
        return sum(c is not None for c in self.columns.values())

    @property
    def coverage(self) -> float:
        return 1 - len(self.missing) / len(self.required) if self.required else 1.0


def _with_values(table: str, target: str, dtype: pl.DataType, name: str, found: Found, s: Shape) -> Column:
    values = found.samples.get(name, [])
    spec: dict = {"column": name}
    notes, todo = [], False
    vmap = value_map(table, target, values, dtype == pl.Boolean())
    if vmap is not None:  # a map is needed: of every value in the input, not only the first rows'
        vmap = value_map(table, target, found.distinct(name), dtype == pl.Boolean())
    if vmap is not None:
        spec["values"] = vmap
        allowed = evidence.allowed_values(table, target) or ("true", "false")
        todo = "TODO" in vmap.values()
        notes.append(
            ("TODO: a value for each TODO; " if todo else "check the value map; ") + f"allowed: {', '.join(allowed)}"
        )
    if isinstance(dtype, pl.Datetime) and s.kind == "date":
        spec["format"] = (s.formats or ("%Y-%m-%d",))[0]
        notes.append("check: the values are dates without a time: each is read as midnight")
    if s.formats and (isinstance(dtype, pl.Datetime) or dtype == pl.Date()):
        spec["format"] = s.formats[0]
        if len(s.formats) > 1:
            todo = True
            notes.append(f"TODO: the values seen fit {' and '.join(s.formats)}: which is it?")
    if len(spec) == 1:
        return Column(name, "; ".join(notes), todo)
    return Column(spec, "; ".join(notes), todo)


def _session_extract(found: Found) -> Column | None:
    for name in found.columns:
        if name_key(name) not in ("cscookie", "httpcookie", "cookie"):
            continue
        text = " ".join(found.samples.get(name, []))
        for cookie in SESSION_COOKIES:
            if re.search(rf"(?:^|[;+ ]){re.escape(cookie)}=", text):
                return Column({"column": name, "extract": rf"{re.escape(cookie)}=([^;+ ]+)"}, "the session cookie")
    return None


def _shapes(found: Found) -> dict[str, Shape]:
    """The shape of each column of an input, worked out once (every table asks)."""
    if found.shapes is None:
        found.shapes = {name: shape(found.samples.get(name, [])) for name in found.columns}
    return found.shapes


def _own_name(found: Found) -> str:
    """The input's own name: a database table's, else the file's stem (never its folder's)."""
    own = found.label.rsplit("#", 1)[1] if "#" in found.label else found.label.rsplit("/", 1)[-1].split(".")[0]
    return name_key(own)


def fit(table: str, found: Found) -> Fit:
    """Propose a source column for each v1 column of ``table`` from ``found``, and score the fit."""
    schema = evidence.polars_schema(table)
    required = [c.name for c in evidence.table(table).columns if not c.nullable]
    shapes = _shapes(found)
    columns: dict[str, Column | None] = dict.fromkeys(schema)
    taken: set[str] = set()
    score = 0.0
    if found.kind == "iis" and table == "page_views":
        columns["time"], score = Column("datetime"), 1.0
        taken.add("datetime")
    for target, dtype in schema.items():  # by name (the v1 name first, then synonyms in order), values fitting
        ranked = target_names(str(target), table)
        matches = sorted(
            (min(ranked.index(k) for k in name_keys(name) if k in ranked), n, name)
            for n, name in enumerate(found.columns)
            if name not in taken and name_keys(name) & set(ranked)
        )
        for _, _, name in matches:
            if fits(dtype, shapes[name], found.samples.get(name, [])):
                columns[target] = _with_values(table, str(target), dtype, name, found, shapes[name])
                taken.add(name)
                score += 1.0
                if isinstance(dtype, pl.Datetime) and (offset := _offset_column(name, found, taken)):
                    columns[target] = Column({"concat": [name, offset]}, "the time and its offset column")
                    taken.add(offset)
                break
    for target in schema:  # by values alone
        for name in found.columns:
            if columns[target] is None and name not in taken and BY_VALUES.get(shapes[name].kind) == target:
                columns[target] = Column(name, "proposed by its values")
                taken.add(name)
                score += 0.5
    for target, dtype in schema.items():  # a required time: the only time column left
        if columns[target] is None and target in required and isinstance(dtype, pl.Datetime):
            times = [n for n in found.columns if n not in taken and shapes[n].kind == "datetime"]
            if len(times) == 1:
                proposal = _with_values(table, str(target), dtype, times[0], found, shapes[times[0]])
                proposal.note = "; ".join(filter(None, ["check: proposed as the only time column left", proposal.note]))
                columns[target] = proposal
                taken.add(times[0])
                score += 0.5
    if "name" in columns and columns["name"] is None:
        first = next((n for n in found.columns if n not in taken and name_key(n) in FIRST_NAMES), None)
        last = next((n for n in found.columns if n not in taken and name_key(n) in LAST_NAMES), None)
        if first and last:
            columns["name"] = Column({"concat": [first, {"text": " "}, last]})
            score += 1.0
    if table == "page_views" and columns["session_id"] is None and (cookie := _session_extract(found)):
        columns["session_id"] = cookie
        score += 1.0
    if _own_name(found) in TABLE_NAMES.get(table, ()):
        score += 0.5
    if found.kind in ("eml", "maildir", "mbox") and table == "support_messages":
        score += 100
    missing = [c for c in required if columns[c] is None]
    return Fit(table, columns, score, required, missing)


def _eligible(f: Fit, found: Found) -> bool:
    if found.kind in ("eml", "maildir", "mbox"):
        return f.table == "support_messages"
    if found.kind in ("iis", "weblog"):
        return f.table == "page_views"
    return f.placed >= 2 and f.coverage >= MIN_REQUIRED


def best_assignment(score: list[list[float]]) -> dict[int, int]:
    """Row -> column, each at most once, maximising the total score (the Hungarian algorithm, exact).

    A row may stay unassigned (it takes one of the zero-score columns added for that). Small
    enough to write here: scipy's ``linear_sum_assignment`` gives the same and costs seconds to import.
    """
    n = len(score)
    m = (len(score[0]) if n else 0) + n  # each row can also take its own "nothing" column
    cost = [[-row[j] if j < len(row) else 0.0 for j in range(m)] for row in score]
    inf = float("inf")
    u, v, p, way = [0.0] * (n + 1), [0.0] * (m + 1), [0] * (m + 1), [0] * (m + 1)
    for i in range(1, n + 1):
        p[0], j0 = i, 0
        minv, used = [inf] * (m + 1), [False] * (m + 1)
        while True:
            used[j0], i0, delta, j1 = True, p[j0], inf, 0
            for j in range(1, m + 1):
                if not used[j]:
                    cur = cost[i0 - 1][j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j], way[j] = cur, j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(m + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
    width = m - n
    return {p[j] - 1: j - 1 for j in range(1, width + 1) if p[j]}


def assign(inputs: list[Found]) -> tuple[dict[str, tuple[int, Fit]], dict[int, str]]:
    """Each v1 table's input (index, fit), by a global assignment; and why each other input is unplaced."""
    fits = [[fit(t, f) for f in inputs] for t in evidence.TABLES]
    score = [[0.0] * len(inputs) for _ in evidence.TABLES]
    for k, row in enumerate(fits):
        for i, f in enumerate(row):
            if _eligible(f, inputs[i]):
                # of equal fits, the first input in path order and the table declared first
                score[k][i] = f.score + f.coverage - i * 1e-6 - k * 1e-9
    pairs = best_assignment(score)
    chosen = {evidence.TABLES[k]: (i, fits[k][i]) for k, i in pairs.items() if score[k][i] > 0}
    taken = {i: t for t, (i, _) in chosen.items()}
    why: dict[int, str] = {}
    for i, found in enumerate(inputs):
        if i in taken:
            continue
        candidates = [fits[k][i] for k in range(len(evidence.TABLES))]
        eligible = [f for f in candidates if _eligible(f, found)]
        if eligible:
            best = max(eligible, key=lambda f: f.score)
            other = inputs[chosen[best.table][0]].label if best.table in chosen else "another input"
            why[i] = (
                f"fits {best.table} ({best.placed} of {len(best.columns)} columns), "
                f"but {other} fits it better; map it by hand if it belongs there"
            )
            continue
        best = max(candidates, key=lambda f: (f.coverage, f.score))
        if best.placed == 0:
            why[i] = "no column matches a v1 column by name or values"
            continue
        found_names = ", ".join(c for c, v in best.columns.items() if v is not None)
        why[i] = (
            f"best fit {best.table}, but only {best.placed} of {len(best.columns)} columns ({found_names}) and "
            f"{len(best.required) - len(best.missing)} of its {len(best.required)} required ones "
            f"(not found: {', '.join(best.missing)}); a table takes an input with at least "
            f"{MIN_REQUIRED:.0%} of its required columns"
        )
    return chosen, why

"""The query registry: named questions, each a function returning a SQLAlchemy select.

A query is a plain function whose arguments are its parameters and whose result is a Core
``Select`` (or ``union_all``) in which every value is a bound parameter. The
:func:`query` decorator registers it by name with a one-line description and typed
parameters, and returns the function unchanged, so editors and type checkers see it.
"""

from __future__ import annotations

import difflib
import inspect
import math
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa

from ..errors import UnknownNameError, WorkbenchError
from ..evidence import PII

__all__ = [
    "PARAM_TYPES",
    "REQUIRED",
    "FromQuery",
    "Param",
    "Query",
    "QueryParameterError",
    "get",
    "list_queries",
    "names",
    "query",
    "register",
]

# Parameter types a query may declare. Datetimes are always bound in UTC: SQLite stores
# timestamps as naive UTC text, so a bind in another zone would compare wrongly there.
PARAM_TYPES: dict[type, str] = {
    bool: "bool",
    int: "int",
    float: "float",
    str: "str",
    datetime: "datetime",
    date: "date",
}


class QueryParameterError(WorkbenchError, TypeError):
    """A query parameter that is missing, unknown or of the wrong type."""


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""Default of a parameter the caller must always give."""


@dataclass(frozen=True)
class FromQuery:
    """A parameter default read from another query's first row on the same case.

    Example: ``FromQuery("incident_window", "deployed_at", offset=timedelta(days=-1))``.
    ``fallback`` is read when the first is empty, e.g. the web log's first request when the
    case has no deployment log (see :mod:`workbench.queries.absence`).
    """

    query: str
    column: str
    offset: timedelta = timedelta(0)
    fallback: FromQuery | None = None

    def __str__(self) -> str:
        text = f"{self.query}.{self.column}"
        if self.offset:
            sign = "-" if self.offset < timedelta(0) else "+"
            text += f" {sign} {_duration(abs(self.offset))}"
        return text + (f", else {self.fallback}" if self.fallback is not None else "")


def _duration(delta: timedelta) -> str:
    """A short reading of a duration: '1 day', '36 h', '90 min', '5 s'."""
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0 and seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if unit == 'day' and n != 1 else ''}"
    return f"{delta.total_seconds():g} s"


@dataclass(frozen=True)
class Param:
    """A typed query parameter, e.g. ``Param("start", datetime, doc="Window start (UTC)")``."""

    name: str
    type: type
    default: Any = REQUIRED
    doc: str = ""

    def __post_init__(self) -> None:
        if self.type not in PARAM_TYPES:
            raise WorkbenchError(
                f"parameter {self.name!r} has type {self.type!r}; allowed: {', '.join(PARAM_TYPES.values())}"
            )

    @property
    def type_name(self) -> str:
        return PARAM_TYPES[self.type]

    def signature(self) -> str:
        """``name: type`` plus `` = default`` when there is one, for help texts."""
        text = f"{self.name}: {self.type_name}"
        if self.default is not REQUIRED:
            text += f" = {self.default}"
        return text

    def coerce(self, value: Any, query_name: str, declared: Iterable[Param]) -> Any:
        """``value`` checked and converted for binding; a QueryParameterError if ill-typed."""
        ok, converted = _convert(self.type, value)
        if not ok:
            raise QueryParameterError(
                f"parameter {self.name!r} of query {query_name!r} must be {_expected(self.type)}, "
                f"got {value!r} ({type(value).__name__}). Declared parameters: {_listing(declared)}."
            )
        outside = _outside_type_range(converted)
        if outside:
            raise QueryParameterError(
                f"parameter {self.name!r} of query {query_name!r} must be {outside}, got {value!r}"
            )
        return converted


_INT64 = (-(2**63), 2**63 - 1)  # every engine binds a whole number as a 64-bit integer


def _outside_type_range(value: Any) -> str | None:
    """What a number bound to a query must be, if ``value`` is not that (10**30, inf, nan); else None."""
    if isinstance(value, int) and not isinstance(value, bool) and not _INT64[0] <= value <= _INT64[1]:
        return f"a whole number from {_INT64[0]} to {_INT64[1]} (64 bits)"
    if isinstance(value, float) and not math.isfinite(value):
        return "a finite number"
    return None


def _expected(typ: type) -> str:
    if typ is datetime:
        return "a datetime with a time zone (e.g. 2013-12-13T17:00:00+00:00)"
    if typ is date:
        return "a date (e.g. 2013-12-13)"
    return f"a {PARAM_TYPES[typ]}"


def _convert(typ: type, value: Any) -> tuple[bool, Any]:
    """(ok, value) for ``value`` as a ``typ``; ISO strings are accepted for times (papermill passes strings)."""
    if typ is datetime:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                return False, value
        if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
            return False, value  # a naive time is a guess about the zone: refuse it
        return True, value.astimezone(UTC)
    if typ is date:
        if isinstance(value, str):
            try:
                return True, date.fromisoformat(value)
            except ValueError:
                return False, value
        return (isinstance(value, date) and not isinstance(value, datetime)), value
    if typ is bool:
        return isinstance(value, bool), value
    if typ is int:  # bool is an int subclass; True as a count is a mistake
        return (isinstance(value, int) and not isinstance(value, bool)), value
    if typ is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return True, float(value) if abs(value) <= sys.float_info.max else math.inf  # refused as not finite
        return False, value
    return isinstance(value, str), value


def _listing(params: Iterable[Param]) -> str:
    text = ", ".join(p.signature() for p in params)
    return text or "(none)"


@dataclass(frozen=True)
class Query:
    """A registered query: its builder and what a reader needs to know about it."""

    name: str
    domain: str
    description: str
    params: tuple[Param, ...]
    build: Callable[..., sa.Select | sa.CompoundSelect]
    columns: Mapping[str, PII] = field(default_factory=dict)
    sort: tuple[str, ...] = ()
    finish: Callable[[pl.DataFrame, Mapping[str, Any]], pl.DataFrame] | None = None

    def param(self, name: str) -> Param:
        """The declared parameter ``name``; a QueryParameterError with did-you-mean otherwise."""
        for p in self.params:
            if p.name == name:
                return p
        known = [p.name for p in self.params]
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise QueryParameterError(
            f"query {self.name!r} has no parameter {name!r}.{hint} Declared parameters: {_listing(self.params)}."
        )

    def bind(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Given values checked, plus defaults; FromQuery defaults are left for the runner.

        ``None`` stands for "the default", so a notebook parameter left at ``None`` can be
        passed straight through.
        """
        for name in given:
            self.param(name)
        values: dict[str, Any] = {}
        for p in self.params:
            if given.get(p.name) is not None:
                values[p.name] = p.coerce(given[p.name], self.name, self.params)
            elif p.default is REQUIRED:
                raise QueryParameterError(
                    f"query {self.name!r} needs parameter {p.name!r} ({_expected(p.type)}). "
                    f"Declared parameters: {_listing(self.params)}."
                )
            else:
                values[p.name] = p.default
        return values

    def help(self) -> str:
        """Name, description, parameters and any polars step, as plain text."""
        lines = [f"{self.name} ({self.domain}): {self.description}", "", "Parameters:"]
        if not self.params:
            lines.append("  (none)")
        for p in self.params:
            lines.append(f"  {p.signature()}" + (f"  -- {p.doc}" if p.doc else ""))
        if self.sort:
            lines.append(f"Rows sorted by: {', '.join(self.sort)} (in polars, same order on every engine).")
        if self.finish is not None:
            summary = (inspect.getdoc(self.finish) or self.finish.__name__).splitlines()[0]
            lines.append(f"Then in polars: {summary}")
        return "\n".join(lines)


_REGISTRY: dict[str, Query] = {}


def register(
    build: Callable[..., sa.Select | sa.CompoundSelect],
    *,
    name: str | None = None,
    domain: str,
    description: str,
    params: Iterable[Param] = (),
    columns: Mapping[str, PII] | None = None,
    sort: Iterable[str] = (),
    finish: Callable[[pl.DataFrame, Mapping[str, Any]], pl.DataFrame] | None = None,
) -> Query:
    """Register ``build`` as a query; the declared params must match its arguments exactly.

    ``columns`` tags the derived output columns (those that are not evidence columns of the
    same name) for the audience layer, e.g. ``{"n_logins": PII.NONE}``.
    """
    name = name or build.__name__
    params = tuple(params)
    if name in _REGISTRY:
        raise WorkbenchError(f"query {name!r} is registered twice; query names must be unique")
    if not description or "\n" in description:
        raise WorkbenchError(f"query {name!r} needs a one-line description, got {description!r}")
    arguments = list(inspect.signature(build).parameters)
    declared = [p.name for p in params]
    if arguments != declared:
        raise WorkbenchError(
            f"query {name!r}: declared params {declared} do not match the arguments of "
            f"{build.__qualname__}{inspect.signature(build)}; declare each argument once, in order"
        )
    q = Query(name, domain, description, params, build, dict(columns or {}), tuple(sort), finish)
    _REGISTRY[name] = q
    return q


def query(
    name: str | None = None,
    *,
    domain: str,
    description: str,
    params: Iterable[Param] = (),
    columns: Mapping[str, PII] | None = None,
    sort: Iterable[str] = (),
    finish: Callable[[pl.DataFrame, Mapping[str, Any]], pl.DataFrame] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator form of :func:`register`; the function is returned unchanged."""

    def decorate(build: Callable[..., Any]) -> Callable[..., Any]:
        register(
            build,
            name=name,
            domain=domain,
            description=description,
            params=params,
            columns=columns,
            sort=sort,
            finish=finish,
        )
        return build

    return decorate


def get(name: str) -> Query:
    """The registered query ``name``; an UnknownNameError with did-you-mean otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownNameError("query", name, _REGISTRY) from None


def names() -> list[str]:
    """Names of every registered query, sorted."""
    return sorted(_REGISTRY)


def list_queries() -> pl.DataFrame:
    """One row per query: name, domain, description and parameter signature."""
    rows = [
        {"name": q.name, "domain": q.domain, "description": q.description, "params": _listing(q.params)}
        for q in sorted(_REGISTRY.values(), key=lambda q: (q.domain, q.name))
    ]
    schema = {"name": pl.String, "domain": pl.String, "description": pl.String, "params": pl.String}
    return pl.DataFrame(rows, schema=schema)

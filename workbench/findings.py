"""Headline figures, recorded by name into ``findings.json`` and shown in the notebook.

``findings.json`` maps each name to ``{"value": ..., "description": ..., "query": ...}``.
Values are JSON numbers, strings, booleans or lists; times are ISO 8601 in UTC with the
zone (``"2013-12-13T17:00:00+00:00"``); durations are ISO 8601 durations (``"PT5H30M"``); a
figure with bounds is ``{"min": ..., "likely": ..., "max": ...}``; a figure the evidence cannot
answer is ``{"unknown": "the case has no support_messages evidence: no file at ingest"}``
(:class:`~workbench.values.Unknown`), never 0 and never null.

Given the case (``Findings(out_dir, audience=..., case=case)``), a figure that needs an
evidence table the case lacks (:mod:`workbench.needs`) is recorded as unknown with a reason
naming that table, whatever value the notebook computed from the empty table.

In a notebook::

    findings = Findings(out_dir, audience=audience)
    findings.record("possibly_affected", 4711, "Members who logged in during the window", query="...")
"""

from __future__ import annotations

import contextlib
import html
import json
import math
import os
import tempfile
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from .errors import WorkbenchError
from .i18n import finding_label, translate
from .markup import markdown_text, visible
from .settings import OUT_DIR_ENV
from .values import Bounds, Unknown, format_value, is_unknown, iso_duration, unknown_reason
from .wording import say, singular_after_one

__all__ = [
    "FILENAME",
    "NOT_IN_EVIDENCE",
    "OUT_DIR_ENV",
    "Bounds",
    "FindingError",
    "Findings",
    "Unknown",
    "format_value",
    "is_unknown",
    "load",
    "record",
    "unanswered",
]

FILENAME = "findings.json"
NOT_IN_EVIDENCE = "the evidence holds no value for it"
"""The reason of a figure recorded as None with no better reason given."""


class FindingError(WorkbenchError, ValueError):
    """A figure that cannot be recorded as given."""


def _encode(name: str, value: Any) -> Any:
    """``value`` as JSON, or a FindingError naming the figure and what is allowed."""
    if isinstance(value, Unknown):
        return {"unknown": value.reason}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise FindingError(
                f"finding {name!r}: the datetime {value.isoformat()} has no time zone; give it one, "
                "e.g. value.replace(tzinfo=timezone.utc) if it is UTC"
            )
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return iso_duration(value)
    if hasattr(value, "item") and not isinstance(value, (list, tuple)):  # numpy / polars scalars
        value = value.item()
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FindingError(f"finding {name!r}: {value} is not a finite number; JSON cannot hold it")
        return value
    if isinstance(value, Bounds):
        value = {"min": value.min, "likely": value.likely, "max": value.max}
    if isinstance(value, Mapping) and is_unknown(value):
        return {"unknown": unknown_reason(value)}
    if isinstance(value, Mapping):
        if set(value) != {"min", "likely", "max"}:
            raise FindingError(
                f"finding {name!r}: a dict value must be bounds with exactly the keys min, likely and max, "
                f"got keys {sorted(value)}"
            )
        bounds = {k: _encode(name, value[k]) for k in ("min", "likely", "max")}
        if any(isinstance(value[k], str) for k in bounds):
            return bounds  # suppressed for the public ("1–4"): checked before suppression
        try:
            ordered = value["min"] <= value["likely"] <= value["max"]
        except TypeError:
            ordered = False
        if not ordered:
            raise FindingError(
                f"finding {name!r}: bounds must satisfy min <= likely <= max, got "
                f"min={value['min']!r} likely={value['likely']!r} max={value['max']!r}"
            )
        return bounds
    if isinstance(value, (list, tuple)):
        return [_encode(name, v) for v in value]
    raise FindingError(
        f"finding {name!r}: cannot record a {type(value).__name__} ({value!r}); allowed: int, float, str, "
        "bool, datetime with zone, date, timedelta, list of those, bounds {min, likely, max}, or Unknown(reason)"
    )


def _display(name: str, value: Any, description: str, *, tag: bool = True) -> None:
    """Show the figure when running under IPython; nothing otherwise.

    ``tag`` adds the finding's name (``[rows_read]``), the key into ``findings.json``: for
    investigators and auditors, who look figures up by it; the public gets the label and the value.
    """
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return
    if get_ipython() is None:
        return
    shown = format_value(value, name)
    name_tag = f" <code>[{html.escape(visible(name))}]</code>" if tag else ""
    bundle = {
        "text/plain": f"{description}: {shown}",
        "text/html": f"<p><strong>{html.escape(visible(description))}</strong>: {html.escape(visible(shown))}"
        f"{name_tag}</p>",
    }
    display(bundle, raw=True)


@contextlib.contextmanager
def _locked(path: Path):
    """Hold an exclusive lock beside ``path`` so two notebooks sharing out_dir do not lose updates."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks, single writer assumed
        yield
        return
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def load(out_dir: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """The recorded findings in ``out_dir/findings.json``; empty when none were recorded."""
    path = Path(out_dir) / FILENAME
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise FindingError(f"{path} is not valid JSON ({exc}); delete it or restore it from the report") from None
    if not isinstance(data, dict):
        raise FindingError(f"{path} must hold a JSON object of findings, got {type(data).__name__}")
    return data


class Findings:
    """The findings of one report: ``Findings(out_dir, audience="public").record(...)``."""

    def __init__(self, out_dir: str | os.PathLike | None = None, *, audience: str = "investigator", case: Any = None):
        """``case`` (an open case or URL): record figures that need evidence it lacks as unknown, and say so."""
        from .audience import Audience

        self.out_dir = Path(out_dir if out_dir is not None else os.environ.get(OUT_DIR_ENV, "."))
        self._shown: dict[str, Any] = {}
        self.audience = Audience.parse(audience)
        self.absent: dict[str, str] = {}
        if case is not None:
            from .queries.absence import absent

            self.absent = absent(case)
            if self.absent:
                _show_markdown(_absent_note(self.absent))

    @property
    def path(self) -> Path:
        return self.out_dir / FILENAME

    def record(
        self,
        name: str,
        value: Any,
        description: str,
        query: str | None = None,
        *,
        count: bool = False,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """Record figure ``name`` (e.g. ``"possibly_affected"``), show it, and return ``value``.

        ``query`` names the registered query that produced it; ``params`` the values it was
        run with (default: those of its latest run in this kernel, see
        :func:`workbench.queries.last_params`), so the report shows the SQL that produced the
        figure. ``count=True`` marks a count of members. For the public audience a count that
        is a cell of a breakdown (:data:`workbench.suppression.BREAKDOWN_FINDINGS`, see
        ``docs/disclosure.md``) is recorded as ``"1–4"`` when 1 to 4; 0 stays 0, and a
        count that is a total is recorded exactly.
        """
        if not name or not isinstance(name, str):
            raise FindingError(f"a finding needs a non-empty string name, got {name!r}")
        if not description or not isinstance(description, str):
            raise FindingError(f"finding {name!r} needs a description (one line for the reader), got {description!r}")
        description = finding_label(name, description)  # in the report's language (workbench/locales/)
        used: dict[str, Any] = {}
        varied = False
        if query is not None:
            from .queries import get, last_params

            get(query)  # an unknown name fails here, with "did you mean"
            last = last_params(query)
            used, varied = (dict(params), False) if params is not None else last or ({}, False)
        elif params:
            raise FindingError(
                f"finding {name!r}: params {dict(params)} need the query they were passed to (query=...)"
            )
        from .needs import missing_for, unknown_because

        missing = missing_for(name, self.absent)
        if missing:  # computed from an empty table that is absent: not 0, unknown
            value = Unknown(unknown_because(missing), tuple(missing))
        elif value is None:
            value = Unknown(say("not_in_evidence"))  # NOT_IN_EVIDENCE, in the report's language
        encoded = _encode(name, value)
        shown = value
        if (
            count and not self.audience.sees_rows and not is_unknown(value)
        ):  # a small group of a breakdown singles people out
            shown = _suppress_count(name, value)
        if shown is not value:
            encoded = _encode(name, shown)
        entry = {"value": encoded, "description": description, "query": query}
        if used:
            entry["params"] = {k: _encode(f"{name} (parameter {k})", v) for k, v in sorted(used.items())}
        if query is not None and varied:
            entry["params_varied"] = True  # the query ran with other values too; these are its latest
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with _locked(self.path):
            data = load(self.out_dir)
            data[name] = entry
            _write_atomic(self.path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        _display(name, shown, description, tag=self.audience.sees_sql)
        self._shown[name] = shown
        return value

    def text(self, template: str, unknown: str | None = None, *, markdown: bool = False) -> str:
        """Fill ``{name}`` placeholders with figures recorded by this object, as a reader sees them.

        Report prose is bound to recorded values this way, never typed by hand:
        ``findings.say("Ingest read {rows_read} rows and quarantined {rows_quarantined}.")``.
        With ``markdown`` each value is escaped for Markdown prose
        (:func:`workbench.markup.markdown_text`): a recorded text shows as the characters it
        is, never as a tag, link or image; the template's own Markdown stays.

        A figure recorded as unknown reads "unknown", and the text ends with why, once per
        reason ("Unknown here because the case has no support_messages evidence: no file at
        ingest."). ``unknown`` is the text to use instead of ``template`` when any of
        ``template``'s figures is unknown, for a sentence that would mislead with a gap in it.
        """
        import string

        template = translate(template)
        unknown = translate(unknown) if unknown is not None else None

        def fields(text: str) -> list[str]:
            return [field for _, field, _, _ in string.Formatter().parse(text) if field]

        names = fields(template) + (fields(unknown) if unknown is not None else [])
        missing = sorted(set(names) - set(self._shown))
        if missing:
            raise FindingError(
                f"the text refers to figure(s) {missing} that were not recorded here; recorded: {sorted(self._shown)}"
            )
        gaps = {n: self._shown[n] for n in fields(template) if is_unknown(self._shown[n])}
        chosen = unknown if gaps and unknown is not None else template
        shown = markdown_text if markdown else str
        values = {
            k: say("unknown_word") if is_unknown(v) else shown(format_value(v, k)) for k, v in self._shown.items()
        }
        body = singular_after_one(chosen.format_map(values))
        if gaps:
            body += " *" + say("unknown_because", reasons=_because(gaps.values(), self.absent)) + "*"
        return body

    def say(self, template: str, unknown: str | None = None) -> None:
        """Show :meth:`text` as Markdown in the notebook, values escaped (printed as plain text outside IPython)."""
        _show_markdown(self.text(template, unknown, markdown=True), plain=self.text(template, unknown))

    def load(self) -> dict[str, dict[str, Any]]:
        """Everything recorded so far in this out_dir."""
        return load(self.out_dir)


def _because(unknowns: Any, absent: Mapping[str, str]) -> str:
    """The reasons of several unknown figures as one clause: the absent tables named once, then any other reason."""
    from .needs import unknown_because

    tables = {t for u in unknowns if isinstance(u, Unknown) for t in u.missing}
    others = [
        part
        for u in unknowns
        if not (isinstance(u, Unknown) and u.missing)
        for part in unknown_reason(u).split("; ")  # reasons joined by "; " are named once each
    ]
    reasons = (
        [unknown_because({t: absent.get(t, "") for t in absent if t in tables} or sorted(tables))] if tables else []
    )
    return "; and ".join(dict.fromkeys(reasons + others))


def _show_markdown(body: str, plain: str | None = None) -> None:
    """Markdown in a notebook; printed outside IPython (``plain`` if given)."""
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(Markdown(body))
    else:
        print(body if plain is None else plain)


def _absent_note(absent: Mapping[str, str]) -> str:
    from .needs import absent_reason

    return say("absent_note", tables=", ".join(f"`{t}` ({absent_reason(why)})" for t, why in absent.items()))


def unanswered(findings: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """``{name: reason}`` of the figures in ``findings`` (as :func:`load` returns them) recorded as unknown."""
    return {name: unknown_reason(e["value"]) for name, e in findings.items() if is_unknown(e.get("value"))}


def _suppress_count(name: str, value: Any) -> Any:
    from .suppression import BREAKDOWN_FINDINGS, shown_count

    if isinstance(value, Bounds):
        value = {"min": value.min, "likely": value.likely, "max": value.max}
    if isinstance(value, Mapping):
        shown = {k: _suppress_count(name, v) for k, v in value.items()}
        return shown if shown != value else value
    if not isinstance(value, int) or isinstance(value, bool):
        raise FindingError(f"finding {name!r} is marked count=True but its value {value!r} is not an integer")
    return shown_count(value) if name in BREAKDOWN_FINDINGS else value


def _write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and rename, so readers never see half a file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def record(
    name: str, value: Any, description: str, query: str | None = None, *, out_dir: str | os.PathLike | None = None
) -> Any:
    """Record a figure for the investigator audience in ``out_dir`` (default: $WORKBENCH_OUT_DIR or the cwd)."""
    return Findings(out_dir).record(name, value, description, query)

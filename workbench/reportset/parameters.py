"""The parameters of report notebooks: declared in the cell tagged ``parameters``, checked before anything runs.

An unknown name lists the declared ones, a value whose type differs from the literal
default is refused, and so are a ``timezone`` zoneinfo does not know, an unknown ``audience``
and a number outside its range (:mod:`workbench.reportset.bounds`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import cast

from ..errors import WorkbenchError
from .bounds import out_of_range
from .kernel import KERNEL_NAME

__all__ = [
    "NotebookError",
    "ParameterError",
    "check_parameters",
    "declared_type",
    "notebook_parameters",
    "parse_value",
    "plan_parameters",
]


class NotebookError(WorkbenchError):
    """A notebook failed, or was given parameters it does not declare."""


class ParameterError(NotebookError):
    """A parameter a notebook does not declare, or a value it does not allow: refused before anything runs."""


def notebook_parameters(notebook: str | Path) -> dict[str, dict]:
    """The parameters a notebook declares in its cell tagged ``parameters``."""
    import tempfile

    import nbformat
    import papermill

    nb = nbformat.read(str(notebook), as_version=4)
    if nb.metadata.get("kernelspec", {}).get("name"):
        return dict(papermill.inspect_notebook(str(notebook)))
    # papermill cannot infer types without a kernel name; inspect a copy that has ours
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "language": "python", "display_name": "Python (workbench)"}
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / Path(notebook).name
        nbformat.write(nb, str(copy))
        return dict(papermill.inspect_notebook(str(copy)))


def declared_type(parameter: dict) -> str:
    """A parameter's type: its ``# type:`` annotation, else the type of its literal default."""
    import ast

    annotated = parameter.get("inferred_type_name") or "None"
    if annotated != "None":
        return annotated
    try:
        return type(ast.literal_eval(parameter.get("default", "None"))).__name__
    except (ValueError, SyntaxError):
        return "None"


def _listing(declared: Mapping[str, dict]) -> str:
    return ", ".join(f"{k} ({declared_type(v)})" for k, v in declared.items())


def _unknown(notebook: Path, unknown: list[str], declared: Mapping[str, dict]) -> ParameterError:
    import difflib

    close = sorted({c for name in unknown for c in difflib.get_close_matches(name, list(declared), n=2)})
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return ParameterError(
        f"{notebook.name} does not declare parameter(s) {unknown}; it declares: {_listing(declared)}.{hint}"
    )


_TYPES = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,), "list": (list, tuple), "dict": (dict,)}
# How a message names a type to someone who typed a value on the command line.
_KINDS = {
    "int": "a whole number",
    "float": "a number",
    "str": "text",
    "bool": "true or false",
    "list": "a list",
    "tuple": "a list",
    "dict": "a mapping",
    "NoneType": "nothing",
}


def _type_error(notebook: Path, name: str, type_name: str, default: object, value: object) -> ParameterError:
    import json

    got = "a boolean" if isinstance(value, bool) else _KINDS.get(type(value).__name__, type(value).__name__)
    message = (
        f"{notebook.name}: parameter {name} must be {_KINDS.get(type_name, type_name)} (default {default}), "
        f"got {got} {value!r}"
    )
    if type_name == "list":
        items = json.dumps(value if isinstance(value, (list, tuple)) else [str(value)], ensure_ascii=False)
        message += (
            f". Write a list in brackets: on the command line quoted for the shell, e.g. -p {name} '{items}'; "
            f"in a --params file {name}: {items}"
        )
    return ParameterError(message)


def _check_timezone(notebook: Path, value: str) -> None:
    """Refuse a time zone name zoneinfo does not know, suggesting close ones, before any notebook runs."""
    import difflib
    from zoneinfo import ZoneInfo, available_timezones

    known = available_timezones()
    if value in known:
        return
    if not known:  # no list of zones on this machine: ask zoneinfo itself
        try:
            ZoneInfo(value)
            return
        except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
            pass
    lowered = {k.lower(): k for k in known}
    close = [lowered[c] for c in difflib.get_close_matches(value.lower(), sorted(lowered), n=3)]
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ParameterError(
        f"{notebook.name}: parameter timezone must be a time zone name such as "
        f"'Europe/Stockholm' or 'UTC', got {value!r}.{hint}"
    )


def _check_value(notebook: Path, name: str, value: object) -> None:
    """Checks by name, for values whose type alone says too little: time zones and audiences."""
    if name == "timezone" and isinstance(value, str):
        _check_timezone(notebook, value)
    elif name == "audience" and isinstance(value, str):
        from ..audience import Audience
        from ..errors import UnknownNameError

        try:
            Audience.parse(value)
        except UnknownNameError as exc:
            raise ParameterError(f"{notebook.name}: parameter audience: {exc}") from None


def check_parameters(notebook: str | Path, parameters: Mapping, declared: Mapping[str, dict] | None = None) -> None:
    """Refuse names the notebook does not declare, values of another type than the default's, and bad values.

    A parameter named ``timezone`` must be a time zone name zoneinfo knows (``"Europe/Stockholm"``)
    and one named ``audience`` an audience, and a number must lie in its range (see
    :mod:`workbench.reportset.bounds`), so a typo fails before the run, not in a cell.
    """
    notebook = Path(notebook)
    declared = notebook_parameters(notebook) if declared is None else declared
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise _unknown(notebook, unknown, declared)
    for name, value in parameters.items():
        type_name = declared_type(declared[name])
        allowed = _TYPES.get(type_name)
        ok = (
            allowed is None
            or value is None
            or (isinstance(value, allowed) and not (type_name != "bool" and isinstance(value, bool)))
        )
        if not ok:
            raise _type_error(notebook, name, type_name, declared[name].get("default"), value)
        allowed_values = out_of_range(name, type_name, value)
        if allowed_values:
            raise ParameterError(
                f"{notebook.name}: parameter {name} must be {allowed_values} "
                f"(default {declared[name].get('default')}), got {value!r}"
            )
        _check_value(notebook, name, value)


def parse_value(text: str, type_name: str = "None"):
    """A command-line value read as the declared type: ``parse_value("30", "int") == 30``.

    Text for a ``str`` parameter stays text (``"01"`` is not 1); other values are read as
    YAML scalars, as papermill's ``-y`` does. Dates and times become ISO strings, which is
    how notebooks receive them from papermill.
    """
    import yaml

    if type_name == "str":
        return text
    try:
        value = yaml.safe_load(text) if text.strip() else text
    except yaml.YAMLError:
        return text
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def plan_parameters(
    notebooks: list[Path],
    given: Mapping[str, object],
    fixed: Mapping[str, object] | None = None,
    *,
    text: Collection[str] = (),
) -> dict[Path, dict]:
    """The parameters for each notebook: ``fixed`` ones (set by the runner) plus the ``given`` ones it declares.

    One notebook must declare every given name; for several, each name must be declared by
    at least one of them and goes only to those that declare it. The values of the names in
    ``text`` are command-line text, read as each notebook's declared type (see :func:`parse_value`).
    """
    fixed = dict(fixed or {})
    clash = sorted(set(given) & set(fixed))
    if clash:
        raise ParameterError(
            f"parameter(s) {clash} are set by the command itself (--case, --audience, --language, --out); "
            "do not pass them with -p or --params"
        )
    declared = {nb: notebook_parameters(nb) for nb in notebooks}
    if len(notebooks) == 1:
        nb = notebooks[0]
        unknown = sorted(set(given) - set(declared[nb]))
        if unknown:
            raise _unknown(nb, unknown, declared[nb])
    else:
        unknown = sorted(n for n in given if not any(n in d for d in declared.values()))
        if unknown:
            listing = "; ".join(f"{nb.name}: {_listing(d)}" for nb, d in declared.items())
            raise ParameterError(f"no notebook declares parameter(s) {unknown}; they declare: {listing}")
    plan = {}
    for nb, params in declared.items():
        mine = {
            k: parse_value(cast(str, v), declared_type(params[k])) if k in text else v
            for k, v in given.items()
            if k in params
        }
        plan[nb] = {**{k: v for k, v in fixed.items() if k in params}, **mine}
        check_parameters(nb, plan[nb], params)
    return plan

"""The query browser's parameter inputs: one widget per typed parameter, and the typed value read back.

A time typed without an offset is read in the zone the tables show; a value that is not of
the parameter's type is a ``WorkbenchError`` naming the parameter and an example.
"""

from __future__ import annotations

import html
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..errors import WorkbenchError
from ..queries import REQUIRED, FromQuery, Param

__all__ = ["param_hint", "param_input", "parse_param"]


def param_input(p: Param, timezone: str):
    """An input widget for parameter ``p``: its default filled in when it is a plain value."""
    import ipywidgets as w

    style = {"description_width": "170px"}
    common = {"description": p.name, "style": style, "layout": w.Layout(width="440px")}
    plain = p.default if p.default is not REQUIRED and not isinstance(p.default, FromQuery) else None
    if p.type is bool:
        return w.Checkbox(value=bool(plain), indent=True, **common)
    if p.type is int and isinstance(plain, int):
        return w.IntText(value=plain, **common)
    if p.type is float and isinstance(plain, (int, float)):
        return w.FloatText(value=float(plain), **common)
    if p.type is date:
        return w.DatePicker(value=plain, **common)
    if p.type is str:
        return w.Text(value=plain or "", **common)
    # datetimes, and numbers without a plain default: typed as text, checked on use
    hint = "required" if p.default is REQUIRED else f"default: {p.default}" if p.default is not None else "optional"
    if p.type is datetime:
        hint += f" · e.g. 2013-12-13 18:00 ({timezone}) or 2013-12-13T17:00Z"
    return w.Text(value="", placeholder=hint, **common)


def parse_param(p: Param, raw: Any, timezone: str) -> Any:
    """The typed value of an input's ``raw`` value; a WorkbenchError naming the parameter if it is not one.

    A time typed without an offset is read in ``timezone``, the zone the tables show.
    """
    if p.type is datetime and isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw.strip())
        except ValueError:
            raise WorkbenchError(
                f"parameter {p.name!r} must be a time such as 2013-12-13 18:00 (read in {timezone}) "
                f"or 2013-12-13T17:00:00+00:00, got {raw!r}"
            ) from None
        return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo(timezone))
    if not isinstance(raw, str) or p.type in (str, date):
        return raw
    try:
        return p.type(raw.strip())
    except ValueError:
        raise WorkbenchError(f"parameter {p.name!r} must be a {p.type_name}, got {raw!r}") from None


def param_hint(p: Param) -> str:
    default = "required" if p.default is REQUIRED else f"default {html.escape(str(p.default))}"
    doc = f" — {html.escape(p.doc)}" if p.doc else ""
    return f'<span style="font-size:11px;color:#555"><code>{p.type_name}</code>, {default}{doc}</span>'

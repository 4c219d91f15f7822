"""The query browser's widgets and their arrangement (:class:`~workbench.widgets.query_browser.QueryBrowser`).

Each control carries a stable CSS class ``wb-qb-<name>`` that the browser tests find it by.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ALL_DOMAINS", "Controls", "controls"]

ALL_DOMAINS = "all domains"
"""The domain filter's choice that lets every domain through."""


@dataclass(frozen=True)
class Controls:
    """The browser's widgets, by what they do; ``box`` holds them all, in the order shown."""

    search: Any
    domain: Any
    count: Any
    queries: Any
    catalogue: Any
    help: Any
    params: Any
    sql: Any
    run: Any
    status: Any
    sort: Any
    order: Any
    table: Any
    prev: Any
    next: Any
    page: Any
    format: Any
    export: Any
    exported: Any
    box: Any


def controls(domains: list[str], annotate: Any = None) -> Controls:
    """The widgets of a browser whose catalogue has ``domains``, with ``annotate``'s note box (if any) last."""
    import ipywidgets as w

    c: dict[str, Any] = {
        "search": w.Text(
            placeholder="filter: name, domain or words of the description",
            description="Find",
            layout=w.Layout(width="420px"),
        ),
        "domain": w.Dropdown(
            options=[ALL_DOMAINS, *sorted(domains)],
            value=ALL_DOMAINS,
            description="Domain",
            style={"description_width": "initial"},
        ),
        "count": w.HTML(),
        "queries": w.Select(options=[], rows=10, description="Query", layout=w.Layout(width="340px")),
        "catalogue": w.HTML(layout=w.Layout(max_height="230px", overflow="auto", flex="1")),
        "help": w.HTML(),
        "params": w.VBox(),
        "sql": w.HTML(),
        "run": w.Button(description="Run", button_style="primary", icon="play", disabled=True),
        "status": w.HTML(),
        "sort": w.Dropdown(
            options=[("(as the query returns it)", None)],
            value=None,
            description="Sort by",
            style={"description_width": "initial"},
            layout=w.Layout(width="340px"),
            disabled=True,
        ),
        "order": w.ToggleButtons(
            options=[("Ascending", "ascending"), ("Descending", "descending")],
            value="ascending",
            style={"button_width": "100px"},
            disabled=True,
        ),
        "table": w.HTML(),
        "prev": w.Button(description="Previous", icon="chevron-left", disabled=True),
        "next": w.Button(description="Next", icon="chevron-right", disabled=True),
        "page": w.HTML(),
        "format": w.ToggleButtons(
            options=[("CSV", "csv"), ("Parquet", "parquet")], value="csv", style={"button_width": "80px"}
        ),
        "export": w.Button(description="Export", icon="download", disabled=True),
        "exported": w.HTML(),
    }
    hooks = {"queries": "list"}  # the CSS hook's name where it differs from the control's
    for name, widget in c.items():
        if name not in ("count", "help", "params"):
            widget.add_class(f"wb-qb-{hooks.get(name, name)}")  # stable hooks for the browser tests
    box = w.VBox(
        [
            w.HBox([c["search"], c["domain"], c["count"]]),
            w.HBox([c["queries"], c["catalogue"]]),
            c["help"],
            c["params"],
            c["sql"],
            w.HBox([c["run"], c["status"]]),
            w.HBox([c["sort"], c["order"]]),
            c["table"],
            w.HBox([c["prev"], c["page"], c["next"], c["format"], c["export"]]),
            c["exported"],
            *([annotate.widget] if annotate else []),
        ]
    )
    box.add_class("wb-query-browser")
    return Controls(**c, box=box)

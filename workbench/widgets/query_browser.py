"""``QueryBrowser``: find a registered query, set its typed parameters, read its SQL, run it, page and export.

The state is plain Python, so the browser can be driven and tested headless by setting its
children's values::

    browser = QueryBrowser(case, audience="investigator", out_dir="runs/explore")
    browser._w_search.value = "session"            # filter by name, domain or description
    browser.selected = "sessions"                  # or choose it in the list
    browser._w_param["idle_timeout_minutes"].value = 30
    browser.params                                 # {"idle_timeout_minutes": 30, ...}
    browser.sql                                    # the help text and the SQL for this engine
    browser._w_run.click()                         # browser.result: the frame, audience-fit
    browser._w_sort.value = "n_requests"           # sort the result by a column ...
    browser._w_order.value = "descending"          # ... largest first (browser.sort_by, .descending)
    browser.page_rows                              # the page shown; browser.export("parquet")

Given ``notes`` (investigators only), a note box under the table tags and comments on the
key of a row shown (:func:`.annotate_box.row_targets`: a ``session_id``, ``account_id``, …).

Every result passes through :func:`workbench.audience.fit` before it is kept, shown or
exported: the raw frame is never held.
"""

from __future__ import annotations

import hashlib
import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from .. import queries
from ..audience import Audience, fit
from ..csvout import write_csv
from ..display import Table
from ..errors import WorkbenchError
from ..settings import DISPLAY_TZ, output_dir
from .annotate_box import annotation_box, row_targets
from .query_browser_controls import ALL_DOMAINS, controls
from .query_params import param_hint, param_input, parse_param

if TYPE_CHECKING:
    from ..case import Case
    from ..notes import Notes

__all__ = ["EXPORT_FORMATS", "QueryBrowser"]

EXPORT_FORMATS = ("csv", "parquet")


class QueryBrowser:
    """Browse the query registry, run a query on ``case`` and show the result fit for ``audience``.

    Parameters
    ----------
    case : a case from :func:`workbench.case.open_case` (or an Engine, or a URL such as ``"sqlite:///case.db"``).
    audience : ``"investigator"``, ``"auditor"`` (needs ``WORKBENCH_PSEUDONYM_KEY`` or ``key``) or ``"public"``.
    out_dir : folder exports are written under, as ``<out_dir>/exports/<query>-<hash>.<csv|parquet>``;
        default (None): ``build/`` in the project root (:func:`workbench.settings.output_dir`), which git
        ignores, so exports of personal data never land beside the notebooks.
    page_size : rows per page of the result table.
    timezone : zone in which a time typed without an offset is read, e.g. ``"Europe/Stockholm"``,
        the zone the tables show times in.
    key : auditor only: the pseudonym key (default: ``WORKBENCH_PSEUDONYM_KEY``).
    notes : investigator only: where tags and notes on the rows shown are saved (see
        :func:`workbench.widgets.annotate_box.notes_for`); None: no note box.
    """

    def __init__(
        self,
        case: Case,
        audience: str = "investigator",
        *,
        out_dir: str | Path | None = None,
        page_size: int = 25,
        timezone: str = DISPLAY_TZ,
        key: str | bytes | None = None,
        notes: Notes | None = None,
    ):
        self.audience = Audience.parse(audience)
        if page_size < 1:
            raise WorkbenchError(f"page_size must be at least 1, got {page_size!r}")
        self._case, self._key, self.page_size = case, key, page_size
        self.out_dir = Path(out_dir) if out_dir is not None else output_dir()
        self.timezone = timezone
        self._catalogue = queries.list_queries()
        self.result: pl.DataFrame | None = None
        self._unsorted: pl.DataFrame | None = None  # the result in the order the query returns it
        self.error: str | None = None
        self.exported: Path | None = None
        self.sql = ""
        self.page = 0
        self._ran: tuple[str, dict] | None = None

        self._w_param: dict[str, Any] = {}
        self.annotate = annotation_box(notes, self.audience, name="query")
        c = controls(list(self._catalogue["domain"].unique()), self.annotate)
        self._w_search, self._w_domain, self._w_count, self._w_queries = c.search, c.domain, c.count, c.queries
        self._w_catalogue, self._w_help, self._w_params, self._w_sql = c.catalogue, c.help, c.params, c.sql
        self._w_run, self._w_status, self._w_sort, self._w_order = c.run, c.status, c.sort, c.order
        self._w_table, self._w_prev, self._w_next, self._w_page = c.table, c.prev, c.next, c.page
        self._w_format, self._w_export, self._w_exported, self._w_box = c.format, c.export, c.exported, c.box

        self._w_search.observe(self._on_filter, names="value")
        self._w_domain.observe(self._on_filter, names="value")
        self._w_queries.observe(self._on_select, names="value")
        self._w_sort.observe(self._on_sort, names="value")
        self._w_order.observe(self._on_sort, names="value")
        self._w_run.on_click(lambda _b: self.run())
        self._w_prev.on_click(lambda _b: self.show_page(self.page - 1))
        self._w_next.on_click(lambda _b: self.show_page(self.page + 1))
        self._w_export.on_click(lambda _b: self.export(self._w_format.value))
        self._on_filter()
        self._on_select()

    # ---- plain-Python state -------------------------------------------------------------

    @property
    def queries(self) -> pl.DataFrame:
        """The registered queries the filter lets through: name, domain, description, params."""
        text = self._w_search.value.strip().lower()
        frame = self._catalogue
        if self._w_domain.value != ALL_DOMAINS:
            frame = frame.filter(pl.col("domain") == self._w_domain.value)
        if text:
            haystack = pl.concat_str("name", "domain", "description", separator=" ").str.to_lowercase()
            frame = frame.filter(haystack.str.contains(text, literal=True))
        return frame

    @property
    def selected(self) -> str | None:
        """The chosen query's name, e.g. ``"sessions"``, or None."""
        return self._w_queries.value

    @selected.setter
    def selected(self, name: str | None) -> None:
        if name is not None:
            queries.get(name)  # an unknown name says "did you mean"
            if name not in self._w_queries.options:  # filtered out: clear the filter first
                self._w_search.value, self._w_domain.value = "", ALL_DOMAINS
        self._w_queries.value = name

    @property
    def params(self) -> dict[str, Any]:
        """The parameter values given in the inputs, typed; empty inputs are left to the query's defaults."""
        return self._read_params()[0]

    @property
    def errors(self) -> dict[str, str]:
        """Inputs whose text is not a value of their parameter's type, by parameter name."""
        return self._read_params()[1]

    @property
    def sort_by(self) -> str | None:
        """The column the result is sorted by, e.g. ``"login_at"``; None keeps the query's own order."""
        return self._w_sort.value

    @property
    def descending(self) -> bool:
        """True when the result is sorted largest (latest) first."""
        return self._w_order.value == "descending"

    @property
    def page_count(self) -> int:
        """Pages of the result (1 for an empty result, 0 before any run)."""
        if self.result is None:
            return 0
        return max(1, -(-self.result.height // self.page_size))

    @property
    def page_rows(self) -> pl.DataFrame:
        """The rows of the result on the page shown."""
        if self.result is None:
            return pl.DataFrame()
        return self.result.slice(self.page * self.page_size, self.page_size)

    # ---- actions ------------------------------------------------------------------------

    def run(self) -> pl.DataFrame | None:
        """Run the chosen query with the given parameters; the audience-fit result, or None with ``error`` set."""
        name = self.selected
        if name is None:
            self._fail("Choose a query first.")
            return None
        values, errors = self._read_params()
        if errors:
            self._fail("; ".join(errors.values()))
            return None
        self._w_status.value = f"<i>Running {html.escape(name)} …</i>"
        try:
            frame = queries.run(name, self._case, **values)
            self._unsorted = fit(frame, self.audience, query=name, key=self._key)
        except WorkbenchError as exc:
            self._fail(str(exc))
            return None
        self.error, self.exported, self._ran = None, None, (name, values)
        self._w_status.value = (
            f"<b>{html.escape(name)}</b>: {_count(self._unsorted.height)} row(s), fit for the "
            f"{self.audience.value} audience."
        )
        self._w_exported.value = ""
        self._sort_options()
        return self.result

    def show_page(self, page: int) -> None:
        """Show page ``page`` (0-based, clamped to the pages there are) of the result."""
        if self.result is None:
            self._w_table.value = self._w_page.value = ""
            self._w_prev.disabled = self._w_next.disabled = self._w_export.disabled = True
            if self.annotate:
                self.annotate.offer([])
            return
        self.page = min(max(page, 0), self.page_count - 1)
        rows = self.page_rows
        first = self.page * self.page_size
        # Wide results scroll sideways rather than wrapping every time stamp over two lines.
        self._w_table.value = (
            '<div style="overflow-x:auto;max-width:100%"><style>.wb-qb-table .wb-table td{white-space:nowrap}</style>'
            f"{Table(rows, max_rows=self.page_size)._repr_html_()}</div>"
        )
        self._w_page.value = (
            f"Rows {_count(first + 1 if rows.height else 0)}–{_count(first + rows.height)} of "
            f"{_count(self.result.height)} (page {self.page + 1} of {self.page_count})"
        )
        self._w_prev.disabled = self.page == 0
        self._w_next.disabled = self.page >= self.page_count - 1
        self._w_export.disabled = False
        if self.annotate:
            self.annotate.offer(row_targets(rows, first))

    def export(self, fmt: str = "csv") -> Path:
        """Write the whole audience-fit result, in the order shown, as ``<out_dir>/exports/<query>-<hash>.<fmt>``."""
        if fmt not in EXPORT_FORMATS:
            raise WorkbenchError(f"export format {fmt!r} is not one of: {', '.join(EXPORT_FORMATS)}")
        if self.result is None or self._ran is None:
            raise WorkbenchError("nothing to export yet: run a query first")
        name, values = self._ran
        # The file name carries the query and its values, so exports of other runs never overwrite it.
        stamp = hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest()[:8]
        path = self.out_dir / "exports" / f"{name}-{stamp}.{fmt}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "csv":
            write_csv(self.result, path)  # no cell can start a spreadsheet formula
        else:
            self.result.write_parquet(path)
        self.exported = path
        self._w_exported.value = (
            f"Exported {_count(self.result.height)} row(s) to <code>{html.escape(str(path))}</code>."
        )
        return path

    # ---- refresh --------------------------------------------------------------------------

    def _fail(self, message: str) -> None:
        """Say what went wrong where the result would be; the run gives None."""
        self.error = message
        self._w_status.value = f'<span class="wb-qb-error" style="color:#b00">{html.escape(message)}</span>'

    def _sort_options(self) -> None:
        """Offer the new result's columns to sort by, keeping the chosen column when it is still there."""
        columns = [] if self._unsorted is None else self._unsorted.columns
        keep = self._w_sort.value if self._w_sort.value in columns else None
        self._w_sort.unobserve(self._on_sort, names="value")  # sort once, below, not at every step
        try:
            self._w_sort.options = [("(as the query returns it)", None), *((c, c) for c in columns)]
            self._w_sort.value = keep
        finally:
            self._w_sort.observe(self._on_sort, names="value")
        self._w_sort.disabled = self._unsorted is None
        self._on_sort()

    def _on_sort(self, _change=None) -> None:
        """Re-sort the result by the chosen column (nulls last) and show its first page."""
        self._w_order.disabled = self.sort_by is None
        if self._unsorted is None or self.sort_by is None:
            self.result = self._unsorted
        else:
            self.result = self._unsorted.sort(
                self.sort_by, descending=self.descending, nulls_last=True, maintain_order=True
            )
        self.show_page(0)

    def _on_filter(self, _change=None) -> None:
        shown = self.queries
        names = shown["name"].to_list()
        if self._w_queries.value not in names:
            self._w_queries.value = None  # before the options change, which would pick the first
        self._w_queries.options = names
        self._w_count.value = f"{len(names)} of {self._catalogue.height} queries"
        rows = "".join(
            f"<tr><td><code>{html.escape(r['name'])}</code></td><td>{html.escape(r['domain'])}</td>"
            f"<td>{html.escape(r['description'])}</td></tr>"
            for r in shown.iter_rows(named=True)
        )
        self._w_catalogue.value = (
            '<table class="wb-table"><thead><tr><th>query</th><th>domain</th><th>what it answers</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>"
        )

    def _on_select(self, _change=None) -> None:
        import ipywidgets as w

        for widget in self._w_param.values():
            widget.unobserve(self._on_param, names="value")
        self._w_param = {}
        self.result, self._unsorted, self.error, self.exported, self._ran = None, None, None, None, None
        self._w_status.value = self._w_exported.value = ""
        self._sort_options()
        name = self.selected
        self._w_run.disabled = name is None
        if name is None:
            self._w_help.value = "<p>Choose a query to see its parameters and SQL.</p>"
            self._w_params.children, self._w_sql.value, self.sql = (), "", ""
            return
        q = queries.get(name)
        self._w_help.value = (
            f"<p><b>{html.escape(q.name)}</b> ({html.escape(q.domain)}): {html.escape(q.description)}</p>"
        )
        rows = []
        for p in q.params:
            widget = param_input(p, self.timezone)
            widget.add_class(f"wb-param-{p.name}")
            widget.observe(self._on_param, names="value")
            self._w_param[p.name] = widget
            rows.append(w.HBox([widget, w.HTML(param_hint(p), layout=w.Layout(flex="1", margin="0 0 0 8px"))]))
        self._w_params.children = rows or [w.HTML("<p><i>This query has no parameters.</i></p>")]
        self._on_param()

    def _on_param(self, _change=None) -> None:
        """Recompile the SQL shown for the values given so far."""
        name = self.selected
        if name is None:
            return
        values, errors = self._read_params()
        try:
            self.sql = queries.describe(name, self._case, **values)
        except WorkbenchError as exc:
            self.sql = f"(cannot compile: {exc})"
        notes = "".join(f"<li>{html.escape(m)}</li>" for m in errors.values())
        self._w_sql.value = (
            (f'<ul class="wb-qb-error" style="color:#b00">{notes}</ul>' if notes else "")
            + "<details open><summary>Query and SQL, as the engine receives it</summary>"
            f'<pre style="font-size:11px;white-space:pre-wrap;max-height:260px;overflow:auto">{html.escape(self.sql)}</pre></details>'
        )

    def _read_params(self) -> tuple[dict[str, Any], dict[str, str]]:
        if self.selected is None:
            return {}, {}
        q = queries.get(self.selected)
        values, errors = {}, {}
        for p in q.params:
            raw = self._w_param[p.name].value
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue  # the query's default
            try:
                values[p.name] = p.coerce(parse_param(p, raw, self.timezone), q.name, q.params)
            except WorkbenchError as exc:
                errors[p.name] = str(exc)
        return values, errors

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self._w_box)


def _count(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")

"""``CaseworkerDashboard``: one caseworker's allocations, skips, rates against peers and red flags.

The dashboard holds its ipywidgets privately (``_w_*``) and exposes plain-Python state,
so it can be driven and tested headless::

    dash = CaseworkerDashboard(review, audience="investigator")
    dash.value = 9                       # or choose in the drop-down
    dash.districts = ("Solna",)          # filter by district ...
    dash.years = (2014, 2015)            # ... and period
    dash.allocations, dash.passed_over, dash.rates, dash.timeline   # the frames shown

Every frame is made fit for the audience before it is shown. For auditors the caseworker
and members appear as pseudonyms; the public audience gets no per-person dashboard. Given
``notes`` (investigators only, see :mod:`.annotate_box`), a tag field and a note box annotate
the caseworker or one of the allocations shown.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import polars as pl

from ..audience import Audience, fit
from ..display import table
from ..notes import Notes
from ..settings import in_report_run
from ..values import format_number, format_percent
from .annotate_box import annotation_box
from .charts import show_in
from .hooks import ChangeHooks

if TYPE_CHECKING:
    import altair as alt

__all__ = ["OUTCOME_ORDER", "CaseworkerDashboard", "in_outcome_order"]

_ALLOCATION_COLUMNS = (
    "listing_id",
    "district",
    "kind",
    "year",
    "applicant_id",
    "winner_rank",
    "outcome",
    "deviation",
    "n_skipped",
    "queue_days_jumped",
)
OUTCOME_ORDER = ("unexplained", "explained", "in_order")
"""The order allocations are listed in: unexplained departures from queue order first, then explained, then in order."""


def in_outcome_order(allocations: pl.DataFrame) -> pl.DataFrame:
    """``allocations`` (with ``outcome`` and ``listing_id``) in :data:`OUTCOME_ORDER`, by listing id within an outcome.

    Most allocations are in queue order; listing them first would bury the few an
    investigator is looking for.
    """
    rank = pl.col("outcome").replace_strict(
        OUTCOME_ORDER, range(len(OUTCOME_ORDER)), default=len(OUTCOME_ORDER), return_dtype=pl.Int64
    )
    return allocations.sort(rank, "listing_id")


class CaseworkerDashboard(ChangeHooks):
    """Choose a caseworker; see their allocations with the replay detail, their rates and red flags.

    ``review`` is a :class:`workbench.fairness.FairnessReview`; ``caseworker`` the handler id
    shown first (default: the most significant one); ``notes`` where an investigator's tags and
    notes are saved (:func:`workbench.widgets.annotate_box.notes_for`), None for no note box.
    """

    def __init__(
        self,
        review: Any,
        audience: str = "investigator",
        caseworker: int | None = None,
        *,
        notes: Notes | None = None,
    ):
        import ipywidgets as w

        self.audience = Audience.parse(audience)
        self._review = review
        allocations = review.replay.allocations
        self._tags = _tags()
        years = allocations["year"]
        first, last = (int(years.min()), int(years.max())) if allocations.height else (0, 0)
        handlers = review.caseworkers["handler_id"].to_list()  # most significant first
        labels = (
            fit(review.caseworkers.select("handler_id"), self.audience)["handler_id"].cast(pl.String).to_list()
            if self.audience.sees_rows
            else []
        )
        # Labels as wide as their text: the default 80 px cuts them.
        label = {"description_width": "initial"}
        self._w_caseworker = w.Dropdown(
            options=list(zip(labels, handlers, strict=False)),
            description="Caseworker",
            style=label,
            layout=w.Layout(width="240px"),
        )
        self._w_districts = w.SelectMultiple(
            options=sorted(allocations["district"].unique().to_list()), description="Districts", rows=6, style=label
        )
        self._w_years = w.IntRangeSlider(value=(first, last), min=first, max=last, description="Years", style=label)
        self._w_summary = w.HTML()
        self._w_allocations = w.HTML()
        self._w_passed = w.HTML()
        self._w_timeline = w.Output()
        self.annotate = annotation_box(notes, self.audience, name="caseworker")
        self.allocations = self.passed_over = self.rates = self.timeline = pl.DataFrame()
        self.chart: alt.TopLevelMixin | None = None
        if caseworker is not None:
            self._w_caseworker.value = caseworker
        for widget in (self._w_caseworker, self._w_districts, self._w_years):
            widget.observe(lambda _change: self._refresh(), names="value")
        self._refresh()

    # ---- plain-Python state ------------------------------------------------------------

    @property
    def value(self) -> int | None:
        """The chosen caseworker's handler id (None for the public audience)."""
        return self._w_caseworker.value

    @value.setter
    def value(self, handler_id: int) -> None:
        self._w_caseworker.value = handler_id

    selected_caseworker = value

    @property
    def districts(self) -> tuple[str, ...]:
        """Districts shown; empty means all."""
        return tuple(self._w_districts.value)

    @districts.setter
    def districts(self, names: tuple[str, ...]) -> None:
        self._w_districts.value = tuple(names)

    @property
    def years(self) -> tuple[int, int]:
        """First and last allocation year shown, inclusive."""
        return tuple(self._w_years.value)

    @years.setter
    def years(self, span: tuple[int, int]) -> None:
        self._w_years.value = tuple(span)

    # ---- refresh ---------------------------------------------------------------------------

    def _filter(self, frame: pl.DataFrame) -> pl.DataFrame:
        first, last = self.years
        frame = frame.filter(pl.col("year").is_between(first, last))
        return frame.filter(pl.col("district").is_in(list(self.districts))) if self.districts else frame

    def _refresh(self) -> None:
        self._update()
        self._changed()

    def _update(self) -> None:
        if not self.audience.sees_rows or self.value is None:
            self._w_summary.value = (
                "<p>The caseworker dashboard shows per-person rows: it is for investigators and "
                "auditors, not the public audience.</p>"
            )
            return
        from ..fairness.caseworkers import effect_label, risk_difference, strata_cells
        from ..fairness.redflags import with_details
        from .fairness_charts import red_flag_timeline_chart

        review, who = self._review, self.value
        scope = self._filter(review.replay.allocations)
        mine = scope.filter(pl.col("handler_id") == who)
        cells = strata_cells(scope)
        effect = risk_difference(cells).filter(pl.col("handler_id") == who)
        n, x = mine.height, int((mine["outcome"] == "unexplained").sum())
        peer_rate = float(effect["peer_rate"].item()) if effect.height else 0.0
        diff = float(effect["effect"].item()) if effect.height else 0.0
        self.rates = pl.DataFrame(
            {
                "handler_id": [who],
                "n_allocations": [n],
                "n_unexplained": [x],
                "rate": [x / n if n else 0.0],
                "peer_rate": [peer_rate],
                "effect": [diff],
                "effect_label": [effect_label(diff)],
            }
        )
        self.allocations = in_outcome_order(mine.select(_ALLOCATION_COLUMNS))
        passed = review.replay.passed_over.join(mine.select("listing_id"), on="listing_id", how="semi")
        self.passed_over = passed.select(
            "listing_id",
            "applicant_id",
            "queue_rank",
            "winner_queue_rank",
            "status",
            "positions_lost",
            "queue_days_jumped",
        )
        flags = with_details(review.red_flags.filter(pl.col("handler_id") == who))
        first, last = self.years
        self.timeline = flags.filter(pl.col("time").dt.year().is_between(first, last)).select(
            "time", "handler_id", "flag", "applicant_id", "listing_id", "action_id", "detail"
        )

        shown_rates = fit(self.rates, self.audience, columns=self._tags)
        label = html.escape(str(shown_rates["handler_id"].item()))
        self._w_summary.value = (
            f"<p><b>Caseworker {label}</b>: {n} allocations, {x} without a recorded reason for departing from "
            f"queue order ({shown_rates['rate'].item():.1%}); peers in the same districts and years: {peer_rate:.1%}. "
            f"Difference: {diff:+.1%} ({effect_label(diff)}).</p>{_judgement(review, who)}"
        )
        self._w_allocations.value = table(
            fit(self.allocations, self.audience, columns=self._tags),
            max_rows=25,
            caption="Allocations: unexplained departures first, then explained, then in queue order",
        )._repr_html_()
        detail = self.passed_over.sort(pl.col("status") != "skipped", "listing_id", "queue_rank")
        self._w_passed.value = table(
            fit(detail, self.audience, columns=self._tags),
            max_rows=25,
            caption="Ranked before the tenant, and why they did not get it",
        )._repr_html_()
        timeline = fit(self.timeline, self.audience, columns=self._tags).with_columns(
            caseworker=pl.col("handler_id").cast(pl.String)
        )
        self.chart = red_flag_timeline_chart(timeline, title="Red flags")
        if self.annotate:  # investigators only: keys in clear
            self.annotate.offer(
                [(f"caseworker {who} (this one)", "caseworker", str(who))]
                + [
                    (
                        f"allocation: listing {r['listing_id']} ({r['outcome']}, {r['district']} {r['year']})",
                        "allocation",
                        str(r["listing_id"]),
                    )
                    for r in self.allocations.head(25).iter_rows(named=True)
                ]
            )
        self._draw()

    def _draw(self) -> None:
        """Draw the chart into its output area (:func:`show_in`) once the dashboard is on screen.

        Headless and in report runs (WORKBENCH_RUN=papermill) the chart stays state only: a
        report cannot show widgets anyway.
        """
        if not getattr(self, "_displayed", False) or in_report_run():
            return
        show_in(self._w_timeline, self.chart)

    def _ipython_display_(self) -> None:
        import ipywidgets as w
        from IPython.display import display

        controls = w.HBox([self._w_caseworker, self._w_districts, self._w_years])
        parts = [controls, self._w_summary, self._w_allocations, self._w_passed, self._w_timeline]
        display(w.VBox(parts + ([self.annotate.widget] if self.annotate else [])))
        self._displayed = True
        self._draw()


def _judgement(review: Any, handler: int) -> str:
    """What the test could say of the caseworker over the whole review (not the filters), as a paragraph."""
    from ..fairness.power import TARGET_POWER

    row = review.caseworkers.filter(pl.col("handler_id") == handler).row(0, named=True)
    if row["flagged"]:
        text = "Flagged by the test."
    elif row["n_with_peers"] == 0:
        text = "No peers in their districts and years to compare with: the test cannot judge them."
    elif row.get("too_few"):
        text = f"{html.escape(row['effect_label'].capitalize())}: no claim of the test's power covers them."
    elif row.get("mde") is not None:
        text = (
            f"Selling {format_number(row['mde'], 'rate')} of their allocations out of queue order would have got "
            f"them flagged with at least {format_percent(100 * TARGET_POWER, decimals=0)} power."
        )
    else:
        return ""
    return f"<p>{text}</p>"


def _tags() -> dict:
    from ..fairness.views import TAGS

    return TAGS

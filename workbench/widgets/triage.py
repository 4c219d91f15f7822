"""``TriageReview``: read the ranked messages of the incident window one at a time, confirm or reject each.

The messages come ranked (:func:`workbench.incident.triage_review.review_window`), each with
its reason: the rule's phrase or the model's weightiest words, and the case evidence. A key
or a button settles the message shown: ``y`` confirms it as a fault report, ``n`` rejects it
as a false positive (both saved as annotations through :mod:`workbench.notes`, tag
``confirmed`` / ``false-positive``, so notebook 01's first-report time follows them on the
next run), ``j`` / ``k`` step forward and back, ``r`` retrains: the model is fitted again
with the labels given so far (:func:`~workbench.incident.triage_review.refit`) and the window
ranked again, and review goes on at the first message not yet labelled.

The state is plain Python (``ranked``, ``position``, ``labels``, ``current``, ``bounds``),
so it can be tested headless::

    review = TriageReview(ranked, notes=notes_for(case, notes_url))
    review.press("y")        # or review.confirm(); review._w_keys.value = "y" does the same
    review.retrain()

Only investigators review: the messages are free text, and labels need keys, not pseudonyms.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any

import polars as pl

from ..audience import Audience
from ..errors import WorkbenchError
from ..i18n import translate
from ..incident.triage import THRESHOLD, first_report_bounds
from ..incident.triage_review import labelled, refit, rerank, with_review_label
from ..notes import Notes
from ..settings import DISPLAY_TZ
from .hooks import ChangeHooks

__all__ = ["KEYS", "TriageReview"]

KEYS = {"y": "confirm", "n": "reject", "j": "next", "k": "back", "r": "retrain"}
"""The keys the review box understands, and what each does."""
TAGS = {"confirm": "confirmed", "reject": "false-positive"}
_NEEDS = ("message_id", "reported_at", "subject", "body", "probability", "candidate", "rank")


class TriageReview(ChangeHooks):
    """The ranked window, one message at a time, with confirm / reject / retrain.

    Parameters
    ----------
    ranked : :func:`~workbench.incident.triage_review.review_window`'s frame; ``set_by_hand`` (from the notes) is
        read as the labels given so far.
    notes : where labels are saved (:func:`workbench.widgets.annotate_box.notes_for`).
    audience : must be ``"investigator"``; :meth:`or_note` gives a note to others.
    top_n : how many messages the reviewer means to read, for the first-report bounds.
    fit : what retrain fits the model with (default :func:`~workbench.incident.triage_review.refit`).
    """

    @classmethod
    def or_note(cls, ranked: pl.DataFrame, *, notes: Notes | None, audience: str = "investigator", **options) -> Any:
        """The review box, or a Markdown note saying why there is none (another audience, no notes, no message)."""
        from IPython.display import Markdown

        if Audience.parse(audience) is not Audience.INVESTIGATOR:
            return Markdown(
                translate("*The triage review is for investigators: it shows message text and saves labels.*")
            )
        if notes is None:
            return Markdown(translate("*No triage review: the case has nowhere to keep labels (set `notes_url`).*"))
        if ranked.is_empty():
            return Markdown(translate("*No triage review: no support message arrived in the window.*"))
        return cls(ranked, notes=notes, audience=audience, **options)

    def __init__(
        self,
        ranked: pl.DataFrame,
        *,
        notes: Notes,
        audience: str = "investigator",
        top_n: int = 20,
        threshold: float = THRESHOLD,
        extra_phrases: Iterable[str] = (),
        timezone: str = DISPLAY_TZ,
        fit: Callable[[pl.DataFrame], Any] = refit,
    ):
        import ipywidgets as w

        if Audience.parse(audience) is not Audience.INVESTIGATOR:
            raise WorkbenchError(f"the triage review is for investigators only; audience {audience!r} may not label")
        missing = [c for c in _NEEDS if c not in ranked.columns]
        if missing:
            raise WorkbenchError(f"TriageReview needs review_window's frame; missing columns {missing}")
        if not isinstance(notes, Notes):
            raise WorkbenchError(
                f"notes must be a workbench.notes.Notes (e.g. notes_for(case)); got {type(notes).__name__}"
            )
        self.notes, self.top_n, self.threshold, self.timezone = notes, top_n, threshold, timezone
        self.extra_phrases = tuple(extra_phrases)
        self._fit = fit
        said = ranked["set_by_hand"].to_list() if "set_by_hand" in ranked.columns else [None] * ranked.height
        self.labels: dict[str, str] = {m: s for m, s in zip(ranked["message_id"], said, strict=True) if s}
        self.ranked = ranked.drop("set_by_hand", strict=False)
        self.position = self._first_unlabelled()
        self.retrained = 0
        self.status = ""

        self._w_card = w.HTML()
        self._w_card.add_class("wb-triage-card")
        buttons = []
        for key, act in KEYS.items():
            b = w.Button(description=f"{act.capitalize()} ({key})", layout=w.Layout(width="auto"))
            b.add_class(f"wb-triage-{act}")
            b.on_click(lambda _b, k=key: self.press(k))
            buttons.append(b)
        self._w_buttons = buttons
        self._w_keys = w.Text(
            placeholder="click here, then press y / n / j / k / r",
            description="Keys",
            continuous_update=True,
            layout=w.Layout(width="330px"),
        )
        self._w_keys.add_class("wb-triage-keys")
        self._w_keys.observe(self._typed, names="value")
        self._w_status = w.HTML()
        self._w_status.add_class("wb-triage-status")
        self._w_bounds = w.HTML()
        self._w_bounds.add_class("wb-triage-bounds")
        self._w_box = w.VBox([self._w_card, w.HBox([*buttons, self._w_keys]), self._w_status, self._w_bounds])
        self._refresh()

    # -- plain-Python state -------------------------------------------------------------
    @property
    def current(self) -> dict[str, Any] | None:
        """The message shown, as a row of ``ranked`` (None past the end)."""
        if not 0 <= self.position < self.ranked.height:
            return None
        return self.ranked.row(self.position, named=True)

    def reviewed(self) -> pl.DataFrame:
        """``ranked`` with ``set_by_hand`` and ``review_label`` from the labels given so far (and those read from the notes)."""
        said = [self.labels.get(m) for m in self.ranked["message_id"]]
        return with_review_label(self.ranked.with_columns(set_by_hand=pl.Series(said, dtype=pl.String)))

    @property
    def bounds(self) -> pl.DataFrame:
        """The first-report time's bounds (:func:`~workbench.incident.triage.first_report_bounds`) with the labels."""
        return first_report_bounds(self.reviewed(), self.top_n)

    def press(self, key: str) -> None:
        """Act on one key of :data:`KEYS`; another key is refused with the list of known ones."""
        act = KEYS.get(str(key).strip().lower())
        if act is None:
            self._say(f"unknown key {key!r}; keys: " + ", ".join(f"{k} {a}" for k, a in KEYS.items()), error=True)
            return
        getattr(self, act)()

    def confirm(self) -> None:
        """Save the message shown as a fault report (tag ``confirmed``) and go on to the next one not labelled."""
        self._label("confirm")

    def reject(self) -> None:
        """Save the message shown as no fault report (tag ``false-positive``) and go on."""
        self._label("reject")

    def next(self) -> None:
        self.position = min(self.position + 1, self.ranked.height)
        self._refresh()

    def back(self) -> None:
        self.position = max(self.position - 1, 0)
        self._refresh()

    def retrain(self) -> None:
        """Fit the model again with the labels given so far, rank the window again, and go to the first one not labelled."""
        labels = labelled(self.reviewed())
        model = self._fit(labels)
        self.ranked = rerank(
            self.ranked, model, extra_phrases=self.extra_phrases, threshold=self.threshold, reviewed=self.reviewed()
        )
        self.retrained += 1
        self.position = self._first_unlabelled()
        self._say(f"retrained on {labels.height} label(s) of this case; the window is ranked again")
        self._refresh()

    # -- helpers ---------------------------------------------------------------------------
    def _label(self, act: str) -> None:
        row = self.current
        if row is None:
            self._say("nothing to label: past the last message", error=True)
            return
        tag = TAGS[act]
        self.notes.annotate("support_message", row["message_id"], tag=tag)
        self.labels[row["message_id"]] = tag
        self._say(f"rank {row['rank']} saved as {tag}")
        self.position = self._first_unlabelled(after=self.position)
        self._refresh()

    def _first_unlabelled(self, after: int = -1) -> int:
        ids = self.ranked["message_id"].to_list()
        for i in range(after + 1, len(ids)):
            if ids[i] not in self.labels:
                return i
        return min(after + 1, len(ids)) if after >= 0 else len(ids)

    def _typed(self, change: dict) -> None:
        text = change["new"]
        if not text:
            return
        self._w_keys.value = ""
        self.press(text[-1])

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status = text
        colour = "#a00" if error else "#333"
        self._w_status.value = f'<span style="color:{colour}">{html.escape(text)}</span>'

    def _refresh(self) -> None:
        self._w_card.value = _card(self.current, self.ranked.height, self.labels, self.timezone)
        shown = self.bounds.with_columns(pl.col("reported_at").dt.convert_time_zone(self.timezone))
        rows = []
        for r in shown.iter_rows(named=True):
            at = "none" if r["reported_at"] is None else f"{r['reported_at']:%a %d %b %H:%M}"
            rows.append(f"<tr><td>{html.escape(r['measure'])}</td><td>{at}</td><td>{r['rank'] or ''}</td></tr>")
        self._w_bounds.value = f"<table><tr><th>first report</th><th>at</th><th>rank</th></tr>{''.join(rows)}</table>"
        self._changed()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self._w_box)


def _card(row: dict[str, Any] | None, total: int, labels: dict[str, str], timezone: str) -> str:
    """The message shown, as HTML: every text from the message or the case escaped."""
    if row is None:
        return f"<p><b>End of the ranked window</b> ({total} messages). Press k to go back, r to retrain.</p>"
    from zoneinfo import ZoneInfo

    e = html.escape
    at = f"{row['reported_at'].astimezone(ZoneInfo(timezone)):%a %d %b %H:%M}"
    score = row.get("score", row["probability"])
    label = labels.get(row["message_id"])
    reasons = [r for r in (row.get("explanation"), row.get("evidence")) if r]
    body = e(row["body"] or "").replace("\n", "<br>")
    return (
        f"<p><b>Rank {row['rank']} of {total}</b> · {e(at)} · probability {row['probability']:.2f} · score {score:.2f}"
        f"{' · candidate' if row['candidate'] else ''}{f' · <b>{e(label)}</b>' if label else ''}</p>"
        f"<p><i>Why:</i> {e('; '.join(reasons)) if reasons else 'nothing in the text or the case points to a report'}</p>"
        f"<p><b>{e(row['subject'] or '(no subject)')}</b></p><p>{body}</p>"
    )

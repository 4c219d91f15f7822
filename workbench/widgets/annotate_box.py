"""``AnnotationBox``: a tag field and a note box under a widget, saving to the case's notes database.

Each investigator widget that is given ``notes`` (a :class:`workbench.notes.Notes`, e.g. from
:func:`notes_for`) shows one: choose what to annotate among the things the widget shows
(the account, a session, a message, a change, a caseworker, a result row's key), type a tag
(the documented vocabulary is offered, a free tag is allowed) and/or a note, and *Save*.
That calls :meth:`Notes.annotate <workbench.notes.Notes.annotate>`, so the annotation is
checked against the case, kept beside it and journalled. Auditors and the public get no box:
they may not annotate, and they see pseudonyms, which are no keys.

An annotation already on the target can be edited or withdrawn: choose it under *Edit*
(its tags and note fill the fields), change them and *Save*, or *Withdraw* it; *Why* gives
the reason. Either adds a version (:meth:`Notes.edit`, :meth:`Notes.withdraw`): the earlier
versions stay, and the box lists them under the one chosen. Nothing is deleted.

Headless, as every widget here: set ``box._w_target.value``, ``box._w_tag.value`` and
``box._w_note.value``, then ``box._w_save.click()`` (or ``box.save()``); ``box.saved`` is
the last annotation saved and ``box.status`` says what happened. ``box.pick(annotation_id)``
(or ``box._w_pick.value``) chooses one to edit; ``box._w_withdraw.click()`` withdraws it.
"""

from __future__ import annotations

import html
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl

from ..audience import Audience
from ..errors import WorkbenchError
from ..notes import VOCABULARY, Annotation, Notes, NotesError
from ..settings import in_report_run

__all__ = ["KEY_COLUMNS", "AnnotationBox", "annotation_box", "notes_for", "row_targets"]

Target = tuple[str, str, str]
"""(label shown, kind, key), e.g. ``("session 9f2c…", "session", "9f2c…")``."""

KEY_COLUMNS = {
    "session_id": "session",
    "account_id": "account",
    "applicant_id": "account",
    "message_id": "support_message",
    "change_id": "profile_change",
    "listing_id": "allocation",
    "handler_id": "caseworker",
}
"""Result columns whose values are keys of an annotation kind; ``viewer_applicant_id`` and the like too (by suffix)."""


def may_annotate(audience: str | Audience) -> bool:
    """Only investigators annotate: auditors see pseudonyms, the public counts."""
    return Audience.parse(audience) is Audience.INVESTIGATOR


def notes_for(
    case: Any, notes_url: str | os.PathLike[str] | None = None, audience: str = "investigator"
) -> Notes | None:
    """The notes to give the widgets of a notebook: None for an audience that may not annotate.

    ``notes_url`` as the notebooks take it: None keeps the notes beside a file case (the
    file is made by the first annotation saved). A case with nowhere to keep notes (a server
    case without ``notes_url``) warns and gives None: the widgets then show no note box. In a
    report run it gives None without a warning (a rendered report keeps no widget).
    """
    if not may_annotate(audience):
        return None
    try:
        return Notes(case, notes_url if notes_url not in ("", None) else None)
    except NotesError as exc:
        if not in_report_run():
            warnings.warn(f"no note box in the widgets: {exc}", stacklevel=2)
        return None


def annotation_box(notes: Notes | None, audience: str | Audience, *, name: str) -> AnnotationBox | None:
    """An :class:`AnnotationBox` on ``notes`` for an audience that may annotate, else None."""
    if notes is None or not may_annotate(audience):
        return None
    if not isinstance(notes, Notes):
        raise WorkbenchError(
            f"notes must be a workbench.notes.Notes (e.g. notes_for(case, notes_url)); got {type(notes).__name__}"
        )
    return AnnotationBox(notes, name=name)


def _kind_of(column: str) -> str | None:
    for suffix, kind in KEY_COLUMNS.items():
        if column == suffix or column.endswith("_" + suffix):
            return kind
    return None


def row_targets(rows: pl.DataFrame, first: int = 0) -> list[Target]:
    """What a page of result rows offers to annotate: every key column's value, row by row (numbered from ``first``+1)."""
    columns = [(c, k) for c in rows.columns if (k := _kind_of(c)) is not None]
    found: list[Target] = []
    for i, row in enumerate(rows.select([c for c, _ in columns]).iter_rows()):
        for (column, kind), value in zip(columns, row, strict=True):
            if value is not None:
                found.append((f"row {first + i + 1} · {column} {value}", kind, str(value)))
    return found


def _kind_name(kind: str) -> str:
    return kind.replace("_", " ")


class AnnotationBox:
    """Target, tag and note inputs, a Save button, a status line and the annotations already on the target."""

    def __init__(self, notes: Notes, *, name: str = "annotate"):
        import ipywidgets as w

        self.notes = notes
        self.saved: Annotation | None = None
        self._status = ""
        label = {"description_width": "initial"}
        # As wide as a session id or a Message-ID with its kind and time: the selected entry is never cut.
        self._w_target = w.Dropdown(options=[], description="On", style=label, layout=w.Layout(width="760px"))
        self._w_tag = w.Combobox(
            options=list(VOCABULARY),
            placeholder="confirmed, false-positive, … or a free tag",
            description="Tag",
            ensure_option=False,
            style=label,
            layout=w.Layout(width="300px"),
        )
        self._w_note = w.Textarea(
            placeholder="A note for the record (what you checked, whom you contacted)",
            description="Note",
            style=label,
            layout=w.Layout(width="560px", height="64px"),
        )
        self._w_save = w.Button(description="Save", icon="save", button_style="info", disabled=True)
        self._w_pick = w.Dropdown(options=[(NEW, "")], description="Edit", style=label, layout=w.Layout(width="760px"))
        self._w_reason = w.Text(
            placeholder="why it is edited or withdrawn (kept in its history)",
            description="Why",
            style=label,
            layout=w.Layout(width="560px"),
        )
        self._w_withdraw = w.Button(description="Withdraw", icon="undo", disabled=True)
        self._w_status = w.HTML()
        self._w_existing = w.HTML()
        self._w_history = w.HTML()
        self._loaded: str | None = None  # the annotation whose tags and note fill the fields
        self._refreshing = False  # the Edit choices are being replaced: no pick to load meanwhile
        for widget, part in (
            (self._w_target, "target"),
            (self._w_tag, "tag"),
            (self._w_note, "note"),
            (self._w_save, "save"),
            (self._w_pick, "pick"),
            (self._w_reason, "reason"),
            (self._w_withdraw, "withdraw"),
            (self._w_status, "status"),
            (self._w_existing, "existing"),
            (self._w_history, "history"),
        ):
            widget.add_class(f"wb-note-{part}")  # stable hooks for the browser tests
        vocabulary = ", ".join(f"<code>{t}</code> ({html.escape(why)})" for t, why in VOCABULARY.items())
        self._w_box = w.VBox(
            [
                w.HTML(f"<b>Annotate</b> <span style='font-size:11px;color:#555'>tags: {vocabulary}</span>"),
                self._w_target,
                self._w_pick,
                w.HBox([self._w_tag, self._w_save, self._w_withdraw]),
                self._w_note,
                self._w_reason,
                self._w_status,
                self._w_existing,
                self._w_history,
            ],
            layout=w.Layout(border="1px solid #ddd", padding="4px", margin="6px 0 0 0"),
        )
        self._w_box.add_class("wb-note-box")
        self._w_box.add_class(f"wb-note-box-{name}")
        self._w_save.on_click(lambda _b: self.save())
        self._w_withdraw.on_click(lambda _b: self.withdraw())
        self._w_target.observe(lambda _c: self._show_existing(), names="value")
        self._w_pick.observe(lambda _c: None if self._refreshing else self._load(), names="value")
        self._show_existing()

    # ---- state ----------------------------------------------------------------------------

    @property
    def widget(self) -> Any:
        """The box to place under the widget's own parts."""
        return self._w_box

    @property
    def targets(self) -> list[Target]:
        return [(label, *value) for label, value in self._w_target.options]

    @property
    def target(self) -> tuple[str, str] | None:
        """(kind, key) chosen, e.g. ``("session", "9f2c…")``, or None."""
        return self._w_target.value

    @property
    def picked(self) -> str | None:
        """The id of the annotation chosen to edit or withdraw, or None (Save makes a new one)."""
        return self._w_pick.value or None  # "" is the choice of a new one (a None value shows blank in Lab)

    @property
    def status(self) -> str:
        """What the last Save did, as plain text ("" before any)."""
        return self._status

    def offer(self, targets: Iterable[Target]) -> None:
        """Offer ``targets`` (label, kind, key), keeping the chosen one when it is still among them."""
        labels: dict[tuple[str, str], str] = {}
        for label, kind, key in targets:  # one entry per thing, labelled where it is first shown
            labels.setdefault((kind, key), label)
        options = [(label, value) for value, label in labels.items()]
        keep = self._w_target.value if any(v == self._w_target.value for _, v in options) else None
        self._w_target.options = options
        self._w_target.value = keep if keep is not None else (options[0][1] if options else None)
        self._w_save.disabled = not options
        self._show_existing()

    def choose(self, kind: str, key: Any) -> None:
        """Choose the target ``kind`` ``key`` among those offered; an error lists them if it is not."""
        wanted = (kind, str(key))
        if not any(v == wanted for _, v in self._w_target.options):
            offered = ", ".join(label for label, _ in self._w_target.options) or "nothing"
            raise WorkbenchError(f"{_kind_name(kind)} {key!r} is not shown here to annotate; offered: {offered}")
        self._w_target.value = wanted

    def pick(self, annotation_id: str | None) -> None:
        """Choose an annotation on the target to edit or withdraw (None: a new one); an error lists those there are."""
        offered = [v for _, v in self._w_pick.options]
        if (annotation_id or "") not in offered:
            there = ", ".join(label for label, v in self._w_pick.options if v) or "none"
            raise WorkbenchError(f"annotation {annotation_id!r} is not on what is chosen here; there are: {there}")
        self._w_pick.value = annotation_id or ""

    def save(self) -> Annotation | None:
        """Annotate the chosen target with the tag(s) and note given, or save them as a new version of the annotation
        picked; None, with the reason in the status, if refused."""
        if self.target is None:
            self._say("Nothing shown to annotate.", error=True)
            return None
        kind, key = self.target
        tags = [t.strip() for t in self._w_tag.value.split(",") if t.strip()]
        note = self._w_note.value.strip()
        editing = self.picked
        try:
            if editing is None:
                saved = self.notes.annotate(kind, key, tag=tags or None, note=note or None)
            else:
                saved = self.notes.edit(editing, tag=tags, note=note, reason=self._w_reason.value.strip())
        except WorkbenchError as exc:
            self._say(str(exc), error=True)
            return None
        self.saved = saved
        what = ", ".join(saved.tags) or "a note"
        done = "Saved" if editing is None else f"Edited (version {saved.version}; the earlier ones are kept)"
        self._done(f"{done} on {_kind_name(kind)} {key}: {what}, in {_where(self.notes)} and the journal.")
        return saved

    def withdraw(self) -> Annotation | None:
        """Withdraw the annotation picked: a new version marked withdrawn, the earlier ones kept; None if none is."""
        if self.picked is None or self.target is None:
            self._say("Choose under Edit the annotation to withdraw.", error=True)
            return None
        try:
            saved = self.notes.withdraw(self.picked, reason=self._w_reason.value.strip())
        except WorkbenchError as exc:
            self._say(str(exc), error=True)
            return None
        self.saved = saved
        kind, key = self.target
        self._done(
            f"Withdrawn from {_kind_name(kind)} {key} (version {saved.version}): it no longer counts, and its "
            f"history stays in {_where(self.notes)} and the journal."
        )
        return saved

    def _done(self, text: str) -> None:
        self._w_pick.value = ""  # back to a new annotation, fields cleared
        self._loaded = None
        self._w_tag.value, self._w_note.value, self._w_reason.value = "", "", ""
        self._say(text)
        self._show_existing()

    def _load(self) -> None:
        """Fill the fields with the annotation picked (or clear what a pick had filled when going back to a new one)."""
        picked = self.picked
        found = next((a for a in self.existing() if a.annotation_id == picked), None) if picked else None
        if found is not None and picked != self._loaded:  # a pick already loaded keeps what was typed since
            self._w_tag.value, self._w_note.value = ", ".join(found.tags), found.note
        elif self._loaded is not None:
            self._w_tag.value, self._w_note.value, self._w_reason.value = "", "", ""
        self._loaded = picked if found is not None else None
        editing = found is not None
        self._w_save.description = "Save edit" if editing else "Save"
        self._w_withdraw.disabled = not editing
        self._show_history(picked if editing else None)

    def existing(self) -> list[Annotation]:
        """The active annotations on the chosen target, oldest first (none read when the notes database does not exist)."""
        if self.target is None or not _exists(self.notes):
            return []
        kind, key = self.target
        return [a for a in self.notes.current(kind) if a.key == key]

    # ---- display --------------------------------------------------------------------------

    def _say(self, text: str, *, error: bool = False) -> None:
        self._status = text
        style = ' class="wb-note-error" style="color:#b00"' if error else ""
        self._w_status.value = f"<span{style}>{html.escape(text)}</span>"

    def _show_existing(self) -> None:
        try:
            found = self.existing()
            withdrawn = self._withdrawn()
        except (NotesError, WorkbenchError) as exc:
            self._w_existing.value = f'<span style="color:#b00">{html.escape(str(exc))}</span>'
            return
        keep = self.picked if any(a.annotation_id == self.picked for a in found) else ""
        self._refreshing = True
        try:
            self._w_pick.options = [(NEW, "")] + [(_short(a), a.annotation_id) for a in found]
            self._w_pick.value = keep
        finally:
            self._refreshing = False
        self._load()
        gone = f"<i>{withdrawn} withdrawn, kept in the history.</i>" if withdrawn else ""
        if not found:
            self._w_existing.value = ("<i>No annotation on it yet.</i> " + gone) if self.target else ""
            return
        items = "".join(f"<li>{_line(a)}</li>" for a in found)
        self._w_existing.value = f'<ul class="wb-note-list" style="margin:2px 0">{items}</ul>{gone}'

    def _withdrawn(self) -> int:
        if self.target is None or not _exists(self.notes):
            return 0
        kind, key = self.target
        return sum(a.key == key and a.state == "withdrawn" for a in self.notes.current(kind, withdrawn=True))

    def _show_history(self, annotation_id: str | None) -> None:
        """Every version of the annotation picked, oldest first: what an edit or a withdrawal leaves."""
        if annotation_id is None:
            self._w_history.value = ""
            return
        versions = "".join(
            f"<li>version {a.version}{' (withdrawn)' if a.state == 'withdrawn' else ''}: {_line(a)}"
            + (f" <i>— why: {html.escape(a.reason)}</i>" if a.reason else "")
            + "</li>"
            for a in self.notes.history(annotation_id)
        )
        self._w_history.value = (
            f'<div style="font-size:11px">History:<ol class="wb-note-versions">{versions}</ol></div>'
        )


NEW = "a new annotation"
"""The *Edit* choice that makes Save add an annotation rather than a version of one."""


def _line(a: Annotation) -> str:
    """An annotation as one escaped line of HTML: its tags, note, who and when."""
    when = html.escape(a.at[:16].replace("T", " "))
    return (
        f"<b>{html.escape(', '.join(a.tags) or '(no tag)')}</b>"
        + (f": {html.escape(a.note)}" if a.note else "")
        + f' <span style="color:#555">— {html.escape(a.analyst)}, {when} UTC'
        + (f", version {a.version}" if a.version > 1 else "")
        + "</span>"
    )


def _short(a: Annotation) -> str:
    """An annotation as a drop-down entry: its tags and the start of its note, who and when."""
    note = a.note if len(a.note) <= 60 else a.note[:59] + "…"
    what = ", ".join(a.tags) or "(no tag)"
    return f"{what}{': ' + note if note else ''} — {a.analyst}, {a.at[:16].replace('T', ' ')} UTC"


def _exists(notes: Notes) -> bool:
    """Whether the notes database is there to read: a SQLite file that does not exist yet holds nothing."""
    if notes.url.get_backend_name() != "sqlite":
        return True
    return Path(notes.url.database or "").is_file()


def _where(notes: Notes) -> str:
    from ..notes.db import notes_label

    return notes_label(notes.url)

"""``AccountInspector``: one account's exposure, changes and restore values, for live investigation.

Investigators choose the account by customer number, auditors by its pseudonym; for the
public audience, which sees aggregates only, there is nothing to choose. The state is plain Python
(``value``, ``selected_account``, ``sessions``, ``fields``, ``changes``, ``restore``) and
every frame is made fit for the audience, so the widget can be driven and tested headless.

Given ``notes`` (investigators only, see :mod:`.annotate_box`), it shows a tag field and a note
box for the account, or one of the sessions or changes shown with it.
"""

from __future__ import annotations

import polars as pl

from ..audience import Audience, fit, pseudonym, pseudonym_key
from ..display import Table
from ..errors import UnknownNameError
from ..evidence import PII
from ..exposure.changes import CHANGE_COLUMNS, RESTORE_COLUMNS
from ..exposure.tiers import Exposure
from ..notes import Notes
from .annotate_box import annotation_box

__all__ = ["AccountInspector"]

_SESSION_COLUMNS = {
    "session_id": PII.DIRECT,
    "viewer_applicant_id": PII.DIRECT,
    "login_at": PII.NONE,
    "first_rendered_at": PII.NONE,
    "last_rendered_at": PII.NONE,
    "n_pages": PII.NONE,
    "certain": PII.NONE,
    "p_bound": PII.NONE,
    "reason": PII.NONE,
}
_FIELD_COLUMNS = {
    "field": PII.NONE,
    "first_shown_at": PII.NONE,
    "last_shown_at": PII.NONE,
    "n_views": PII.NONE,
    "n_viewers": PII.NONE,
    "certain": PII.NONE,
}


class AccountInspector:
    """Pick an account; see who was shown it, which fields, what was changed and what to restore.

    Example: ``AccountInspector(exposure, audience="investigator")`` in a notebook cell,
    then choose a customer number in the drop-down. ``select(1048213)`` does the same in code.
    """

    def __init__(
        self,
        exposure: Exposure,
        audience: str = "investigator",
        *,
        key: str | bytes | None = None,
        notes: Notes | None = None,
    ):
        import ipywidgets as widgets

        self.audience = Audience.parse(audience)
        self._exposure = exposure
        self._key = pseudonym_key(key) if self.audience.pseudonymised else None
        self._restore_all = exposure.changes.restore_list()
        # The public sees aggregates only: no account to choose.
        accounts = exposure.accounts()["account_id"].to_list() if self.audience.sees_rows else []
        self._by_label = {self._label(a): a for a in accounts}
        self._w_account = widgets.Dropdown(
            options=[("", None), *((label, label) for label in self._by_label)],
            value=None,
            description="Pseudonym" if self._key else "Customer no.",
            style={"description_width": "initial"},  # the default 80 px label cut "Customer no." short
        )
        self._w_summary = widgets.HTML()
        self._w_sessions = widgets.HTML()
        self._w_fields = widgets.HTML()
        self._w_changes = widgets.HTML()
        self._w_restore = widgets.HTML()
        self.annotate = annotation_box(notes, self.audience, name="account")
        self._w_account.observe(lambda _change: self._refresh(), names="value")
        self._refresh()

    def _label(self, account: int) -> str:
        return pseudonym(account, "account_id", self._key) if self._key else str(account)

    @property
    def options(self) -> list[str]:
        """The accounts one can choose, as the audience sees them (customer numbers or pseudonyms)."""
        return list(self._by_label)

    @property
    def value(self) -> str | None:
        """The chosen account as shown in the drop-down, or None."""
        return self._w_account.value

    @property
    def selected_account(self) -> int | str | None:
        """The chosen account: its customer number for investigators, its pseudonym for auditors."""
        if self._w_account.value is None:
            return None
        return self._w_account.value if self._key else self._by_label[self._w_account.value]

    def select(self, account: int | str) -> None:
        """Choose an account by customer number (investigator) or pseudonym (auditor)."""
        label = str(account)
        if label not in self._by_label:
            raise UnknownNameError("account in the exposure", label, self._by_label)
        self._w_account.value = label

    def _fit(self, frame: pl.DataFrame, columns: dict) -> pl.DataFrame:
        return fit(frame, self.audience, columns=columns, key=self._key)

    def _account(self) -> int | None:
        return self._by_label.get(self._w_account.value) if self._w_account.value else None

    @property
    def sessions(self) -> pl.DataFrame:
        """Sessions that were (or may have been) bound to the account: by whom, when, how sure."""
        a = self._account()
        links = self._exposure.links.filter(pl.col("account_id") == a)
        views = (
            self._exposure.views.filter(pl.col("account_id") == a)
            .group_by("session_id")
            .agg(
                first_rendered_at=pl.col("time").min(),
                last_rendered_at=pl.col("time").max(),
                n_pages=pl.len().cast(pl.Int64),
            )
        )
        frame = (
            links.join(views, on="session_id", how="left")
            .select(
                "session_id",
                viewer_applicant_id="applicant_id",
                login_at="login_at",
                first_rendered_at="first_rendered_at",
                last_rendered_at="last_rendered_at",
                n_pages=pl.col("n_pages").fill_null(0),
                certain="certain",
                p_bound="p_bound",
                reason="reason",
            )
            .sort("login_at")
        )
        return self._fit(frame, _SESSION_COLUMNS)

    @property
    def fields(self) -> pl.DataFrame:
        """Fields of the account shown to another person, with when and how many viewers."""
        views = self._exposure.views.filter(pl.col("account_id") == self._account())
        frame = (
            views.explode("fields")
            .drop_nulls("fields")
            .group_by(field="fields")
            .agg(
                first_shown_at=pl.col("time").min(),
                last_shown_at=pl.col("time").max(),
                n_views=pl.len().cast(pl.Int64),
                n_viewers=pl.col("viewer").n_unique().cast(pl.Int64),
                certain=pl.col("certain").any(),
            )
            .sort("first_shown_at", "field")
        )
        return self._fit(frame, _FIELD_COLUMNS)

    @property
    def changes(self) -> pl.DataFrame:
        """Profile changes to the account from the window start on, with actor, before and after."""
        frame = self._exposure.changes.changes.filter(pl.col("account_id") == self._account())
        return self._fit(frame.select(list(CHANGE_COLUMNS)), CHANGE_COLUMNS)

    @property
    def restore(self) -> pl.DataFrame:
        """Restore values for fields another person changed, conflicts flagged."""
        return self._fit(self._restore_all.filter(pl.col("account_id") == self._account()), RESTORE_COLUMNS)

    def _refresh(self) -> None:
        if self._account() is None:
            self._w_summary.value = (
                "<p>The public audience sees aggregates only; there is no account to inspect.</p>"
                if not self.audience.sees_rows
                else "<p>Choose an account.</p>"
            )
            for w in (self._w_sessions, self._w_fields, self._w_changes, self._w_restore):
                w.value = ""
            if self.annotate:
                self.annotate.offer([])
            return
        sessions = self.sessions
        self._w_summary.value = (
            f"<p><strong>{self.value}</strong>: {sessions.height} session(s) bound to it, "
            f"{self.changes.height} change(s), {self.restore.height} field(s) to restore.</p>"
        )
        self._w_sessions.value = Table(sessions, caption="Sessions that rendered it")._repr_html_()
        self._w_fields.value = Table(self.fields, caption="Fields shown")._repr_html_()
        self._w_changes.value = Table(self.changes, caption="Changes, before and after")._repr_html_()
        self._w_restore.value = Table(self.restore, caption="Restore values")._repr_html_()
        if self.annotate:  # investigators only: keys in clear
            self.annotate.offer(
                [(f"account {self.value} (this one)", "account", str(self.value))]
                + [(f"session {s}", "session", str(s)) for s in sessions["session_id"].unique(maintain_order=True)]
                + [(f"change {c}", "profile_change", str(c)) for c in self.changes["change_id"]]
            )

    def _ipython_display_(self) -> None:
        import ipywidgets as widgets
        from IPython.display import display

        display(
            widgets.VBox(
                [self._w_account, self._w_summary, self._w_sessions, self._w_fields, self._w_changes, self._w_restore]
                + ([self.annotate.widget] if self.annotate else [])
            )
        )

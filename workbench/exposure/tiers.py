"""The exposure tiers as nested sets of people, each counted with honest bounds.

1. **Possibly affected**: logged in during the window.
2. **In a bound session**: an account bound into someone else's session (owners), or a
   person put into someone else's account (viewers); both sides are counted.
3. **Data shown to another person**: a page rendered the account to a viewer who is not
   its owner, with the fields each page type shows (the address fields hidden for
   protected identity). Co-applicants on a shown profile page are counted separately.
4. **Changed by another person**: a profile change saved by someone else.

Every count is ``Bounds(min, likely, max)``. ``min`` counts what the evidence proves,
``max`` adds everything the evidence cannot rule out, and ``likely`` adds each uncertain
person with the probability estimated in :mod:`workbench.exposure.binding`. On complete evidence
the three are equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from ..audience import Audience
from ..evidence import PII, PROFILE_FIELDS, page_fields
from ..queries import run
from ..suppression import THRESHOLD
from ..values import Bounds
from .binding import SessionBinding
from .changes import ChangeLog
from .shown import co_applicants_shown, pages_shown

if TYPE_CHECKING:
    from ..case import Case

__all__ = [
    "ACCOUNT_COLUMNS",
    "ADDRESS_FIELDS",
    "TIER_COLUMNS",
    "Exposure",
    "assess_exposure",
    "p_label",
    "shown_fields",
]

ADDRESS_FIELDS = ("address", "postal_code", "city")
"""Hidden on every page for members with protected identity."""

_FIELD_ORDER = {f: i for i, f in enumerate(PROFILE_FIELDS)}

TIER_COLUMNS: dict[str, PII] = {
    "tier": PII.NONE,
    "label": PII.NONE,
    "min": PII.NONE,
    "likely": PII.NONE,
    "max": PII.NONE,
    "widened_by": PII.NONE,
}


ACCOUNT_COLUMNS: dict[str, PII] = {
    "account_id": PII.DIRECT,
    "tier": PII.NONE,
    "certain": PII.NONE,
    "p_exposed": PII.NONE,
    "fields": PII.NONE,
    "first_shown_at": PII.NONE,
    "last_shown_at": PII.NONE,
    "n_viewers": PII.NONE,
    "viewers": PII.DIRECT,
    "n_possible_viewers": PII.NONE,
    "possible_viewers": PII.DIRECT,  # customer numbers, each with its probability
    "sessions": PII.DIRECT,  # session ids, joined
    "possible_sessions": PII.DIRECT,  # session ids, each with its probability
    "protected_identity": PII.NONE,
}
"""Tags of the :meth:`Exposure.accounts` and :meth:`Exposure.protected` frames."""


def shown_fields(path: str, protected: bool) -> list[str]:
    """Fields a page shows of an account, e.g. ``shown_fields("/mina-sidor/erbjudanden", True)`` -> name, applicant_id."""
    return [f for f in page_fields(path) if not (protected and f in ADDRESS_FIELDS)]


def p_label(key: str, p: str) -> pl.Expr:
    """Each ``key`` value with its probability, e.g. ``1104 (p 0.13)``; under 0.005 it reads ``p <0.01``, never 0."""
    cents = (pl.col(p) * 100).round(0, mode="half_away_from_zero").cast(pl.Int64)
    text = pl.format("{}.{}", cents // 100, (cents % 100).cast(pl.String).str.zfill(2))
    return pl.format("{} (p {})", pl.col(key), pl.when(pl.col(p) < 0.005).then(pl.lit("<0.01")).otherwise(text))


def _count(frame: pl.DataFrame, key: str, p: pl.Expr, proven: pl.Expr) -> Bounds:
    """Bounds on the number of distinct ``key`` values: proven / expected / possible."""
    if frame.height == 0:
        return Bounds(0, 0, 0)
    per = frame.group_by(key).agg(p=1 - (1 - p).product(), proven=proven.any())
    lo, hi = per.filter("proven").height, per.height
    likely = min(max(round(per["p"].sum()), lo), hi)
    return Bounds(lo, likely, hi)


def _reasons(frame: pl.DataFrame, key: str, proven: pl.Expr) -> str:
    """What widened a bound: the reasons of the links that are possible but not proven."""
    proven_keys = frame.filter(proven)[key].unique().implode()
    open_ = frame.filter(~pl.col(key).is_in(proven_keys) & pl.col("reason").is_not_null())
    if open_.height == 0:
        return ""
    counts = open_.group_by("reason").agg(n=pl.col(key).n_unique()).sort("n", "reason", descending=[True, False])
    return "; ".join(f"{r}: {n} possible" for r, n in counts.iter_rows())


@dataclass
class Exposure:
    """Tiers, fields, co-applicants and protected identity for one window; see the module doc.

    ``links``: the binding's (session, account) rows with ``protected_identity``.
    ``views``: rendering pages shown to a non-owner (or possibly so): session_id, time,
    path, viewer, account_id, p_bound (that this page showed the account), certain (the
    evidence proves this page showed it), fields.
    ``co_applicants``: one row per co-applicant shown or possibly shown.
    """

    binding: SessionBinding
    changes: ChangeLog
    tier1: pl.DataFrame
    subjects: pl.DataFrame
    links: pl.DataFrame
    views: pl.DataFrame
    co_applicants: pl.DataFrame

    def _exposed(self) -> pl.DataFrame:
        return self.links.filter(pl.col("p_render") > 0)

    def bounds(self) -> dict[str, Bounds]:
        """Every tier count by finding name, e.g. ``bounds()["accounts_exposed"]``."""
        links, exposed = self.links, self._exposed()
        certain = pl.col("certain")
        shown = certain & (pl.col("p_render") >= 1)
        sides = pl.concat(
            [
                links.select(person="account_id", p="p_bound", proven="certain"),
                links.select(person="applicant_id", p="p_bound", proven="certain"),
            ]
        )
        protected = exposed.filter("protected_identity")
        co = self.co_applicants
        by_others = self.changes.by_others
        unknown_actor = self.changes.in_window.filter(pl.col("actor_type") == "unknown")
        changed = by_others["account_id"].n_unique()
        changed_max = pl.concat([by_others["account_id"], unknown_actor["account_id"]]).n_unique()
        return {
            "people_possibly_affected": Bounds(self.tier1.height, self.tier1.height, self.tier1.height),
            "people_in_bound_sessions": _count(sides, "person", pl.col("p"), pl.col("proven")),
            "accounts_bound_to_others": _count(links, "account_id", pl.col("p_bound"), certain),
            "people_put_into_others_accounts": _count(links, "applicant_id", pl.col("p_bound"), certain),
            "accounts_exposed": _count(exposed, "account_id", pl.col("p_bound") * pl.col("p_render"), shown),
            "protected_identity_exposed": _count(
                protected, "account_id", pl.col("p_bound") * pl.col("p_render"), shown
            ),
            "co_applicants_exposed": _count(co, "co_applicant_personnummer", pl.col("p"), pl.col("proven")),
            "accounts_changed_by_others": Bounds(changed, changed, changed_max),
            "pages_shown_to_others": _count(
                self.views.with_columns(page=pl.format("{}|{}|{}", "session_id", "time", "path")),
                "page",
                pl.col("p_bound"),
                pl.col("certain"),
            ),
        }

    def tiers(self) -> pl.DataFrame:
        """The nested tiers as rows: tier, label, min, likely, max, widened_by."""
        b = self.bounds()
        exposed = self._exposed()
        shown = pl.col("certain") & (pl.col("p_render") >= 1)
        rows = [
            ("1", "logged in during the window", "people_possibly_affected", ""),
            (
                "2",
                "in a session bound to another's account (either side)",
                "people_in_bound_sessions",
                _reasons(self.links, "session_id", pl.col("certain")),
            ),
            (
                "2a",
                "accounts bound into someone else's session",
                "accounts_bound_to_others",
                _reasons(self.links, "account_id", pl.col("certain")),
            ),
            (
                "2b",
                "people put into someone else's account",
                "people_put_into_others_accounts",
                _reasons(self.links, "applicant_id", pl.col("certain")),
            ),
            (
                "3",
                "accounts whose data was shown to another person",
                "accounts_exposed",
                _reasons(exposed, "account_id", shown),
            ),
            (
                "3c",
                "co-applicants shown on an exposed profile page",
                "co_applicants_exposed",
                _reasons(self.co_applicants, "co_applicant_personnummer", pl.col("proven")),
            ),
            (
                "4",
                "accounts changed by another person",
                "accounts_changed_by_others",
                "changes whose session has no login"
                if b["accounts_changed_by_others"].max > b["accounts_changed_by_others"].min
                else "",
            ),
        ]
        return pl.DataFrame(
            [(t, label, b[name].min, b[name].likely, b[name].max, why) for t, label, name, why in rows],
            schema={
                "tier": pl.String,
                "label": pl.String,
                "min": pl.Int64,
                "likely": pl.Int64,
                "max": pl.Int64,
                "widened_by": pl.String,
            },
            orient="row",
        )

    def accounts(self) -> pl.DataFrame:
        """One row per account bound (or possibly bound) to another person's session, with its tier and what was shown.

        Columns: account_id, tier (2, 3 or 4), certain, p_exposed, fields, first_shown_at,
        last_shown_at, n_viewers, viewers, n_possible_viewers, possible_viewers, sessions,
        possible_sessions, protected_identity. ``viewers`` and ``sessions`` are the ones the
        evidence proves; ``possible_viewers`` and ``possible_sessions`` those it cannot rule
        out, each with the probability that it was bound to the account (``1104 (p 0.13)``).
        """
        links = self.links
        proven_pairs = links.filter("certain").select("account_id", "applicant_id").unique()
        possible = (
            links.filter(~pl.col("certain"))
            .join(proven_pairs, on=["account_id", "applicant_id"], how="anti")
            .group_by("account_id", "applicant_id")
            .agg(p=1 - (1 - pl.col("p_bound")).product())
            .sort("account_id", "applicant_id")
            .group_by("account_id", maintain_order=True)
            .agg(
                n_possible_viewers=pl.len().cast(pl.Int64),
                possible_viewers=p_label("applicant_id", "p").str.join(", "),
            )
        )
        seen = self.views.filter("certain")
        fields = (
            seen.explode("fields")
            .group_by("account_id")
            .agg(
                fields=pl.col("fields")
                .drop_nulls()
                .unique()
                .sort_by(pl.col("fields").drop_nulls().unique().replace_strict(_FIELD_ORDER, default=99))
                .str.join(", "),
                first_shown_at=pl.col("time").min(),
                last_shown_at=pl.col("time").max(),
            )
        )
        changed = self.changes.by_others["account_id"].unique().implode()
        out = (
            links.group_by("account_id")
            .agg(
                certain=pl.col("certain").any(),
                p_bound=1 - (1 - pl.col("p_bound")).product(),
                p_exposed=1 - (1 - pl.col("p_bound") * pl.col("p_render")).product(),
                shown=(pl.col("certain") & (pl.col("p_render") >= 1)).any(),
                n_viewers=pl.col("applicant_id").filter("certain").n_unique().cast(pl.Int64),
                viewers=pl.col("applicant_id").filter("certain").unique().sort().cast(pl.String).str.join(" "),
                sessions=pl.col("session_id").filter("certain").unique().sort().str.join(" "),
                possible_sessions=p_label("session_id", "p_bound")
                .filter(~pl.col("certain"))
                .sort_by(pl.col("session_id").filter(~pl.col("certain")))
                .str.join(", "),
                protected_identity=pl.col("protected_identity").first(),
            )
            .join(possible, on="account_id", how="left")
            .join(fields, on="account_id", how="left")
            .with_columns(
                pl.col("n_possible_viewers").fill_null(0),
                pl.col("viewers", "sessions", "possible_sessions").replace("", None),
                tier=pl.when(pl.col("account_id").is_in(changed))
                .then(4)
                .when(pl.col("p_exposed") > 0)
                .then(3)
                .otherwise(2)
                .cast(pl.Int64),
            )
        )
        return out.select(
            "account_id",
            "tier",
            "certain",
            "p_exposed",
            "fields",
            "first_shown_at",
            "last_shown_at",
            "n_viewers",
            "viewers",
            "n_possible_viewers",
            "possible_viewers",
            "sessions",
            "possible_sessions",
            "protected_identity",
        ).sort("tier", "account_id", descending=[True, False])

    def fields(self, audience: str = "investigator") -> pl.DataFrame:
        """Accounts per field shown to another person: field, n_accounts (proven), n_accounts_max.

        The address fields are hidden on the pages of members with protected identity, so their
        counts fall short of the other fields' by protected accounts. For the public, where the
        protected accounts shown a page that would otherwise show their address number 1 to 4
        (their count is published as 1–4, docs/disclosure.md), the address fields' counts of that
        column are withheld (null): with them, a difference of two bars would give the number.
        """

        def per_field(views: pl.DataFrame, name: str) -> pl.DataFrame:
            return (
                views.explode("fields")
                .drop_nulls("fields")
                .group_by(field="fields")
                .agg(pl.col("account_id").n_unique().alias(name))
            )

        grid = pl.DataFrame({"field": list(PROFILE_FIELDS)})
        frame = (
            grid.join(per_field(self.views.filter("certain"), "n_accounts"), on="field", how="left")
            .join(per_field(self.views, "n_accounts_max"), on="field", how="left")
            .with_columns(pl.col("n_accounts", "n_accounts_max").fill_null(0).cast(pl.Int64))
            .sort(pl.col("field").replace_strict(_FIELD_ORDER, return_dtype=pl.Int64))
        )
        if Audience.parse(audience) is not Audience.PUBLIC:
            return frame
        paths = self.views["path"].unique().to_list()
        address_pages = [p for p in paths if set(page_fields(p)) & set(ADDRESS_FIELDS)]
        hidden = self.views.filter(pl.col("protected_identity") & pl.col("path").is_in(address_pages))
        for column, views in (("n_accounts", hidden.filter("certain")), ("n_accounts_max", hidden)):
            if 0 < views["account_id"].n_unique() < THRESHOLD:
                withheld = pl.when(pl.col("field").is_in(ADDRESS_FIELDS)).then(None).otherwise(pl.col(column))
                frame = frame.with_columns(withheld.alias(column))
        return frame

    def fields_by_page(self) -> pl.DataFrame:
        """Pages shown to another person by page type: page, fields, n_views, n_accounts (proven views)."""
        seen = self.views.filter("certain").with_columns(
            page=pl.col("path").str.replace_all(r"/\d+(/|$)", "/{listing_id}$1")
        )
        return (
            seen.group_by("page")
            .agg(
                fields=pl.col("fields").list.join(", ").sort_by(pl.col("fields").list.len(), descending=True).first(),
                n_views=pl.len().cast(pl.Int64),
                n_accounts=pl.col("account_id").n_unique().cast(pl.Int64),
            )
            .sort("n_views", "page", descending=[True, False])
        )

    def protected(self) -> pl.DataFrame:
        """Protected-identity members whose data was (or may have been) shown: fields, when, distinct viewers.

        ``protected_identity`` (true on every row) stays, so that their number is a breakdown
        by it and the public sees it as the findings record it (1-4, docs/disclosure.md).
        """
        return self.accounts().filter("protected_identity")


def _with_fields(views: pl.DataFrame) -> pl.DataFrame:
    """``views`` with ``fields``: :func:`shown_fields` once per distinct (path, protected_identity), not per page."""
    kinds = views.select("path", "protected_identity").unique()
    fields = [shown_fields(path, protected) for path, protected in kinds.iter_rows()]
    kinds = kinds.with_columns(fields=pl.Series(fields, dtype=pl.List(pl.String)))
    return views.join(kinds, on=["path", "protected_identity"], how="left", nulls_equal=True, maintain_order="left")


def assess_exposure(case: Case, binding: SessionBinding, changes: ChangeLog) -> Exposure:
    """Tiers 1–4 for the binding's window, with fields, co-applicants and protected identity."""
    params = {"start": binding.start, "end": binding.end}
    tier1 = run("possibly_affected", case, **params)
    subjects = run("exposure_subjects", case, **params)
    protected = subjects.select(account_id="applicant_id", protected_identity="protected_identity")
    links = binding.links.join(protected, on="account_id", how="left").with_columns(
        pl.col("protected_identity").fill_null(False)
    )
    views = _with_fields(pages_shown(binding, links))
    co_applicants = co_applicants_shown(links, views, changes, subjects)
    return Exposure(binding, changes, tier1, subjects, links, views, co_applicants)

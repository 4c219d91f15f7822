"""Who to inform, and what to tell them: the notification list and a GDPR Art. 33(3) summary.

One row per person: account owners whose data was shown or changed, co-applicants shown
on someone's profile page, and people who unknowingly acted in someone else's account.
Each row carries the highest tier, what was exposed or changed, the evidence (sessions and
times) and a recommended message category. ``sessions`` are the sessions the evidence proves;
``possible_sessions`` those it cannot rule out, each with the probability that it involved
the person (``d4c3f6a5b7c8d9e0 (p 0.13)``), so a possible session is never read as proven.
The e-mail address is the one the member had before anyone else changed it: the current one
may be the stranger's.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ..audience import Audience
from ..evidence import PII
from .allocation_check import AllocationCheck
from .changes import ChangeLog
from .tiers import Exposure, p_label

__all__ = ["ART33_TEMPLATE", "MESSAGE_CATEGORIES", "NOTICE_COLUMNS", "Notifications", "notification_list"]

# Most urgent first: a person gets the first category that applies.
MESSAGE_CATEGORIES: dict[str, str] = {
    "protected_identity": "Protected identity: contact in person through the secure channel; the address was not shown",
    "changed_by_other": "Your data was changed by another person: check it; we restore what you did not change",
    "interests_changed": "Your interests in apartments were registered or withdrawn by another person",
    "identity_data_shown": "Your personnummer and contact data were shown to another person",
    "co_applicant_shown": "You were shown as co-applicant on a profile page another person saw",
    "acted_in_other_account": "You were logged in to another member's account and your changes went there",
    "name_shown": "Your name and customer number were shown to another person",
    "account_bound": "Your account was open in another person's session",
}

NOTICE_COLUMNS: dict[str, PII] = {
    "applicant_id": PII.DIRECT,
    "personnummer": PII.DIRECT,
    "name": PII.DIRECT,
    "email": PII.DIRECT,
    "tier": PII.NONE,
    "roles": PII.NONE,
    "exposed": PII.NONE,
    "changed": PII.NONE,
    "interests": PII.NONE,
    "acted": PII.NONE,
    "sessions": PII.DIRECT,  # session ids the evidence proves, joined
    "possible_sessions": PII.DIRECT,  # session ids it cannot rule out, each with its probability
    "first_at": PII.NONE,
    "last_at": PII.NONE,
    "certainty": PII.NONE,
    "p": PII.NONE,
    "protected_identity": PII.NONE,
    "message_category": PII.NONE,
}

ART33_TEMPLATE = """\
**(a) Nature of the breach.** A release deployed at {deployed_at} bound some web sessions to
the account of another member who was logged in at the same moment, from the login or later
in the session, until login was disabled at
{login_disabled_at} and the fix deployed at {fix_deployed_at}. Personal data was shown to,
and changed by, people who were not its owners.

**Categories and approximate number of data subjects.** Members whose data was shown to
another person: {accounts_exposed}, of them {protected_identity_exposed} with protected
identity; co-applicants shown on those pages: {co_applicants_exposed}; members who were put
into someone else's account: {people_put_into_others_accounts}. Members who logged in during
the window (the population the organisation called possibly affected): {people_possibly_affected}.

**Categories and approximate number of records.** Name, customer number and, on the profile
page, personnummer, address, e-mail, phone, employer, income and co-applicant; pages
rendered to a non-owner: {pages_shown_to_others}; changes to profile fields by another person:
{field_changes_by_others}; interests registered or withdrawn on another's account:
{allocation_affected}.

**(b) Contact point.** Given by the organisation in its own notification; this analysis does not name one.

**(c) Likely consequences.** Identity data (personnummer with address and contact data) in
the hands of strangers; wrong contact data and income on {accounts_changed_by_others}
accounts until restored, which can misdirect offers or make a member fail an income rule;
apartment queues joined or left in another member's name.

**(d) Measures taken and proposed.** Login disabled and the fault fixed (times above);
{field_changes_to_restore} changed fields to restore, {restore_conflicts} to review with the owner
first and {fields_restored_by_owner} already put back by their owner; {notifications} people to
inform by the categories listed.
"""


@dataclass
class Notifications:
    """The notification list (``people``) and its counts by category.

    ``protected_folded``: each protected-identity member is counted under the category their
    exposure gives otherwise (see :meth:`for_audience`), and no category is theirs.
    """

    people: pl.DataFrame
    protected_folded: bool = False

    def for_audience(self, audience: str) -> Notifications:
        """The list as ``audience`` may count it by category.

        The public's count of protected-identity members whose data was shown is a cell of a
        breakdown (shown as 1-4, docs/disclosure.md); a table of categories with its own row
        for them would state it exactly beside the total of the list. So for the public each
        such member is counted under the category their exposure gives without protected
        identity, and the category itself is left out. Other audiences get the list unchanged.
        """
        if Audience.parse(audience) is not Audience.PUBLIC:
            return self
        return Notifications(self.people.with_columns(message_category=_category(protected=False)), True)

    def by_category(self) -> pl.DataFrame:
        """People per message category and certainty: message_category, certainty, n_people (every category)."""
        categories = [c for c in MESSAGE_CATEGORIES if not (self.protected_folded and c == "protected_identity")]
        grid = pl.DataFrame({"message_category": categories}).join(
            pl.DataFrame({"certainty": ["certain", "possible"]}), how="cross"
        )
        counts = self.people.group_by("message_category", "certainty").agg(n_people=pl.len())
        order = {c: i for i, c in enumerate(MESSAGE_CATEGORIES)}
        return (
            grid.join(counts, on=["message_category", "certainty"], how="left")
            .with_columns(pl.col("n_people").fill_null(0).cast(pl.Int64))
            .sort(pl.col("message_category").replace_strict(order, return_dtype=pl.Int64), "certainty")
        )


def _category(*, protected: bool) -> pl.Expr:
    """The most urgent message category of a row of the list; ``protected``: protected identity has its own."""
    roles = pl.col("roles")
    exposed = pl.col("exposed").is_not_null()
    first = pl.when(pl.col("protected_identity") & exposed if protected else pl.lit(False))
    return (
        first.then(pl.lit("protected_identity"))
        .when(roles.str.contains("account owner") & pl.col("changed").is_not_null())
        .then(pl.lit("changed_by_other"))
        .when(roles.str.contains("account owner") & pl.col("interests").is_not_null())
        .then(pl.lit("interests_changed"))
        .when(pl.col("exposed").str.contains("personnummer") & roles.str.contains("owner"))
        .then(pl.lit("identity_data_shown"))
        .when(roles.str.contains("co-applicant"))
        .then(pl.lit("co_applicant_shown"))
        .when(roles.str.contains("acted"))
        .then(pl.lit("acted_in_other_account"))
        .when(exposed)
        .then(pl.lit("name_shown"))
        .otherwise(pl.lit("account_bound"))
    )


def _joined(col: str) -> pl.Expr:
    return pl.col(col).drop_nulls().unique().sort().str.join(", ")


def notification_list(exposure: Exposure, changes: ChangeLog, allocation: AllocationCheck) -> Notifications:
    """Everyone to inform, one row per person (merged by personnummer), most urgent category first."""
    subjects = exposure.subjects
    accounts = exposure.accounts()
    changed = changes.by_others.group_by("account_id").agg(changed=_joined("field"))
    acted = changes.by_others.group_by(applicant_id="actor_applicant_id").agg(
        acted_changes=pl.format("changed {} in another member's account", "field").unique().sort().str.join("; ")
    )
    touched = allocation.touched
    interests = touched.group_by("account_id").agg(
        interests=pl.format("{} {}", "kind", "listing_id").unique().sort().str.join(", ")
    )
    acted_interest = touched.group_by(applicant_id="owner_applicant_id").agg(
        acted_interests=pl.format("{} {} in another member's account", "kind", "listing_id")
        .unique()
        .sort()
        .str.join(", ")
    )
    owners = (
        accounts.join(changed, on="account_id", how="left")
        .join(interests, on="account_id", how="left")
        .select(
            applicant_id="account_id",
            tier="tier",
            roles=pl.lit("account owner"),
            exposed="fields",
            changed="changed",
            interests="interests",
            acted=pl.lit(None, pl.String),
            sessions="sessions",
            possible_sessions="possible_sessions",
            first_at="first_shown_at",
            last_at="last_shown_at",
            certain="certain",
            p="p_exposed",
            protected_identity="protected_identity",
        )
    )
    editors = (
        acted.join(acted_interest, on="applicant_id", how="full", coalesce=True)
        .join(
            exposure.links.filter("certain")
            .group_by("applicant_id")
            .agg(sessions=_joined("session_id"), first_at=pl.col("login_at").min(), last_at=pl.col("login_at").max()),
            on="applicant_id",
            how="left",
        )
        .select(
            "applicant_id",
            tier=pl.lit(2, pl.Int64),
            roles=pl.lit("acted in another's account"),
            exposed=pl.lit(None, pl.String),
            changed=pl.lit(None, pl.String),
            interests=pl.lit(None, pl.String),
            acted=pl.concat_str("acted_changes", "acted_interests", separator="; ", ignore_nulls=True),
            sessions="sessions",
            possible_sessions=pl.lit(None, pl.String),
            first_at="first_at",
            last_at="last_at",
            certain=pl.lit(True),
            p=pl.lit(1.0),
            protected_identity=pl.lit(False),
        )
    )
    # Write to the address the member had before anyone else changed it, not to the stranger's.
    original_email = (
        changes.restore_list()
        .filter(pl.col("field") == "email")
        .sort("changed_at")
        .group_by("account_id")
        .agg(original=pl.col("restore_value").first())
        .rename({"account_id": "applicant_id"})
    )
    contact = (
        subjects.select("applicant_id", "personnummer", "name", "email")
        .join(original_email, on="applicant_id", how="left")
        .with_columns(email=pl.coalesce("original", "email"))
        .drop("original")
    )
    members = pl.concat([owners, editors]).join(contact, on="applicant_id", how="left")
    # A session that showed a co-applicant is proven or possible, per row; a possible one once, with its p.
    co_rows = exposure.co_applicants.with_columns(
        p_session=1 - (1 - pl.col("p")).product().over("co_applicant_personnummer", "session_id"),
        proven_session=pl.col("proven").any().over("co_applicant_personnummer", "session_id"),
    )
    co = (
        co_rows.group_by(personnummer="co_applicant_personnummer")
        .agg(
            name=pl.col("co_applicant_name").last(),
            sessions=pl.col("session_id").filter("proven_session").unique().sort().str.join(", "),
            possible_sessions=p_label("session_id", "p_session")
            .filter(~pl.col("proven_session"))
            .unique()
            .sort()
            .str.join(", "),
            exposed=pl.lit("name, personnummer (as co-applicant)"),
            first_at=pl.col("at").min(),
            last_at=pl.col("at").max(),
            certain=pl.col("proven").any(),
            p=1 - (1 - pl.col("p")).product(),
        )
        .join(subjects.select("applicant_id", "personnummer", "email"), on="personnummer", how="left")
        .select(
            "applicant_id",
            "personnummer",
            "name",
            "email",
            tier=pl.lit(3, pl.Int64),
            roles=pl.lit("co-applicant"),
            exposed="exposed",
            changed=pl.lit(None, pl.String),
            interests=pl.lit(None, pl.String),
            acted=pl.lit(None, pl.String),
            sessions="sessions",
            possible_sessions="possible_sessions",
            first_at="first_at",
            last_at="last_at",
            certain="certain",
            p="p",
            protected_identity=pl.lit(False),
        )
    )
    rows = pl.concat([members.select(co.columns), co])
    people = (
        rows.group_by("personnummer")
        .agg(
            applicant_id=pl.col("applicant_id").drop_nulls().first(),
            name=pl.col("name").drop_nulls().first(),
            email=pl.col("email").drop_nulls().first(),
            tier=pl.col("tier").max(),
            roles=_joined("roles"),
            exposed=pl.col("exposed").drop_nulls().str.join("; "),
            changed=pl.col("changed").drop_nulls().str.join("; "),
            interests=pl.col("interests").drop_nulls().str.join("; "),
            acted=pl.col("acted").drop_nulls().str.join("; "),
            sessions=pl.col("sessions").replace("", None).drop_nulls().str.join(" "),
            possible_sessions=pl.col("possible_sessions").replace("", None).drop_nulls().str.join(", "),
            first_at=pl.col("first_at").min(),
            last_at=pl.col("last_at").max(),
            certain=pl.col("certain").any(),
            p=pl.col("p").max(),
            protected_identity=pl.col("protected_identity").any(),
        )
        .with_columns(
            pl.col("exposed", "changed", "interests", "acted", "sessions", "possible_sessions").replace("", None)
        )
    )
    people = people.with_columns(
        message_category=_category(protected=True),
        certainty=pl.when("certain").then(pl.lit("certain")).otherwise(pl.lit("possible")),
    )
    order = {c: i for i, c in enumerate(MESSAGE_CATEGORIES)}
    people = people.sort(
        pl.col("certainty"),
        pl.col("message_category").replace_strict(order, return_dtype=pl.Int64),
        pl.col("applicant_id"),
        pl.col("personnummer"),
        nulls_last=True,
    )
    return Notifications(people.select(list(NOTICE_COLUMNS)))

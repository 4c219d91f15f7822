"""The evidence tables, each declared once on :data:`metadata` with its columns' personal-data tags.

Every column carries ``info`` with its personal-data class (:class:`~workbench.evidence.PII`),
a one-line meaning and an example value; a column restricted to an enumeration names it
(``info["enum"]``, one of :data:`~workbench.evidence.ENUMS`). :data:`TABLES` lists the
tables in declaration order, the order ``docs/evidence-format.md`` documents them in.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from .vocabulary import ENUMS, PII

__all__ = ["TABLES", "metadata"]

metadata = sa.MetaData()
_UTC_EXAMPLE = datetime(2013, 12, 13, 17, 42, 5, tzinfo=UTC)


def _col(name, type_, doc, example, pii=PII.NONE, *, nullable=True, primary_key=False, enum=None):
    info = {"pii": pii, "doc": doc, "example": example}
    if enum is not None:
        info["enum"] = enum
        type_ = sa.Enum(*ENUMS[enum], name=enum, native_enum=False, create_constraint=True, length=32)
    return sa.Column(
        name,
        type_,
        nullable=nullable and not primary_key,
        primary_key=primary_key,
        autoincrement=False,
        info=info,
    )


TS = sa.DateTime(timezone=True)
ID = sa.BigInteger()


def _t(name: str, doc: str, *columns: sa.Column) -> sa.Table:
    return sa.Table(name, metadata, *columns, info={"doc": doc})


_t(
    "applicants",
    "Queue members as exported after the incident: one row per customer.",
    _col(
        "applicant_id",
        ID,
        "Customer number; the member's account has the same id.",
        1048213,
        PII.DIRECT,
        primary_key=True,
    ),
    _col(
        "personnummer",
        sa.String(13),
        (
            "Swedish personal identity number as the organisation holds it, normally YYYYMMDD-NNNC. "
            "Loaded as given: neither its form nor its check digit is checked, so a samordningsnummer "
            "or a mistyped number stays as the organisation recorded it."
        ),
        "19850412-2383",
        PII.DIRECT,
        nullable=False,
    ),
    _col("name", sa.String(120), "Full name.", "Anna Lindqvist", PII.DIRECT, nullable=False),
    _col(
        "address",
        sa.String(120),
        "Street address (hidden on pages for protected identity).",
        "Storgatan 12",
        PII.DIRECT,
    ),
    _col("postal_code", sa.String(6), "Postal code, 'NNN NN'.", "118 25", PII.QUASI),
    _col("city", sa.String(60), "Postal town.", "Stockholm", PII.QUASI),
    _col("email", sa.String(120), "E-mail address.", "anna.lindqvist.48213@example.com", PII.DIRECT),
    _col("phone", sa.String(20), "Phone number.", "070-123 45 67", PII.DIRECT),
    _col(
        "employer",
        sa.String(120),
        "Employer as stated by the member; null when none.",
        "Lindqvist & Berg AB",
        PII.QUASI,
    ),
    _col("annual_income", ID, "Stated annual income in SEK.", 384000, PII.QUASI),
    _col("co_applicant_name", sa.String(120), "Co-applicant's name, if any.", "Erik Lindqvist", PII.DIRECT),
    _col(
        "co_applicant_personnummer", sa.String(13), "Co-applicant's personnummer, if any.", "19830102-1234", PII.DIRECT
    ),
    _col("student", sa.Boolean(), "Registered as a student (may apply for student listings).", False, nullable=False),
    _col(
        "protected_identity", sa.Boolean(), "Has protected identity (skyddade personuppgifter).", False, nullable=False
    ),
    _col("queue_start", sa.Date(), "The date queue time counts from.", date(2004, 3, 1), nullable=False),
    _col("registered_at", TS, "When the customer record was created.", _UTC_EXAMPLE, nullable=False),
    _col("status", sa.String(32), "Membership status.", "active", nullable=False, enum="applicant_status"),
    _col(
        "created_by_handler_id",
        ID,
        "Caseworker who created the profile; null when the member registered themself.",
        None,
        PII.DIRECT,
    ),
)

_t(
    "fees",
    "Queue fee payments: one row per applicant and paid year. A missing year is unpaid.",
    _col("applicant_id", ID, "Customer number of the payer.", 1048213, PII.DIRECT, primary_key=True),
    _col("year", ID, "Fee year.", 2013, primary_key=True),
    _col("amount", ID, "Amount paid in SEK.", 200, nullable=False),
    _col("paid_at", TS, "When the payment was registered.", _UTC_EXAMPLE, nullable=False),
)

_t(
    "deployments",
    "Releases of the web system.",
    _col("time", TS, "When the release went live.", _UTC_EXAMPLE, primary_key=True),
    _col("version", sa.String(32), "Release version.", "4.12.0", nullable=False),
    _col("description", sa.Text(), "Release note.", "Ny inloggning och sessionshantering"),
)

_t(
    "logins",
    "Successful logins to Mina sidor, one per web session.",
    _col("time", TS, "When the member authenticated.", _UTC_EXAMPLE, nullable=False),
    _col("session_id", sa.String(40), "Session cookie value.", "9f2c4e1a7b3d5f60", PII.DIRECT, primary_key=True),
    _col("applicant_id", ID, "The authenticated member.", 1048213, PII.DIRECT, nullable=False),
    _col("method", sa.String(32), "Authentication method.", "bankid", nullable=False, enum="login_method"),
    _col("ip", sa.String(45), "Client IP address.", "83.250.14.7", PII.DIRECT),
    _col(
        "user_agent",
        sa.String(300),
        "Browser user agent.",
        "Mozilla/5.0 (Windows NT 6.1; rv:26.0) Gecko/20100101 Firefox/26.0",
        PII.QUASI,
    ),
)

_t(
    "logouts",
    "Ends of web sessions: an explicit logout or an idle timeout.",
    _col("time", TS, "When the session ended.", _UTC_EXAMPLE, nullable=False),
    _col("session_id", sa.String(40), "Session cookie value.", "9f2c4e1a7b3d5f60", PII.DIRECT, primary_key=True),
    _col("reason", sa.String(32), "How the session ended.", "user", nullable=False, enum="logout_reason"),
)

_t(
    "page_views",
    "Web requests made in a session, with the account whose data the page rendered.",
    _col("time", TS, "When the page was served.", _UTC_EXAMPLE, nullable=False),
    _col("session_id", sa.String(40), "Session cookie value.", "9f2c4e1a7b3d5f60", PII.DIRECT, nullable=False),
    _col("ip", sa.String(45), "Client IP address.", "83.250.14.7", PII.DIRECT),
    _col(
        "path",
        sa.String(200),
        "Request path. Each session's log is expected to hold its login page `/logga-in` and, when "
        "the member logged out, the logout page `/logga-ut`: a session without them counts as one "
        "whose pages are incomplete (notebook 02 then cannot rule out what it showed).",
        "/mina-sidor/profil",
        nullable=False,
    ),
    _col("status", ID, "HTTP status.", 200, nullable=False),
    _col(
        "account_id", ID, "Account whose data the page rendered; null for pages that render none.", 1048213, PII.DIRECT
    ),
)

_t(
    "profile_changes",
    "Changes members made to profile data on the web.",
    _col("change_id", ID, "Change number.", 5521, primary_key=True),
    _col("time", TS, "When the change was saved.", _UTC_EXAMPLE, nullable=False),
    _col("session_id", sa.String(40), "Session that made the change.", "9f2c4e1a7b3d5f60", PII.DIRECT, nullable=False),
    _col("account_id", ID, "Account whose data was changed.", 1048213, PII.DIRECT, nullable=False),
    _col("field", sa.String(32), "Profile field changed.", "phone", nullable=False, enum="profile_field"),
    _col("old_value", sa.Text(), "Value before the change.", "070-123 45 67", PII.FREE_TEXT),
    _col("new_value", sa.Text(), "Value after the change.", "073-987 65 43", PII.FREE_TEXT),
)

_t(
    "support_messages",
    "Messages to customer support (e-mail and web form), Swedish and English.",
    _col(
        "message_id",
        sa.String(120),
        "Message-ID of the message; it often embeds the sender's address.",
        "<20131214091502.4411@mail.example>",
        PII.DIRECT,
        primary_key=True,
    ),
    _col("received_at", TS, "Receipt time by the mail server's clock.", _UTC_EXAMPLE, nullable=False),
    _col("channel", sa.String(32), "How the message arrived.", "email", nullable=False, enum="message_channel"),
    _col("sender_applicant_id", ID, "Customer number of the sender, if known.", 1048213, PII.DIRECT),
    _col("sender_address", sa.String(120), "Sender's e-mail address.", "anna.lindqvist.48213@example.com", PII.DIRECT),
    _col("subject", sa.Text(), "Subject line.", "Fel konto?", PII.FREE_TEXT),
    _col("body", sa.Text(), "Message text.", "Jag loggade in och såg någon annans uppgifter.", PII.FREE_TEXT),
)

_t(
    "incident_actions",
    "What the organisation did about the incident, and when.",
    _col("time", TS, "When the action took effect.", _UTC_EXAMPLE, primary_key=True),
    _col("action", sa.String(32), "What was done.", "login_disabled", primary_key=True, enum="incident_action"),
    _col("description", sa.Text(), "Note from the incident log.", "Inloggningen stängd"),
)

_t(
    "listings",
    "Apartments mediated through the queue.",
    _col("listing_id", ID, "Listing number.", 210345, primary_key=True),
    _col("landlord", sa.String(120), "Landlord.", "Stockholmshem", nullable=False),
    _col("district", sa.String(60), "District.", "Södermalm", nullable=False),
    _col("rooms", ID, "Number of rooms.", 2, nullable=False),
    _col("rent", ID, "Monthly rent in SEK.", 7450, nullable=False),
    _col("kind", sa.String(32), "Kind of listing.", "regular", nullable=False, enum="listing_kind"),
    _col("published_at", TS, "When the listing opened for interest.", _UTC_EXAMPLE, nullable=False),
    _col("closes_at", TS, "When registration of interest closed.", _UTC_EXAMPLE, nullable=False),
    _col(
        "income_rule",
        sa.String(32),
        "Landlord's income requirement: monthly income at least 2x or 3x the rent.",
        "3x_rent",
        nullable=False,
        enum="income_rule",
    ),
)

_t(
    "interests",
    "Registrations of interest in a listing.",
    _col("listing_id", ID, "Listing.", 210345, primary_key=True),
    _col("applicant_id", ID, "Applicant.", 1048213, PII.DIRECT, primary_key=True),
    _col("registered_at", TS, "When the interest was registered.", _UTC_EXAMPLE, nullable=False),
    _col("withdrawn_at", TS, "When it was withdrawn (by the applicant, or by the system after a contract).", None),
    _col(
        "session_id",
        sa.String(40),
        "Web session that registered it; null when not made on the web or outside the logged period.",
        None,
        PII.DIRECT,
    ),
)

_t(
    "offers",
    "Offers made for a listing, in the order they were made.",
    _col("listing_id", ID, "Listing.", 210345, primary_key=True),
    _col("applicant_id", ID, "Applicant offered the apartment.", 1048213, PII.DIRECT, primary_key=True),
    _col("offered_at", TS, "When the offer was made.", _UTC_EXAMPLE, nullable=False),
    _col("handler_id", ID, "Caseworker who made the offer.", 7, PII.DIRECT, nullable=False),
    _col("response", sa.String(32), "Outcome of the offer.", "declined", nullable=False, enum="offer_response"),
    _col("responded_at", TS, "When the response was recorded.", _UTC_EXAMPLE),
    _col("response_session_id", sa.String(40), "Web session that answered, if answered on the web.", None, PII.DIRECT),
    _col(
        "reason",
        sa.Text(),
        "Caseworker's note: disqualification ground, priority decision reference.",
        "income below 3x rent",
        PII.FREE_TEXT,
    ),
)

_t(
    "contracts",
    "Signed leases resulting from an allocation.",
    _col("listing_id", ID, "Listing.", 210345, primary_key=True),
    _col("applicant_id", ID, "New tenant.", 1048213, PII.DIRECT, nullable=False),
    _col("signed_at", TS, "When the contract was signed.", _UTC_EXAMPLE, nullable=False),
    _col("handler_id", ID, "Caseworker who handled the allocation.", 7, PII.DIRECT, nullable=False),
)

_t(
    "handlers",
    "Caseworkers (handläggare).",
    _col("handler_id", ID, "Caseworker number.", 7, PII.DIRECT, primary_key=True),
    _col("name", sa.String(120), "Caseworker's name.", "Karin Nyström", PII.DIRECT, nullable=False),
    _col("team", sa.String(60), "Team (district group).", "Innerstaden", nullable=False),
    _col("active_from", sa.Date(), "First day of employment.", date(2008, 9, 1), nullable=False),
    _col("active_to", sa.Date(), "Last day of employment; null while employed.", None),
)

_t(
    "handler_actions",
    "Back-office audit log of caseworker actions.",
    _col("action_id", ID, "Audit entry number.", 88123, primary_key=True),
    _col("time", TS, "When the action was taken.", _UTC_EXAMPLE, nullable=False),
    _col("handler_id", ID, "Caseworker.", 7, PII.DIRECT, nullable=False),
    _col("action", sa.String(32), "What was done.", "queue_date_change", nullable=False, enum="handler_action"),
    _col("applicant_id", ID, "Applicant concerned, if any.", 1048213, PII.DIRECT),
    _col("listing_id", ID, "Listing concerned, if any.", 210345),
    _col("old_value", sa.Text(), "Value before (e.g. the old queue date).", "2009-05-01", PII.FREE_TEXT),
    _col("new_value", sa.Text(), "Value after, or a decision reference.", "2003-05-01", PII.FREE_TEXT),
    _col("ip", sa.String(45), "Workstation IP address.", "10.20.3.41", PII.DIRECT),
)

TABLES: tuple[str, ...] = tuple(metadata.tables)

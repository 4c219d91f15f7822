"""Raw forms of the evidence: files accepted in place of a table, and what each holds."""

from __future__ import annotations

__all__ = ["RAW_FORMS", "RAW_FORM_DOCS"]

# Raw forms accepted in place of a table (DESIGN §3), by file name: the web server's access
# log and the support mailbox. The generator writes them to DIR/raw/; ingest reads them.
RAW_FORMS: dict[str, str] = {"access.log": "page_views", "support.mbox": "support_messages"}
RAW_FORM_DOCS: dict[str, str] = {  # what each raw form holds and how it maps to its table
    "access.log": (
        "Web-server access log, one request per line: Apache's combined log format with "
        "` session=COOKIE account=ACCOUNT` appended (`account=-`: the page rendered no account). "
        "The time is local with its offset, `[13/Dec/2013:18:52:07 +0100]` (a fraction of a second, "
        "`[13/Dec/2013:18:52:07.250000 +0100]`, is kept); client address → `ip` (`-` is null), "
        "request path → `path`, status → `status`, cookie → `session_id`, account → `account_id`."
    ),
    "support.mbox": (
        "mbox of MIME messages: `Message-ID` → `message_id`; the time stamp of the topmost `Received` "
        "header (else `Date`) → `received_at`; `X-Bostad-Channel` → `channel`; `X-Bostad-Customer-Number` "
        "→ `sender_applicant_id`; the address in `From` → `sender_address`; `Subject` → `subject`; "
        "the text/plain part (else the text of text/html), decoded → `body`."
    ),
}

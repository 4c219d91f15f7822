"""Raw forms of two tables, as an organisation would hand them over: an access log and an mbox.

``raw/access.log`` carries ``page_views``: the Apache combined log format plus the session
cookie and the rendered account, one line per page view in the order of the table::

    83.250.14.7 - - [13/Dec/2013:18:52:07 +0100] "GET /mina-sidor/profil HTTP/1.1" 200 5123 "https://bostad.example/mina-sidor" "Mozilla/5.0 ..." session=9f2c4e1a7b3d5f60 account=1048213

Times are the web server's local time (Europe/Stockholm) with its offset, to the second, as
Apache's ``%t`` writes them. Page views are simulated in whole seconds, so that is exact;
should a table ever hold fractions, every line gets Apache's ``%{usec_frac}t`` form
(``[13/Dec/2013:18:52:07.250000 +0100]``) instead of losing them. ``account=-`` means the
page rendered no account; a missing client address is written ``-``. Method, size,
referer (the session's previous page) and user agent (the session's login) are not
columns of ``page_views``: they make the log look like a real one.

``raw/support.mbox`` carries ``support_messages``: one MIME message per row, built with
the stdlib ``email`` package. Bodies are quoted-printable UTF-8; some e-mails are
multipart/alternative with an HTML part; non-ASCII subjects and names become encoded words.
``Date`` and the ``Received`` stamp are the mail server's clock (``received_at``);
``X-Bostad-Channel`` carries the channel and ``X-Bostad-Customer-Number`` the sender's
customer number when support knew it.

Both files are byte-identical for the same seed: boundaries derive from the Message-ID and
no default depends on the clock.
"""

from __future__ import annotations

import binascii
import html
import io
import mailbox
import re
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from email.charset import QP, Charset
from email.generator import BytesGenerator
from email.header import Header
from email.message import Message
from email.policy import compat32
from email.utils import format_datetime, formataddr
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from .. import evidence
from ..errors import GeneratorError
from ..settings import LOCAL_TZ
from .pageviews import PageViewRows
from .web import as_datetime
from .writer import conform

__all__ = [
    "MAIL_HOST",
    "RAW_NAMES",
    "SITE",
    "access_log_lines",
    "write_access_log",
    "write_access_log_rows",
    "write_mbox",
    "write_raw",
]

SITE = "https://bostad.example"
MAIL_HOST = "mail.bostad.example"
_ZONE = LOCAL_TZ  # the web and mail servers' local time
# The raw form's file name of each table it carries: page_views -> access.log, ...
RAW_NAMES = {table: name for name, table in evidence.RAW_FORMS.items()}
# Requests that submit a form; every other page is fetched with GET.
_POST = r"^/logga-in$|/intresse$|/ta-bort$|^/kundtjanst/kontakt$"
# Response sizes in bytes by status: [low, high) of a uniform draw.
_SIZES = {200: (4_000, 24_000), 302: (180, 260), 404: (1_100, 1_400), 500: (520, 640)}
_OTHER_SIZE = (300, 900)
_STAMP = "%d/%b/%Y:%H:%M:%S %z"
_STAMP_FRACTION = "%d/%b/%Y:%H:%M:%S%.6f %z"
_SUPPORT = "kundtjanst@bostad.example"
_WEBFORM_RELAY = "webform.bostad.example (webform.bostad.example [10.20.1.15])"
# The compat32 API writes the same MIME as email.policy.default at a fraction of the cost
# (the default policy parses every header it is given); lines folded at 78 as RFC 5322 asks.
_POLICY = compat32.clone(linesep="\n", max_line_length=78)
# Encoded words in Q encoding (=?utf-8?q?...?=), readable in the raw file.
_UTF8_Q = Charset("utf-8")
_UTF8_Q.header_encoding = QP


def write_raw(
    tables: dict[str, pl.DataFrame], out: Path, rng: np.random.Generator, page_views: PageViewRows | None = None
) -> dict[str, int]:
    """Write ``out/access.log`` and ``out/support.mbox`` from the (degraded) tables; lines and messages.

    ``page_views``: the generator's streamed page views, written a chunk at a time instead of
    ``tables["page_views"]``.
    """
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / RAW_NAMES["page_views"]
    # In two threads: the log is polars work that releases the GIL, the mbox pure Python.
    with ThreadPoolExecutor(2) as pool:
        if page_views is None:
            log = pool.submit(write_access_log, tables["page_views"], tables["logins"], log_path, rng)
        else:
            log = pool.submit(write_access_log_rows, page_views, tables["logins"], log_path, rng)
        box = pool.submit(
            write_mbox, tables["support_messages"], tables["applicants"], out / RAW_NAMES["support_messages"]
        )
        return {RAW_NAMES["page_views"]: log.result(), RAW_NAMES["support_messages"]: box.result()}


def _quoted(col: str) -> pl.Expr:
    """A value inside double quotes in a log line: backslash and quote escaped as Apache does."""
    return pl.col(col).str.replace_all(r"([\\\x22])", r"\$1")


def _quote(values: pl.Series) -> pl.Series:
    """:func:`_quoted` of a column of values, which is the column itself when nothing needs escaping."""
    if not (values.str.contains("\\", literal=True) | values.str.contains('"', literal=True)).any():
        return values
    return values.to_frame("v").select(_quoted("v")).to_series().alias(values.name)


def _check_lines(views: pl.DataFrame) -> None:
    """Refuse what would break a line or shift its fields silently.

    Anything else a reader would quarantine, which the round-trip test would catch.
    Literal searches: memchr-fast.
    """
    breaks = pl.any_horizontal(
        pl.col(c).str.contains(ch, literal=True) for c in ("ip", "path", "session_id") for ch in "\n\r"
    )
    bad = views.filter(
        breaks | pl.col("ip").str.contains(" ", literal=True) | pl.col("session_id").str.contains(" ", literal=True)
    )
    if bad.height:
        raise GeneratorError(
            f"page view at {bad['time'][0]} cannot be written to the access log: a line break, or a space in "
            f"ip or session_id ({bad.row(0)!r}); allowed: paths without line breaks, ip and session_id without spaces"
        )


def _agents(logins: pl.DataFrame) -> pl.LazyFrame:
    """session_id, _agent: the user agent of each session's login, quoted for a log line."""
    return (
        logins.lazy()
        .unique("session_id", keep="first", maintain_order=True)
        .select("session_id", _agent=_quoted("user_agent").str.replace_all(r"[\r\n]", " ").fill_null("-"))
    )


def _sizes(status: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A response size for each status, drawn by status class in one pass over all rows."""
    size = np.zeros(len(status), dtype=np.int64)
    for code, (lo, hi) in [*_SIZES.items(), (None, _OTHER_SIZE)]:
        at = np.isin(status, list(_SIZES), invert=True) if code is None else status == code
        size[at] = rng.integers(lo, hi, int(at.sum()))
    return size


def _stamps(seconds: np.ndarray) -> pl.Series:
    """Apache's ``%t`` of whole seconds in ascending order, each distinct second formatted once."""
    first = np.r_[True, seconds[1:] != seconds[:-1]] if len(seconds) else np.zeros(0, bool)
    distinct = as_datetime(seconds[first]).dt.convert_time_zone(_ZONE).dt.strftime(_STAMP)
    return distinct.gather(np.cumsum(first) - 1)


def _lines(views: pl.LazyFrame, stamp: str) -> pl.Series:
    """Log lines of ``views`` with ``_size``, ``_path``, ``_referer`` (quoted) and ``_agent`` columns.

    A ``_stamp`` column, when given, is the time as ``stamp`` formats it (see :func:`_stamps`).
    """
    has_stamp = "_stamp" in views.collect_schema()
    when = pl.col("_stamp") if has_stamp else pl.col("time").dt.convert_time_zone(_ZONE).dt.strftime(stamp)
    # Lazy, so polars computes the independent parts of a line in parallel.
    return views.select(
        pl.concat_str(
            pl.col("ip").fill_null("-"),
            pl.lit(" - - ["),
            when,
            pl.lit('] "'),
            pl.when(pl.col("path").str.contains(_POST)).then(pl.lit("POST")).otherwise(pl.lit("GET")),
            pl.lit(" "),
            pl.col("_path"),
            pl.lit(' HTTP/1.1" '),
            pl.col("status").cast(pl.String),
            pl.lit(" "),
            pl.col("_size").cast(pl.String),
            pl.lit(' "'),
            (pl.lit(SITE) + pl.col("_referer")).fill_null("-"),
            pl.lit('" "'),
            pl.col("_agent").fill_null("-"),
            pl.lit('" session='),
            pl.col("session_id"),
            pl.lit(" account="),
            pl.col("account_id").cast(pl.String).fill_null("-"),
        ).alias("line")
    ).collect()["line"]


def access_log_lines(page_views: pl.DataFrame, logins: pl.DataFrame, rng: np.random.Generator) -> pl.Series:
    """One access-log line per page view, in evidence order (time, then file order)."""
    views = conform("page_views", page_views)
    _check_lines(views)
    fraction = bool(views.select((pl.col("time").dt.microsecond() != 0).any()).item())
    stamp = _STAMP_FRACTION if fraction else _STAMP
    size = _sizes(views["status"].to_numpy(), rng)
    lazy = (
        views.lazy()
        .with_columns(_size=pl.Series(size), _path=_quoted("path"))
        .with_columns(_referer=pl.col("_path").shift(1).over("session_id"))
        .join(_agents(logins), on="session_id", how="left", maintain_order="left")
    )
    return _lines(lazy, stamp)


def write_access_log(page_views: pl.DataFrame, logins: pl.DataFrame, path: Path, rng: np.random.Generator) -> int:
    """Write the access log for ``page_views`` to ``path``; returns the number of lines."""
    lines = access_log_lines(page_views, logins, rng)
    # One text column written without quoting is exactly one log line per row. A raw log, not a
    # CSV for readers: not through workbench.csvout.
    lines.to_frame().write_csv(path, include_header=False, quote_style="never")
    return len(lines)


def write_access_log_rows(rows: PageViewRows, logins: pl.DataFrame, path: Path, rng: np.random.Generator) -> int:
    """:func:`write_access_log` for streamed page views: the same lines, a chunk at a time.

    Page views are simulated in whole seconds, so no line needs a fraction of a second.
    """
    size = _sizes(rows.status, rng)
    prev = rows.previous_in_session()
    agent = (
        rows.sessions.lazy()
        .select("session_id")
        .join(_agents(logins), on="session_id", how="left", maintain_order="left")
    )
    agent_of_sid = agent.collect()["_agent"]  # in session (sid) order
    with open(path, "wb") as fh:
        for lo, hi in rows.bounds():
            views = rows.frame(lo, hi)
            _check_lines(views)
            paths = _quote(views["path"])
            # The referer is the session's previous path: this chunk's own, or rendered again
            # for the few sessions that began in an earlier chunk.
            back = prev[lo:hi]
            referer = pl.repeat(None, hi - lo, dtype=pl.String, eager=True)
            inside, before = np.flatnonzero(back >= lo), np.flatnonzero((back >= 0) & (back < lo))
            if inside.size:
                referer = referer.scatter(inside, paths.gather(back[inside] - lo))
            if before.size:
                at = back[before]
                referer = referer.scatter(before, _quote(rows.paths(rows.code[at], rows.listing[at], rows.area[at])))
            lazy = views.lazy().with_columns(
                _size=pl.Series(size[lo:hi]),
                _path=paths,
                _referer=referer,
                _agent=agent_of_sid.gather(pl.Series(rows.sid[lo:hi])),
                _stamp=_stamps(rows.time[lo:hi]),  # page views are in time order: ~18 a second at national
            )
            _lines(lazy, _STAMP).to_frame().write_csv(fh, include_header=False, quote_style="never")
    return rows.height


def _quoted_printable(text: str) -> str:
    """``text`` as a quoted-printable UTF-8 payload whose decoding is exactly ``text``."""
    encoded = binascii.b2a_qp(text.encode("utf-8"), quotetabs=False, istext=True).decode("ascii")
    # mbox readers take a body line starting "From " for the next message (writers mangle
    # it to ">From "); an encoded F keeps the line and the text intact.
    encoded = re.sub(r"(?m)^From ", "=46rom ", encoded)
    # A final soft line break: the MIME and mbox framing add a newline after the payload,
    # and "=\n" makes the decoded text end exactly where ``text`` ends, newline or not.
    return encoded + "=\n"


def _text_part(part: Message, text: str, subtype: str) -> Message:
    part["Content-Type"] = f'text/{subtype}; charset="utf-8"'
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(_quoted_printable(text))
    return part


def _html(text: str) -> str:
    paragraphs = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>\n" for p in text.split("\n\n"))
    return f'<html><head><meta charset="utf-8"></head><body>\n{paragraphs}</body></html>\n'


def _header(value: str) -> str | Header:
    """A header value; non-ASCII text becomes RFC 2047 encoded words (=?utf-8?q?...?=)."""
    return value if value.isascii() else Header(value, _UTF8_Q)


def _message(row: dict, sender_name: str | None) -> bytes:
    """One support message as mbox bytes: the From_ line, headers and MIME body."""
    mid = row["message_id"]
    key = zlib.crc32(mid.encode())
    received = row["received_at"]
    local = format_datetime(received.astimezone(ZoneInfo(_ZONE)))
    address = row["sender_address"]
    body = row["body"]
    if body is None:
        raise GeneratorError(f"support message {mid} has no body; an mbox message always has one")
    msg: Message[str, str | Header] = Message()
    msg["Return-Path"] = f"<{address or ''}>"
    if row["channel"] == "web_form":
        origin = _WEBFORM_RELAY
    else:
        domain = address.rpartition("@")[2] if address and "@" in address else "unknown.example"
        origin = f"mail.{domain} (mail.{domain} [198.51.100.{key % 250 + 1}])"
    msg["Received"] = f"from {origin} by {MAIL_HOST} (Postfix) with ESMTP id {key:08X} for <{_SUPPORT}>; {local}"
    if address is not None:
        msg["From"] = formataddr((sender_name, address), charset=_UTF8_Q) if sender_name else address
    msg["To"] = formataddr(("Kundtjänst", _SUPPORT), charset=_UTF8_Q)
    if row["subject"] is not None:
        msg["Subject"] = _header(row["subject"])
    msg["Date"] = local
    msg["Message-ID"] = mid
    msg["MIME-Version"] = "1.0"
    msg["X-Bostad-Channel"] = row["channel"]
    if row["sender_applicant_id"] is not None:
        msg["X-Bostad-Customer-Number"] = str(row["sender_applicant_id"])
    if row["channel"] == "email" and key % 5 < 2:  # two in five e-mails come from HTML mail clients
        msg["Content-Type"] = f'multipart/alternative; boundary="=_alt_{key:08x}"'
        msg.attach(_text_part(Message(), body, "plain"))
        msg.attach(_text_part(Message(), _html(body), "html"))
    else:
        _text_part(msg, body, "plain")
    envelope = address if address and re.fullmatch(r"[^\s@]+@[^\s@]+", address) else "MAILER-DAEMON"
    out = io.BytesIO()
    out.write(f"From {envelope} {time.asctime(time.gmtime(received.timestamp()))}\n".encode("ascii"))
    BytesGenerator(out, mangle_from_=False, policy=_POLICY).flatten(msg)
    return out.getvalue()


def write_mbox(messages: pl.DataFrame, applicants: pl.DataFrame, path: Path) -> int:
    """Write ``support_messages`` as an mbox at ``path``; returns the number of messages."""
    table = conform("support_messages", messages).sort("received_at", "message_id", maintain_order=True)
    names = applicants.select(sender_applicant_id="applicant_id", _name="name")
    table = table.join(names, on="sender_applicant_id", how="left", maintain_order="left")
    path.unlink(missing_ok=True)
    box = mailbox.mbox(path, create=True)
    try:
        for row in table.iter_rows(named=True):
            box.add(_message(row, row.pop("_name")))
        box.flush()
    finally:
        box.close()
    return table.height

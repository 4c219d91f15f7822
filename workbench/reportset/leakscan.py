"""Search report sets for the direct identifiers of the people in the evidence, and for withheld parameters.

The identifiers come from the evidence itself, column by column, wherever the format tags
a column as a direct identifier (:class:`workbench.evidence.PII`): personnummer (with and
without the hyphen, and the short ``YYMMDD-NNNN`` form), names, street addresses, e-mail,
phone, customer numbers, caseworker names, IP addresses, session ids and Message-IDs. They
are read from evidence files (:func:`identifiers`) or from an open case
(:func:`case_identifiers`). Parameter values an audience is not shown are added as further
keys (:func:`add_values`).

Matching is by whole token, so a customer number ``1048213`` is not found inside
``10482130`` or a hash, and ``Storgatan 1`` is not found in ``Storgatan 12``. Before
searching, each file is decoded the way a reader or a script would see it: HTML entities,
JSON ``\\uXXXX`` escapes (chart data embedded in a page) and digit-group spaces
(``1 048 213``); a clock time's fraction of a second is dropped (``07:49:46.840611+0000``
would otherwise read as the short personnummer ``840611-0000``). The library code every report inlines (the Vega bundle) is left out:
it is the same in every report and holds no case data, but it does hold 7-digit constants.

Numeric identifiers shorter than :data:`MIN_NUMBER_DIGITS` (caseworker numbers such as
``7``) are not searched: any count or hour would match them. They are reported as skipped.
Nor is any other one-word key shorter than that (a session id ``s1``, a phrase ``fel``):
it would match a CSS class or a word; such keys are counted in ``short``.

:func:`workbench.reportset.disclosure.check_set` is what ``workbench report`` runs on every
auditor and public set before declaring it complete.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .casekeys import (
    MIN_NUMBER_DIGITS,
    WORD,
    Identifiers,
    add_values,
    case_identifiers,
    identifiers,
)
from .figurekeys import without_figures

__all__ = [
    "MIN_NUMBER_DIGITS",
    "Hit",
    "Identifiers",
    "ScanResult",
    "add_values",
    "case_identifiers",
    "identifiers",
    "prescan",
    "scan",
    "scan_text",
    "without_figures",
]

# A clock time's fraction of a second (07:49:46.840611+0000): microseconds and a zone read as a
# short personnummer ("840611-0000") once customer numbers and birth dates are dense (national).
_CLOCK_FRACTION = re.compile(r"(?<=\d\d:\d\d:\d\d)[.,]\d{1,9}(?!\d)")
_GROUPED_DIGITS = re.compile(r"(?<=\d)[\u202f\u00a0\u2009 ](?=\d{3}(?!\d))")
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
# The markers workbench.markup.visible shows invisible characters as: read back as the character.
_MARKER = re.compile(r"⟦U\+([0-9A-F]{4,6})⟧")
# IP addresses are matched dotted, whole: four bare numbers in a CSV row are not an address.
_DOTTED = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.]*\d)")
# Files are searched in pieces of about this many characters, cut at line ends: memory stays flat.
_PIECE = 1 << 20
# Printed by Chromium from an HTML page of the set that is itself scanned.
_NOT_TEXT = (".pdf",)


@dataclass(frozen=True)
class Hit:
    """An identifier found in a file, with the text around it and the line (of the decoded text) it is on."""

    file: Path
    kind: str
    identifier: str
    context: str
    line: int = 0

    def where(self, root: Path | None = None) -> str:
        """``file line N: kind``, without the identifier: safe for a log others read."""
        name = (
            self.file.relative_to(root).as_posix() if root is not None and self.file.is_relative_to(root) else self.file
        )
        return f"{name} line {self.line}: {self.kind}"


@dataclass
class ScanResult:
    identifiers: Identifiers
    files: list[Path]
    hits: list[Hit]
    not_searched: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        """What was searched, and every hit *with* the identifier: for investigators only."""
        lines = self._searched()
        lines += [f"HIT {h.kind} {h.identifier!r} in {h.file}: …{h.context}…" for h in self.hits[:50]]
        return "\n".join(lines)

    def _searched(self) -> list[str]:
        kinds = ", ".join(f"{k} {n}" for k, n in self.identifiers.kinds().items())
        lines = [
            f"searched {self.identifiers.count} distinct keys ({kinds})",
            f"in {len(self.files)} files: {len(self.hits)} hits",
        ]
        lines += [f"not searched: {col} ({why})" for col, why in sorted(self.identifiers.skipped.items())]
        if self.identifiers.ambiguous:
            shown = ", ".join(sorted(self.identifiers.ambiguous)[:12])
            lines.append(
                f"not searched: {len(self.identifiers.ambiguous)} customer numbers that are also listing or "
                f"other non-personal ids in the evidence ({shown})"
            )
        lines += [
            f"not searched: {n} value(s) of {kind} that the reports' own text holds"
            for kind, n in sorted(self.identifiers.set_aside.items())
        ]
        if self.identifiers.figures:
            lines.append(
                f"not searched: {len(self.identifiers.figures)} customer number(s) equal to a figure the set "
                f"records in findings.json ({', '.join(sorted(self.identifiers.figures)[:12])})"
            )
        lines += [
            f"not searched: {n} one-word value(s) of {kind} shorter than {MIN_NUMBER_DIGITS} characters"
            for kind, n in sorted(self.identifiers.short.items())
        ]
        lines += [f"not searched as text: {p} (printed from a page that is searched)" for p in self.not_searched]
        return lines


def _decoded(text: str) -> list[str]:
    """The text as a reader or a script sees it (entities, JSON escapes, invisible-character markers), and again with digit groups joined."""
    text = html.unescape(text)
    text = _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    text = _MARKER.sub(lambda m: chr(int(m.group(1), 16)), text)
    text = _CLOCK_FRACTION.sub("", text)
    joined = _GROUPED_DIGITS.sub("", text)
    return [text] if joined == text else [text, joined]


def _found(text: str, ids: Identifiers) -> Iterator[tuple[str, str]]:
    """``(kind, key)`` for each key in ``text`` as whole words, each once.

    Every word is a candidate key of one word; only the words that start a longer key are
    looked at one by one, for the word sequences they start. The candidates are then looked
    up among the keys together (:meth:`Identifiers.among`).
    """
    words = WORD.findall(text.casefold())
    grams = set(words)
    starting = ids.starting(grams)
    if starting:
        for i in [i for i, w in enumerate(words) if w in starting]:
            lengths, n = starting[words[i]] >> 2, 2
            while lengths:
                if lengths & 1 and i + n <= len(words):
                    grams.add(" ".join(words[i : i + n]))
                lengths, n = lengths >> 1, n + 1
    dotted = set(_DOTTED.findall(text)) if any(k.endswith(".ip") for k in ids.keys) else set()
    yield from ids.among(grams, dotted)


def _locate(text: str, key: str, ip: bool) -> re.Match | None:
    if ip:
        pattern = r"(?<![\d.])" + re.escape(key) + r"(?![\d.]*\d)"
    else:
        pattern = r"(?<!\w)" + r"\W+".join(map(re.escape, WORD.findall(key))) + r"(?!\w)"
    return re.search(pattern, text, re.IGNORECASE)


def _pieces(text: str) -> Iterator[tuple[int, str]]:
    """(line number of its start, piece) for pieces of about :data:`_PIECE` characters cut after a line end.

    Each piece but the first starts with the previous piece's last line again, so a name
    broken over a line end is still whole in one piece.
    """
    start, line = 0, 1
    while start < len(text):
        end = len(text) if len(text) - start <= _PIECE else text.find("\n", start + _PIECE)
        end = len(text) if end < 0 else end + 1
        yield line, text[start:end]
        if end >= len(text):
            return
        back = text.rfind("\n", start, end - 1) + 1
        back = back if back > start else end
        line += text.count("\n", start, back)
        start = back


def _scan_text(text: str, ids: Identifiers, stop: threading.Event | None = None) -> Iterator[tuple[str, str, str, int]]:
    seen: set[tuple[str, str]] = set()
    for first_line, piece in _pieces(text):
        if stop is not None and stop.is_set():
            raise _Stopped
        for decoded in _decoded(piece):
            for kind, key in _found(decoded, ids):
                if (kind, key) in seen:
                    continue
                seen.add((kind, key))
                m = _locate(decoded, key, kind.endswith(".ip"))
                context = decoded[max(0, m.start() - 60) : m.end() + 60].replace("\n", " ") if m else ""
                line = first_line + (decoded.count("\n", 0, m.start()) if m else 0)
                yield kind, key, context, line


def scan_text(text: str, ids: Identifiers, *, exclude: Iterable[str] = ()) -> list[tuple[str, str, str]]:
    """``(kind, identifier, context)`` for each identifier in ``text`` as whole words."""
    for chunk in exclude:
        text = text.replace(chunk, " ")
    return [(kind, key, context) for kind, key, context, _ in _scan_text(text, ids)]


def _files(paths: Iterable[str | Path], everything: bool) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(
                f for f in p.rglob("*") if f.is_file() and (everything or f.suffix in (".html", ".csv", ".json"))
            )
        else:
            files.append(p)
    return files


class _Stopped(Exception):
    """A prescan told to stop (:func:`prescan`): the file it was on is left to the scan."""


@dataclass(frozen=True)
class Prescanned:
    """A file searched ahead of its set's scan (:func:`prescan`): the digest of what was searched, and the hits."""

    digest: bytes
    hits: tuple[Hit, ...]


def _read(f: Path) -> tuple[bytes, str]:
    """The file's digest and its text as ``Path.read_text(encoding="utf-8", errors="replace")`` gives it."""
    data = f.read_bytes()
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace").read()  # newlines as read_text
    return hashlib.blake2b(data, digest_size=16).digest(), text


def _hits(f: Path, text: str, ids: Identifiers, exclude: list[str], stop: threading.Event | None = None) -> list[Hit]:
    for chunk in exclude:
        text = text.replace(chunk, " ")
    return [Hit(f, kind, key, context, line) for kind, key, context, line in _scan_text(text, ids, stop)]


def prescan(
    paths: Iterable[str | Path],
    ids: Identifiers,
    into: dict[Path, Prescanned],
    *,
    exclude: Iterable[str] = (),
    every_file: bool = False,
    stop: threading.Event | None = None,
) -> None:
    """Search the files under ``paths`` now, as :func:`scan` would, each result put in ``into`` for a later :func:`scan`.

    ``ids`` must hold every key the later scan searches for (it may hold more: the later scan
    keeps only the hits of its own keys). A file whose content has changed by then is searched
    again. Once ``stop`` is set, the file being searched is dropped (the scan searches it) and
    no other is begun.
    """
    exclude = list(exclude)
    for f in _files(paths, every_file):
        if stop is not None and stop.is_set():
            return
        if f.suffix.lower() in _NOT_TEXT:
            continue
        digest, text = _read(f)
        try:
            into[f] = Prescanned(digest, tuple(_hits(f, text, ids, exclude, stop)))
        except _Stopped:
            return


def _still_keys(hits: Iterable[Hit], ids: Identifiers) -> list[Hit]:
    """Those of ``hits`` (found with the keys of ``ids`` and maybe more) whose key is a key of ``ids``, in order."""
    return [h for h in hits if h.kind in ids.keys and h.identifier in ids.keys[h.kind]]


def scan(
    paths: Iterable[str | Path],
    ids: Identifiers,
    *,
    exclude: Iterable[str] = (),
    every_file: bool = False,
    texts: Mapping[str, str] | None = None,
    known: Mapping[Path, Prescanned] | None = None,
) -> ScanResult:
    """Scan every file under ``paths`` whose name ends in .html, .csv or .json (``every_file``: any file) for ``ids``.

    ``exclude`` is text to drop before searching, e.g. :func:`workbench.reportset.build.inlined_libraries`.
    ``texts`` are further files not yet written, ``{path: content}``. PDF files are not read:
    each is printed from an HTML page that is. ``known``: files searched ahead (:func:`prescan`)
    with keys that include these; one still as it was then is not searched again, its hits
    of these keys are taken (the same hits, in the same order, as a search now would give).
    """
    exclude = list(exclude)
    hits, not_searched, searched = [], [], []
    pending = dict(texts or {})
    for f in _files(paths, every_file):
        if f.suffix.lower() in _NOT_TEXT:
            not_searched.append(f)
            continue
        searched.append(f)
        text = pending.pop(str(f), None)
        ahead = None if known is None or text is not None else known.get(f)
        if ahead is not None:
            digest, text = _read(f)
            if digest == ahead.digest:
                hits += _still_keys(ahead.hits, ids)
                continue
        text = f.read_text(encoding="utf-8", errors="replace") if text is None else text
        hits += _hits(f, text, ids, exclude)
    for name, text in pending.items():
        searched.append(Path(name))
        hits += [Hit(Path(name), kind, key, context, line) for kind, key, context, line in _scan_text(text, ids)]
    return ScanResult(ids, searched, hits, not_searched)

"""Search rendered reports for the direct identifiers of the people in the evidence.

The identifiers come from the evidence itself, column by column, wherever the format tags
a column as a direct identifier (:class:`workbench.evidence.PII`): personnummer (with and
without the hyphen, and the short ``YYMMDD-NNNN`` form), names, street addresses, e-mail,
phone, customer numbers, caseworker names and IP addresses.

Matching is by whole token, so a customer number ``1048213`` is not found inside
``10482130`` or a hash, and ``Storgatan 1`` is not found in ``Storgatan 12``. Before
searching, each file is decoded the way a reader or a script would see it: HTML entities,
JSON ``\\uXXXX`` escapes (chart data embedded in a page) and digit-group spaces
(``1 048 213``). The library code every report inlines (the Vega bundle) is left out:
it is the same in every report and holds no case data, but it does hold 7-digit constants.

Numeric identifiers shorter than :data:`MIN_NUMBER_DIGITS` (caseworker numbers such as
``7``) are not searched: any count or hour would match them. They are reported as skipped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ..evidence import PII, metadata

__all__ = ["MIN_NUMBER_DIGITS", "Hit", "Identifiers", "ScanResult", "identifiers", "scan", "scan_text"]

MIN_NUMBER_DIGITS = 6
_MAX_WORDS = 8
_WORD = re.compile(r"\w+", re.UNICODE)
_GROUPED_DIGITS = re.compile(r"(?<=\d)[\u202f\u00a0\u2009 ](?=\d{3}(?!\d))")
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
# IP addresses are matched dotted, whole: four bare numbers in a CSV row are not an address.
_DOTTED = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.]*\d)")


@dataclass
class Identifiers:
    """Search keys by kind: ``{"applicants.name": {"anna lindqvist", ...}, ...}``, each a normalised word sequence."""

    keys: dict[str, set[str]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # column -> why it is not searched
    ambiguous: set[str] = field(default_factory=set)  # numbers that are also non-personal ids

    @property
    def count(self) -> int:
        return len(set().union(*self.keys.values())) if self.keys else 0

    def kinds(self) -> dict[str, int]:
        return {k: len(v) for k, v in sorted(self.keys.items())}


@dataclass(frozen=True)
class Hit:
    """An identifier found in a file, with the text around it."""

    file: Path
    kind: str
    identifier: str
    context: str


@dataclass
class ScanResult:
    identifiers: Identifiers
    files: list[Path]
    hits: list[Hit]

    def summary(self) -> str:
        kinds = ", ".join(f"{k} {n}" for k, n in self.identifiers.kinds().items())
        lines = [
            f"searched {self.identifiers.count} distinct direct identifiers ({kinds})",
            f"in {len(self.files)} files: {len(self.hits)} hits",
        ]
        lines += [f"not searched: {col} ({why})" for col, why in sorted(self.identifiers.skipped.items())]
        if self.identifiers.ambiguous:
            shown = ", ".join(sorted(self.identifiers.ambiguous)[:12])
            lines.append(
                f"not searched: {len(self.identifiers.ambiguous)} customer numbers that are also listing or "
                f"other non-personal ids in the evidence ({shown})"
            )
        lines += [f"HIT {h.kind} {h.identifier!r} in {h.file}: …{h.context}…" for h in self.hits[:50]]
        return "\n".join(lines)


def _normalise(text: str) -> str:
    """Lower-case words separated by single spaces: 'Anna-Karin Öberg' -> 'anna karin öberg'."""
    return " ".join(_WORD.findall(text.casefold()))


def _variants(column: str, value: str) -> list[str]:
    if "personnummer" in column:
        digits = re.sub(r"\D", "", value)
        out = [value, digits]
        if len(digits) == 12:  # the short form YYMMDD-NNNN, as people often write it
            out.append(f"{digits[2:8]}-{digits[8:]}")
        return out
    if column == "phone":
        return [value, re.sub(r"\D", "", value)]
    return [value]


def _read(evidence_dir: Path, table: str, columns: list[str]) -> pl.DataFrame | None:
    for path in (evidence_dir / f"{table}.parquet", evidence_dir / f"{table}.csv"):
        if path.is_file():
            if path.suffix == ".parquet":
                return pl.read_parquet(path, columns=columns)
            return pl.read_csv(path, columns=columns, infer_schema=False)
    return None


def _public_ids(evidence_dir: Path) -> set[str]:
    """Values of the evidence's non-personal id columns (listing_id, message_id, …) as text."""
    found: set[str] = set()
    for table in metadata.sorted_tables:
        names = [c.name for c in table.columns if c.name.endswith("_id") and c.info.get("pii") in (PII.NONE, PII.QUASI)]
        frame = _read(evidence_dir, table.name, names) if names else None
        if frame is None:
            continue
        for name in names:
            found.update(frame[name].drop_nulls().cast(pl.String).to_list())
    return found


def identifiers(evidence_dir: str | Path) -> Identifiers:
    """Every direct identifier in the evidence files of ``evidence_dir`` (``<table>.parquet`` or ``.csv``).

    A customer number that the evidence also uses as a non-personal id (a listing number,
    say) cannot be told apart in text: it is left out and counted in ``ambiguous``.
    """
    evidence_dir = Path(evidence_dir)
    found = Identifiers()
    public_ids = _public_ids(evidence_dir)
    for table in metadata.sorted_tables:
        names = [c.name for c in table.columns if c.info.get("pii") is PII.DIRECT]
        frame = _read(evidence_dir, table.name, names) if names else None
        if frame is None:
            continue
        for name in names:
            values = frame[name].drop_nulls().cast(pl.String).unique().to_list()
            digits_only = all(v.isdigit() for v in values)
            if digits_only and values and max(len(v) for v in values) < MIN_NUMBER_DIGITS:
                found.skipped[f"{table.name}.{name}"] = (
                    f"numbers of at most {max(len(v) for v in values)} digits would match any count"
                )
                continue
            keys = found.keys.setdefault(f"{table.name}.{name}", set())
            if name == "ip":
                keys.update(v.strip() for v in values)
                continue
            if digits_only:
                found.ambiguous.update(v for v in values if v in public_ids)
                values = [v for v in values if v not in public_ids]
            for value in values:
                for variant in _variants(name, value):
                    key = _normalise(variant)
                    if key and not (key.isdigit() and len(key) < MIN_NUMBER_DIGITS):
                        keys.add(key)
    return found


def _decoded(text: str) -> str:
    """The text as a reader or a script sees it: entities, JSON escapes and digit groups resolved."""
    text = html.unescape(text)
    text = _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text + "\n" + _GROUPED_DIGITS.sub("", text)


def _ngrams(words: list[str], longest: int) -> set[str]:
    grams = set(words)
    for n in range(2, longest + 1):
        grams.update(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return grams


def scan_text(text: str, ids: Identifiers, *, exclude: Iterable[str] = ()) -> list[tuple[str, str, str]]:
    """``(kind, identifier, context)`` for each identifier in ``text`` as whole words."""
    for chunk in exclude:
        text = text.replace(chunk, " ")
    decoded = _decoded(text)
    grams = _ngrams(_WORD.findall(decoded.casefold()), _MAX_WORDS)
    dotted = set(_DOTTED.findall(decoded))
    hits = []
    for kind, keys in ids.keys.items():
        for key in sorted(keys & (dotted if kind.endswith(".ip") else grams)):
            pattern = r"(?<!\w)" + r"\W+".join(map(re.escape, _WORD.findall(key))) + r"(?!\w)"
            m = re.search(pattern, decoded, re.IGNORECASE)
            context = decoded[max(0, m.start() - 60) : m.end() + 60].replace("\n", " ") if m else ""
            hits.append((kind, key, context))
    return hits


def scan(paths: Iterable[str | Path], ids: Identifiers, *, exclude: Iterable[str] = ()) -> ScanResult:
    """Scan every file under ``paths`` whose name ends in .html, .csv or .json for ``ids``.

    ``exclude`` is text to drop before searching, e.g. :func:`workbench.reportset.build.inlined_libraries`.
    """
    exclude = list(exclude)
    files: list[Path] = []
    for p in map(Path, paths):
        files += sorted(f for f in p.rglob("*") if f.suffix in (".html", ".csv", ".json")) if p.is_dir() else [p]
    hits = []
    for f in files:
        for kind, key, context in scan_text(f.read_text(encoding="utf-8", errors="replace"), ids, exclude=exclude):
            hits.append(Hit(f, kind, key, context))
    return ScanResult(ids, files, hits)

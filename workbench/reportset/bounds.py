"""The values a numeric notebook parameter may take: its type's range, and a range by name.

Every whole-number parameter must fit in 64 bits (the engines, numpy and polars all bind
integers as int64) and every number must be finite. A parameter named in :data:`RANGES` must
also lie in its range, in every notebook that declares it: ``-p idle_timeout_minutes -5`` or
``-p alpha 2`` is refused before anything runs, with the allowed range, rather than failing
deep in a cell or giving a meaningless report. A notebook that adds a numeric parameter adds
its range here; ``tests/test_parameter_bounds.py`` checks that every one has. A text
parameter named in :data:`CHOICES` must be one of its values (``-p language de`` is refused).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

from ..i18n import LANGUAGES

__all__ = ["CHOICES", "INT64", "RANGES", "Range", "out_of_range"]

INT64 = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class Range:
    """Allowed values: ``Range(1, 1440, "minutes")`` is 1 to 1440; ``open_low`` excludes ``low`` itself."""

    low: float | None = None
    high: float | None = None
    unit: str = ""
    open_low: bool = False
    open_high: bool = False

    def __contains__(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.open_low else value < self.low):
            return False
        return self.high is None or (value < self.high if self.open_high else value <= self.high)

    def describe(self) -> str:
        """``"from 1 to 1440 minutes"``, ``"above 0 and below 1"``, ``"0 or more"``."""
        unit = f" {self.unit}" if self.unit else ""
        low = None if self.low is None else f"{self.low:g}"
        high = None if self.high is None else f"{self.high:g}"
        if low is not None and high is not None:
            if self.open_low or self.open_high:
                return f"{'above' if self.open_low else 'at least'} {low} and {'below' if self.open_high else 'at most'} {high}{unit}"
            return f"from {low} to {high}{unit}"
        if low is not None:
            return f"above {low}{unit}" if self.open_low else f"{low}{unit} or more"
        return f"below {high}{unit}" if self.open_high else f"{high}{unit} or less"


RANGES: dict[str, Range] = {
    # notebooks 01, 02, 10: a server idle timeout; longer than a day is no idle timeout
    "idle_timeout_minutes": Range(1, 24 * 60, "minutes"),
    # notebook 01: how soon on-call staff could have acted after the first fault report
    "on_call_delay_hours": Range(0, 7 * 24, "hours"),
    # notebook 03: a family-wise error rate and a share of allocations
    "alpha": Range(0, 1, open_low=True, open_high=True),
    "min_effect": Range(0, 1),
    "mde_ceiling": Range(0, 1, open_low=True),  # the largest detectable share that still counts as judged
    # notebooks 03, 10: permutations per caseworker test; 10 million already takes hours
    "permutations": Range(1, 10_000_000),
    "seed": Range(0),  # numpy's SeedSequence takes no negative seed
}
"""Ranges by parameter name, for every notebook that declares the name."""

CHOICES: dict[str, tuple[str, ...]] = {
    # every notebook: the language its report is written in (workbench/locales/)
    "language": LANGUAGES,
}
"""The values a text parameter may take, by name, for every notebook that declares the name."""


def out_of_range(name: str, type_name: str, value: object) -> str | None:
    """What ``value`` for parameter ``name`` (declared ``type_name``) must be, if it is not; else None.

    Example: ``out_of_range("alpha", "float", 2.0) == "a number above 0 and below 1"``.
    A text parameter named in :data:`CHOICES` must be one of them: ``"one of en, sv"``.
    Other values that are not numbers (or are booleans) are left to the type check.
    """
    if name in CHOICES and isinstance(value, str):
        return None if value in CHOICES[name] else f"one of {', '.join(CHOICES[name])}"
    if type_name not in ("int", "float") or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    kind = "a whole number" if type_name == "int" else "a number"
    allowed = RANGES.get(name)
    if type_name == "int" and isinstance(value, int) and not INT64[0] <= value <= INT64[1]:
        return f"{kind} {allowed.describe() if allowed else f'from {INT64[0]} to {INT64[1]} (64 bits)'}"
    if (isinstance(value, float) and not math.isfinite(value)) or abs(value) > sys.float_info.max:
        return f"a finite {kind[2:]}" + (f" {allowed.describe()}" if allowed else "")
    if allowed is not None and value not in allowed:
        return f"{kind} {allowed.describe()}"
    return None

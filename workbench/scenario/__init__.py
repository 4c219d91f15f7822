"""Synthetic city generator: evidence of a whole queue with the incident and fraud planted.

The generator imports nothing from the analysis side (``workbench.queries``, notebooks):
truth is recorded while events are simulated, never derived from the evidence afterwards.
"""

from .build import Generated, build_world, generate
from .degrade import parse_degrade
from .world import SCALES
from .writer import FORMATS

__all__ = ["FORMATS", "SCALES", "Generated", "build_world", "generate", "parse_degrade"]

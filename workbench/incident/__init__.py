"""Incident reconstruction: what happened, when, and how long it took to notice and stop.

``reconstruct_incident(case)`` returns an :class:`Incident` with the clocks, the sessions
bound to another account, the fault reports, the milestones (by name), the response times
and the counterfactual of an earlier shutdown. The pieces live in ``clocks``, ``classify``
(with its rules in ``fault_report_rules``), ``timeline`` and ``counterfactual``.
"""

from .classify import handwritten_corpus, rules_table
from .figures import FIGURES, SECTIONS
from .reconstruct import MILESTONES, Incident, reconstruct_incident
from .timeline import TAGS, local_label

__all__ = [
    "FIGURES",
    "MILESTONES",
    "SECTIONS",
    "TAGS",
    "Incident",
    "handwritten_corpus",
    "local_label",
    "reconstruct_incident",
    "rules_table",
]

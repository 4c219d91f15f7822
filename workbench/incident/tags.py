"""Personal-data tags of the columns the incident analyses derive, for ``fit(..., columns=TAGS)``.

The columns :mod:`workbench.incident.timeline`, :mod:`workbench.incident.inbox`,
:mod:`workbench.incident.clocks`, :mod:`workbench.incident.classify`,
:mod:`workbench.incident.counterfactual` and the triage produce; evidence columns carry their
own tags in :mod:`workbench.evidence`. Counts are named n_* and need no tag.
"""

from __future__ import annotations

from ..evidence import PII

__all__ = ["TAGS"]

TAGS: dict[str, PII] = {
    **{
        c: PII.NONE
        for c in (
            "time",
            "milestone",
            "kind",
            "source",
            "clock_offset_seconds",
            "uncertainty_seconds",
            "measure",
            "from",
            "to",
            "from_at",
            "to_at",
            "from_local",
            "to_local",
            "hours",
            "uncertainty_minutes",
            "hour",
            "day",
            "weekday",
            "alternative",
            "description",
            "shutdown_at",
            "reference",
            "offset_seconds",
            "low_seconds",
            "high_seconds",
            "pairs",
            "method",
            "rule",
            "lang",
            "example",
            "negatable",
            "pattern",
            "reported_at",
            "detail",
            "corpus",
            "messages",
            "reports",
            "precision",
            "recall",
            "tp",
            "fp",
            "fn",
            "round",
            "part",
            "rules",
            "also_in_sentence",
            "also_in_message",
            "unless_in_message",
            "blocked_by",
            "set_by_hand",
            "review_label",
            "rules_say_report",
            "probability",
            "candidate",
            "rank",
            "score",
            "evidence_weight",
            "bound_at",
            "bound_minutes_before",
            "names_account",
            "names_member",
            "changed_field",
        )
    },
    "matched_text": PII.FREE_TEXT,
    "explanation": PII.FREE_TEXT,
    # the triage's case evidence (workbench.incident.triage_case): customer numbers, and a sentence naming them
    "sender_id": PII.DIRECT,
    "bound_account_id": PII.DIRECT,
    "evidence": PII.FREE_TEXT,
    "evidence_parts": PII.FREE_TEXT,  # the same sentence in pieces (workbench.incident.triage_case.evidence_text)
}

"""Ranked review of the incident window, and the reviewer's labels fed back into the model.

:func:`review_window` ranks the messages of the window by the text model and the case
evidence (:mod:`.triage_case`), keeping what an investigator already set by hand
(``set_by_hand``, from the notes: see :mod:`workbench.incident.hand`). A reviewer reads
from the top and tags messages ``confirmed`` or ``false-positive`` in the notes (the triage
widget does it one key at a time); :func:`refit` then fits the model again on the shipped
training corpus plus those labels, and :func:`rerank` refits the case-evidence weights
(:mod:`.triage_weights`) on the shipped rows plus the same labels and ranks the window again.

>>> ranked = review_window(case, incident.inbox, incident.window["start"], incident.window["end"])  # doctest: +SKIP
>>> ranked = rerank(ranked, refit(labelled(ranked)))                                             # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl
from sklearn.pipeline import Pipeline

from ..errors import WorkbenchError
from ..settings import DISPLAY_TZ
from .triage import THRESHOLD, build_pipeline, fit, model_text, rank, rank_window, training_corpus, triage
from .triage_case import case_evidence, rescore, with_case_evidence
from .triage_weights import CASE_FEATURES, CASE_TRAINING_SCHEMA, CaseWeights, case_features, fit_case_weights, logit

__all__ = [
    "LABEL_WEIGHT",
    "REVIEW_LABELS",
    "case_training_rows_from",
    "labelled",
    "refit",
    "refit_case_weights",
    "rerank",
    "review_window",
    "with_review_label",
]

LABEL_WEIGHT = 3.0
"""How much one of the case's own labelled messages weighs in :func:`refit` against one training message."""
REVIEW_LABELS = ("confirmed", "false-positive")
"""What a reviewer says of a message, as the tag of its latest review annotation in the notes."""


def review_window(
    case: Any,
    inbox: pl.DataFrame,
    start: datetime,
    end: datetime,
    *,
    model: Pipeline | None = None,
    extra_phrases: Iterable[str] = (),
    threshold: float = THRESHOLD,
    timezone: str = DISPLAY_TZ,
    weights: CaseWeights | None = None,
) -> pl.DataFrame:
    """The messages of ``inbox`` reported in [start, end), ranked by rule, model and case evidence.

    ``inbox`` is the incident's classified inbox (``Incident.inbox``); its ``set_by_hand``
    (the notes' verdicts) is kept. Columns: those of :func:`~workbench.incident.triage.triage`
    and :func:`~workbench.incident.triage_case.case_evidence`, ``score``, ``rank`` and
    ``review_label`` (:func:`with_review_label`). ``is_report`` and ``rule`` are the rules'
    here, whatever a reviewer said: ``review_label`` is what the reviewer said.
    """
    window = inbox.filter((pl.col("reported_at") >= start) & (pl.col("reported_at") < end))
    scored = triage(window, extra_phrases=extra_phrases, model=model, threshold=threshold)
    found = case_evidence(case, window, start, end, timezone=timezone, weights=weights)
    ranked = with_case_evidence(scored, found, threshold=threshold, weights=weights)
    return with_review_label(rank_window(ranked, start, end))


def with_review_label(ranked: pl.DataFrame) -> pl.DataFrame:
    """``ranked`` with ``review_label``: "confirmed" or "false-positive" as a reviewer tagged it in the notes, else null.

    Read from ``set_by_hand``; null throughout when the frame has none (no notes).
    """
    if "set_by_hand" not in ranked.columns:
        return ranked.with_columns(review_label=pl.lit(None, pl.String))
    said = pl.col("set_by_hand")
    return ranked.with_columns(review_label=pl.when(said.is_in(list(REVIEW_LABELS))).then(said).otherwise(None))


def labelled(ranked: pl.DataFrame) -> pl.DataFrame:
    """The messages a reviewer set by hand, as training rows: subject, body and label (1 confirmed, 0 false-positive)."""
    if "set_by_hand" not in ranked.columns:
        return pl.DataFrame(schema={"subject": pl.String, "body": pl.String, "label": pl.Int64})
    said = ranked.filter(pl.col("set_by_hand").is_in(["confirmed", "false-positive"]))
    return said.select("subject", "body", label=(pl.col("set_by_hand") == "confirmed").cast(pl.Int64))


def refit(labels: pl.DataFrame, *, weight: float = LABEL_WEIGHT) -> Pipeline:
    """The model fitted on the training corpus plus ``labels`` (subject, body, label), each label weighing ``weight``.

    Deterministic, like the shipped model (same seed); a few seconds. With no labels it is the shipped model's fit.
    """
    if weight <= 0:
        raise WorkbenchError(f"the weight of a reviewer's label must be positive, got {weight!r}")
    missing = {"subject", "body", "label"} - set(labels.columns)
    if missing:
        raise WorkbenchError(f"refit needs columns subject, body and label; missing {sorted(missing)}")
    bad = labels.filter(~pl.col("label").is_in([0, 1]))
    if bad.height:
        raise WorkbenchError(f"a label is 1 (confirmed) or 0 (false-positive); got {bad['label'][0]!r}")
    corpus = training_corpus().select("subject", "body", "label")
    if not labels.height:
        return fit(corpus)
    both = pl.concat([corpus, labels.select("subject", "body", pl.col("label").cast(pl.Int64))])
    w = np.concatenate([np.ones(corpus.height), np.full(labels.height, float(weight))])
    return build_pipeline().fit(model_text(both), both["label"].to_numpy(), model__sample_weight=w)


def refit_case_weights(reviewed: pl.DataFrame, *, weight: float = LABEL_WEIGHT) -> CaseWeights:
    """The case-evidence weights fitted on the shipped rows plus the messages of ``reviewed`` a reviewer labelled.

    ``reviewed`` is the ranked window with ``set_by_hand``; each labelled message enters with the
    probability it had when it was read, its case evidence and its label, weighing ``weight``.
    """
    if "set_by_hand" not in reviewed.columns:
        return fit_case_weights()
    said = reviewed.filter(pl.col("set_by_hand").is_in(list(REVIEW_LABELS)))
    labels = said.with_columns(label=(pl.col("set_by_hand") == "confirmed").cast(pl.Int64))
    return fit_case_weights(labels, label_weight=weight)


def rerank(
    ranked: pl.DataFrame,
    model: Pipeline,
    *,
    extra_phrases: Iterable[str] = (),
    threshold: float = THRESHOLD,
    reviewed: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """``ranked`` (:func:`review_window`) scored again by ``model``, its case-evidence weights refitted, ranked again.

    The weights are refitted on the labels of ``reviewed`` (default ``ranked``) by
    :func:`refit_case_weights`, with the probabilities ``ranked`` had before ``model``.
    """
    weights = refit_case_weights(ranked if reviewed is None else reviewed)
    keep = [c for c in ranked.columns if c not in {"probability", "candidate", "explanation", "score", "rank"}]
    again = triage(ranked.select(keep), model=model, threshold=threshold, extra_phrases=extra_phrases)
    return rank(rescore(again, threshold=threshold, weights=weights))


def case_training_rows_from(
    name: str, case: Any, inbox: pl.DataFrame, start: datetime, end: datetime, truth: Iterable[str]
) -> pl.DataFrame:
    """The case-evidence training rows (:data:`~.triage_weights.CASE_TRAINING_SCHEMA`) of one case's window.

    ``truth`` holds the message ids of the true fault reports (a generated case's truth). The
    text logit is that of a model fitted without the generator's messages, so the generated
    messages are not in-sample for it.
    """
    window = inbox.filter((pl.col("reported_at") >= start) & (pl.col("reported_at") < end))
    corpus = training_corpus()
    p = triage(window, model=fit(corpus.filter(pl.col("round") != 0)))["probability"].to_numpy()
    none = CaseWeights(weights=dict.fromkeys(CASE_FEATURES, 0.0), messages=0, reports=0)
    found = case_evidence(case, window, start, end, weights=none)
    x = case_features(found).astype(bool)
    rows = pl.DataFrame(
        {
            "case": [name] * window.height,
            "message_id": window["message_id"].cast(pl.String),
            "label": window["message_id"].cast(pl.String).is_in(list(truth)).cast(pl.Int64),
            "text_logit": logit(p).round(6),
            **{f: x[:, i] for i, f in enumerate(CASE_FEATURES)},
        },
        schema=CASE_TRAINING_SCHEMA,
    )
    return rows.sort("message_id")

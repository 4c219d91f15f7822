"""Fault-report triage: a trained model beside the rules, with a probability and a reason per message.

The rules (:mod:`workbench.incident.classify`) stay the transparent reason shown to readers.
Beside them, a linear model over word and character n-grams (TF-IDF, in one scikit-learn
``Pipeline``) gives every message a probability of reporting the fault. It is trained on
every hand-written development round (1 to 12) and on the generator's messages
(``workbench/data/fault_reports_generated.csv``, with the training-only effect reports and
near misses of :mod:`workbench.scenario.training_effects`); the blind rounds
(:data:`HELD_OUT_ROUNDS`, ``handwritten_corpus("blind")``) are never trained or tuned on. Training is seeded and
deterministic and takes a few seconds, once per process (:func:`trained_model`). Nothing is
downloaded.

A message is a *candidate* when its probability reaches the threshold, or a rule matched and
the model gives it at least :data:`RULE_BAR`.
``explanation`` gives the matched phrase when a rule matched, else the n-grams that weighed
most toward a report in that message (both free text, from the message).

>>> scored = triage(pl.DataFrame({"subject": [None], "body": ["jg kom in pa nan annans konto"]}))  # doctest: +SKIP
>>> scored.select("probability", "candidate", "explanation")                                         # doctest: +SKIP
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from datetime import datetime
from importlib import resources

import numpy as np
import polars as pl
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from ..errors import WorkbenchError
from .classify import classify, handwritten_corpus
from .triage_features import NgramTfidf

__all__ = [
    "HELD_OUT_ROUNDS",
    "MODEL_VERSION",
    "RULE_BAR",
    "THRESHOLD",
    "NgramTfidf",
    "build_pipeline",
    "first_report_bounds",
    "model_text",
    "probabilities",
    "rank",
    "rank_window",
    "trained_model",
    "training_corpus",
    "triage",
]

MODEL_VERSION = "4"
"""Bumped whenever the features, the model or the training data change."""
THRESHOLD = 0.42
"""The probability at which the model alone calls a message a report: chosen by leave-one-round-out over rounds 1 to 12."""
RULE_BAR = 0.1
"""A rule match is a candidate only when the model gives it at least this probability (leave-one-round-out, 1 to 12)."""
C = 30.0
"""The logistic regression's inverse regularisation: chosen with :data:`THRESHOLD` by leave-one-round-out over rounds 1 to 12."""
HELD_OUT_ROUNDS = (13, 14)
"""The hand-written rounds kept out of training and tuning, written blind by new writers: the model's untouched test."""
SEED = 19

_FOLD_FROM = ["å", "ä", "ö", "é", "ü", "’", "‘", "´", "`"]
_FOLD_TO = ["a", "a", "o", "e", "u", "'", "'", "'", "'"]


def model_text(messages: pl.DataFrame) -> pl.Series:
    """Subject and body as the model reads them: lower case, å/ä/ö folded (so sms-style Swedish reads alike)."""
    joined = pl.col("subject").fill_null("") + " \n " + pl.col("body").fill_null("")
    return messages.select(joined.str.to_lowercase().str.replace_many(_FOLD_FROM, _FOLD_TO).alias("text"))["text"]


def build_pipeline(c: float = C) -> Pipeline:
    """The untrained model: :class:`NgramTfidf`, then a class-balanced logistic regression."""
    return Pipeline(
        [
            ("features", NgramTfidf()),
            ("model", LogisticRegression(C=c, class_weight="balanced", max_iter=5000, random_state=SEED)),
        ]
    )


def _generated() -> pl.DataFrame:
    with resources.as_file(resources.files("workbench") / "data" / "fault_reports_generated.csv") as path:
        frame = pl.read_csv(
            path,
            schema={"id": pl.String, "lang": pl.String, "label": pl.Int64, "subject": pl.String, "body": pl.String},
        )
    return frame.with_columns(round=pl.lit(0, pl.Int64))


def training_corpus() -> pl.DataFrame:
    """Every labelled message trained on: id, round (0 = generated, 1 to 12 hand-written), lang, label, subject, body.

    The blind rounds (:data:`HELD_OUT_ROUNDS`) are not among them; rounds 11 and 12, the blind
    test of model version 3, are trained on since version 4.
    """
    columns = ["id", "round", "lang", "label", "subject", "body"]
    parts = [
        handwritten_corpus("development").select(columns),
        handwritten_corpus("test").with_columns(round=pl.lit(8, pl.Int64)).select(columns),
        handwritten_corpus("fresh").select(columns),
        handwritten_corpus("heldout").select(columns),
        _generated().select(columns),
    ]
    return pl.concat(parts)


def fit(corpus: pl.DataFrame, c: float = C) -> Pipeline:
    """The pipeline fitted on ``corpus`` (columns subject, body, label)."""
    return build_pipeline(c).fit(model_text(corpus), corpus["label"].to_numpy())


@functools.cache
def trained_model() -> Pipeline:
    """The shipped model: fitted once per process on :func:`training_corpus`, deterministically."""
    return fit(training_corpus())


def training_fingerprint() -> str:
    """sha256 of the training messages and labels, with :data:`MODEL_VERSION`: what a recorded score applies to."""
    corpus = training_corpus()
    h = hashlib.sha256(MODEL_VERSION.encode())
    for row in corpus.select("id", "label", "subject", "body").iter_rows():
        h.update(repr(row).encode())
    return h.hexdigest()


def probabilities(model: Pipeline, texts: pl.Series) -> np.ndarray:
    """The model's probability of a report for each of ``texts`` (:func:`model_text`), in one vectorised pass."""
    linear = model.named_steps["model"]
    z = model.named_steps["features"].decision(texts, linear.coef_.ravel(), float(linear.intercept_[0]))
    return 1 / (1 + np.exp(-z))


def _explain(model: Pipeline, x: sparse.csr_matrix, rows: np.ndarray, top: int) -> list[str | None]:
    """For each row of ``rows``: the ``top`` n-grams of that message that weighed most toward a report."""
    names = model.named_steps["features"].get_feature_names_out()
    coef = model.named_steps["model"].coef_.ravel()
    out: list[str | None] = []
    for r in rows:
        start, stop = x.indptr[r], x.indptr[r + 1]
        cols = x.indices[start:stop]
        weight = x.data[start:stop] * coef[cols]
        best = cols[np.argsort(-weight)[:top]][weight[np.argsort(-weight)[:top]] > 0]
        out.append(", ".join(f"'{names[c].split(':', 1)[1].strip()}'" for c in best) or None)
    return out


def triage(
    messages: pl.DataFrame,
    *,
    threshold: float = THRESHOLD,
    extra_phrases: Iterable[str] = (),
    model: Pipeline | None = None,
    top_terms: int = 4,
) -> pl.DataFrame:
    """``messages`` (subject, body) with the rules' columns and ``probability``, ``candidate``, ``explanation``.

    ``is_report``, ``rule`` and ``matched_text`` are the rules' (:func:`classify`);
    ``probability`` is the model's; ``candidate`` is a probability at least ``threshold``, or a
    matched rule the model gives at least :data:`RULE_BAR`; ``explanation`` quotes the matched phrase, else the n-grams of the message
    that weighed most toward a report (null when none did).
    """
    if not 0 < threshold < 1:
        raise WorkbenchError(f"triage threshold must be between 0 and 1 (exclusive), got {threshold!r}")
    model = trained_model() if model is None else model
    found = classify(messages, extra_phrases)
    p = probabilities(model, model_text(found))
    rules = found["is_report"].to_numpy()
    explained = np.array([None] * found.height, dtype=object)
    ask = np.flatnonzero(~rules & (p >= 0.05))
    if len(ask):
        x = model.named_steps["features"].transform(model_text(found[ask]))
        explained[ask] = _explain(model, x, np.arange(len(ask)), top_terms)
    matched = found["matched_text"].to_list()
    for i in np.flatnonzero(rules):
        explained[i] = f'{found["rule"][int(i)]}: "{matched[int(i)]}"'
    return found.with_columns(
        probability=pl.Series(p.round(4), dtype=pl.Float64),
        candidate=pl.Series((rules & (p >= RULE_BAR)) | (p >= threshold), dtype=pl.Boolean),
        explanation=pl.Series(explained.tolist(), dtype=pl.String),
    )


def rank_window(inbox: pl.DataFrame, start: datetime, end: datetime) -> pl.DataFrame:
    """Messages of a triaged inbox reported in [start, end), candidates first, then by score.

    The score is ``score`` when the case evidence was joined (:mod:`.triage_case`), else the
    model's ``probability``. ``rank`` counts from 1; ties keep time order.
    """
    return rank(inbox.filter((pl.col("reported_at") >= start) & (pl.col("reported_at") < end)))


def rank(scored: pl.DataFrame) -> pl.DataFrame:
    """``scored`` sorted candidates first, then by ``score`` (else ``probability``), then time; ``rank`` from 1."""
    by = "score" if "score" in scored.columns else "probability"
    ranked = scored.drop("rank", strict=False).sort(
        ["candidate", by, "reported_at", "message_id"], descending=[True, True, False, False]
    )
    return ranked.with_row_index("rank", offset=1).with_columns(pl.col("rank").cast(pl.Int64))


def first_report_bounds(ranked: pl.DataFrame, top_n: int = 20) -> pl.DataFrame:
    """The first-report time with its uncertainty, from :func:`rank_window`'s frame.

    Rows (measure, reported_at, message_id, rank): the earliest rule match, the earliest
    candidate (a rule, or the probability, with the case evidence where joined, at the
    threshold), the earliest candidate among the top ``top_n`` a reviewer reads, and, when
    the frame has ``set_by_hand``, the earliest message a reviewer confirmed. Times are null
    when no message qualifies.
    """
    if top_n < 1:
        raise WorkbenchError(f"top_n must be a positive number of messages to read, got {top_n!r}")

    def earliest(measure: str, rows: pl.DataFrame) -> dict:
        first = rows.sort("reported_at", "message_id").head(1)
        if not first.height:
            return {"measure": measure, "reported_at": None, "message_id": None, "rank": None}
        return {"measure": measure, **first.select("reported_at", "message_id", "rank").row(0, named=True)}

    rows = [
        earliest("earliest rule match", ranked.filter("is_report")),
        earliest(
            "earliest candidate (score at threshold, or a rule the model does not rule out)", ranked.filter("candidate")
        ),
        earliest(
            f"earliest candidate among the top {top_n} a reviewer reads",
            ranked.filter((pl.col("rank") <= top_n) & pl.col("candidate")),
        ),
    ]
    if "set_by_hand" in ranked.columns:
        rows.append(earliest("earliest confirmed by a reviewer", ranked.filter(pl.col("set_by_hand") == "confirmed")))
    return pl.DataFrame(
        rows,
        schema={
            "measure": pl.String,
            "reported_at": ranked.schema.get("reported_at", pl.Datetime("us", "UTC")),
            "message_id": pl.String,
            "rank": pl.Int64,
        },
        orient="row",
    )

"""How much each item of case evidence counts toward a message's rank: weights fitted where the truth is known.

The case evidence (:mod:`.triage_case`) gives four yes/no features per message: the sender
was *bound* (a session of theirs showed another member's account before the message), the
message *names the account* it was shown, it *names another member*, or it mentions a
*changed field* of the sender's own account. Each adds a weight in log-odds to the text
model's score::

    score = sigmoid(logit(probability) + Σ weight · feature)

so a message without evidence keeps its probability, and the candidate threshold keeps its
meaning. The weights are a logistic regression of the label on the features with the text
model's logit as a fixed offset and an L2 penalty (:data:`PENALTY_C`), fitted by L-BFGS from
zero: deterministic, a few milliseconds.

They are fitted on the windows of the generated tiny and small cases (seed 1), where the
truth is known: ``workbench/data/triage_case_training.csv`` holds, per message, the four
features, the label and the text logit of a model trained without the generator's messages
(so the text is not already in-sample for them; no message text is shipped).
``tests/test_triage_weights.py`` rebuilds the file and fails when it is stale. A reviewer's
labels (:func:`fit_case_weights` with ``labels``) are added to those rows, each weighing
``label_weight``, when the triage box retrains.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import numpy as np
import polars as pl
from scipy.optimize import minimize

from ..errors import WorkbenchError

__all__ = [
    "CASE_FEATURES",
    "CASE_TRAINING_SCHEMA",
    "PENALTY_C",
    "CaseWeights",
    "case_features",
    "case_training_rows",
    "evidence_logit",
    "fit_case_weights",
    "logit",
    "shipped_case_weights",
]

CASE_FEATURES = ("bound", "names_account", "names_member", "changed_field")
"""The case-evidence features, in the order of :attr:`CaseWeights.weights`."""
PENALTY_C = 10.0
"""Inverse strength of the L2 penalty that pulls each weight toward 0 (no effect) when the data say little."""
CASE_TRAINING_SCHEMA = pl.Schema(
    {
        "case": pl.String(),
        "message_id": pl.String(),
        "label": pl.Int64(),
        "text_logit": pl.Float64(),
        **{f: pl.Boolean() for f in CASE_FEATURES},
    }
)
"""One row per message of a generated case's window: what :func:`fit_case_weights` is fitted on."""


@dataclass(frozen=True)
class CaseWeights:
    """Log-odds each case-evidence feature adds (``weights``, by :data:`CASE_FEATURES`) and what they were fitted on."""

    weights: dict[str, float]
    messages: int
    reports: int
    labels: int = 0

    def describe(self) -> str:
        said = ", ".join(f"{k} {v:+.2f}" for k, v in self.weights.items())
        own = f" and {self.labels} reviewer label(s) of this case" if self.labels else ""
        return f"log-odds added: {said}; fitted on {self.messages} messages ({self.reports} reports){own}"


def logit(p: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)), with p kept within [1e-6, 1 - 1e-6]."""
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(q / (1 - q))


def case_features(frame: pl.DataFrame) -> np.ndarray:
    """The features of :data:`CASE_FEATURES` (0 or 1) of a frame with the case evidence's columns, one row each.

    From ``bound_account_id`` (not null), ``names_account``, ``names_member`` and ``changed_field``
    (not null); a frame already holding the boolean columns (the training rows) is read as it is.
    """
    if set(CASE_FEATURES) <= set(frame.columns):
        return frame.select(pl.col(f).fill_null(False) for f in CASE_FEATURES).to_numpy().astype(np.float64)
    missing = {"bound_account_id", "names_account", "names_member", "changed_field"} - set(frame.columns)
    if missing:
        raise WorkbenchError(f"the case evidence is not joined: missing columns {sorted(missing)}")
    return (
        frame.select(
            pl.col("bound_account_id").is_not_null(),
            pl.col("names_account").fill_null(False),
            pl.col("names_member").fill_null(False),
            pl.col("changed_field").is_not_null(),
        )
        .to_numpy()
        .astype(np.float64)
    )


def evidence_logit(frame: pl.DataFrame, weights: CaseWeights) -> np.ndarray:
    """The log-odds the case evidence adds to each message of ``frame``."""
    return case_features(frame) @ np.array([weights.weights[f] for f in CASE_FEATURES])


def case_training_rows() -> pl.DataFrame:
    """The shipped training rows (:data:`CASE_TRAINING_SCHEMA`): the generated tiny and small windows."""
    with resources.as_file(resources.files("workbench") / "data" / "triage_case_training.csv") as path:
        return pl.read_csv(path, schema=CASE_TRAINING_SCHEMA)


def _fit(x: np.ndarray, offset: np.ndarray, y: np.ndarray, w: np.ndarray, c: float) -> np.ndarray:
    """Penalised logistic regression of ``y`` on ``x`` with a fixed ``offset`` and no intercept."""

    def loss(beta: np.ndarray) -> tuple[float, np.ndarray]:
        z = offset + x @ beta
        value = float(w @ (np.logaddexp(0, z) - y * z)) + 0.5 / c * float(beta @ beta)
        return value, x.T @ (w * (1 / (1 + np.exp(-z)) - y)) + beta / c

    return minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B").x


def fit_case_weights(
    labels: pl.DataFrame | None = None, *, label_weight: float = 3.0, c: float = PENALTY_C
) -> CaseWeights:
    """Weights fitted on the shipped rows plus ``labels``: a frame with ``probability``, ``label`` (1 or 0) and the evidence.

    ``probability`` is the text model's before the labels were trained on (what the reviewer
    saw), so each label tells what the evidence added beyond the text.
    """
    rows = case_training_rows()
    x, offset = case_features(rows), rows["text_logit"].to_numpy()
    y, w = rows["label"].to_numpy().astype(np.float64), np.ones(rows.height)
    n_labels = 0
    if labels is not None and labels.height:
        if label_weight <= 0:
            raise WorkbenchError(f"the weight of a reviewer's label must be positive, got {label_weight!r}")
        bad = labels.filter(~pl.col("label").is_in([0, 1]))
        if bad.height:
            raise WorkbenchError(f"a label is 1 (confirmed) or 0 (false-positive); got {bad['label'][0]!r}")
        n_labels = labels.height
        x = np.vstack([x, case_features(labels)])
        offset = np.concatenate([offset, logit(labels["probability"].to_numpy())])
        y = np.concatenate([y, labels["label"].to_numpy().astype(np.float64)])
        w = np.concatenate([w, np.full(n_labels, float(label_weight))])
    beta = _fit(x, offset, y, w, c)
    return CaseWeights(
        weights={f: round(float(b), 4) for f, b in zip(CASE_FEATURES, beta, strict=True)},
        messages=rows.height,
        reports=int(rows["label"].sum()),
        labels=n_labels,
    )


@functools.cache
def shipped_case_weights() -> CaseWeights:
    """The weights fitted on the shipped rows alone, once per process."""
    return fit_case_weights()

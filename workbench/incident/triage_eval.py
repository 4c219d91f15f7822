"""How the fault-report triage carries to new writers: leave-one-round-out, then the untouched round.

Each hand-written round except :data:`~workbench.incident.triage.FINAL_TEST_ROUND` is held
out in turn; the model is fitted on every other round plus the generated messages and
scored on it. Rules, model and combined (a rule or the probability at the threshold) are
scored on the same messages. The rules were revised on rounds 1 to 7, so their scores there
are in-sample (``rules_revised_on_it``); their honest first scores are in
:func:`workbench.incident.classify.validation_record`. The final test round is scored last,
with the model fitted on all the other rounds; it is never used to choose anything.

The first scores of the fresh rounds (9 and 10), made once with the model frozen before
either was read, are in ``workbench/data/fault_report_validation.json`` under ``triage``.
"""

from __future__ import annotations

import polars as pl

from .classify import score
from .triage import FINAL_TEST_ROUND, THRESHOLD, fit, training_corpus, triage

__all__ = ["carrying", "summary"]

_RULES_REVISED_ON = frozenset(range(1, 8))


def _scores(scored: pl.DataFrame, threshold: float) -> dict[str, float | int]:
    truth = scored.filter(pl.col("label") == 1)["id"]
    out: dict[str, float | int] = {"messages": scored.height, "reports": truth.len()}
    for name, chosen in (
        ("rules", pl.col("is_report")),
        ("model", pl.col("probability") >= threshold),
        ("combined", pl.col("is_report") | (pl.col("probability") >= threshold)),
    ):
        s = score(scored.filter(chosen)["id"], truth)
        out[f"{name}_precision"], out[f"{name}_recall"] = round(s["precision"], 4), round(s["recall"], 4)
    return out


def carrying(threshold: float = THRESHOLD, c: float = 10.0) -> pl.DataFrame:
    """One row per held-out round (``part`` "cross-validation" or "final test"), then the pooled rows.

    Columns: round, part, messages, reports, rules_revised_on_it, and precision and recall of
    rules, model and combined at ``threshold``. The pooled rows score every cross-validation
    message together (``round`` null, part "cross-validation, pooled").
    """
    corpus = training_corpus(include_final_test=True)
    rounds = sorted(r for r in set(corpus["round"]) if r not in (0, FINAL_TEST_ROUND))
    rows, pooled = [], []
    for held in [*rounds, FINAL_TEST_ROUND]:
        train = corpus.filter((pl.col("round") != held) & (pl.col("round") != FINAL_TEST_ROUND))
        scored = triage(corpus.filter(pl.col("round") == held), threshold=threshold, model=fit(train, c))
        part = "final test" if held == FINAL_TEST_ROUND else "cross-validation"
        if part == "cross-validation":
            pooled.append(scored)
        rows.append(
            {
                "round": held,
                "part": part,
                "rules_revised_on_it": held in _RULES_REVISED_ON,
                **_scores(scored, threshold),
            }
        )
    rows.append(
        {
            "round": None,
            "part": "cross-validation, pooled",
            "rules_revised_on_it": None,
            **_scores(pl.concat(pooled), threshold),
        }
    )
    return pl.DataFrame(rows, schema_overrides={"round": pl.Int64, "rules_revised_on_it": pl.Boolean})


def summary(table: pl.DataFrame) -> dict[str, float]:
    """Mean and worst precision and recall over the cross-validation rounds, per method."""
    cv = table.filter(pl.col("part") == "cross-validation")
    return {
        f"{stat}_{col}": round(float(getattr(cv[col], stat)()), 4)
        for col in cv.columns
        if col.endswith(("_precision", "_recall"))
        for stat in ("mean", "min")
    }

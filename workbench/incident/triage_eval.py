"""How the fault-report triage carries to new writers: leave-one-round-out, then the held-out rounds.

Each hand-written development round (1 to 12) is held out in turn; the model is fitted on
every other round plus the generated messages and scored on it. Rules, model and combined
(the probability at the threshold, or a rule the model gives at least
:data:`~workbench.incident.triage.RULE_BAR`) are scored on the same messages. The rules
were revised on rounds 1 to 7, so their scores there are in-sample
(``rules_revised_on_it``); their honest first scores are in
:func:`workbench.incident.classify.validation_record`. Model version 4's threshold, rule bar,
regularisation and training-only messages were chosen on this cross-validation, after rounds
1 to 12 had all been read, so it is a development measure. The blind rounds
(:data:`~workbench.incident.triage.HELD_OUT_ROUNDS`, ``handwritten_corpus("blind")``) are
scored last, with the model fitted on all of rounds 1 to 12; they are never used to choose
anything.

The first scores of the fresh rounds (9 to 14), each made once with the model frozen before
the round was read, are in ``workbench/data/fault_report_validation.json`` under ``triage``.
"""

from __future__ import annotations

from importlib import resources

import polars as pl

from .classify import handwritten_corpus, score
from .triage import RULE_BAR, THRESHOLD, C, fit, training_corpus, triage

__all__ = ["carrying", "held_out", "summary"]

_RULES_REVISED_ON = frozenset(range(1, 8))


def held_out() -> pl.DataFrame:
    """The blind rounds (id, round, lang, label, subject, body), empty while none is shipped."""
    columns = ["id", "round", "lang", "label", "subject", "body"]
    if not (resources.files("workbench") / "data" / "fault_reports_handwritten_blind.csv").is_file():
        return training_corpus().head(0).select(columns)
    return handwritten_corpus("blind").select(columns)


def _scores(scored: pl.DataFrame, threshold: float) -> dict[str, float | int]:
    truth = scored.filter(pl.col("label") == 1)["id"]
    out: dict[str, float | int] = {"messages": scored.height, "reports": truth.len()}
    for name, chosen in (
        ("rules", pl.col("is_report")),
        ("model", pl.col("probability") >= threshold),
        (
            "combined",
            (pl.col("is_report") & (pl.col("probability") >= RULE_BAR)) | (pl.col("probability") >= threshold),
        ),
    ):
        s = score(scored.filter(chosen)["id"], truth)
        out[f"{name}_precision"], out[f"{name}_recall"] = round(s["precision"], 4), round(s["recall"], 4)
    return out


def carrying(threshold: float = THRESHOLD, c: float = C) -> pl.DataFrame:
    """One row per held-out round (``part`` "cross-validation" or "held out"), then the pooled rows.

    Columns: round, part, messages, reports, rules_revised_on_it, and precision and recall of
    rules, model and combined at ``threshold``. The pooled rows score every cross-validation
    message together (``round`` null, part "cross-validation, pooled").
    """
    corpus = training_corpus()
    rows, pooled = [], []
    for held in sorted(r for r in set(corpus["round"]) if r != 0):
        scored = triage(
            corpus.filter(pl.col("round") == held),
            threshold=threshold,
            model=fit(corpus.filter(pl.col("round") != held), c),
        )
        pooled.append(scored)
        row = {"round": held, "part": "cross-validation", "rules_revised_on_it": held in _RULES_REVISED_ON}
        rows.append({**row, **_scores(scored, threshold)})
    test = held_out()
    if test.height:
        model = fit(corpus, c)
        for held in sorted(set(test["round"])):
            scored = triage(test.filter(pl.col("round") == held), threshold=threshold, model=model)
            rows.append({"round": held, "part": "held out", "rules_revised_on_it": False, **_scores(scored, threshold)})
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

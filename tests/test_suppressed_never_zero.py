"""The hidden-cell marker says "5 or more", so it never stands on a 0 (nor on a 1–4).

Last session a public groups table (notebook 03) showed "[suppressed]" on a count of 0: a
complementary cell chosen among zeros. A reader told the marker means "5 or more" then read
something false, and, knowing the row's total, could tell the marker lied and pin the "1–4"
beside it.
"""

from __future__ import annotations

import random

import polars as pl
import pytest

from workbench.i18n import t
from workbench.reportset.disclosure_audit import audit_breakdown
from workbench.suppression import THRESHOLD, TooFewToShow, hidden_marker, small_marker, suppress, too_fine

# District X has 4 contracts in queue order and none out of it: its "1–4" sits beside a 0.
LONE_SMALL_BESIDE_A_ZERO = pl.DataFrame(
    {"district": ["X", "Y", "Z"], "n_in_order": [4, 10, 8], "n_out_of_order": [0, 7, 6]}
)


def test_a_small_cell_whose_only_cover_is_a_zero_is_too_fine_not_hidden_behind_the_zero():
    with pytest.raises(TooFewToShow, match="by district is too fine"):
        suppress(LONE_SMALL_BESIDE_A_ZERO, ["n_in_order", "n_out_of_order"])
    assert too_fine(LONE_SMALL_BESIDE_A_ZERO, ["n_in_order", "n_out_of_order"]) == 1  # the cheap test agrees


def test_a_zero_beside_hidden_cells_stays_0_when_bigger_cells_can_cover():
    frame = pl.DataFrame({"district": ["X", "Y", "Z"], "a": [3, 10, 8], "b": [9, 7, 6], "c": [0, 0, 5]})
    shown = suppress(frame, ["a", "b", "c"])
    assert shown.row(0) == ("X", small_marker(), hidden_marker(), "0")
    marker_values = [
        frame[c][r] for c in ("a", "b", "c") for r in range(frame.height) if shown[c][r] == hidden_marker()
    ]
    assert marker_values and min(marker_values) >= THRESHOLD


def test_every_label_is_true_of_the_value_it_hides_on_random_small_breakdowns():
    rng = random.Random(7)
    published = refused = 0
    for _ in range(300):
        rows, cols = rng.randint(2, 4), rng.randint(2, 3)
        data = {f"n{c}": [rng.choice([0, 0, 1, 2, 3, 4, 5, 6, 9, 14]) for _ in range(rows)] for c in range(cols)}
        frame = pl.DataFrame({"district": [f"d{r}" for r in range(rows)], **data})
        try:
            shown = suppress(frame, list(data))
        except TooFewToShow:
            refused += 1
            continue
        published += 1
        for name, values in data.items():
            for value, label in zip(values, shown[name].to_list(), strict=True):
                if label == hidden_marker():
                    assert value >= THRESHOLD, (frame, shown)
                elif label == small_marker():
                    assert 1 <= value < THRESHOLD, (frame, shown)
                else:
                    assert label == str(value), (frame, shown)
    assert published > 30 and refused > 10  # both paths were taken


def test_the_audit_fails_a_marker_on_a_zero_as_a_false_statement():
    entry = {
        "counts": ["n_in_order", "n_out_of_order"],
        "keys": ["district"],
        "threshold": THRESHOLD,
        "key_values": [["X"], ["Y"], ["Z"]],
        "true": [[4, 0], [10, 7], [8, 6]],
        # what the suppression published before: the 0 of X hidden to cover its 1–4
        "shown": [["1–4", "[suppressed]"], ["[suppressed]", "[suppressed]"], ["[suppressed]", "[suppressed]"]],
    }
    _, problems = audit_breakdown(entry)
    assert any("row 0 (X) n_out_of_order is 0" in p and "5 or more" in p for p in problems), problems
    # Read as the legend says (5 or more), X's total of 4 pins its 1–4 as well.
    assert any("row 0 (X) n_in_order" in p and "pinned" in p for p in problems), problems


@pytest.mark.parametrize(("language", "five"), [("en", "5 or more"), ("sv", "5 eller fler")])
def test_the_public_banner_says_what_the_marker_hides(language, five):
    banner = t("banner.public", language)
    assert hidden_marker(language) in banner and five in banner and small_marker() in banner

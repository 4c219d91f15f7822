"""A public breakdown that no complementary suppression can protect is withheld with a note.

Before, ``display.show`` let :class:`TooFewToShow` through, and one such table on an outside
case failed the whole public report. Hand-written counts; no generator.
"""

from __future__ import annotations

import polars as pl
import pytest

from workbench.audience import fit
from workbench.display import Table, show
from workbench.i18n import using
from workbench.suppression import TooFewToShow

# A district of 3 with only a zero beside it: hiding the 3 would need a complementary cell of
# 5 or more on its row, and "[suppressed]" on the zero would be false (it means 5 or more).
TOO_FINE = pl.DataFrame({"district": ["Norr", "Söder"], "n": [3, 0]})
FINE = pl.DataFrame({"district": ["Norr", "Söder", "Väster"], "n": [30, 12, 9]})


def _text(shown) -> str:
    return shown.data if hasattr(shown, "data") else str(shown)


def test_fit_still_refuses_the_breakdown():
    with pytest.raises(TooFewToShow):
        fit(TOO_FINE, "public", counts=["n"])


def test_public_page_withholds_it_with_a_note_instead_of_failing():
    shown = show(TOO_FINE, "public", counts=["n"], caption="Sessions by district")
    assert not isinstance(shown, Table)
    text = _text(shown)
    assert "Sessions by district" in text
    assert "withheld: too few to show by district" in text
    assert "3" not in text and "Norr" not in text  # nothing of the breakdown itself


def test_the_swedish_page_says_it_in_swedish():
    with using("sv"):
        text = _text(show(TOO_FINE, "public", counts=["n"]))
    assert "*Undanhållet: för få för att visas per stadsdel.*" == text
    assert "withheld" not in text


def test_other_audiences_and_fine_breakdowns_are_tables():
    assert isinstance(show(TOO_FINE, "investigator", counts=["n"]), Table)
    shown = show(FINE, "public", counts=["n"])
    assert isinstance(shown, Table)

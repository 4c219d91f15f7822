"""What a journalist reading the Swedish public set of the small case found still in English or in code words.

Each word below was on a page of ``workbench report --audience public:sv`` of ``--scale small --seed 1``:
a caseworker's excess "large", listing kinds "new_build", the fake-profile signals, the queue acts
"interest_registered", the notification categories "changed_by_other", the restore action "review: …",
an English finding label, and file sizes with a decimal point.
"""

from __future__ import annotations

import pytest

from workbench.display import value_label
from workbench.exposure.notify import MESSAGE_CATEGORIES
from workbench.fairness.caseworkers import EFFECT_LABELS
from workbench.fairness.fakes import SIGNALS
from workbench.i18n import translations, using
from workbench.scenario.listings import KINDS

CODES = [
    ("effect_label", [label for _, label in EFFECT_LABELS]),
    ("group", list(KINDS)),
    ("signal", list(SIGNALS)),
    ("kind", ["interest_registered", "interest_withdrawn", "offer_answered"]),
    ("message_category", list(MESSAGE_CATEGORIES)),
    ("action", ["restore", "none: owner already restored it", "review: owner changed the field later"]),
]


@pytest.mark.parametrize(("column", "values"), CODES, ids=[c for c, _ in CODES])
def test_a_category_the_swedish_tables_show_is_written_in_swedish(column, values):
    with using("sv"):
        shown = {v: value_label(column, v) for v in values}
    assert [v for v, label in shown.items() if label == v] == []
    assert len(set(shown.values())) == len(values)  # no two categories read alike


@pytest.mark.parametrize(("column", "values"), CODES, ids=[c for c, _ in CODES])
def test_a_category_the_english_tables_show_is_words_not_a_code(column, values):
    with using("en"):
        shown = [value_label(column, v) for v in values]
    assert [label for label in shown if "_" in label] == []
    assert len(set(shown)) == len(values)


def test_a_district_or_a_year_in_the_groups_table_is_shown_as_it_is():
    with using("sv"):
        assert [value_label("group", v) for v in ("Farsta", "2014", "other districts")] == [
            "Farsta",
            "2014",
            "övriga stadsdelar",
        ]


def test_the_detectable_fraud_figure_has_a_swedish_label():
    label = translations("sv", "finding_label")["detectable_fraud_percent"]
    assert label.startswith("Andel av en handläggares kontrakt") and "80 % styrka" in label


def test_a_file_size_in_the_swedish_index_has_a_decimal_comma(tmp_path):
    from workbench.reportset.contents import _size

    path = tmp_path / "page.html"
    path.write_bytes(b"x" * 1_340_000)
    assert _size(path) == "1.3 MB"
    with using("sv"):
        assert _size(path) == "1,3 MB"
    (tmp_path / "small.json").write_bytes(b"x" * 2_400)
    assert _size(tmp_path / "small.json") == "2 kB"


def test_translating_a_notebook_for_the_swedish_copy_leaves_the_english_one_english():
    """``--audience public:sv,public``: the English public set came out with Swedish titles and text,
    because the Swedish copy translated the run's one executed notebook in place."""
    import nbformat

    from workbench.reportset.build import notebook_paths, notebook_title
    from workbench.reportset.translation import translated_cells

    executed = nbformat.read(str(notebook_paths(["00_case_overview"])[0]), as_version=4)
    swedish = translated_cells(executed, "sv", "00_case_overview")
    assert notebook_title(swedish) == "Ärendeöversikt"
    assert notebook_title(executed) == "Case overview"  # the English copies render from it next
    assert notebook_title(translated_cells(executed, "en", "00_case_overview")) == "Case overview"


def test_the_fields_a_page_shows_are_listed_by_their_labels():
    """02's pages table listed "name, personnummer, postal_code, applicant_id" as the code names them."""
    fields = "name, personnummer, postal_code, applicant_id"
    with using("en"):
        assert value_label("fields", fields) == "name, personnummer, postal code, customer number"
    with using("sv"):
        assert value_label("fields", fields) == "namn, personnummer, postnummer, kundnummer"

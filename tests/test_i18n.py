"""Swedish and English (issue 17, point 3): one catalogue per language, the same messages in each.

The catalogues are workbench/locales/en.yaml and sv.yaml. A message in one and not the other,
or filled with other placeholders, fails here; so does a Swedish figure written the English way.
"""

from __future__ import annotations

import pytest

from workbench.i18n import LanguageError, differences, messages, t, translate, using
from workbench.reportset.bounds import out_of_range
from workbench.values import format_duration, format_value, format_when


def test_every_message_is_in_both_languages_with_the_same_placeholders():
    assert differences(messages("en"), messages("sv")) == []


def _duplicate_keys(text: str) -> list[str]:
    """Keys written twice in one mapping of a YAML text: the later silently replaces the earlier."""
    import yaml

    found: list[str] = []

    class Loader(yaml.SafeLoader):
        pass

    def mapping(loader, node):
        keys = [(loader.construct_object(k), k.start_mark.line + 1) for k, _ in node.value]
        seen = [k for k, _ in keys]
        found.extend(f"{k} (line {line})" for i, (k, line) in enumerate(keys) if k in seen[:i])
        return loader.construct_mapping(node)

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    yaml.load(text, Loader)
    return found


@pytest.mark.parametrize("language", ["en", "sv"])
def test_no_catalogue_writes_a_key_twice(language):
    # A group "field:" added under chart: once replaced the message chart.field, and every
    # chart that asked for it failed only when a notebook ran.
    from workbench.i18n import LOCALES

    assert _duplicate_keys((LOCALES / f"{language}.yaml").read_text(encoding="utf-8")) == []
    assert _duplicate_keys("chart:\n  field: field\n  field:\n    name: name\n") == ["field (line 3)"]


def test_a_message_missing_from_one_language_or_with_other_placeholders_is_named():
    en = {"money": "{amount} kr", "yes": "yes", "rows": "{n} rows"}
    sv = {"money": "{amount} kr", "rows": "{antal} rader", "extra": "extra"}
    assert differences(en, sv) == [
        "'yes' is in en.yaml but not in sv.yaml",
        "'extra' is in sv.yaml but not in en.yaml",
        "'rows' fills ['n'] in en.yaml but ['antal'] in sv.yaml",
    ]


def test_swedish_dates_numbers_and_units_follow_swedish_conventions():
    assert format_when("2013-12-13T17:52:00+00:00", language="sv") == "fredag 13 december 2013 kl. 18.52"
    assert format_when("2013-07-05T22:05:00+00:00", language="sv") == "lördag 6 juli 2013 kl. 00.05"
    assert format_value(1_204_051, language="sv") == "1\u202f204\u202f051"
    assert format_value(12.25, language="sv") == "12,25" and format_value(0.09664, language="sv") == "0,09664"
    assert format_value(0.0966, "swap_rate", "sv") == "9,7\u202f%"
    assert format_value(5.5, "error_pct", "sv") == "5,5\u202f%"
    assert format_value(312_000, "annual_income", "sv") == "312\u202f000 kr"
    assert format_value(48.39, "time_to_detect_hours", "sv") == "48 h 23 min"
    assert format_duration(1.5, "sv") == "1,5 s"
    # years and ids never get a separator, in any language
    assert format_value(2013, "year", "sv") == "2013" and format_value(1_000_051, "applicant_id", "sv") == "1000051"
    assert format_value(True, language="sv") == "ja" and format_value([], language="sv") == "inga"
    assert format_value({"min": 140, "likely": 150, "max": 330}, "accounts_exposed", "sv") == "150 (mellan 140 och 330)"
    assert format_value({"unknown": "no file"}, language="sv") == "okänt (no file)"


def test_english_is_unchanged_and_the_default():
    assert format_when("2013-12-13T17:52:00+00:00") == "Friday 13 December 2013 at 18:52"
    assert format_value(0.0966, "swap_rate") == "9.7%" and format_value(12.25) == "12.25"
    with using("sv"):
        assert format_value(0.0966, "swap_rate") == "9,7\u202f%" and t("yes") == "ja"
    assert t("yes") == "yes"


def test_an_unknown_language_is_refused_naming_the_allowed_ones():
    with pytest.raises(LanguageError, match=r"'de'.*allowed: en, sv"):
        t("yes", "de")
    assert out_of_range("language", "str", "de") == "one of en, sv"
    assert out_of_range("language", "str", "sv") is None


def test_a_notebook_sentence_without_a_translation_stays_english():
    assert translate("A sentence no catalogue knows.", "sv") == "A sentence no catalogue knows."
    assert translate("does not hold", "en") == "does not hold"


def test_every_markdown_cell_has_a_swedish_translation_and_none_is_stale():
    from workbench.reportset.build import notebook_paths
    from workbench.reportset.translation import untranslated

    # every Markdown cell of every report notebook has a Swedish translation, none of them stale
    assert untranslated(notebook_paths()) == []


def test_a_changed_english_cell_makes_its_swedish_translation_stale(tmp_path):
    import nbformat

    from workbench.reportset.build import notebook_paths
    from workbench.reportset.translation import translated_cells, untranslated

    nb = nbformat.read(str(notebook_paths(["00_case_overview"])[0]), as_version=4)
    changed = next(c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## Quarantine"))
    changed.source += " A sentence added in English."
    path = tmp_path / "00_case_overview.ipynb"
    nbformat.write(nb, str(path))
    (problem,) = untranslated([path])
    assert problem.startswith(f"sv.yaml: 00_case_overview cell {changed.id} is stale")
    # a stale translation is not shown: the reader gets the current English, not an outdated Swedish
    rendered = translated_cells(nbformat.read(str(path), as_version=4), "sv", "00_case_overview")
    texts = [c.source for c in rendered.cells if c.cell_type == "markdown"]
    assert changed.source in texts and texts[0].startswith("# Ärendeöversikt")


def test_every_sentence_and_caption_the_notebooks_write_has_a_swedish_entry():
    from workbench.reportset.build import notebook_paths
    from workbench.reportset.translation import notebook_prose, untranslated_prose

    for path in notebook_paths():
        texts = notebook_prose(path)
        assert texts, path  # the reading finds the say(...) sentences, or this test proves nothing
        assert untranslated_prose(texts) == [], path.stem


def test_every_sentence_the_package_passes_to_translate_has_a_swedish_entry():
    from pathlib import Path

    import workbench
    from workbench.reportset.translation import prose, untranslated_prose

    texts = [
        t
        for f in sorted(Path(workbench.__file__).parent.rglob("*.py"))
        for t in prose(f.read_text(), calls=("translate",))
    ]
    assert len(texts) > 10  # the verdict's sentences, the widgets' captions, …
    assert untranslated_prose(texts) == []


def test_a_say_sentence_or_caption_with_no_swedish_entry_is_named(tmp_path):
    import nbformat

    from workbench.reportset.translation import notebook_prose, untranslated_prose

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from workbench.exposure import ART33_TEMPLATE\n"
            'findings.say("A sentence nobody translated: **{n}**.", unknown="holds")\n'
            'table(frame, caption="Skipped members")\n'
            "findings.say(ART33_TEMPLATE)\n"
            'findings.say("does not hold" if flag else "A branch nobody translated.")\n'
        )
    ]
    path = tmp_path / "99_made_up.ipynb"
    nbformat.write(nb, str(path))
    from workbench.exposure import ART33_TEMPLATE

    texts = notebook_prose(path)
    assert set(texts) == {
        "A sentence nobody translated: **{n}**.",
        "holds",
        "Skipped members",
        ART33_TEMPLATE,
        "does not hold",
        "A branch nobody translated.",
    }
    assert untranslated_prose(texts) == [
        "sv.yaml notebook_text has no entry for 'A sentence nobody translated: **{n}**.'",
        "sv.yaml notebook_text has no entry for 'A branch nobody translated.'",
    ]


def test_a_translation_filling_other_figures_than_its_english_is_named(monkeypatch):
    from workbench.reportset import translation

    monkeypatch.setattr(translation, "translations", lambda language, section: {"{n} rows.": "{antal} rader."})
    assert translation.untranslated_prose(["{n} rows."]) == [
        "sv.yaml notebook_text fills ['antal'] for '{n} rows.', which fills ['n']"
    ]


def test_why_a_figure_is_unknown_is_said_in_the_reports_language(tmp_path):
    from workbench.findings import Findings, load
    from workbench.incident.clocks import _WHY
    from workbench.incident.figures import WHY_NONE
    from workbench.needs import unknown_because

    missing = {"applicants": "no file at ingest", "interests": "no file at ingest", "offers": "no file at ingest"}
    assert unknown_because(missing) == "the case has no applicants, interests or offers evidence: no file at ingest"
    assert (
        unknown_because(missing, "sv")
        == "ärendet saknar bevis ur applicants, interests eller offers: ingen fil vid inläsningen"
    )
    assert unknown_because(["fees"], "sv") == "ärendet saknar bevis ur fees"
    # as a report records it: the figure's reason in findings.json, and the sentence that names it
    findings = Findings(tmp_path, audience="investigator")
    findings.absent = {"support_messages": "no file at ingest"}
    with using("sv"):
        findings.record("fault_reports", 0, "Felanmälningar")
        findings.record("onset_at", None, "Början")
        text = findings.text("{fault_reports} anmälningar.")
    recorded = load(tmp_path)
    assert recorded["fault_reports"]["value"] == {
        "unknown": "ärendet saknar bevis ur support_messages: ingen fil vid inläsningen"
    }
    assert recorded["onset_at"]["value"] == {"unknown": t("not_in_evidence", "sv")}
    assert (
        text
        == "okänt anmälningar. *Okänt här eftersom ärendet saknar bevis ur support_messages: ingen fil vid inläsningen.*"
    )
    # every reason the incident gives for an unknown figure has its Swedish
    reasons = set(WHY_NONE.values()) | {w for pair in _WHY.values() for w in pair}
    assert {r for r in reasons if translate(r, "sv") == r} == set()

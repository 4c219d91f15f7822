"""Report sets of a case, rendered once per test session for every test that reads them.

The leak scan (tests/test_leak_scan.py) and the browser check (tests/browser/) read the same
renders: rendering costs seconds per notebook, so the three audiences' sets of a case are
rendered together, each notebook run once (``report --audience investigator,auditor,public``),
with a disclosure ledger beside them (:func:`ledger`). The English run also renders the Swedish
public set as one more copy (``public:sv``, what ``make demo`` runs), in ``public-sv`` beside
the others (:func:`mixed_copy`); :func:`separate_set` renders one set in a run of its own, to
hold a copy of a run of several equal to it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

# A fixed key: pseudonyms are stable between runs, and tests never see a real case's key.
PSEUDONYM_KEY = "report-tests-pseudonym-key-0123456789"

CELL_TIMEOUT = 120
_RENDERED: dict[tuple[str, str, str], Path] = {}


@contextlib.contextmanager
def pseudonym_key(key: str = PSEUDONYM_KEY):
    """Set WORKBENCH_PSEUDONYM_KEY for the notebooks' kernels, and restore it afterwards."""
    saved = os.environ.get("WORKBENCH_PSEUDONYM_KEY")
    os.environ["WORKBENCH_PSEUDONYM_KEY"] = key
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("WORKBENCH_PSEUDONYM_KEY", None)
        else:
            os.environ["WORKBENCH_PSEUDONYM_KEY"] = saved


AUDIENCES = ("investigator", "auditor", "public")
EXTRA_COPIES = {"en": ("public:sv",)}
"""Copies of another language rendered in the same run as a language's three sets (as ``make demo`` does)."""
MIXED_CASES = ("/tiny_duckdb",)
"""The cases (conftest's folder names) whose runs render :data:`EXTRA_COPIES`: only the tiny case's
sets are compared with runs of their own; a copy nothing reads would cost the small case's run."""
LEDGER = "ledger.jsonl"
_SEPARATE: dict[tuple[str, str, str], Path] = {}


def ledger(report_set_root: Path) -> Path:
    """The disclosure ledger of the run that rendered ``report_set_root``: beside the sets, in none of them."""
    return report_set_root.parent / LEDGER


def report_set(tmp_path_factory, case_url: str, audience: str, language: str = "en") -> Path:
    """The report set of every report notebook for ``audience`` on ``case_url`` in ``language``, rendered once.

    The first call for a case and language renders all three audiences' sets in one run.
    """
    from workbench.reportset.build import build_report
    from workbench.reportset.execution import NotebookError
    from workbench.settings import LEDGER_ENV

    if (case_url, audience, language) not in _RENDERED:
        copies = (*AUDIENCES, *_extra(case_url, language))
        out = tmp_path_factory.mktemp(f"reports_{language}")
        saved = os.environ.get(LEDGER_ENV)
        os.environ[LEDGER_ENV] = str(out / LEDGER)
        try:
            with pseudonym_key():
                try:
                    # Cells take seconds on the small case; a stuck one fails instead of stalling the suite.
                    build_report(case_url, copies, out, cell_timeout=CELL_TIMEOUT, language=language)
                except NotebookError as exc:
                    if "ran longer than the cell timeout" not in str(exc):
                        raise
                    # ipykernel 7 can strand an execute_request unread (ipython/ipykernel#1554): the
                    # kernel sits idle and the cell never starts. That is not this code's failure;
                    # render once more and say so.
                    print(f"\nreportkit: rendering again after a stuck kernel: {exc}")
                    (out / LEDGER).unlink(missing_ok=True)
                    build_report(case_url, copies, out, cell_timeout=CELL_TIMEOUT, language=language)
        finally:
            if saved is None:
                os.environ.pop(LEDGER_ENV, None)
            else:
                os.environ[LEDGER_ENV] = saved
        for a in (*AUDIENCES, *_extra(case_url, language)):
            _RENDERED[(case_url, a, language)] = out / a.replace(":", "-")
    return _RENDERED[(case_url, audience, language)]


def _extra(case_url: str, language: str) -> tuple[str, ...]:
    return EXTRA_COPIES.get(language, ()) if any(name in case_url for name in MIXED_CASES) else ()


def mixed_copy(tmp_path_factory, case_url: str, entry: str = "public:sv") -> Path:
    """The set of ``entry`` (``"public:sv"``) rendered as one more copy of the English run of :func:`report_set`."""
    return report_set(tmp_path_factory, case_url, entry, "en")


def separate_set(tmp_path_factory, case_url: str, audience: str, language: str) -> Path:
    """The set of ``audience`` in ``language`` rendered by a run of its own (``report --audience public --language sv``)."""
    from workbench.reportset.build import build_report

    key = (case_url, audience, language)
    if key not in _SEPARATE:
        out = tmp_path_factory.mktemp(f"separate_{audience}_{language}")
        with pseudonym_key():
            build_report(case_url, audience, out, cell_timeout=CELL_TIMEOUT, language=language)
        _SEPARATE[key] = out
    return _SEPARATE[key]

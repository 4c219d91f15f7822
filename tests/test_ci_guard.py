"""Under CI=true a skipped test fails, so CI cannot pass by skipping PostgreSQL or browser tests."""

from pathlib import Path

CONFTEST = (Path(__file__).parent / "conftest.py").read_text()
XDISTKIT = (Path(__file__).parent / "xdistkit.py").read_text()  # conftest's xdist hooks import it
SKIPPING = "import pytest\n\ndef test_needs_a_browser():\n    pytest.skip('chromium not installed')\n"


def test_a_skip_fails_under_ci(pytester, monkeypatch):
    monkeypatch.setenv("CI", "true")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(SKIPPING)
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*skipped under CI=true, where every test must run*chromium not installed*"])


def test_a_skip_is_a_skip_on_a_laptop(pytester, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(SKIPPING)
    pytester.runpytest_inprocess().assert_outcomes(skipped=1)


def test_a_skip_fails_under_ci_on_xdist_workers_too(pytester, monkeypatch):
    """`make test` runs on xdist workers (-n 2 --dist loadscope): the hook runs in a worker; the summary still counts."""
    monkeypatch.setenv("CI", "true")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(xdistkit=XDISTKIT)
    pytester.makepyfile(test_skips=SKIPPING, test_passes="def test_one():\n    assert 1 + 1 == 2\n")
    result = pytester.runpytest_inprocess("-n", "1", "--dist", "loadscope", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["*skipped under CI=true, where every test must run*chromium not installed*"])
    result.stdout.fnmatch_lines(["*1 failed, 1 passed in *"])  # the line CI reads

"""The JupyterLab server of the notebook browser tests, started once per session (tests/browser/labkit.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory):
    """One JupyterLab server for every module that uses ``labkit.lab``; its root and home are temporary folders."""
    from labkit import Lab, chromium_path

    chromium_path()  # nothing to serve without a browser: skip (fail under CI=true) before starting Lab
    server = Lab(tmp_path_factory.mktemp("lab-root"), tmp_path_factory.mktemp("lab-home"))
    yield server
    server.stop()

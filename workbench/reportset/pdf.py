"""Print rendered reports to PDF with headless Chromium, for journalists who archive PDFs.

Chromium is the machine's own (Debian: ``apt-get install chromium``), found as ``chromium``,
``chromium-browser``, ``google-chrome`` or the path in ``WORKBENCH_CHROMIUM``. It runs with
every host name unresolvable, so printing cannot fetch anything even if a page tried to.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import WorkbenchError

__all__ = ["CHROMIUM_ENV", "CHROMIUM_FLAGS", "find_chromium", "print_pdf", "print_pdfs"]

CHROMIUM_ENV = "WORKBENCH_CHROMIUM"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str:
    """The Chromium executable to use, or a WorkbenchError saying how to install one."""
    given = os.environ.get(CHROMIUM_ENV)
    if given:
        if not (Path(given).is_file() and os.access(given, os.X_OK)):
            raise WorkbenchError(f"{CHROMIUM_ENV}={given} is not an executable file")
        return given
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise WorkbenchError(
        "printing to PDF needs Chromium, and none was found (looked for "
        f"{', '.join(_CANDIDATES)}). Install it, e.g. `apt-get install -y chromium`, or set {CHROMIUM_ENV}"
    )


def print_pdf(
    html: str | Path,
    pdf: str | Path | None = None,
    *,
    chromium: str | None = None,
    settle_ms: int = 8000,
    timeout: float = 120,
) -> Path:
    """Print ``html`` (a local file) to ``pdf`` (default: beside it, ``.pdf``) and return the PDF path.

    ``settle_ms`` is Chromium's virtual time budget: charts finish drawing before printing.
    """
    html = Path(html).resolve()
    pdf = Path(pdf).resolve() if pdf else html.with_suffix(".pdf")
    chromium = chromium or find_chromium()
    with tempfile.TemporaryDirectory(prefix="workbench-chromium-") as profile:
        command = [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--virtual-time-budget={settle_ms}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise WorkbenchError(f"Chromium did not print {html.name} within {timeout:.0f} s") from None
    if done.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise WorkbenchError(f"Chromium could not print {html} to PDF (exit {done.returncode}):\n{tail}")
    return pdf


def print_pdfs(pages: list[Path], workers: int = 2) -> list[Path]:
    """Print several pages, ``workers`` Chromium processes at a time; PDFs go beside the pages."""
    from concurrent.futures import ThreadPoolExecutor

    chromium = find_chromium()
    with ThreadPoolExecutor(max(1, workers)) as pool:
        return list(pool.map(lambda page: print_pdf(page, chromium=chromium), pages))

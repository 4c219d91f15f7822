"""JupyterLab in headless Chromium for the notebook browser tests: a server, a browser, and pages on notebooks.

What made it reliable on this kind of machine (the stack notes, "Real browser"): Lab on 127.0.0.1 on a free
port with a token and ``--allow-root``; its config, data, runtime, settings and workspace
folders in a temporary directory (the ``workbench`` kernelspec found through
``JUPYTER_PATH``); the news toast turned off in ``overrides.json``; each notebook opened
under its own workspace with ``?reset``; cells run through ``window.jupyterapp``'s
commands and the kernel polled until idle. Every request that is not to loopback is
aborted and recorded, so a page that works here works with no network.

Import the fixtures into a test module: ``from labkit import browser, lab  # noqa: F401``.
One server serves the whole session (``lab_server`` in tests/browser/conftest.py: a Lab start
costs seconds of CPU); each module gets its own folder in it (:class:`LabFolder`), and its
kernels are shut down when the module ends, so no module sees another's files or kernels.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

__all__ = [
    "ARTIFACTS",
    "CHROMIUM_ARGS",
    "Lab",
    "LabFolder",
    "LabPage",
    "browser",
    "chromium_path",
    "lab",
    "parameterized_copy",
]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "build" / "test-artifacts" / "lab"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
_LOCAL_SCHEMES = ("data:", "blob:", "about:")
_OVERRIDES = {
    # No news toast, no update check: both would reach out to the network.
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/extensionmanager-extension:plugin": {"enabled": False},
}


def chromium_path() -> str:
    """Debian's Chromium (or ``WORKBENCH_CHROMIUM``) and Python playwright, or a skip saying what is missing.

    Under ``CI=true`` tests/conftest.py turns that skip into a failure.
    """
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("Python playwright (pip install -e '.[test]'; never `playwright install`)")
    given = os.environ.get("WORKBENCH_CHROMIUM")
    found = given or next(
        (
            p
            for p in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser"))
            if p and os.access(p, os.X_OK)
        ),
        None,
    )
    if given and not os.access(given, os.X_OK):
        missing.append(f"Chromium: WORKBENCH_CHROMIUM={given} is not an executable file")
    elif not found:
        missing.append("Chromium (apt-get install -y chromium, or set WORKBENCH_CHROMIUM)")
    if missing:
        pytest.skip("the JupyterLab browser tests need " + " and ".join(missing))
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A JupyterLab server on 127.0.0.1 serving ``root``, with isolated Jupyter folders under ``home``."""

    def __init__(self, root: Path, home: Path, timeout: float = 60):
        self.root, self.home = root, home
        self.port, self.token = _free_port(), secrets.token_hex(16)
        dirs = {
            name: home / name
            for name in ("config", "data", "runtime", "ipython", "app-settings", "user-settings", "workspaces")
        }
        for d in dirs.values():
            d.mkdir(parents=True, exist_ok=True)
        (dirs["app-settings"] / "overrides.json").write_text(json.dumps(_OVERRIDES, indent=1))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
        env.update(
            JUPYTER_CONFIG_DIR=str(dirs["config"]),
            JUPYTER_DATA_DIR=str(dirs["data"]),
            JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
            IPYTHONDIR=str(dirs["ipython"]),
            # The venv's share/jupyter holds the `workbench` kernelspec and the widget extensions.
            JUPYTER_PATH=str(Path(sys.prefix) / "share" / "jupyter"),
            JUPYTERLAB_SETTINGS_DIR=str(dirs["user-settings"]),
            JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
            PYTHONUNBUFFERED="1",
        )
        self.log = home / "lab.log"
        self._log = self.log.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--allow-root",
                "--ip=127.0.0.1",
                f"--port={self.port}",
                "--port-retries=0",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={root}",
                "--LabApp.expose_app_in_browser=True",
                f"--LabApp.app_settings_dir={dirs['app-settings']}",
                "--ServerApp.terminals_enabled=False",
            ],
            cwd=root,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait(timeout)

    def url(self, path: str) -> str:
        """``path`` on the server, e.g. ``url("/api/kernelspecs")``."""
        return f"http://127.0.0.1:{self.port}{path}"

    def api(self, path: str):
        """GET a REST path of the server as JSON."""
        request = urllib.request.Request(self.url(path), headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                specs = self.api("/api/kernelspecs")["kernelspecs"]
            except OSError:
                time.sleep(0.2)
                continue
            if "workbench" not in specs:
                raise RuntimeError(
                    f"the workbench kernelspec is not visible to Lab (found {sorted(specs)}); "
                    f"register it: python -m ipykernel install --sys-prefix --name workbench"
                )
            return
        raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s:\n{self.log.read_text()[-3000:]}")

    def end_kernels(self) -> None:
        """Shut down every kernel session of the server."""
        for session in self.api("/api/sessions"):
            request = urllib.request.Request(
                self.url(f"/api/sessions/{session['id']}"),
                method="DELETE",
                headers={"Authorization": f"token {self.token}"},
            )
            urllib.request.urlopen(request, timeout=10).close()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self._log.close()


class LabFolder:
    """A module's folder ``root`` in a shared :class:`Lab`: a notebook copied into it opens as ``prefix + name``."""

    def __init__(self, server: Lab, name: str):
        self.server, self.token = server, server.token
        self.root = server.root / name
        self.root.mkdir()
        self.prefix = f"{name}/"

    def url(self, path: str) -> str:
        return self.server.url(path)

    def api(self, path: str):
        return self.server.api(path)

    def end_kernels(self) -> None:
        self.server.end_kernels()


def parameterized_copy(notebook: Path, root: Path, parameters: dict) -> str:
    """Copy ``notebook`` into the Lab root with ``parameters`` injected after its parameters cell; its name."""
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    nb = parameterize_notebook(load_notebook_node(str(notebook)), parameters)
    nbformat.write(nb, root / notebook.name)
    return notebook.name


# anywidget gives a widget's model 2 s to initialise (AbortSignal.timeout(2000) in its runtime), then
# reports "[anywidget] Failed to initialize model." as a page error. With the other `make test`
# worker busy on the two cores, Chromium can take longer than that: seen once on a loaded machine,
# the widget working all the same. Pages give such deadlines ten times as long (a generous
# timeout, not a retry): an init that never finishes still fails the page's error check.
_SLOWER_DEADLINES = """(() => {
    const timeout = AbortSignal.timeout.bind(AbortSignal);
    AbortSignal.timeout = (ms) => timeout(ms * 10);
})();"""

_NOTEBOOK = "(() => { const w = window.jupyterapp.shell.currentWidget; return w && w.content && w.sessionContext ? w : null; })()"

_READY = f"""() => {{
    if (!window.jupyterapp) return false;
    const nb = {_NOTEBOOK};
    const kernel = nb && nb.sessionContext.session && nb.sessionContext.session.kernel;
    return !!kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected';
}}"""

_DONE = f"""() => {{
    const nb = {_NOTEBOOK};
    const kernel = nb.sessionContext.session.kernel;
    if (kernel.status !== 'idle') return false;
    const cells = nb.content.widgets.filter(c => c.model.type === 'code');
    const failed = cells.some(c => c.model.outputs.toJSON().some(o => o.output_type === 'error'));
    return failed || cells.every(c => c.model.executionCount !== null);
}}"""

_DONE_THROUGH = f"""(last) => {{
    const nb = {_NOTEBOOK};
    const kernel = nb.sessionContext.session.kernel;
    if (kernel.status !== 'idle') return false;
    const cells = nb.content.widgets.slice(0, last + 1).filter(c => c.model.type === 'code');
    const failed = cells.some(c => c.model.outputs.toJSON().some(o => o.output_type === 'error'));
    return failed || cells.every(c => c.model.executionCount !== null);
}}"""

_ERRORS = f"""() => {{
    const nb = {_NOTEBOOK};
    const found = [];
    nb.content.widgets.forEach((c, i) => {{
        if (c.model.type !== 'code') return;
        for (const o of c.model.outputs.toJSON()) {{
            if (o.output_type === 'error') found.push(`cell ${{i}}: ${{o.ename}}: ${{o.evalue}}`);
            if (o.output_type === 'stream' && o.name === 'stderr' && /Traceback|Error/.test(o.text))
                found.push(`cell ${{i}} stderr: ${{o.text.slice(0, 500)}}`);
        }}
    }});
    return found;
}}"""

_EXECUTE = f"""async (code) => {{
    const kernel = {_NOTEBOOK}.sessionContext.session.kernel;
    const future = kernel.requestExecute({{code, store_history: false}});
    let out = '';
    future.onIOPub = (msg) => {{
        const c = msg.content;
        if (msg.header.msg_type === 'stream') out += c.text;
        if (msg.header.msg_type === 'error') out += `\\n${{c.ename}}: ${{c.evalue}}`;
    }};
    await future.done;
    return out;
}}"""

_CELL_INDEX = f"""([source, prefix]) => {{
    const text = c => c.model.sharedModel.getSource().trim();
    return {_NOTEBOOK}.content.widgets.findIndex(c => prefix ? text(c).startsWith(source) : text(c) === source.trim());
}}"""

_IDLE = f"""() => {{ const k = {_NOTEBOOK}.sessionContext.session.kernel; return k.status === 'idle'; }}"""

_CHARTS = f"""() => {{
    // Every chart a cell put out (Vega-Lite, Altair HTML, or a widget holding one), and whether it drew.
    const found = [];
    {_NOTEBOOK}.content.widgets.forEach((c, i) => {{
        if (c.model.type !== 'code') return;
        const outputs = c.model.outputs.toJSON();
        outputs.forEach((o, j) => {{
            const data = o.data || {{}};
            const node = c.outputArea.widgets[j] && c.outputArea.widgets[j].node;
            const html = String(data['text/html'] || '');
            const mime = Object.keys(data).some(k => k.startsWith('application/vnd.vegalite'));
            // Altair's HTML renderer draws into div#altair-viz-*; the Jupyter one into .vega-embed.
            const embeds = node ? [...node.querySelectorAll('.vega-embed, div[id^="altair-viz-"]')]
                .filter(e => !e.parentElement.closest('.vega-embed, div[id^="altair-viz-"]')) : [];
            if (!(mime || html.includes('altair-viz') || embeds.length)) return;
            const drawn = embeds.length > 0 && embeds.every(e => {{
                const m = e.querySelector('svg.marks, canvas');
                return !!m && Number(m.getAttribute('width')) > 0;
            }});
            found.push({{cell: i, output: j, drawn}});
        }});
    }});
    return found;
}}"""


class LabPage:
    """One notebook open in Lab under its own workspace, in a fresh browser context with the network cut off.

    ``blocked`` lists every request that tried to leave the machine; ``errors`` the page's
    JavaScript errors.
    """

    def __init__(self, browser, lab: Lab, notebook: str, workspace: str, *, timeout: float = 60):
        self.lab, self.notebook, self.workspace = lab, notebook, workspace
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": 1500, "height": 1000})
        # Generous waits, not retries: under `make test` another worker shares the two cores.
        self.context.set_default_timeout(60_000)
        self.context.add_init_script(_SLOWER_DEADLINES)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        path = getattr(lab, "prefix", "") + notebook
        self.page.goto(lab.url(f"/lab/workspaces/{workspace}/tree/{path}?reset&token={lab.token}"))
        self.page.wait_for_function(_READY, timeout=timeout * 1000, polling=200)

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(_LOCAL_SCHEMES) or urlsplit(url).hostname in _LOOPBACK:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def run_all(self, timeout: float = 120) -> None:
        """Run every cell and wait until the kernel is idle with every code cell executed (or one failed)."""
        self.start_all()
        self.wait_done(timeout)

    def start_all(self) -> None:
        """Start running every cell, without waiting: another page can work meanwhile (then :meth:`wait_done`)."""
        self.page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")

    def wait_done(self, timeout: float = 120) -> None:
        """Wait until the kernel is idle with every code cell executed (or one failed)."""
        self.page.wait_for_function(_DONE, timeout=timeout * 1000, polling=250)

    def run_through(self, source: str, timeout: float = 120) -> None:
        """Run every cell from the first to the one whose source starts with ``source``, and wait as :meth:`run_all`."""
        last = self.page.evaluate(_CELL_INDEX, [source, True])
        assert last >= 0, f"{self.notebook} has no cell starting with {source!r}"
        self.page.evaluate(
            f"""(last) => {{
                {_NOTEBOOK}.content.activeCellIndex = last + 1;
                window.jupyterapp.commands.execute('notebook:run-all-above');
            }}""",
            last,
        )
        self.page.wait_for_function(_DONE_THROUGH, arg=last, timeout=timeout * 1000, polling=250)

    def error_outputs(self) -> list[str]:
        """Error outputs (and tracebacks on stderr) of the notebook's cells."""
        return self.page.evaluate(_ERRORS)

    def kernel(self, code: str) -> str:
        """Run ``code`` in the notebook's kernel, outside any cell; what it printed."""
        return self.page.evaluate(_EXECUTE, code)

    def kernel_json(self, expression: str):
        """The value of a JSON-able Python ``expression`` evaluated in the notebook's kernel."""
        out = self.kernel(f"import json as _j\nprint(_j.dumps({expression}, default=str))")
        try:
            return json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise AssertionError(f"the kernel did not answer {expression!r} with JSON: {out!r}") from None

    def wait_idle(self, timeout: float = 30) -> None:
        """Wait until the kernel has handled what the page just sent it (idle on two polls 250 ms apart)."""
        deadline = time.monotonic() + timeout
        self.page.wait_for_timeout(250)
        while not (self.page.evaluate(_IDLE) and (self.page.wait_for_timeout(250) or self.page.evaluate(_IDLE))):
            if time.monotonic() > deadline:
                raise AssertionError(f"the kernel of {self.notebook} stayed busy for {timeout} s")
            self.page.wait_for_timeout(100)

    def cell(self, source: str, *, prefix: bool = False):
        """The cell whose source is ``source`` (e.g. ``"timeline"``), or starts with it, scrolled into view."""
        index = self.page.evaluate(_CELL_INDEX, [source, prefix])
        assert index >= 0, f"{self.notebook} has no cell {'starting with ' if prefix else ''}{source!r}"
        return self.cell_at(index)

    def cell_at(self, index: int):
        """The notebook's cell number ``index`` (0-based, markdown included), scrolled into view."""
        cell = self.page.locator(f'.jp-Notebook .jp-Cell[data-windowed-list-index="{index}"]')
        cell.wait_for(state="attached")  # Lab may window cells out of the DOM until they are near the view
        cell.scroll_into_view_if_needed()
        return cell

    def cell_starting(self, prefix: str):
        """The first cell whose source starts with ``prefix``, scrolled into view."""
        return self.cell(prefix, prefix=True)

    def charts(self, at_least: int = 0, timeout: float = 15) -> list[dict]:
        """Every chart output as ``{"cell", "output", "drawn"}``; drawn when its Vega view has marks.

        With ``at_least``, waits up to ``timeout`` s for that many charts, all drawn: a chart
        inside a widget's output area reaches the page after the kernel has gone idle.
        """
        deadline = time.monotonic() + timeout
        charts = self.page.evaluate(_CHARTS)
        while (len(charts) < at_least or not all(c["drawn"] for c in charts)) and time.monotonic() < deadline:
            self.page.wait_for_timeout(250)
            charts = self.page.evaluate(_CHARTS)
        return charts

    def screenshot(self, name: str, element=None, *, clip: bool = False) -> Path:
        """Save the page as build/test-artifacts/lab/<name>.png, scrolled to the top of ``element`` if given.

        With ``clip``, only the part of the view ``element`` covers is saved: a smaller picture of one cell.
        """
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        area = None
        if element is not None:
            # Twice: cells skipped by content-visibility get their real height once they are near the view.
            for _ in range(2):
                element.evaluate("e => e.scrollIntoView({block: 'start'})")
                self.page.wait_for_timeout(300)
            box, view = element.bounding_box(), self.page.viewport_size
            if clip and box and view:
                top, left = max(box["y"], 0), max(box["x"], 0)
                area = {
                    "x": left,
                    "y": top,
                    "width": min(box["x"] + box["width"], view["width"]) - left,
                    "height": min(box["y"] + box["height"], view["height"]) - top,
                }
        self.page.screenshot(path=path, clip=area)
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by playwright, shared by a module's tests."""
    executable = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    # expect() waits 5 s by default; under `make test` another worker shares the two cores.
    expect.set_options(timeout=20_000)

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def lab(request, browser, lab_server):
    """The module's own folder in the session's JupyterLab server; its kernels end with the module."""
    folder = LabFolder(lab_server, request.module.__name__.rpartition(".")[2])
    yield folder
    folder.end_kernels()

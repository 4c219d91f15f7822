"""Run notebooks for one audience and render them to self-contained, offline HTML.

The output has no external script, stylesheet, image or font: the lab template's
require.js, MathJax and mermaid blocks are emptied, and the Vega libraries are inlined once
in ``<head>`` with ``window.VEGA_DEBUG`` preset, so Altair's default renderer finds them and
fetches nothing (see STACK_NOTES). Code cells are hidden for every audience but investigators.

:func:`build_report` makes a whole report set: every report notebook (``notebooks/0?_*.ipynb``;
those numbered 10 and up are for live work in JupyterLab) run in parallel, rendered with its
provenance section, then an index page and ``report-set.json`` (see :mod:`workbench.reportset.contents`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import nbformat

from ..audience import Audience
from ..errors import WorkbenchError
from ..i18n import DEFAULT_LANGUAGE, check_language, t, using
from ..wording import say
from .pageparts import table_script, with_contents

__all__ = [
    "AUDIENCES",
    "MAX_REPORT_BYTES",
    "REPORT_GLOB",
    "RenderError",
    "build_report",
    "external_references",
    "inlined_libraries",
    "kernel_case_url",
    "notebook_paths",
    "notebook_title",
    "render_html",
]

AUDIENCES = tuple(a.value for a in Audience)


class RenderError(WorkbenchError):
    """A notebook that ran but whose report could not be rendered or printed: the set is left incomplete."""


REPORT_GLOB = "0[0-9]_*.ipynb"
# A report far below what mail and laptops handle; a bigger one means a chart embeds raw rows.
MAX_REPORT_BYTES = 20_000_000
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
BANNERS = {a: t(f"banner.{a}", DEFAULT_LANGUAGE) for a in AUDIENCES}
"""The banner atop each page of a set, in English; ``t(f"banner.{audience}", language)`` in any language."""


@lru_cache(maxsize=1)
def _vega_resources() -> dict:
    import altair as alt
    import vl_convert as vlc

    debug = {
        "vega_version": alt.VEGA_VERSION,
        "vegalite_version": alt.VEGALITE_VERSION,
        "vegaembed_version": alt.VEGAEMBED_VERSION,
    }
    # "</script" inside the bundle would end the inline script early.
    # The stub makes `snippet` required; vl_convert itself defaults it (and documents it as optional).
    bundle = vlc.javascript_bundle().replace("</script", "<\\/script")  # type: ignore[call-arg]
    return {"vega_debug": json.dumps(debug), "vega_bundle": bundle}


def inlined_libraries() -> list[str]:
    """The library code every report inlines verbatim (the Vega bundle, the table script): code, not case data."""
    return [_vega_resources()["vega_bundle"], table_script()]


def notebook_title(nb) -> str | None:
    """The first Markdown heading of a notebook (node or path), e.g. ``"Case overview"``."""
    if not hasattr(nb, "cells"):
        nb = nbformat.read(str(nb), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#+\s+(.+?)\s*$", cell.source, re.MULTILINE)
            if m:
                return m.group(1)
    return None


_WIDGET = "application/vnd.jupyter.widget-view+json"
_WIDGET_NOTE = (
    '<p class="wb-note"><em>An interactive widget stands here in JupyterLab '
    "(open the notebook there to use it); a static report cannot run it.</em></p>"
)


_INLINE_CODE = re.compile(r"(?<![\\`])`([^`\n]+)`(?!`)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z*_(\[])")


def _parameter_names(nb) -> set[str]:
    """The names the notebook's parameters cell assigns (``extra_report_phrases``, ``notes_url``, …)."""
    cells = [c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    return {m for c in cells for m in re.findall(r"^(\w+)\s*=", c.source, re.MULTILINE)}


def plain_markdown(text: str, parameters: Collection[str]) -> str:
    """Markdown as a reader outside the investigation reads it: no instructions about parameters, no code.

    A sentence that names one of the notebook's ``parameters`` in backticks tells the
    investigator what to set (``add any wording … with `extra_report_phrases```): it is left
    out. Other inline code (`` `findings.json` ``, `` `confirmed` ``) becomes plain text.
    """
    named = re.compile("|".join(rf"`{re.escape(p)}`" for p in sorted(parameters))) if parameters else None
    lines = []
    for line in text.split("\n"):
        if named is not None and named.search(line):
            line = " ".join(s for s in _SENTENCE.split(line) if not named.search(s))
        lines.append(_INLINE_CODE.sub(r"\1", line))
    return "\n".join(lines)


def _opening_cell(nb, opening: str | None) -> None:
    """Put ``opening`` (Markdown: the report's key figures and how to read it) after the title cell."""
    if not opening:
        return
    titled = (i + 1 for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and re.search(r"^#\s", c.source, re.M))
    nb.cells.insert(next(titled, 0), nbformat.v4.new_markdown_cell(opening))


def _static(nb, audience: str, opening: str | None = None):
    """The notebook as a static report shows it, for ``audience``.

    Widgets need a live kernel: their saved state (which holds the data they showed, e.g.
    every option of a drop-down) and their text fallback are replaced by a note. Warnings
    are about code and may quote values: only investigators see them. Auditors and the public
    read the prose without code or parameter instructions (:func:`plain_markdown`), and
    every audience gets the report's key figures after its title (``opening``).
    """
    from .translation import widget_note

    nb.metadata.pop("widgets", None)
    plain = not Audience.parse(audience).sees_identifiers
    parameters = _parameter_names(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and plain:
            cell.source = plain_markdown(cell.source, parameters)
        if cell.cell_type != "code":
            continue
        outputs = []
        for o in cell.outputs:
            if audience != "investigator" and o.output_type == "stream" and o.name == "stderr":
                continue
            if _WIDGET in o.get("data", {}):
                o = nbformat.v4.new_output("display_data", data={"text/html": widget_note(_WIDGET_NOTE)})
            elif plain and "text/markdown" in o.get("data", {}):
                o.data["text/markdown"] = plain_markdown(o.data["text/markdown"], parameters)
            outputs.append(o)
        cell.outputs = outputs
    _opening_cell(nb, opening)
    return nb


def render_html(
    notebook: str | Path,
    html_path: str | Path,
    *,
    audience: str,
    provenance: str | None = None,
    opening: str | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> Path:
    """Render an executed notebook to a self-contained HTML file for ``audience``.

    Parameters
    ----------
    notebook : the executed ``.ipynb``, e.g. ``"build/demo/00_case_overview.ipynb"``.
    html_path : where to write, e.g. ``"build/demo/reports/00_case_overview.html"``.
    audience : ``"investigator"`` (code and warnings shown), ``"auditor"`` or ``"public"``
        (code and stderr hidden).
    provenance : an HTML section appended to the report (see :mod:`workbench.reportset.provenance`).
    opening : Markdown put after the report's title: its key figures and how to read it
        (see :func:`workbench.reportset.story.opening_markdown`).
    language : what the page's own words are written in (banner, contents, table notes),
        and what its Markdown cells are translated into (:func:`translated_cells`).
    """
    with using(check_language(language)):
        return _render_html(notebook, html_path, audience, provenance, opening, language)


def _render_html(notebook, html_path, audience, provenance, opening, language) -> Path:
    from nbconvert import HTMLExporter

    from .translation import translated_cells

    Audience.parse(audience)
    nb = translated_cells(nbformat.read(str(notebook), as_version=4), language, _report_name(notebook))
    nb = _static(nb, audience, opening)
    exporter = HTMLExporter(
        extra_template_basedirs=[str(TEMPLATES)],
        template_name="offline",
        exclude_input=audience != "investigator",
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        language_code=language,
    )
    resources = {
        "metadata": {"name": notebook_title(nb) or Path(notebook).stem},
        "workbench": {
            **_vega_resources(),
            "table_script": table_script(),
            "banner": t(f"banner.{audience}", language),
            "provenance": provenance,
            "provenance_title": say("provenance"),
        },
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    body = with_contents(body)
    leaks = external_references(body)
    if leaks:
        raise WorkbenchError(f"{notebook}: the rendered HTML would load external resources: {leaks[:5]}")
    html_path = Path(html_path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(body, encoding="utf-8")
    size = html_path.stat().st_size
    if size > MAX_REPORT_BYTES:
        raise WorkbenchError(
            f"{html_path} is {size / 1e6:.1f} MB, over the {MAX_REPORT_BYTES / 1e6:.0f} MB limit for a report; "
            f"the biggest outputs: {_biggest_outputs(nb)}. Aggregate before charting, or show fewer rows "
            "(the file is kept for inspection)"
        )
    return html_path


def _report_name(notebook: str | Path) -> str:
    """The report notebook a file is, as the catalogue names it: ``00_case_overview`` for ``…/00_case_overview.ipynb``."""
    return Path(notebook).stem


def _biggest_outputs(nb, n: int = 3) -> str:
    """The ``n`` biggest outputs of a notebook, e.g. ``"cell 12 (text/html, 25.3 MB)"``: what made a report too big."""
    sizes = []
    for i, cell in enumerate(nb.cells, start=1):
        for o in cell.get("outputs", []):
            for mime, data in {**o.get("data", {}), **({"stream": o.text} if "text" in o else {})}.items():
                sizes.append((len(data if isinstance(data, str) else json.dumps(data)), i, mime))
    return ", ".join(f"cell {i} ({mime}, {size / 1e6:.1f} MB)" for size, i, mime in sorted(sizes, reverse=True)[:n])


_LOADING_ATTRS = {"src", "href", "data", "poster", "srcset", "background"}
_CSS_URL = re.compile(r"""@import\s+(?:url\()?\s*["']?([^"')\s;]+)|url\(\s*["']?([^"')\s]+)""", re.IGNORECASE)


def _is_external(url: str) -> bool:
    return not url.startswith(("data:", "#", "about:", "blob:", "javascript:"))


class _Scanner(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self._in_style = tag == "style"
        for name, value in attrs:
            if value and name in _LOADING_ATTRS and not (tag == "a" and name == "href") and _is_external(value):
                self.found.append(value)
            if value and name == "style":
                self._css(value)

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self._css(data)

    def _css(self, text):
        for m in _CSS_URL.finditer(text):
            url = m.group(1) or m.group(2)
            if _is_external(url):
                self.found.append(url)


def external_references(html: str) -> list[str]:
    """Every resource an HTML page would fetch: loading attributes of tags, CSS imports and urls.

    Script bodies are not markup, so strings inside inlined JavaScript are not counted;
    links a reader may click (``<a href>``) are not loads either.
    """
    scanner = _Scanner()
    scanner.feed(html)
    scanner.close()
    return scanner.found


def notebook_paths(names: list[str] | None = None) -> list[Path]:
    """The report notebooks in order (``notebooks/0?_*.ipynb``), or those named (file name, stem or path).

    ``None`` or ``["all"]`` means every report notebook; a named notebook may be any
    notebook of the project (``10_explore``) or a path to one.
    """
    from ..errors import UnknownNameError
    from .execution import NOTEBOOKS_DIR

    if not names or names == ["all"]:
        return sorted(NOTEBOOKS_DIR.glob(REPORT_GLOB))
    available = {p.stem: p for p in sorted(NOTEBOOKS_DIR.glob("*.ipynb"))}
    out = []
    for name in names:
        stem = Path(name).stem
        if Path(name).is_file():
            out.append(Path(name))
        elif stem in available:
            out.append(available[stem])
        else:
            raise UnknownNameError("notebook", name, [*available, "all"])
    return out


def kernel_case_url(case: str | Path) -> tuple[str, dict[str, str]]:
    """The case as an absolute URL for a notebook, and environment variables for its kernel.

    A password never goes into the notebook (it would show in the parameters cell and in
    the report): for PostgreSQL it travels as ``PGPASSWORD`` in the kernel's environment.
    """
    from ..case import case_url

    url = case_url(case)
    env = {}
    if url.password:
        if url.get_backend_name() != "postgresql":
            raise WorkbenchError(f"a password in a {url.get_backend_name()} case URL cannot be passed to notebooks")
        env["PGPASSWORD"] = str(url.password)
        url = url.set(password=None)
    return url.render_as_string(hide_password=False), env


def _tidy(folder: Path, executed: Path, keep_notebook: bool) -> None:
    """Leave only what a reader receives: lock files go, and the executed notebook unless kept."""
    for lock in folder.rglob("*.lock"):
        lock.unlink()
    if not keep_notebook:
        executed.unlink()


def build_report(
    case_url: str,
    audience: str,
    out_dir: str | Path,
    notebooks: list[str] | None = None,
    parameters: dict | None = None,
    *,
    pdf: bool = False,
    workers: int | None = None,
    text_parameters: Collection[str] = (),
    progress=None,
    cell_timeout: float | None = None,
    force: bool = False,
    notes: str | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> Path:
    """Run each notebook for ``audience``, render it, and write the report set; returns ``index.html``.

    ``language`` (``"en"`` or ``"sv"``) is passed to every notebook that declares a
    ``language`` parameter, and the pages, the index and ``report-set.json`` are written in it.

    Each notebook gets a folder ``out_dir/<name>/`` with ``<name>.html``, its
    ``findings.json``, CSVs of long tables (investigator and auditor) and, with ``pdf``, a
    PDF. Investigators also get the executed notebook. A folder that holds a previous report
    set for ``audience`` is replaced; one for another audience only with ``force``; any other
    non-empty folder is refused. ``progress(text)`` is told as
    each report is done. On a failure the failing notebook is kept and named. The values of
    the parameters named in ``text_parameters`` are command-line text, read as declared.
    ``cell_timeout`` (seconds) fails a notebook cell that runs longer.

    The case is fingerprinted before the first notebook, and each notebook checks that
    fingerprint at its start and end (see :mod:`workbench.reportset.fingerprint`): a case
    re-ingested or altered meanwhile stops the run instead of mixing two cases in one set.
    A failed run leaves the set marked incomplete, listing the files it wrote, so the next
    run may replace them. Where the case has a notes database (or ``notes`` names one), the
    notebooks' queries and the set itself are journalled and ``report-set.json`` records the
    journal's head (see :mod:`workbench.notes.journal`).
    """
    from ..audience import pseudonym_key
    from ..case import open_case
    from ..caselock import CaseLock
    from .contents import ReportEntry, claim_folder, mark_incomplete, write_set
    from .disclosure import leak_check, shown_parameters
    from .execution import Job, execute_many, plan_parameters
    from .fingerprint import CASE_ENV, FINGERPRINT_ENV, digest, recorded_in
    from .provenance import case_fingerprint, case_label, environment, render_section
    from .story import opening_markdown

    check_language(language)
    if Audience.parse(audience).pseudonymised:
        pseudonym_key()  # fail now, not in every notebook, when the key is missing
    if pdf:
        from .pdf import find_chromium

        find_chromium()  # likewise a missing Chromium: refused before anything runs, not after
    paths = notebook_paths(notebooks)
    if not paths:
        raise WorkbenchError(f"no report notebooks ({REPORT_GLOB}) found to render")
    url, env = kernel_case_url(case_url)
    case = open_case(case_url)
    # Held shared for the whole run: an ingest into this case fails instead of replacing it
    # under the notebooks (the fingerprint below still catches a writer that takes no lock).
    lock = CaseLock(case.url, shared=True, purpose="workbench report")
    try:
        lock.acquire()
        fingerprint = case_fingerprint(case)
        env = {**env, FINGERPRINT_ENV: digest(fingerprint), CASE_ENV: url}
        root = Path(out_dir).resolve()
        from ..notes.record import report_set_journal

        journal_env, journal = report_set_journal(
            case, notes, audience=audience, out=root, case_digest=env[FINGERPRINT_ENV]
        )
        env = {**env, **journal_env}
        fixed = {"case_url": url, "audience": audience, "language": language}
        plan = plan_parameters(paths, parameters or {}, fixed | {"out_dir": ""}, text=text_parameters)
        claim_folder(root, audience, force=force)
        jobs = []
        for nb in paths:
            params = {**plan[nb], **({"out_dir": str(root / nb.stem)} if "out_dir" in plan[nb] else {})}
            jobs.append(Job(nb, root / nb.stem / nb.name, params, env, cell_timeout))
        run_env = environment()
        entries: dict[Path, ReportEntry] = {}

        def render(job: Job, error: str | None) -> None:
            if error:
                return
            folder = job.output.parent
            from ..findings import load
            from .translation import translated_cells

            findings = load(folder)
            executed = nbformat.read(str(job.output), as_version=4)
            given = dict(executed.metadata.get("papermill", {}).get("parameters", {}))
            if not Audience.parse(audience).sees_identifiers:  # local paths name the investigator's machine
                given.pop("out_dir", None)
                if "case_url" in given:
                    given["case_url"] = case_label(case_url, audience)
            seen = recorded_in(executed)
            with using(language):  # the section's own words, in the report's language
                section = render_section(
                    audience=audience,
                    case=case,
                    case_label=case_label(case_url, audience),
                    fingerprint=fingerprint,
                    env=run_env,
                    parameters=shown_parameters(given, audience),
                    findings=findings,
                    case_digest=seen,
                )
            try:
                html = render_html(
                    job.output,
                    folder / f"{job.notebook.stem}.html",
                    audience=audience,
                    provenance=section,
                    opening=opening_markdown(job.notebook.stem, findings, language),
                    language=language,
                )
            except WorkbenchError as exc:  # something started that failed, not a bad input (exit 1)
                raise RenderError(str(exc)) from None
            _tidy(folder, job.output, keep_notebook=audience == "investigator")
            stem = job.notebook.stem
            entries[job.notebook] = ReportEntry(
                notebook=stem,
                title=notebook_title(translated_cells(executed, language, stem)) or stem,
                html=f"{stem}/{html.name}",
                findings=f"{stem}/findings.json" if (folder / "findings.json").is_file() else None,
                case_fingerprint=seen,
            )
            if progress:
                progress(f"{audience} report: {html}")

        try:
            execute_many(jobs, workers=workers, on_done=render)
            reports = [entries[nb] for nb in paths]
            if pdf:
                from .pdf import print_pdfs

                try:
                    printed_pdfs = print_pdfs([root / r.html for r in reports])
                except WorkbenchError as exc:
                    raise RenderError(str(exc)) from None
                for entry, printed in zip(reports, printed_pdfs, strict=True):
                    entry.pdf = printed.relative_to(root).as_posix()
            given_names = list(parameters or {})
            if Audience.parse(audience).sees_identifiers:
                shown, check = dict(parameters or {}), None
            else:  # the values as read, for auditors and the public summarised where withheld, and a leak scan
                parsed = {k: v for nb in paths for k, v in plan[nb].items() if k in given_names}
                shown = shown_parameters({k: parsed[k] for k in given_names}, audience)
                check = leak_check(case, audience, root, plan, given_names, progress, exclude=inlined_libraries)
            return write_set(
                root,
                audience=audience,
                banner=t(f"banner.{audience}", language),
                case_label=case_label(case_url, audience),
                env=run_env,
                fingerprint=fingerprint,
                parameters=shown,
                reports=reports,
                check=check,
                journal=journal,
                language=language,
            )
        except BaseException:
            mark_incomplete(root, audience)  # what this run wrote, so the next run may replace it
            raise
    finally:
        lock.release()
        case.close()

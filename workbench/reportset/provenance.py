"""Provenance of a report: which evidence, which parameters, which code, which queries.

Every rendered report ends with a provenance section built here:

- the evidence manifest of the case (file, sha256, rows read, loaded and quarantined, and
  whether they reconcile) and the rows per case table;
- the parameters the notebook ran with, the workbench version, the git commit where the
  package runs from a checkout, and the time of rendering;
- for each recorded finding, the registered query that produced it, with its description,
  and for investigators and auditors its SQL compiled for the case's engine.

The same fingerprint of the case (:func:`case_fingerprint`) is stored in the report set's
``report-set.json``, so ``workbench verify`` can tell whether a case is the one the reports
were made from.
"""

from __future__ import annotations

import html
import json
import platform
import re
import subprocess
from collections.abc import Mapping, Set as AbstractSet
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..i18n import query_description
from ..values import format_value, format_when
from ..wording import say

if TYPE_CHECKING:
    from ..case import CaseLike

__all__ = [
    "case_fingerprint",
    "case_label",
    "environment",
    "format_value",
    "git_commit",
    "render_section",
    "safe_url",
]

_PACKAGES = ("polars", "sqlalchemy", "altair", "papermill", "nbconvert")
_SOURCE = Path(__file__).resolve().parents[2]


def safe_url(url: Any) -> str:
    """A case URL as text with any password hidden, e.g. ``postgresql+psycopg://u:***@host/db``."""
    from ..case import case_url

    return case_url(url).render_as_string(hide_password=True)


def case_label(url: Any, audience: str) -> str:
    """The case as ``audience`` reads it: the URL (password hidden) for investigators, else only its name.

    A local path names the investigator's machine and folders; auditors and the public get the
    database file's name (``case.duckdb``), or the database's name on a server (``housing on postgresql``).
    """
    from ..audience import Audience
    from ..case import case_url

    url = case_url(url)
    if Audience.parse(audience).sees_identifiers:
        return url.render_as_string(hide_password=True)
    name = Path(url.database or "").name or "(in memory)"
    backend = url.get_backend_name()
    return name if backend in ("sqlite", "duckdb") else f"{name} on {backend}"


def git_commit(path: str | Path = _SOURCE) -> str | None:
    """The commit the package runs from, with ``+modified`` when the tree has changes; None outside git."""
    try:
        head = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return None
        status = subprocess.run(
            ["git", "-C", str(path), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return head.stdout.strip() + ("+modified" if status.stdout.strip() else "")


def environment() -> dict[str, Any]:
    """Workbench version, git commit, Python and key package versions, and the time now (UTC)."""
    from .. import __version__

    packages = {}
    for name in _PACKAGES:
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            packages[name] = "not installed"
    return {
        "workbench_version": __version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "packages": packages,
        "generated_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }


def case_fingerprint(case: CaseLike) -> dict[str, Any]:
    """What identifies a case's evidence: its manifest rows and the rows in each case table.

    ``case`` is an open case or a URL. The manifest carries each input file's sha256 and
    reconciliation; the row counts catch a database changed after ingest.
    """
    from ..queries import run

    manifest = run("manifest", case)
    counts = run("table_counts", case)
    files = [
        {
            "path": row["path"],
            "table": row["table"],
            "sha256": row["sha256"],
            "bytes": row["bytes"],
            "rows_read": row["rows_read"],
            "rows_loaded": row["rows_loaded"],
            "rows_quarantined": row["rows_quarantined"],
            "reconciles": row["rows_read"] == row["rows_loaded"] + row["rows_quarantined"],
            "ingested_at": row["ingested_at"].isoformat(),
        }
        for row in manifest.iter_rows(named=True)
    ]
    return {"manifest": files, "table_rows": dict(counts.iter_rows())}


def _queries(findings: Mapping[str, dict], case: CaseLike, with_sql: bool) -> list[dict]:
    """One entry per registered query and parameter values named by the findings: description, SQL, findings."""
    from ..queries import describe, get

    by_query: dict[tuple[str, str, bool], list[str]] = {}
    for name, entry in findings.items():
        if entry.get("query"):
            key = (
                entry["query"],
                json.dumps(entry.get("params") or {}, sort_keys=True),
                bool(entry.get("params_varied")),
            )
            by_query.setdefault(key, []).append(name)
    out = []
    for (query, params, varied), names in sorted(by_query.items()):
        values = json.loads(params)
        out.append(
            {
                "query": query,
                "description": get(query).description,
                "params": values,
                "varied": varied,
                "findings": names,
                "sql": describe(query, case, **values) if with_sql else None,
            }
        )
    return out


def _table(headers: list[str], rows: list[list[Any]], numeric: AbstractSet[int] = frozenset()) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{html.escape(format_value(v))}</td>'
            if i in numeric
            else f"<td>{html.escape(str(v))}</td>"
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f'<table class="wb-prov-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _seen(case_digest: str | None) -> str:
    if not case_digest:
        return ""
    return (
        "<p>"
        + say("prov.fingerprint", digest=f'<code class="wb-case-fingerprint">{html.escape(case_digest)}</code>')
        + "</p>"
    )


def render_section(
    *,
    audience: str,
    case: CaseLike,
    case_label: str,
    fingerprint: Mapping,
    env: Mapping,
    parameters: Mapping,
    findings: Mapping[str, dict],
    case_digest: str | None = None,
) -> str:
    """The provenance section of one report as HTML (no script, nothing external).

    ``case_digest`` is the case fingerprint the notebook saw at its start and end
    (``"sha256:…"``, see :mod:`workbench.reportset.fingerprint`); ``workbench verify`` reads it back.
    """
    from ..audience import Audience

    files = fingerprint["manifest"]
    reconciled = all(f["reconciles"] for f in files)
    manifest = _table(
        [
            *(say(f"prov.{k}") for k in ("file", "table")),
            "SHA-256",
            *(say(f"prov.{k}") for k in ("bytes", "rows_read", "loaded", "quarantined", "reconciles")),
        ],
        [
            [
                f["path"],
                f["table"],
                f["sha256"],
                f["bytes"],
                f["rows_read"],
                f["rows_loaded"],
                f["rows_quarantined"],
                say("yes") if f["reconciles"] else say("no").upper(),
            ]
            for f in files
        ],
        numeric={3, 4, 5, 6},
    )
    params = _table(
        [say("prov.parameter"), say("prov.value")],
        [[k, say("not_given") if v is None else repr(v)] for k, v in parameters.items()],
    )
    # A parameter's name is how the notebook was run, not a finding's name: marked so a reader check can tell them apart.
    params = re.sub(r"<tr><td>", '<tr><td class="wb-param">', params)
    commit = env.get("git_commit") or say("prov.no_commit")
    packages = ", ".join(f"{k} {v}" for k, v in env.get("packages", {}).items())
    with_sql = Audience.parse(audience).sees_sql
    queries = _queries(findings, case, with_sql)
    # Those who get the SQL look findings and queries up by name; the public by the label the report shows.
    names_shown = with_sql

    def code(text: str) -> str:
        return f"<code>{html.escape(text)}</code>" if names_shown else html.escape(text)

    def finding(name: str) -> str:
        return code(name) if names_shown else html.escape(findings[name].get("description") or name)

    blocks = []
    for q in queries:
        names = "; ".join(finding(n) for n in q["findings"])
        sql = f"<pre>{html.escape(q['sql'])}</pre>" if q["sql"] else ""
        given = ", ".join(f"{k}={v}" for k, v in q["params"].items())
        given = " " + say("prov.with", given=code(given)) if given and names_shown else ""  # with their SQL
        if q["varied"]:
            given += " " + say("prov.varied")
        blocks.append(
            # the query's name is its key in the SQL registry: for those who get the SQL
            (f"<li><strong>{code(q['query'])}</strong>{given}: " if names_shown else "<li>")
            + html.escape(query_description(q["query"], q["description"]))
            + f"<br><span class='wb-prov-small'>{say('prov.findings', names=names)}</span>{sql}</li>"
        )
    unsourced = sorted(n for n, e in findings.items() if not e.get("query"))
    if unsourced:
        blocks.append("<li>" + say("prov.unsourced", names="; ".join(map(finding, unsourced))) + "</li>")
    sql_note = say("prov.sql_shown") if with_sql else say("prov.sql_elsewhere")
    rendered = say(
        "prov.rendered",
        when=f"<strong>{html.escape(format_when(env['generated_at']))}</strong>",  # local, as every time in the report
        version=f"<strong>{html.escape(env['workbench_version'])}</strong>",
        commit=code(commit),
        python=html.escape(env.get("python", "")),
        packages=html.escape(packages),
        audience=f"<strong>{html.escape(say(f'audience.{audience}'))}</strong>",
    )
    manifest_note = say(
        "prov.manifest_note",
        n=len(files),
        ok=f"<strong>{say('yes') if reconciled else say('no').upper()}</strong>",
        case=code(case_label),
    )
    return f"""
<section id="provenance" class="wb-provenance">
<h2>{html.escape(say("provenance"))}</h2>
<p>{rendered}</p>
<h3>{html.escape(say("prov.manifest"))}</h3>
<p>{manifest_note}</p>
{_seen(case_digest)}
{manifest}
<h3>{html.escape(say("prov.parameters"))}</h3>
{params}
<h3>{html.escape(say("prov.sources"))}</h3>
<p class="wb-prov-small">{sql_note}</p>
<ul>{"".join(blocks) or f"<li>{html.escape(say('prov.no_findings'))}</li>"}</ul>
</section>"""

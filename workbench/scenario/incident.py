"""The December 2013 incident: web sessions with the session-binding fault, and its aftermath.

Runs after people and listings exist and before allocation. It fills the web tables
(deployments, logins, logouts, profile_changes), support_messages and incident_actions, and
``world.streams["page_views"]`` (numeric rows rendered a chunk at a time, :mod:`.pageviews`);
updates the applicant snapshot with every profile change; records the truth of what the
fault did; and hands web interest events to allocation through ``world.scratch["web_interests"]``.

The fault: from the 4.12.0 deployment until the fix, a login made while another member's
session is still open may be bound to that member's account (a cache keyed on the wrong
thing). With ``swap_mode`` "login" the account shows from the session's first page; with
"midsession" only after one or more of the member's own pages; "mixed" has both. Logins are shut from Monday morning to Wednesday, so swaps happen only between the
deployment and the shutdown, and only when some other session is open: the fault needs
concurrency.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from .actions import plan_actions
from .messages import simulate_messages
from .pageviews import render_page_views
from .profile import replay_changes, simulate_changes
from .web import OpenListings, Sessions, as_datetime, seconds, simulate_sessions
from .world import INCIDENT, World, utc

__all__ = ["DEPLOYMENTS", "INCIDENT_ACTIONS", "simulate_incident"]

DEPLOYMENTS: tuple[tuple[datetime, str, str], ...] = (
    (utc(2013, 6, 11, 18, 30), "4.8.0", "Ny startsida och förbättrad sökning av lediga lägenheter"),
    (utc(2013, 8, 27, 18, 30), "4.9.0", "Intresseanmälan direkt från annonsen"),
    (utc(2013, 10, 1, 18, 30), "4.10.0", "Kötid och köplats visas på Mina sidor"),
    (utc(2013, 11, 12, 19, 0), "4.11.0", "Uppdaterad BankID-integration"),
    (utc(2013, 11, 19, 19, 15), "4.11.1", "Rättning: avgiftsavisering visade fel år"),
    (
        INCIDENT.deployed_at,
        "4.12.0",
        "Ny sessionshantering och snabbare inloggning till Mina sidor (cache för kontouppgifter)",
    ),
    (
        INCIDENT.fix_deployed_at,
        "4.12.1",
        "Rättning: sessionen knyts till rätt konto vid inloggning; kontocachen per session",
    ),
    (utc(2014, 2, 4, 19, 0), "4.13.0", "Ny profilsida med ändringslogg och e-postavisering vid ändrade uppgifter"),
)
INCIDENT_ACTIONS: tuple[tuple[datetime, str, str], ...] = (
    (
        INCIDENT.login_disabled_at,
        "login_disabled",
        "Inloggningen till Mina sidor stängd efter kundrapporter om fel konto",
    ),
    (INCIDENT.fix_deployed_at, "fix_deployed", "Rättning 4.12.1 av sessionshanteringen driftsatt"),
    (INCIDENT.login_enabled_at, "login_enabled", "Inloggningen öppnad igen efter verifiering"),
    (INCIDENT.notice_published_at, "notice_published", "Information om felet publicerad på webbplatsen"),
)


def _log_table(rows: tuple[tuple[datetime, str, str], ...], names: tuple[str, str]) -> pl.DataFrame:
    """A small log (time plus two text columns) from fixed rows."""
    return pl.DataFrame(
        {
            "time": as_datetime([seconds(t) for t, _, _ in rows]),
            names[0]: [r[1] for r in rows],
            names[1]: [r[2] for r in rows],
        }
    )


def simulate_incident(world: World) -> None:
    """Simulate the web period around the incident and record evidence, truth and hand-offs."""
    listings = OpenListings(world.tables["listings"])
    sessions = simulate_sessions(world)
    plan = plan_actions(world, sessions, listings)
    changes = simulate_changes(world, sessions, plan.edits)
    messages = simulate_messages(world, sessions, listings, changes)
    # The page views are read by no later step: rendered beside the allocation when the world
    # has a side executor (generate's raw writer), with the truth of when each swap showed.
    world.beside(_page_views, world, sessions, listings, plan.overrides, messages.form_views)

    f = sessions.frame
    t = world.tables
    t["deployments"] = _log_table(DEPLOYMENTS, ("version", "description"))
    t["incident_actions"] = _log_table(INCIDENT_ACTIONS, ("action", "description"))
    t["logins"] = f.select(
        time=as_datetime(f["start"]),
        session_id="session_id",
        applicant_id="member",
        method="method",
        ip="ip",
        user_agent="user_agent",
    ).sort("time", "session_id")
    t["logouts"] = f.select(time=as_datetime(f["end"]), session_id="session_id", reason="reason").sort(
        "time", "session_id"
    )
    t["profile_changes"] = changes.select(
        "change_id", "time", "session_id", "account_id", "field", "old_value", "new_value"
    )
    t["support_messages"] = messages.table
    t["applicants"] = replay_changes(t["applicants"], changes)

    world.truth["unauthorized_changes"] = changes.filter("swapped").select(
        "change_id", actor_applicant_id="actor", owner_account_id="account_id", field="field"
    )
    world.truth["fault_reports"] = messages.fault_reports.sort("message_id")
    world.truth["clock_offsets"] = pl.DataFrame(
        {"source": ["mail", "web", "backoffice"], "seconds": [messages.offset, 0, 0]}
    )
    interests = plan.interests.with_columns(time=as_datetime(plan.interests["time"]))
    touched = interests.filter("swapped").sort("time", "session_id")
    world.truth["allocation_touched"] = touched.select(
        kind="interest_"
        + pl.when(pl.col("event") == "register").then(pl.lit("registered")).otherwise(pl.lit("withdrawn")),
        key=pl.format("{}:{}", "listing_id", "applicant_id"),
        session_id="session_id",
    )
    world.scratch["web_interests"] = interests.select("listing_id", "applicant_id", "time", "session_id", "event").sort(
        "time", "session_id", "listing_id"
    )


def _page_views(
    world: World, sessions: Sessions, listings: OpenListings, overrides: pl.DataFrame, extra: pl.DataFrame
) -> None:
    """Render ``world.streams["page_views"]`` and record the truth of the swapped sessions."""
    page_views = render_page_views(sessions, world.rng("incident/pages"), listings, overrides, extra)
    # The session was bound from the first page that rendered the other member's account:
    # a few seconds after login when the swap came with it, later for a mid-session swap.
    swapped = sessions.frame.filter("swapped").sort("start", "session_id")
    first_foreign = page_views.first_bound(swapped.select("sid", "account"))
    world.truth["swapped_sessions"] = swapped.join(
        first_foreign, on="session_id", how="left", maintain_order="left"
    ).select(
        "session_id",
        authenticated_applicant_id="member",
        bound_account_id="account",
        bound_at="bound_at",
    )
    world.streams["page_views"] = page_views

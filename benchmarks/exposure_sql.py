"""The hand-written DuckDB SQL references of ``bench_exposure``: the full one and the focused one.

Straight over the Parquet evidence (a view per table); ``$t0`` and ``$t1`` are the incident
window that ``WINDOW_SQL`` returns. Kept apart from the timing code so each reads whole.
"""

from __future__ import annotations

__all__ = ["CANDIDATES_SQL", "FOCUSED_SQL", "REFERENCE_SQL", "WINDOW_SQL"]

# Step 1: the incident window; the later steps take it as parameters $t0 and $t1.
WINDOW_SQL = """
SELECT (SELECT max(time) FROM deployments WHERE time <= (SELECT min(time) FROM incident_actions)),
       (SELECT min(time) FROM incident_actions WHERE action = 'fix_deployed')
"""

# Step 2: the candidate of each window login, as a table. Kept out of the figures query on
# purpose: DuckDB materialises inputs used more than once in a statement, and a range join
# over a materialised input loses its fast plan (25 s instead of 0.5 s at stockholm).
CANDIDATES_SQL = """
CREATE OR REPLACE TEMP TABLE cand AS
WITH latest AS (
    SELECT l.session_id, l.applicant_id, l.time AS login_at, max(o.time) AS mx
    FROM logins l, logins o JOIN logouts e USING (session_id)
    WHERE l.time >= $t0 AND l.time < $t1
      AND o.time < l.time AND e.time > l.time AND o.applicant_id <> l.applicant_id
    GROUP BY ALL
)
SELECT latest.session_id, c.applicant_id AS account_id
FROM latest JOIN logins c ON c.time = latest.mx AND c.applicant_id <> latest.applicant_id
JOIN logouts e ON e.session_id = c.session_id AND e.time > latest.login_at
"""

# Step 3: the same figures as the notebook, written by hand for DuckDB over the Parquet evidence.
# The session end is the logout (every generated session has one). A session is bound when a
# page, change or interest names a foreign account (a withdrawal page that lost its account_id
# names it through the interest withdrawn at that instant). It is unsettled when another
# member's session was open at login and nothing names its account, or only its owner's up to
# a point after which pages without account_id (or a gap in the page log) could have shown
# another account: the README's "Swaps in mid-session".
REFERENCE_SQL = """
WITH
s AS (SELECT l.session_id, l.applicant_id, l.time AS login_at, o.time AS ended_at, o.reason
      FROM logins l JOIN logouts o USING (session_id)),
w AS (SELECT s.* FROM s WHERE s.login_at >= $t0 AND s.login_at < $t1),
pv AS (
    SELECT p.session_id, p.account_id, p.path, p.status, p.time,
           lag(p.time) OVER (PARTITION BY p.session_id ORDER BY p.time) AS prev,
           p.status = 200 AND (p.path IN ('/mina-sidor', '/mina-sidor/profil', '/mina-sidor/ko', '/mina-sidor/intressen',
                                          '/mina-sidor/erbjudanden')
                               OR p.path LIKE '/lagenhet/%/intresse' OR p.path LIKE '/mina-sidor/intressen/%/ta-bort') AS renders
    FROM page_views p JOIN w USING (session_id)
),
-- The log must hold each login page, each user logout page and the last page before a
-- timeout, and no pause inside a session can outlast the 20-minute idle timeout.
incomplete AS (
    SELECT w.session_id FROM w LEFT JOIN pv USING (session_id) GROUP BY w.session_id, w.reason, w.ended_at
    HAVING count(pv.session_id) = 0 OR NOT coalesce(bool_or(pv.path = '/logga-in'), false)
        OR (w.reason = 'user' AND NOT coalesce(bool_or(pv.path = '/logga-ut'), false))
        OR (w.reason = 'timeout' AND max(pv.time) FILTER (WHERE pv.path <> '/logga-ut') + INTERVAL 20 MINUTE < w.ended_at)
        OR coalesce(bool_or(pv.prev + INTERVAL 20 MINUTE < pv.time), false)
),
-- A missing expected page lies in a gap of the whole page log: from the page served before it
-- to the page served after it (null: open on that side).
expected AS (
    SELECT w.login_at AS at FROM w WHERE NOT EXISTS (SELECT 1 FROM pv WHERE pv.session_id = w.session_id AND pv.path = '/logga-in')
    UNION ALL
    SELECT w.ended_at FROM w WHERE w.reason = 'user'
        AND NOT EXISTS (SELECT 1 FROM pv WHERE pv.session_id = w.session_id AND pv.path = '/logga-ut')
    UNION ALL
    SELECT w.ended_at - INTERVAL 20 MINUTE FROM w WHERE w.reason <> 'user'
        AND NOT EXISTS (SELECT 1 FROM pv WHERE pv.session_id = w.session_id AND pv.time >= w.ended_at - INTERVAL 20 MINUTE)
),
pt AS (SELECT time FROM page_views),
gaps AS (
    SELECT coalesce(b.time, '-infinity'::TIMESTAMPTZ) AS lo, coalesce(a.time, 'infinity'::TIMESTAMPTZ) AS hi
    FROM expected ASOF LEFT JOIN pt b ON expected.at > b.time ASOF LEFT JOIN pt a ON expected.at < a.time
),
-- act: a change or interest (not a page), which proves its session rendered the account.
ev AS (
    SELECT session_id, account_id, time, false AS act FROM pv WHERE account_id IS NOT NULL
    UNION ALL SELECT c.session_id, c.account_id, c.time, true FROM profile_changes c JOIN w USING (session_id)
    UNION ALL SELECT i.session_id, i.applicant_id, NULL::TIMESTAMPTZ, true FROM interests i JOIN w USING (session_id)
    UNION ALL SELECT pv.session_id, i.applicant_id, pv.time, true FROM pv JOIN interests i
        ON i.listing_id = CAST(regexp_extract(pv.path, '/(\\d+)/', 1) AS BIGINT) AND i.withdrawn_at = pv.time
        WHERE pv.account_id IS NULL AND pv.path LIKE '/mina-sidor/intressen/%/ta-bort'
),
seen AS (
    SELECT w.session_id, w.applicant_id, w.login_at, w.ended_at,
           min(ev.account_id) FILTER (WHERE ev.account_id <> w.applicant_id) AS foreign_account,
           min(ev.time) FILTER (WHERE ev.account_id <> w.applicant_id) AS first_foreign,
           max(ev.time) FILTER (WHERE ev.account_id <> w.applicant_id) AS last_foreign,
           coalesce(bool_or(ev.account_id = w.applicant_id), false) AS own,
           max(ev.time) FILTER (WHERE ev.account_id = w.applicant_id) AS last_own
    FROM w LEFT JOIN ev USING (session_id) GROUP BY ALL
),
-- An owner-only session stays open to a later swap when, after its last own page or change,
-- a rendering page lacks account_id, a log gap overlaps it, or pages are missing outside any gap.
late AS (
    SELECT seen.session_id FROM seen
    WHERE seen.own AND seen.foreign_account IS NULL AND (
        EXISTS (SELECT 1 FROM pv WHERE pv.session_id = seen.session_id AND pv.renders AND pv.account_id IS NULL
                AND (seen.last_own IS NULL OR pv.time > seen.last_own))
        OR EXISTS (SELECT 1 FROM gaps WHERE coalesce(seen.last_own, seen.login_at) < gaps.hi AND seen.ended_at > gaps.lo)
        OR (seen.session_id IN (SELECT session_id FROM incomplete)
            AND NOT EXISTS (SELECT 1 FROM gaps WHERE seen.login_at < gaps.hi AND seen.ended_at > gaps.lo))
    )
),
unsettled AS (
    SELECT seen.* FROM seen WHERE foreign_account IS NULL AND session_id IN (SELECT session_id FROM cand)
    AND (NOT own OR session_id IN (SELECT session_id FROM late))
),
-- A session rendered an account when a rendering page was served, or when it saved a change
-- or acted on an interest (its pages may be lost in a gap, the act is not).
rendered AS (SELECT session_id FROM pv WHERE renders UNION SELECT session_id FROM ev WHERE act),
-- Each (session, viewer, account) bound for certain, or possible: an unsettled session's candidates.
links AS (
    SELECT session_id, applicant_id, foreign_account AS account_id, true AS certain FROM seen
    WHERE foreign_account IS NOT NULL
    UNION ALL SELECT u.session_id, u.applicant_id, c.account_id, false FROM unsettled u JOIN cand c USING (session_id)
),
-- Pages may be missing: the session lacks an expected page or pauses too long, or a log gap overlaps it.
inc AS (
    SELECT session_id FROM incomplete
    UNION SELECT w.session_id FROM w WHERE EXISTS (SELECT 1 FROM gaps WHERE w.login_at < gaps.hi AND w.ended_at > gaps.lo)
),
-- A session that rendered nothing may have rendered the account in its missing pages, unless no
-- complete session rendered a page (the render rate is 0; with no complete session it is taken as 1).
may_render AS (
    SELECT session_id FROM rendered
    UNION SELECT session_id FROM inc
    WHERE NOT EXISTS (SELECT 1 FROM w WHERE session_id NOT IN (SELECT session_id FROM inc))
       OR EXISTS (SELECT 1 FROM pv WHERE renders AND session_id NOT IN (SELECT session_id FROM inc))
),
-- A page without account_id is proven shown only between the first and last evidence of the
-- foreign account, with no own evidence after the first foreign.
shown AS (
    SELECT DISTINCT pv.session_id, pv.time, pv.path, seen.foreign_account AS account_id FROM pv JOIN seen USING (session_id)
    WHERE seen.foreign_account IS NOT NULL AND pv.renders
      AND (pv.account_id = seen.foreign_account
           OR (pv.account_id IS NULL AND pv.time BETWEEN seen.first_foreign AND seen.last_foreign
               AND (seen.last_own IS NULL OR seen.last_own < seen.first_foreign)))
),
-- The co-applicant a profile page showed: the latest change at or before the page, else the
-- old value of the next change, else the export; not one the viewer typed in that session.
cpn AS (SELECT account_id, time, session_id, old_value, new_value FROM profile_changes
        WHERE field = 'co_applicant_personnummer' AND time >= $t0),
prof AS (SELECT * FROM shown WHERE path = '/mina-sidor/profil'),
co AS (
    SELECT CASE WHEN b.time IS NOT NULL THEN b.new_value WHEN a.time IS NOT NULL THEN a.old_value
                ELSE ap.co_applicant_personnummer END AS personnummer,
           b.session_id AS set_by, prof.session_id
    FROM prof
    ASOF LEFT JOIN cpn b ON b.account_id = prof.account_id AND b.time <= prof.time
    ASOF LEFT JOIN cpn a ON a.account_id = prof.account_id AND a.time > prof.time
    JOIN applicants ap ON ap.applicant_id = prof.account_id
),
ch AS (
    SELECT c.*, l.applicant_id AS actor, c.time < $t1 AS in_window
    FROM profile_changes c LEFT JOIN logins l USING (session_id) WHERE c.time >= $t0
),
flagged AS (
    SELECT *, coalesce(actor <> account_id, false) AS other FROM ch
),
runs AS (
    SELECT *, sum(CASE WHEN other IS DISTINCT FROM prev THEN 1 ELSE 0 END) OVER (k ROWS UNBOUNDED PRECEDING) AS run
    FROM (SELECT *, lag(other) OVER k AS prev FROM flagged WINDOW k AS (PARTITION BY account_id, field ORDER BY time, change_id))
    WINDOW k AS (PARTITION BY account_id, field ORDER BY time, change_id)
),
restore AS (
    SELECT account_id, field, run, max(time) AS run_end FROM runs WHERE other GROUP BY ALL
),
acts AS (
    SELECT 'interest_registered' AS kind, i.listing_id, i.applicant_id AS account_id, i.session_id
    FROM interests i JOIN w USING (session_id)
    UNION ALL
    SELECT CASE WHEN pv.path LIKE '/lagenhet/%' THEN 'interest_registered' ELSE 'interest_withdrawn' END,
           CAST(regexp_extract(pv.path, '/(\\d+)/', 1) AS BIGINT), pv.account_id, pv.session_id
    FROM pv WHERE pv.status = 200 AND (pv.path LIKE '/lagenhet/%/intresse' OR pv.path LIKE '/mina-sidor/intressen/%/ta-bort')
    UNION ALL
    SELECT 'offer_answered', o.listing_id, o.applicant_id, o.response_session_id FROM offers o JOIN w ON w.session_id = o.response_session_id
),
-- An act whose page lost its account_id acted on the account its session was bound to: the
-- foreign one, the owner's when the session is settled as not bound, unknown otherwise.
resolved AS (
    SELECT acts.kind, acts.listing_id, acts.session_id, any_value(seen.applicant_id) AS owner,
           coalesce(min(acts.account_id), any_value(seen.foreign_account),
                    any_value(CASE WHEN acts.session_id NOT IN (SELECT session_id FROM unsettled) THEN seen.applicant_id END)) AS account_id
    FROM acts JOIN seen USING (session_id) GROUP BY acts.kind, acts.listing_id, acts.session_id
)
SELECT
    (SELECT count(DISTINCT applicant_id) FROM w) AS people_possibly_affected,
    (SELECT count(DISTINCT p) FROM (SELECT account_id AS p FROM links WHERE certain
                                    UNION SELECT applicant_id FROM links WHERE certain)) AS people_in_bound_sessions_min,
    (SELECT count(DISTINCT p) FROM (SELECT account_id AS p FROM links UNION SELECT applicant_id FROM links))
        AS people_in_bound_sessions_max,
    (SELECT count(DISTINCT foreign_account) FROM seen) AS accounts_bound_min,
    (SELECT count(DISTINCT a) FROM (SELECT foreign_account AS a FROM seen WHERE foreign_account IS NOT NULL
                                    UNION SELECT account_id FROM cand WHERE session_id IN (SELECT session_id FROM unsettled))) AS accounts_bound_max,
    (SELECT count(DISTINCT applicant_id) FROM seen WHERE foreign_account IS NOT NULL) AS people_put_into_min,
    (SELECT count(DISTINCT applicant_id) FROM links) AS people_put_into_max,
    (SELECT count(*) FROM seen WHERE foreign_account IS NOT NULL) AS sessions_bound,
    (SELECT count(DISTINCT foreign_account) FROM seen JOIN rendered USING (session_id)) AS accounts_exposed_min,
    (SELECT count(DISTINCT account_id) FROM links JOIN may_render USING (session_id)) AS accounts_exposed_max,
    (SELECT count(*) FROM unsettled) AS sessions_unsettled,
    (SELECT count(*) FROM incomplete) AS sessions_incomplete,
    (SELECT count(*) FROM shown) AS pages_shown_to_others,
    -- The protected part of accounts_exposed_min: a session that rendered the account proves it
    -- shown, whether or not a page of it is proven to (an interest or change names no page).
    (SELECT count(DISTINCT foreign_account) FROM seen JOIN rendered USING (session_id)
     JOIN applicants a ON a.applicant_id = seen.foreign_account WHERE a.protected_identity) AS protected_identity_exposed,
    (SELECT count(DISTINCT personnummer) FROM co WHERE set_by IS DISTINCT FROM session_id) AS co_applicants_exposed,
    (SELECT count(DISTINCT actor) FROM ch WHERE in_window) AS people_who_made_changes,
    (SELECT count(DISTINCT actor) FROM ch WHERE in_window AND actor <> account_id) AS people_who_changed_others_data,
    (SELECT count(DISTINCT account_id) FROM ch WHERE in_window AND actor <> account_id) AS accounts_changed_by_others,
    (SELECT count(*) FROM ch WHERE in_window AND actor <> account_id) AS field_changes_by_others,
    (SELECT count(*) FROM restore) AS field_changes_to_restore,
    (SELECT count(*) FROM restore r WHERE EXISTS (
        SELECT 1 FROM runs x WHERE x.account_id = r.account_id AND x.field = r.field AND NOT x.other AND x.time > r.run_end)
    ) AS restore_conflicts,
    (SELECT count(*) FROM resolved WHERE account_id <> owner) AS allocation_affected
"""


# The four exposure headlines alone, as fast as DuckDB gives them: sessions bound, distinct
# bound accounts, people put into others' accounts, and field changes saved by non-owners.
# Same evidence rule as above (a page, change or interest names a foreign account; a
# withdrawal page without account_id names it through the interest withdrawn then).
FOCUSED_SQL = """
WITH
w AS (SELECT session_id, applicant_id FROM logins WHERE time >= $t0 AND time < $t1),
named AS (
    SELECT session_id, account_id FROM page_views WHERE account_id IS NOT NULL
    UNION ALL SELECT session_id, account_id FROM profile_changes
    UNION ALL SELECT session_id, applicant_id FROM interests
    UNION ALL SELECT p.session_id, i.applicant_id FROM page_views p JOIN interests i
        ON i.withdrawn_at = p.time AND p.path = '/mina-sidor/intressen/' || i.listing_id || '/ta-bort'
        WHERE p.account_id IS NULL AND i.withdrawn_at >= $t0
),
bound AS (
    SELECT w.session_id, any_value(w.applicant_id) AS viewer, min(n.account_id) AS account_id
    FROM named n JOIN w USING (session_id) WHERE n.account_id <> w.applicant_id GROUP BY w.session_id
)
SELECT count(*) AS sessions_bound,
       count(DISTINCT account_id) AS accounts_bound_min,
       count(DISTINCT viewer) AS people_put_into_min,
       (SELECT count(*) FROM profile_changes c JOIN logins l USING (session_id)
        WHERE c.time >= $t0 AND c.time < $t1 AND l.applicant_id <> c.account_id) AS field_changes_by_others
FROM bound
"""

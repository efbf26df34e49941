-- Every trace of an email: the user (with tokens and lockout state), its events and its tombstone.
WITH gone AS (
    DELETE FROM auth.users WHERE email = $1 RETURNING id
), events AS (
    DELETE FROM auth.migration_events WHERE email = $1 RETURNING id
), tombstone AS (
    DELETE FROM auth.deleted_users WHERE email = $1 RETURNING email
)
SELECT (SELECT pg_catalog.count(*) FROM gone) + (SELECT pg_catalog.count(*) FROM events)
     + (SELECT pg_catalog.count(*) FROM tombstone)

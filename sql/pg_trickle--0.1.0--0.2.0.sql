-- pg_trickle 0.1.0 → 0.2.0, run by ALTER EXTENSION pg_trickle UPDATE.
-- A fresh 0.2.0 install and 0.1.0 updated by this script have the same schema: tests/e2e/tests/upgrade.rs
-- compares their catalogs object by object.
\echo Use "ALTER EXTENSION pg_trickle UPDATE" to load this file. \quit

-- auth.forget_user() deletes an email's events, and admins look up one user's history: without this index both
-- read the whole event table. Building it holds a SHARE lock on auth.migration_events, so migrations wait
-- while it is built (seconds per million events).
CREATE INDEX migration_events_email_idx ON auth.migration_events (email, at);

-- Logins update their user's row; free room in each page keeps those updates out of the indexes (HOT).
-- Applies to pages written from now on; a SHARE UPDATE EXCLUSIVE lock, so logins go on meanwhile.
ALTER TABLE auth.users SET (fillfactor = 90);

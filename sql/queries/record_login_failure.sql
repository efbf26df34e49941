-- Counts consecutive failures (unlogged table: no WAL flush); an expired lock starts a fresh count.
INSERT INTO auth.login_attempts AS a (user_id, failed_count)
VALUES ($1, 1)
ON CONFLICT (user_id) DO UPDATE
   SET failed_count    = CASE WHEN a.locked_until <= pg_catalog.now() THEN 1 ELSE a.failed_count + 1 END,
       locked_until    = CASE WHEN a.locked_until <= pg_catalog.now() THEN NULL ELSE a.locked_until END,
       last_failure_at = pg_catalog.now()
RETURNING failed_count

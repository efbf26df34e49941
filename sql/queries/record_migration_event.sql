-- One event; the same statement drops up to 100 events older than pg_trickle.event_retention ($7 seconds,
-- 0 keeps everything), so retention needs no job and never costs more than a short index range scan.
WITH expired AS (
    DELETE FROM auth.migration_events
     WHERE id IN (SELECT id FROM auth.migration_events
                   WHERE $7 > 0 AND at < pg_catalog.now() - pg_catalog.make_interval(secs => $7)
                   ORDER BY at LIMIT 100)
)
INSERT INTO auth.migration_events (email, flow, adapter, outcome, latency_ms, error_class)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id

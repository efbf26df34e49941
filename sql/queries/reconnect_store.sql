-- Restores the store named ($1, NULL: every disconnected store).
WITH restored AS (
    UPDATE auth.legacy_stores SET disconnected = false, updated_at = pg_catalog.now()
     WHERE disconnected AND ($1 IS NULL OR name = $1)
    RETURNING name, ask_order
)
SELECT pg_catalog.array_agg(name ORDER BY ask_order) FROM restored

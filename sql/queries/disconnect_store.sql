-- Import mode stays as it is; only the store named ($1, NULL: every store) goes quiet (and can be restored).
WITH quiet AS (
    UPDATE auth.legacy_stores SET disconnected = true, updated_at = pg_catalog.now()
     WHERE NOT disconnected AND ($1 IS NULL OR name = $1)
    RETURNING name, ask_order
)
SELECT pg_catalog.array_agg(name ORDER BY ask_order) FROM quiet

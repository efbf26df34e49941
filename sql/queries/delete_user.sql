-- A deleted migrated or imported user leaves a tombstone (see auth.deleted_users).
WITH gone AS (
    DELETE FROM auth.users WHERE email = $1 RETURNING id, email, external_id, source
), tombstone AS (
    INSERT INTO auth.deleted_users (email, external_id)
    SELECT email, external_id FROM gone WHERE source IN ('migrated', 'imported')
    ON CONFLICT (email) DO UPDATE SET external_id = excluded.external_id, deleted_at = pg_catalog.now()
)
SELECT id FROM gone

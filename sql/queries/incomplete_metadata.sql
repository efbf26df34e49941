-- Migrated users still flagged for missing metadata, oldest first.
SELECT email FROM auth.users WHERE metadata_incomplete ORDER BY migrated_at, id LIMIT $1

-- One batch of a bulk import: the staged legacy rows (pg_temp.pg_trickle_legacy_rows) with their verdicts
-- (pg_temp.pg_trickle_import), joined by position; see legacy_store::fdw::mapping.
-- {text_fields...} is filled from record::TEXT_FIELDS by crate::pg::storage.
-- Imported users keep their legacy hash until their first login. A user already present is refreshed
-- only while nothing has happened to them since an earlier import: never a user who logged in,
-- changed their password, or was migrated or created otherwise.
WITH written AS (
    INSERT INTO auth.users AS u (
        email, email_verified, external_id, {text_fields}, user_metadata, app_metadata, password_hash,
        password_format, password_params, source)
    SELECT i.norm, COALESCE(r.email_verified, false), r.legacy_id, {text_fields from r}, COALESCE(NULLIF(r.user_metadata, 'null'), '{}'), COALESCE(NULLIF(r.app_metadata, 'null'), '{}'),
           NULLIF(r.password_hash, ''),
           CASE WHEN NULLIF(r.password_hash, '') IS NULL THEN NULL ELSE i.detected_format END,
           CASE WHEN NULLIF(r.password_hash, '') IS NULL THEN NULL ELSE NULLIF(r.hash_params, 'null') END,
           'imported'
      FROM pg_temp.pg_trickle_import AS i
      JOIN pg_temp.pg_trickle_legacy_rows AS r ON r.n = i.n
     WHERE i.reason IS NULL AND i.n > $1 AND i.n <= $2 AND r.n > $1 AND r.n <= $2
    ON CONFLICT (email) DO UPDATE SET
        email_verified = excluded.email_verified, external_id = excluded.external_id,
        {text_fields = excluded}, user_metadata = excluded.user_metadata,
        app_metadata = excluded.app_metadata, password_hash = excluded.password_hash,
        password_format = excluded.password_format, password_params = excluded.password_params,
        updated_at = pg_catalog.now()
     WHERE u.source = 'imported' AND u.last_login_at IS NULL AND u.password_changed_at IS NULL
       AND u.password_format IS DISTINCT FROM 'argon2id'
    RETURNING (u.xmax = 0) AS inserted
)
SELECT pg_catalog.count(*) FILTER (WHERE inserted), pg_catalog.count(*) FILTER (WHERE NOT inserted) FROM written

-- A user moved over from the legacy store. $4: the profile's text fields as an array in record::TEXT_FIELDS order
-- ({text_fields...} is filled from that list by crate::pg::storage). $7: argon2id hash of the password just accepted
-- by the store, or NULL when only the profile moves (admin migrate, password reset). ON CONFLICT DO NOTHING waits
-- for a concurrent migration of the same user and then yields no row: exactly one insert wins.
-- $8: the store's answer left the metadata out (not: it was empty), so auth.backfill_metadata() asks again.
INSERT INTO auth.users (
    email, email_verified, external_id, {text_fields}, user_metadata, app_metadata, password_hash, password_format,
    source, migrated_at, last_login_at, password_changed_at, metadata_incomplete)
VALUES ($1, $2, $3, {text_fields in $4}, $5, $6, $7,
        CASE WHEN $7 IS NULL THEN NULL ELSE 'argon2id' END, 'migrated', pg_catalog.now(),
        CASE WHEN $7 IS NULL THEN NULL ELSE pg_catalog.now() END, NULL,
        $8)
ON CONFLICT DO NOTHING
RETURNING id, auth.user_profile(users)

-- ON CONFLICT DO NOTHING waits for a concurrent signup of the same email and then yields no row,
-- which the caller reports as 23505 — so exactly one of many concurrent signups wins.
INSERT INTO auth.users (email, password_hash, password_format, user_metadata, password_changed_at)
VALUES ($1, $2, 'argon2id', $3, pg_catalog.now())
ON CONFLICT DO NOTHING
RETURNING id

-- Single use even under concurrency: a second UPDATE re-checks used_at after the first commits.
UPDATE auth.password_reset_tokens
   SET used_at = pg_catalog.now()
 WHERE token_digest = $1
   AND used_at IS NULL
   AND expires_at > pg_catalog.now()
RETURNING user_id

-- Inserts nothing for an unknown email; the caller returns a token either way.
INSERT INTO auth.password_reset_tokens (token_digest, user_id, expires_at)
SELECT $2, u.id, pg_catalog.now() + pg_catalog.make_interval(secs => $3)
  FROM auth.users AS u
 WHERE u.email = $1

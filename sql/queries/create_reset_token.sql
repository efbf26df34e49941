-- Inserts nothing for an unknown email (no row returned); the caller returns a token either way. Each new token also purges the
-- user's used and expired tokens and keeps at most two other live ones: requesting resets cannot pile up valid
-- tokens for an account.
WITH target AS (
    SELECT u.id FROM auth.users AS u WHERE u.email = $1
), purged AS (
    DELETE FROM auth.password_reset_tokens AS t
     USING target
     WHERE t.user_id = target.id
       AND (t.used_at IS NOT NULL OR t.expires_at <= pg_catalog.now()
            OR t.token_digest IN (SELECT k.token_digest FROM auth.password_reset_tokens AS k
                                   WHERE k.user_id = target.id AND k.used_at IS NULL
                                     AND k.expires_at > pg_catalog.now()
                                   ORDER BY k.created_at DESC OFFSET 2))
)
INSERT INTO auth.password_reset_tokens (token_digest, user_id, expires_at)
SELECT $2, target.id, pg_catalog.now() + pg_catalog.make_interval(secs => $3)
  FROM target
RETURNING true

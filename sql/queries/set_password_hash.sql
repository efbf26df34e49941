-- A new password voids every outstanding reset token of the user; returns the email, whose lockout the caller
-- then clears.
WITH voided AS (
    DELETE FROM auth.password_reset_tokens WHERE user_id = $1
)
UPDATE auth.users
   SET password_hash       = $2,
       password_format     = 'argon2id',
       password_params     = NULL,
       password_changed_at = pg_catalog.now(),
       updated_at          = pg_catalog.now()
 WHERE id = $1
RETURNING email

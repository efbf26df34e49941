-- A new password also clears lockout and voids every outstanding reset token of the user.
WITH voided AS (
    DELETE FROM auth.password_reset_tokens WHERE user_id = $1
), unlocked AS (
    DELETE FROM auth.login_attempts WHERE user_id = $1
)
UPDATE auth.users
   SET password_hash       = $2,
       password_format     = 'argon2id',
       password_params     = NULL,
       password_changed_at = pg_catalog.now(),
       updated_at          = pg_catalog.now()
 WHERE id = $1

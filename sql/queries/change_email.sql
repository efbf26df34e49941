-- A new address is unverified until the application verifies it again, and reset tokens mailed to the old
-- address stop working.
WITH voided AS (
    DELETE FROM auth.password_reset_tokens AS t
     USING auth.users AS u
     WHERE u.email = $1 AND t.user_id = u.id
)
UPDATE auth.users
   SET email          = $2,
       email_verified = false,
       updated_at     = pg_catalog.now()
 WHERE email = $1
RETURNING id

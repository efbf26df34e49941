-- A new address is unverified until the application verifies it again.
UPDATE auth.users
   SET email          = $2,
       email_verified = false,
       updated_at     = pg_catalog.now()
 WHERE email = $1
RETURNING id

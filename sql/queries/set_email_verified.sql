UPDATE auth.users
   SET email_verified = $2,
       updated_at     = pg_catalog.now()
 WHERE email = $1
RETURNING id

UPDATE auth.users
   SET user_metadata = auth.merge_metadata(user_metadata, $2),
       updated_at    = pg_catalog.now()
 WHERE email = $1
RETURNING user_metadata

UPDATE auth.users
   SET app_metadata = auth.merge_metadata(app_metadata, $2),
       updated_at   = pg_catalog.now()
 WHERE email = $1
RETURNING app_metadata

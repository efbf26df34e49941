-- Merges metadata re-read from the legacy store under what the application wrote since the migration:
-- keys already present locally win. The flag clears once the store has said what the metadata is ($4), even empty.
UPDATE auth.users
   SET user_metadata       = $2 OPERATOR(pg_catalog.||) user_metadata,
       app_metadata        = $3 OPERATOR(pg_catalog.||) app_metadata,
       metadata_incomplete = NOT $4,
       updated_at          = pg_catalog.now()
 WHERE email = $1
RETURNING auth.user_profile(users)

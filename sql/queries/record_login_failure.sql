-- Counts consecutive failures; an expired lock starts a fresh count.
UPDATE auth.users
   SET failed_login_count = CASE WHEN locked_until IS NOT NULL AND locked_until <= pg_catalog.now()
                                 THEN 1 ELSE failed_login_count + 1 END,
       locked_until       = CASE WHEN locked_until <= pg_catalog.now() THEN NULL ELSE locked_until END
 WHERE id = $1
RETURNING failed_login_count

UPDATE auth.users
   SET locked_until = pg_catalog.now() + pg_catalog.make_interval(secs => $2)
 WHERE id = $1

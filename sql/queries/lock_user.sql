UPDATE auth.login_attempts
   SET locked_until = pg_catalog.now() + pg_catalog.make_interval(secs => $2)
 WHERE user_id = $1

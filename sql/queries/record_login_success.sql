-- $2: a new argon2id hash when the stored one used other parameters, else NULL.
UPDATE auth.users
   SET last_login_at      = pg_catalog.now(),
       failed_login_count = 0,
       locked_until       = NULL,
       password_hash      = COALESCE($2, password_hash),
       password_format    = CASE WHEN $2 IS NULL THEN password_format ELSE 'argon2id' END
 WHERE id = $1
RETURNING auth.user_profile(users)

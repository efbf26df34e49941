-- $2: a new argon2id hash when the stored one used other parameters or a legacy format, else NULL.
UPDATE auth.users
   SET last_login_at   = pg_catalog.now(),
       password_hash   = COALESCE($2, password_hash),
       password_format = CASE WHEN $2 IS NULL THEN password_format ELSE 'argon2id' END,
       password_params = CASE WHEN $2 IS NULL THEN password_params END
 WHERE id = $1
RETURNING auth.user_profile(users)

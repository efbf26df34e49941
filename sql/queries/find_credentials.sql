-- The row a login decision needs; read without a lock so concurrent logins of one user verify in parallel.
SELECT u.id,
       u.password_hash,
       u.password_format,
       a.locked_until IS NOT NULL AND a.locked_until > pg_catalog.now() AS locked,
       u.password_params
  FROM auth.users AS u
  LEFT JOIN auth.login_attempts AS a ON a.user_id = u.id
 WHERE u.email = $1

-- The row a login decision needs; read without a lock so concurrent logins of one user verify in parallel.
SELECT id,
       password_hash,
       password_format,
       locked_until IS NOT NULL AND locked_until > pg_catalog.now() AS locked
  FROM auth.users
 WHERE email = $1

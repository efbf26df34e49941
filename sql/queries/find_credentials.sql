-- The row a login decision needs; read without a lock so concurrent logins of one user verify in parallel, and
-- only auth.users (lockout lives in shared memory), so it works on a hot standby too.
SELECT u.id, u.password_hash, u.password_format, u.password_params
  FROM auth.users AS u
 WHERE u.email = $1

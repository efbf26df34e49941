UPDATE auth.users
   SET failed_login_count = 0,
       locked_until       = NULL
 WHERE email = $1
RETURNING id

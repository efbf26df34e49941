DELETE FROM auth.users WHERE email = $1 RETURNING id

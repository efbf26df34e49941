SELECT id FROM auth.users WHERE email = $1

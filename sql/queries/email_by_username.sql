SELECT email FROM auth.users WHERE username = $1

SELECT EXISTS (SELECT 1 FROM auth.deleted_users WHERE email = $1)

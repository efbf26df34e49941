DELETE FROM auth.deleted_users WHERE email = $1

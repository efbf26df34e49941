SELECT auth.user_profile(u) FROM auth.users AS u WHERE u.email = $1

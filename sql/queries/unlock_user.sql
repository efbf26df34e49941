WITH target AS (
    SELECT id FROM auth.users WHERE email = $1
), unlocked AS (
    DELETE FROM auth.login_attempts AS a USING target WHERE a.user_id = target.id
)
SELECT id FROM target

-- The legacy store a user just moved from (a separate statement: SQL objects before 0.4.0 have no such column).
UPDATE auth.users SET legacy_store = $2 WHERE id = $1

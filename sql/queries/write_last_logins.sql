-- Successful logins kept in shared memory (src/pg/bookkeeping.rs): $1 users, $2 Unix microseconds of their latest
-- login. Never moves last_login_at backwards (a login written directly may be newer).
UPDATE auth.users AS u
   SET last_login_at = GREATEST(u.last_login_at, pg_catalog.to_timestamp(m.at / 1000000.0))
  FROM ROWS FROM (pg_catalog.unnest($1::uuid[]), pg_catalog.unnest($2::bigint[])) AS m(id, at)
 WHERE u.id = m.id

-- The row write of a successful login (sql/queries/record_login_success.sql) on a random bulk-imported user.
\set uid random(1, 50000)
UPDATE :table SET last_login_at = now() WHERE external_id = :uid::text;

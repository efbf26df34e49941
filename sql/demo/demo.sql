-- pg_trickle demo (run by `make run`). psql 15 sends this text as-is, so the passwords below are
-- literals in SQL text. This session therefore turns statement logging off first; applications
-- should pass passwords as bind parameters and set the same on their login role (docs/security.md).
SET log_statement = 'none';
SET log_min_error_statement = 'panic';
SET log_min_duration_statement = -1;

CREATE EXTENSION pg_trickle;
SELECT auth.version();

-- An application role: may call the auth functions, may not read the tables.
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'demo_app') THEN
    CREATE ROLE demo_app LOGIN IN ROLE trickle_app;
  END IF;
END $$;
ALTER ROLE demo_app SET log_statement = 'none';
ALTER ROLE demo_app SET log_min_error_statement = 'panic';
ALTER ROLE demo_app SET log_min_duration_statement = -1;
SET ROLE demo_app;

\echo '--- a user signs up (email is normalised; the password is stored as argon2id)'
SELECT auth.signup('  Ada.Lovelace@Example.org ', 'analytical engine', '{"theme": "dark"}') IS NOT NULL AS signed_up;

\echo '--- logging in: right password, wrong password, unknown email (same answer, same work)'
SELECT ok, status, email FROM auth.login('ada.lovelace@example.org', 'analytical engine');
SELECT ok, status, email FROM auth.login('ada.lovelace@example.org', 'difference engine');
SELECT ok, status, email FROM auth.login('nobody@example.org', 'analytical engine');

\echo '--- the profile an application sees (no hash, no lockout bookkeeping)'
SELECT jsonb_pretty(auth.get_user('ADA.LOVELACE@example.org'));

\echo '--- the application role cannot read the table'
\set ON_ERROR_STOP 0
SELECT * FROM auth.users;
\set ON_ERROR_STOP 1

RESET ROLE;
\echo '=== trickle migration: the legacy store (an HTTP service) knows grace and alan, auth.users does not'
SELECT auth.configure_http_store(:'legacy_url', timeout_ms => 2000);
SELECT auth.set_import_mode(true);
SELECT import_mode, store_kind, http_base_url, http_contract FROM auth.import_configuration;

SET ROLE demo_app;
\echo '--- first login: the legacy store checks the password; the user moves into auth.users in this transaction'
SELECT ok, status, email, profile->>'external_id' AS legacy_id FROM auth.login('Grace.Hopper@legacy.example', 'first compiler');
\echo '--- second login: local (argon2id); the legacy store is not asked again'
SELECT ok, status, email FROM auth.login('grace.hopper@legacy.example', 'first compiler');
\echo '--- a wrong password for a legacy user migrates nobody'
SELECT ok, status FROM auth.login('alan.turing@legacy.example', 'wrong guess');
\echo '--- signing up with an email the legacy store holds is refused (23505, hint: log in instead)'
\set ON_ERROR_STOP 0
SELECT auth.signup('alan.turing@legacy.example', 'a new password');
\set ON_ERROR_STOP 1
RESET ROLE;

\echo '--- what an admin sees: users by source'
SELECT email, source, password_format, external_id,
       substring(password_hash FROM '^\$argon2id\$v=19\$([^$]*)') AS argon2_parameters,
       last_login_at IS NOT NULL AS has_logged_in
  FROM auth.users ORDER BY created_at;
SELECT source, count(*) FROM auth.users GROUP BY source ORDER BY source;

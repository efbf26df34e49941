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
\echo '--- signing up with an email the legacy store holds is refused (23505, worded like a local duplicate)'
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

\echo '=== the FDW adapter: the old app database holds users in a plain table, with SHA-512 crypt hashes'
CREATE EXTENSION postgres_fdw;
CREATE SERVER old_app FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host '127.0.0.1', port :'pg_port', dbname 'trickle_legacy');
-- Legacy relations are never read with the owner's rights: name a non-superuser reader that may read them.
CREATE USER MAPPING FOR PUBLIC SERVER old_app OPTIONS (user 'postgres', password_required 'false');
CREATE SCHEMA legacy;
IMPORT FOREIGN SCHEMA public LIMIT TO (users) FROM SERVER old_app INTO legacy;
GRANT USAGE ON SCHEMA legacy TO trickle_admin;
GRANT SELECT ON legacy.users TO trickle_admin;
SELECT auth.configure_fdw_store('legacy.users', '{"email": "mail", "email_case_insensitive": true, "id": "uid",
    "password_hash": "pw", "hash_format": "sha512_crypt", "name": "full_name", "user_metadata": "prefs"}',
    read_as => 'trickle_admin');
SELECT store_kind, fdw_relation, fdw_reader, import_mode FROM auth.import_configuration;

SET ROLE demo_app;
\echo '--- first login of a user of the old app: the SHA-512 crypt hash is verified in the database, then replaced'
SELECT ok, status, email, profile->>'name' AS name FROM auth.login('margaret.hamilton@old-app.example', 'lunar module');
SELECT ok, status FROM auth.login('margaret.hamilton@old-app.example', 'lunar module');
RESET ROLE;

\echo '--- users who never log in: a hash-preserving bulk import (the migrated user is skipped, not overwritten)'
SELECT inserted, updated, skipped, rejected FROM auth.import_users();
SET ROLE demo_app;
\echo '--- an imported user logs in: the legacy hash is verified and upgraded to argon2id in that transaction'
SELECT ok, status FROM auth.login('katherine.johnson@old-app.example', 'orbital mechanics');
RESET ROLE;

\echo '--- progress: users by source and legacy format, and what the migration recorded'
SELECT source, password_format, count(*) FROM auth.users GROUP BY 1, 2 ORDER BY 1, 2;
SELECT flow, adapter, outcome, count(*) FROM auth.migration_events GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT hits, misses, migrations, invalid_credentials, store_errors, latency_p50_ms FROM auth.stats();

\echo '=== finishing: how far is the migration, who is left, and switching the legacy store off'
SELECT native, migrated, imported_pending, imported_logged_in, legacy_total, legacy_remaining, percent_migrated
  FROM auth.migration_progress();
SELECT * FROM auth.disconnect_check();
SELECT auth.disconnect_external_store();
SELECT import_mode, store_kind, disconnected FROM auth.import_configuration;
SET ROLE demo_app;
\echo '--- migrated and imported users log in as before; the legacy store is not asked any more'
SELECT ok, status FROM auth.login('margaret.hamilton@old-app.example', 'lunar module');
SELECT ok, status FROM auth.login('dorothy.vaughan@old-app.example', 'human computer');
RESET ROLE;

-- pg_trickle 0.2.0 → 0.3.0, run by ALTER EXTENSION pg_trickle UPDATE.
-- A fresh 0.3.0 install and 0.2.0 updated by this script have the same schema: tests/e2e/tests/upgrade.rs
-- compares their catalogs object by object.
\echo Use "ALTER EXTENSION pg_trickle UPDATE" to load this file. \quit

-- The FDW store's relation is read as a reader role, never as the owner (docs/security.md). A store configured
-- before 0.3.0 has none: its logins fail with 55000 until auth.configure_fdw_store() names one. Plain http to a
-- host other than loopback needs allow_insecure from now on; a plain-http store configured before keeps working,
-- marked http_allow_insecure (visible in auth.import_configuration). An ACCESS EXCLUSIVE lock on
-- auth.import_config only: first logins of legacy users wait for the (instant) ALTER, other logins do not.
ALTER TABLE auth.import_config
    ADD COLUMN fdw_reader regrole,
    ADD COLUMN http_allow_insecure boolean NOT NULL DEFAULT false;
UPDATE auth.import_config SET http_allow_insecure = true
 WHERE http_base_url ~* '^http://' AND http_base_url !~* '^http://(127\.|\[::1\]|localhost([:/]|$))';

CREATE OR REPLACE VIEW auth.import_configuration AS
SELECT c.import_mode,
       c.store_kind,
       c.http_base_url,
       c.http_contract,
       c.http_auth_kind,
       c.http_auth_header,
       CASE WHEN c.http_auth_secret IS NULL THEN NULL ELSE '********' END AS http_auth_secret,
       CASE WHEN c.http_hmac_secret IS NULL THEN NULL ELSE '********' END AS http_hmac_secret,
       c.http_connect_timeout_ms,
       c.http_timeout_ms,
       c.http_lookup_retries,
       c.http_max_response_bytes,
       c.http_ca_bundle IS NOT NULL AS http_custom_ca,
       c.fdw_relation,
       c.fdw_mapping,
       c.disconnected_store_kind IS NOT NULL AS disconnected,
       c.updated_at,
       c.fdw_reader,
       COALESCE(c.http_allow_insecure, false) AS http_allow_insecure
  FROM (SELECT true AS singleton) AS one
  LEFT JOIN auth.import_config AS c ON c.singleton;

-- Admins no longer write auth.users or read hashes and reset tokens directly: only through the functions.
REVOKE ALL ON auth.users, auth.password_reset_tokens, auth.login_attempts FROM trickle_admin;
GRANT SELECT (id, email, email_verified, password_format, username, name, given_name, family_name, nickname, picture,
              user_metadata, app_metadata, external_id, source, metadata_incomplete, created_at, updated_at,
              migrated_at, last_login_at, password_changed_at)
    ON auth.users TO trickle_admin;

-- Lockout moves to shared memory (src/pg/lockout.rs): failures count whatever the caller's transaction does, in
-- read-only transactions and on standbys, per email whether or not it has a local user. Counts and locks of
-- the old table are not carried over: every email starts afresh. The table stays, unused: dropping it would
-- lock auth.users (its foreign key) for the update's length.
COMMENT ON TABLE auth.login_attempts IS 'pg_trickle: unused since 0.3.0 (lockout is in shared memory, see auth.locked_users())';

-- New arguments, new C symbols; the 0.2.0 symbols stay in the library and refuse to run (55000).
DROP FUNCTION auth.configure_http_store(text, text, text, text, text, text, integer, integer, integer, integer, text);
CREATE FUNCTION auth."configure_http_store"(
	"base_url" TEXT, /* Option < & str > */
	"contract" TEXT DEFAULT 'pg_trickle', /* Option < & str > */
	"auth_kind" TEXT DEFAULT 'none', /* Option < & str > */
	"auth_secret" TEXT DEFAULT NULL, /* Option < & str > */
	"auth_header" TEXT DEFAULT NULL, /* Option < & str > */
	"hmac_secret" TEXT DEFAULT NULL, /* Option < & str > */
	"connect_timeout_ms" INT DEFAULT 1000, /* Option < i32 > */
	"timeout_ms" INT DEFAULT 5000, /* Option < i32 > */
	"lookup_retries" INT DEFAULT 1, /* Option < i32 > */
	"max_response_bytes" INT DEFAULT 1048576, /* Option < i32 > */
	"ca_bundle" TEXT DEFAULT NULL, /* Option < & str > */
	"allow_insecure" bool DEFAULT false /* Option < bool > */
) RETURNS VOID /* Result < (), ErrorReport > */
VOLATILE SECURITY DEFINER PARALLEL UNSAFE 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'configure_http_store_checked_wrapper';
DROP FUNCTION auth.configure_fdw_store(text, jsonb);
CREATE FUNCTION auth."configure_fdw_store"(
	"relation" TEXT, /* Option < & str > */
	"mapping" jsonb, /* Option < JsonB > */
	"read_as" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS VOID /* Result < (), ErrorReport > */
VOLATILE PARALLEL UNSAFE 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'configure_fdw_store_read_as_wrapper';
REVOKE ALL ON FUNCTION auth.configure_http_store(text, text, text, text, text, text, integer, integer, integer, integer, text, boolean),
    auth.configure_fdw_store(text, jsonb, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    auth.configure_http_store(text, text, text, text, text, text, integer, integer, integer, integer, text, boolean),
    auth.configure_fdw_store(text, jsonb, text)
TO trickle_admin;

-- Reads the relation its caller names: the caller's own rights decide (src/pg/privilege.rs).
ALTER FUNCTION auth.import_users(text, jsonb, boolean, integer) SECURITY INVOKER;

-- Bulk import parses every hash and bounds its costs before it is stored (called by the staging query only).
CREATE FUNCTION auth."check_legacy_hash"(
	"hash" TEXT, /* Option < & str > */
	"format" TEXT, /* Option < & str > */
	"params" jsonb /* Option < JsonB > */
) RETURNS TABLE (
	"hash_format" TEXT,  /* Option < & '_ str > */
	"problem" TEXT  /* Option < & '_ str > */
)
STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'check_legacy_hash_wrapper';
REVOKE ALL ON FUNCTION auth.check_legacy_hash(text, text, jsonb) FROM PUBLIC;

-- This node's failed attempts and locks, for admins.
CREATE FUNCTION auth."locked_users"() RETURNS TABLE (
	"email" TEXT,  /* String */
	"failures" INT,  /* i32 */
	"locked_until" timestamp with time zone  /* Option < TimestampWithTimeZone > */
)
STRICT VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'locked_users_wrapper';
REVOKE ALL ON FUNCTION auth.locked_users() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.locked_users() TO trickle_admin;

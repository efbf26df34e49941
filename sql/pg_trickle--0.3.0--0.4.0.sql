-- pg_trickle 0.3.0 → 0.4.0, run by ALTER EXTENSION pg_trickle UPDATE.
-- A fresh 0.4.0 install and 0.3.0 updated by this script have the same schema: tests/e2e/tests/upgrade.rs
-- compares their catalogs object by object. Moving to several legacy stores alters auth.users (a column and the
-- unique index on legacy ids, rebuilt): logins wait for the update, about a second per million users.
\echo Use "ALTER EXTENSION pg_trickle UPDATE" to load this file. \quit

-- auth.stats() gains three counters: legacy_rejections (logins the legacy store refused, which no longer write one
-- auth.migration_events row each), rate_limited (calls refused by pg_trickle.legacy_calls_per_second) and lookups
-- (getUser calls of signup, reset, email change and migrate, no longer counted as misses). A new C
-- symbol; the 0.3.0 one stays in the library with its ten columns for databases not yet updated.
DROP FUNCTION auth.stats();
CREATE FUNCTION auth."stats"() RETURNS TABLE (
	"since" timestamp with time zone,  /* TimestampWithTimeZone */
	"hits" bigint,  /* i64 */
	"misses" bigint,  /* i64 */
	"migrations" bigint,  /* i64 */
	"invalid_credentials" bigint,  /* i64 */
	"locked" bigint,  /* i64 */
	"store_errors" bigint,  /* i64 */
	"latency_p50_ms" double precision,  /* Option < f64 > */
	"latency_p95_ms" double precision,  /* Option < f64 > */
	"latency_p99_ms" double precision,  /* Option < f64 > */
	"legacy_rejections" bigint,  /* i64 */
	"rate_limited" bigint,  /* i64 */
	"lookups" bigint  /* i64 */
)
STRICT VOLATILE SECURITY DEFINER PARALLEL UNSAFE 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'login_stats_wrapper';
REVOKE ALL ON FUNCTION auth.stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.stats() TO trickle_admin;

-- New: auth.check_store(), for admins, says what a login and a look-up would meet at the legacy store.
CREATE FUNCTION auth."check_store"(
	"sample_email" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS TABLE (
	"store" TEXT,  /* Option < String > */
	"item" TEXT,  /* String */
	"ok" bool,  /* bool */
	"detail" TEXT  /* String */
)
VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'check_store_wrapper';
REVOKE ALL ON FUNCTION auth.check_store(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.check_store(text) TO trickle_admin;

-- Several legacy stores at once: the one store of auth.import_config becomes the store named 'default' in the new
-- auth.legacy_stores (a disconnected one stays disconnected). auth.import_config keeps its columns, so that dumps of
-- earlier releases restore; a store written into them moves (auth.import_config_moves_store()).
CREATE TABLE auth.legacy_stores (
    name                    text        PRIMARY KEY
                                        CONSTRAINT legacy_stores_name CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    ask_order               integer     NOT NULL CONSTRAINT legacy_stores_ask_order_key UNIQUE,
    email_domains           text[],
    store_kind              text        NOT NULL
                                        CONSTRAINT legacy_stores_store_kind CHECK (store_kind IN ('http', 'fdw')),
    disconnected            boolean     NOT NULL DEFAULT false,
    http_base_url           text,
    http_contract           text        NOT NULL DEFAULT 'pg_trickle',
    http_auth_kind          text        NOT NULL DEFAULT 'none',
    http_auth_header        text,
    http_auth_secret        text,
    http_hmac_secret        text,
    http_connect_timeout_ms integer     NOT NULL DEFAULT 1000,
    http_timeout_ms         integer     NOT NULL DEFAULT 5000,
    http_lookup_retries     integer     NOT NULL DEFAULT 1,
    http_max_response_bytes integer     NOT NULL DEFAULT 1048576,
    http_ca_bundle          text,
    http_allow_insecure     boolean     NOT NULL DEFAULT false,
    http_pool_idle_ms       integer     NOT NULL DEFAULT 30000,
    -- An identity provider contract (oidc, firebase, cognito): its settings, its secret (client secret, API key)
    -- and the credential of its admin look-ups (an admin client's secret, a service account).
    http_provider           jsonb,
    http_provider_secret    text,
    http_provider_admin_secret text,
    fdw_relation            regclass,
    fdw_mapping             jsonb,
    fdw_reader              regrole,
    updated_at              timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE auth.legacy_stores IS 'pg_trickle: legacy stores, asked by ask_order (owner only: holds secrets)';
SELECT pg_catalog.pg_extension_config_dump('auth.legacy_stores', '');
REVOKE ALL ON auth.legacy_stores FROM PUBLIC;

-- A store written into auth.import_config's columns of 0.3.0 and before (by restoring a dump of such a release, or by
-- the update from 0.3.0) becomes the store 'default' of auth.legacy_stores; the columns go back to their defaults.
CREATE FUNCTION auth.import_config_moves_store() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO auth.legacy_stores (
        name, ask_order, store_kind, disconnected, http_base_url, http_contract, http_auth_kind, http_auth_header,
        http_auth_secret, http_hmac_secret, http_connect_timeout_ms, http_timeout_ms, http_lookup_retries,
        http_max_response_bytes, http_ca_bundle, http_allow_insecure, fdw_relation, fdw_mapping, fdw_reader, updated_at)
    VALUES ('default', COALESCE((SELECT pg_catalog.max(s.ask_order) FROM auth.legacy_stores AS s), 0) + 1,
            COALESCE(NEW.disconnected_store_kind, NEW.store_kind), NEW.disconnected_store_kind IS NOT NULL,
            NEW.http_base_url, NEW.http_contract, NEW.http_auth_kind, NEW.http_auth_header, NEW.http_auth_secret,
            NEW.http_hmac_secret, NEW.http_connect_timeout_ms, NEW.http_timeout_ms, NEW.http_lookup_retries,
            NEW.http_max_response_bytes, NEW.http_ca_bundle, NEW.http_allow_insecure, NEW.fdw_relation,
            NEW.fdw_mapping, NEW.fdw_reader, NEW.updated_at)
    ON CONFLICT (name) DO NOTHING;
    NEW.store_kind := 'none';
    NEW.disconnected_store_kind := NULL;
    NEW.http_base_url := NULL;
    NEW.http_contract := 'pg_trickle';
    NEW.http_auth_kind := 'none';
    NEW.http_auth_header := NULL;
    NEW.http_auth_secret := NULL;
    NEW.http_hmac_secret := NULL;
    NEW.http_connect_timeout_ms := 1000;
    NEW.http_timeout_ms := 5000;
    NEW.http_lookup_retries := 1;
    NEW.http_max_response_bytes := 1048576;
    NEW.http_ca_bundle := NULL;
    NEW.http_allow_insecure := false;
    NEW.fdw_relation := NULL;
    NEW.fdw_mapping := NULL;
    NEW.fdw_reader := NULL;
    RETURN NEW;
END
$$;

CREATE TRIGGER import_config_moves_store
    BEFORE INSERT OR UPDATE ON auth.import_config
    FOR EACH ROW WHEN (NEW.store_kind <> 'none' OR NEW.disconnected_store_kind IS NOT NULL)
    EXECUTE FUNCTION auth.import_config_moves_store();
REVOKE ALL ON FUNCTION auth.import_config_moves_store() FROM PUBLIC;
-- Moves the one store (if any) now.
UPDATE auth.import_config SET updated_at = updated_at;

DROP VIEW auth.import_configuration;
COMMENT ON TABLE auth.import_config IS 'pg_trickle: import mode';
CREATE VIEW auth.import_configuration AS
SELECT COALESCE(m.import_mode, false) AS import_mode,
       s.name AS store,
       s.ask_order,
       s.email_domains,
       COALESCE(s.store_kind, 'none') AS store_kind,
       COALESCE(s.disconnected, false) AS disconnected,
       s.http_base_url,
       s.http_contract,
       s.http_auth_kind,
       s.http_auth_header,
       CASE WHEN s.http_auth_secret IS NULL THEN NULL ELSE '********' END AS http_auth_secret,
       CASE WHEN s.http_hmac_secret IS NULL THEN NULL ELSE '********' END AS http_hmac_secret,
       s.http_connect_timeout_ms,
       s.http_timeout_ms,
       s.http_lookup_retries,
       s.http_max_response_bytes,
       s.http_ca_bundle IS NOT NULL AS http_custom_ca,
       COALESCE(s.http_allow_insecure, false) AS http_allow_insecure,
       s.http_pool_idle_ms,
       s.http_provider,
       CASE WHEN s.http_provider_secret IS NULL THEN NULL ELSE '********' END AS http_provider_secret,
       CASE WHEN s.http_provider_admin_secret IS NULL THEN NULL ELSE '********' END AS http_provider_admin_secret,
       -- Whether signup, reset, email change and auth.migrate can ask the store about an email: an identity
       -- provider only with the credential of its admin look-ups (docs/providers/).
       CASE WHEN s.store_kind = 'http' THEN s.http_contract NOT IN ('oidc', 'firebase', 'cognito')
                                             OR s.http_provider_admin_secret IS NOT NULL
            WHEN s.store_kind = 'fdw' THEN true END AS looks_up_users,
       s.fdw_relation,
       s.fdw_mapping,
       s.fdw_reader,
       GREATEST(m.updated_at, s.updated_at) AS updated_at
  FROM (SELECT true AS singleton) AS one
  LEFT JOIN auth.import_config AS m ON m.singleton
  LEFT JOIN auth.legacy_stores AS s ON true
 ORDER BY s.ask_order;
COMMENT ON VIEW auth.import_configuration IS 'pg_trickle: import mode and each legacy store''s settings, secrets masked';
REVOKE ALL ON auth.import_configuration FROM PUBLIC;
GRANT SELECT ON auth.import_configuration TO trickle_admin;

-- Users remember their store; legacy ids are unique within a store. Every migrated user so far came from the one
-- store: 'default'. Bulk-imported users keep no store (their relation or file was named at import).
ALTER TABLE auth.users ADD COLUMN legacy_store text;
UPDATE auth.users SET legacy_store = 'default' WHERE external_id IS NOT NULL AND source = 'migrated';
ALTER TABLE auth.users DROP CONSTRAINT users_external_id_key;
CREATE UNIQUE INDEX users_legacy_store_external_id_key ON auth.users (COALESCE(legacy_store, ''), external_id);
GRANT SELECT (legacy_store) ON auth.users TO trickle_admin;
ALTER TABLE auth.migration_events ADD COLUMN store text;

-- The functions that configure stores take the store's name, ask_order and email domains; disconnecting and
-- reconnecting take a store's name (default: every store) and return the names; auth.remove_external_store() is new.
-- New C symbols: the 0.3.0 ones stay in the library, refusing until this update has run.
DROP FUNCTION auth.configure_http_store(text, text, text, text, text, text, integer, integer, integer, integer, text,
                                        boolean);
DROP FUNCTION auth.configure_fdw_store(text, jsonb, text);
DROP FUNCTION auth.disconnect_external_store();
DROP FUNCTION auth.reconnect_external_store();
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
	"allow_insecure" bool DEFAULT false, /* Option < bool > */
	"store" TEXT DEFAULT 'default', /* Option < & str > */
	"ask_order" INT DEFAULT NULL, /* Option < i32 > */
	"email_domains" TEXT[] DEFAULT NULL, /* :: std :: option :: Option < Vec < Option < String > > > */
	"pool_idle_ms" INT DEFAULT 30000, /* Option < i32 > */
	"provider" jsonb DEFAULT NULL, /* Option < JsonArgument > */
	"provider_secret" TEXT DEFAULT NULL, /* Option < & str > */
	"provider_admin_secret" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS VOID /* Result < (), ErrorReport > */
VOLATILE SECURITY DEFINER PARALLEL UNSAFE 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'configure_named_http_store_wrapper';
CREATE FUNCTION auth."configure_fdw_store"(
	"relation" TEXT, /* Option < & str > */
	"mapping" jsonb, /* Option < JsonArgument > */
	"read_as" TEXT DEFAULT NULL, /* Option < & str > */
	"store" TEXT DEFAULT 'default', /* Option < & str > */
	"ask_order" INT DEFAULT NULL, /* Option < i32 > */
	"email_domains" TEXT[] DEFAULT NULL /* :: std :: option :: Option < Vec < Option < String > > > */
) RETURNS VOID /* Result < (), ErrorReport > */
VOLATILE PARALLEL UNSAFE 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'configure_named_fdw_store_wrapper';
CREATE FUNCTION auth."disconnect_external_store"(
	"store" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS TEXT /* Result < String, ErrorReport > */
VOLATILE SECURITY DEFINER PARALLEL UNSAFE 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'disconnect_named_store_wrapper';
CREATE FUNCTION auth."reconnect_external_store"(
	"store" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS TEXT /* Result < String, ErrorReport > */
VOLATILE SECURITY DEFINER PARALLEL UNSAFE 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'reconnect_named_store_wrapper';
CREATE FUNCTION auth."remove_external_store"(
	"store" TEXT /* Option < & str > */
) RETURNS VOID /* Result < (), ErrorReport > */
VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'remove_external_store_wrapper';
REVOKE ALL ON FUNCTION
    auth.configure_http_store(text, text, text, text, text, text, integer, integer, integer, integer, text, boolean,
                              text, integer, text[], integer, jsonb, text, text),
    auth.configure_fdw_store(text, jsonb, text, text, integer, text[]),
    auth.disconnect_external_store(text),
    auth.reconnect_external_store(text),
    auth.remove_external_store(text)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    auth.configure_http_store(text, text, text, text, text, text, integer, integer, integer, integer, text, boolean,
                              text, integer, text[], integer, jsonb, text, text),
    auth.configure_fdw_store(text, jsonb, text, text, integer, text[]),
    auth.disconnect_external_store(text),
    auth.reconnect_external_store(text),
    auth.remove_external_store(text)
TO trickle_admin;

-- Bulk import parses every hash through a scalar (a set-returning function cost more per row than the parse). A new
-- C symbol; the 0.3.0 one stays in the library, refusing until this update has run.
DROP FUNCTION auth.check_legacy_hash(text, text, jsonb);
CREATE FUNCTION auth."legacy_hash_verdict"(
	"hash" TEXT, /* Option < & str > */
	"format" TEXT, /* Option < & str > */
	"params" jsonb /* Option < JsonArgument > */
) RETURNS TEXT[] /* Vec < Option < & '_ str > > */
STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'legacy_hash_verdict_wrapper';
REVOKE ALL ON FUNCTION auth.legacy_hash_verdict(text, text, jsonb) FROM PUBLIC;

-- New: progress and counters per legacy store.
CREATE FUNCTION auth."store_progress"() RETURNS TABLE (
	"store" TEXT,  /* String */
	"store_kind" TEXT,  /* String */
	"legacy_total" bigint,  /* Option < i64 > */
	"migrated" bigint,  /* i64 */
	"legacy_remaining" bigint,  /* Option < i64 > */
	"percent_migrated" double precision  /* Option < f64 > */
)
STRICT STABLE SECURITY DEFINER PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'store_progress_wrapper';
CREATE FUNCTION auth."store_stats"() RETURNS TABLE (
	"store" TEXT,  /* String */
	"logins" bigint,  /* i64 */
	"lookups" bigint,  /* i64 */
	"migrations" bigint,  /* i64 */
	"rejections" bigint,  /* i64 */
	"unknown_users" bigint,  /* i64 */
	"wrong_passwords" bigint,  /* i64 */
	"store_errors" bigint,  /* i64 */
	"latency_p50_ms" double precision,  /* Option < f64 > */
	"latency_p95_ms" double precision  /* Option < f64 > */
)
STRICT VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'store_stats_wrapper';
REVOKE ALL ON FUNCTION auth.store_progress(), auth.store_stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.store_progress(), auth.store_stats() TO trickle_admin;

-- New: the legacy emails several rows hold (FDW stores), so an admin can fix them.
CREATE FUNCTION auth."duplicate_legacy_users"(
	"max_rows" bigint DEFAULT 100 /* Option < i64 > */
) RETURNS TABLE (
	"store" TEXT,  /* String */
	"email" TEXT,  /* String */
	"legacy_ids" TEXT[]  /* Vec < Option < String > > */
)
STABLE SECURITY DEFINER PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'duplicate_legacy_users_wrapper';
REVOKE ALL ON FUNCTION auth.duplicate_legacy_users(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.duplicate_legacy_users(bigint) TO trickle_admin;

-- The profile an application sees: everything but secrets and lockout bookkeeping.
-- No SET search_path, unlike the other functions: it lets PostgreSQL inline the body into the query that calls it
-- (the profile of every login is read through it), and the body resolves no name — one schema-qualified function,
-- string literals and the argument's columns — so no search_path can change what it does.
CREATE OR REPLACE FUNCTION auth.user_profile(u auth.users) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_object(
        'id', u.id,
        'email', u.email,
        'email_verified', u.email_verified,
        'username', u.username,
        'name', u.name,
        'given_name', u.given_name,
        'family_name', u.family_name,
        'nickname', u.nickname,
        'picture', u.picture,
        'user_metadata', u.user_metadata,
        'app_metadata', u.app_metadata,
        'external_id', u.external_id,
        'source', u.source,
        'created_at', u.created_at,
        'updated_at', u.updated_at,
        'migrated_at', u.migrated_at,
        'last_login_at', u.last_login_at,
        'password_changed_at', u.password_changed_at
    )
$$;

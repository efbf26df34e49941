-- pg_trickle: tables of the local identity store (schema auth).
-- Loaded by extension_sql_file! in src/lib.rs. Every table is registered with
-- pg_extension_config_dump, or pg_dump would silently leave the users behind.

-- The extension owns schema auth (CREATE EXTENSION fails cleanly if a schema of that name exists).
CREATE SCHEMA auth;

DO $roles$
BEGIN
    -- Cluster-wide group roles; they outlive the extension on purpose (other databases may use them). Two
    -- databases may run CREATE EXTENSION at once: the second to create a role finds it made, and that is fine.
    BEGIN
        CREATE ROLE trickle_app NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
    BEGIN
        CREATE ROLE trickle_admin NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
END
$roles$;

CREATE TABLE auth.users (
    id                  uuid        PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    -- Normalised by the extension (trimmed, NFC, lower-case) before it is stored or compared.
    email               text        NOT NULL CONSTRAINT users_email_key UNIQUE
                                    CONSTRAINT users_email_not_empty CHECK (email <> ''),
    email_verified      boolean     NOT NULL DEFAULT false,
    -- PHC string; NULL while a migrated profile has no password yet.
    password_hash       text,
    -- 'argon2id', or the legacy format name of an imported hash.
    password_format     text,
    -- Parameters of an imported legacy hash (salt, key, ...), as auth.verify_legacy_hash takes them.
    password_params     jsonb,
    username            text        CONSTRAINT users_username_key UNIQUE,
    name                text,
    given_name          text,
    family_name         text,
    nickname            text,
    picture             text,
    user_metadata       jsonb       NOT NULL DEFAULT '{}'
                                    CONSTRAINT users_user_metadata_object CHECK (pg_catalog.jsonb_typeof(user_metadata) = 'object'),
    app_metadata        jsonb       NOT NULL DEFAULT '{}'
                                    CONSTRAINT users_app_metadata_object CHECK (pg_catalog.jsonb_typeof(app_metadata) = 'object'),
    -- The legacy store's id for this user.
    external_id         text,
    source              text        NOT NULL DEFAULT 'native'
                                    CONSTRAINT users_source_check CHECK (source IN ('native', 'migrated', 'imported')),
    -- Migrated with no metadata from the legacy store: auth.backfill_metadata() asks again.
    metadata_incomplete boolean     NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    migrated_at         timestamptz,
    last_login_at       timestamptz,
    password_changed_at timestamptz,
    -- The legacy store the user came from (auth.legacy_stores.name; kept when the store is removed), since 0.4.0.
    legacy_store        text,
    CONSTRAINT users_hash_has_format CHECK (password_hash IS NULL OR password_format IS NOT NULL)
)
-- Every login rewrites its user's row (last_login_at, and the hash on a rehash). Room left in each page lets
-- those updates stay on the page without new entries in the four unique indexes (HOT updates), so logins
-- do not bloat the indexes of a table that bulk import has packed full (since 0.2.0).
WITH (fillfactor = 90);

-- The legacy store's id for a user is unique within its store (two stores may both have a user 42); users bulk-imported
-- from a relation or file named by the admin have no store and share one namespace of ids.
CREATE UNIQUE INDEX users_legacy_store_external_id_key ON auth.users (COALESCE(legacy_store, ''), external_id);

COMMENT ON TABLE auth.users IS 'pg_trickle: local users (native, migrated from the legacy store, or bulk-imported)';

-- Lockout bookkeeping lives in shared memory (src/pg/lockout.rs), outside every transaction: see
-- auth.locked_users(). This table held it until 0.2.0 and is no longer read or written. It stays for now because
-- dropping it (its foreign key) would lock auth.users while an update runs, and updates never block logins; a
-- later release drops it with a note to update at a quiet time.
CREATE UNLOGGED TABLE auth.login_attempts (
    user_id            uuid        PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
    failed_count       integer     NOT NULL,
    locked_until       timestamptz,
    last_failure_at    timestamptz NOT NULL DEFAULT pg_catalog.now()
);

COMMENT ON TABLE auth.login_attempts IS 'pg_trickle: unused since 0.3.0 (lockout is in shared memory, see auth.locked_users())';

CREATE TABLE auth.password_reset_tokens (
    -- SHA-256 of the token; the token itself is never stored.
    token_digest bytea       PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);

CREATE INDEX password_reset_tokens_user_id_idx ON auth.password_reset_tokens (user_id);

COMMENT ON TABLE auth.password_reset_tokens IS 'pg_trickle: single-use password reset tokens (digests only)';

-- Import mode (at most one row; no row means import mode off). Until 0.4.0 it also held the one legacy store: those
-- columns stay so that a dump of 0.3.0 or earlier restores here, and auth.import_config_moves_store() moves a store
-- written into them into auth.legacy_stores.
CREATE TABLE auth.import_config (
    singleton               boolean     PRIMARY KEY DEFAULT true CONSTRAINT import_config_singleton CHECK (singleton),
    import_mode             boolean     NOT NULL DEFAULT false,
    store_kind              text        NOT NULL DEFAULT 'none'
                                        CONSTRAINT import_config_store_kind CHECK (store_kind IN ('none', 'http', 'fdw')),
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
    fdw_relation            regclass,
    fdw_mapping             jsonb,
    disconnected_store_kind text,
    updated_at              timestamptz NOT NULL DEFAULT pg_catalog.now(),
    fdw_reader              regrole,
    http_allow_insecure     boolean     NOT NULL DEFAULT false
);

COMMENT ON TABLE auth.import_config IS 'pg_trickle: import mode';

-- The legacy stores, asked in `ask_order` (since 0.4.0; before, one store lived in auth.import_config).
-- Secrets live here, readable only by the extension's owner; admins see auth.import_configuration.
CREATE TABLE auth.legacy_stores (
    name                    text        PRIMARY KEY
                                        CONSTRAINT legacy_stores_name CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    ask_order               integer     NOT NULL CONSTRAINT legacy_stores_ask_order_key UNIQUE,
    -- NULL: every email; otherwise only emails of these domains (lower case) are asked about.
    email_domains           text[],
    store_kind              text        NOT NULL
                                        CONSTRAINT legacy_stores_store_kind CHECK (store_kind IN ('http', 'fdw')),
    -- auth.disconnect_external_store(): the store is kept but never asked, until reconnected.
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
    -- Plain http to a host other than loopback, allowed explicitly.
    http_allow_insecure     boolean     NOT NULL DEFAULT false,
    -- How long a kept-alive connection to the store may idle and still be used (0: none is kept).
    http_pool_idle_ms       integer     NOT NULL DEFAULT 30000,
    -- An identity provider contract (oidc, firebase, cognito): its settings, its secret (client secret, API key)
    -- and the credential of its admin look-ups (an admin client's secret, a service account).
    http_provider           jsonb,
    http_provider_secret    text,
    http_provider_admin_secret text,
    -- FDW adapter: the legacy users relation (table, view or foreign table), the column mapping, and the role the
    -- relation is read as (never a superuser).
    fdw_relation            regclass,
    fdw_mapping             jsonb,
    fdw_reader              regrole,
    updated_at              timestamptz NOT NULL DEFAULT pg_catalog.now()
);

COMMENT ON TABLE auth.legacy_stores IS 'pg_trickle: legacy stores, asked by ask_order (owner only: holds secrets)';

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

-- One row per legacy store (one row of NULLs but import_mode when there is none), secrets masked.
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

-- One row per migration attempt against the legacy store and its outcome. Never a password, hash, token
-- or secret. Written in the caller's transaction: a rolled-back migration leaves no event claiming it.
CREATE TABLE auth.migration_events (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    email       text        NOT NULL,
    flow        text        NOT NULL CONSTRAINT migration_events_flow
                            CHECK (flow IN ('login', 'signup', 'reset', 'email_change', 'admin_migrate', 'import')),
    adapter     text        NOT NULL CONSTRAINT migration_events_adapter CHECK (adapter IN ('http', 'fdw', 'import')),
    outcome     text        NOT NULL,
    latency_ms  double precision,
    error_class text,
    -- The legacy store asked (since 0.4.0).
    store       text
);

CREATE INDEX migration_events_at_idx ON auth.migration_events (at);
-- A user's history, and auth.forget_user() erasing it, without reading every event (since 0.2.0).
CREATE INDEX migration_events_email_idx ON auth.migration_events (email, at);

-- Migrated or imported users an admin deleted: with pg_trickle.remigrate_deleted_users off, the legacy
-- store cannot bring them back. auth.forget_user() removes the tombstone with every other trace.
CREATE TABLE auth.deleted_users (
    email       text        PRIMARY KEY,
    external_id text,
    deleted_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);

COMMENT ON TABLE auth.migration_events IS 'pg_trickle: migration attempts and outcomes (no secrets)';

SELECT pg_catalog.pg_extension_config_dump('auth.users', '');
SELECT pg_catalog.pg_extension_config_dump('auth.migration_events', '');
SELECT pg_catalog.pg_extension_config_dump('auth.deleted_users', '');
SELECT pg_catalog.pg_extension_config_dump('auth.migration_events_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('auth.import_config', '');
SELECT pg_catalog.pg_extension_config_dump('auth.legacy_stores', '');
SELECT pg_catalog.pg_extension_config_dump('auth.password_reset_tokens', '');

REVOKE ALL ON ALL TABLES IN SCHEMA auth FROM PUBLIC;
GRANT USAGE ON SCHEMA auth TO trickle_app, trickle_admin;
-- Admins read users but change them only through the functions, which keep the rules (a hash is never written
-- by hand, so a user with a local password cannot be sent back to a legacy store), and never read secrets.
GRANT SELECT (id, email, email_verified, password_format, username, name, given_name, family_name, nickname, picture,
              user_metadata, app_metadata, external_id, source, metadata_incomplete, created_at, updated_at,
              migrated_at, last_login_at, password_changed_at, legacy_store)
    ON auth.users TO trickle_admin;
GRANT SELECT, DELETE ON auth.migration_events TO trickle_admin;
GRANT SELECT ON auth.deleted_users TO trickle_admin;
GRANT SELECT ON auth.import_configuration TO trickle_admin;

-- The profile an application sees: everything but secrets and lockout bookkeeping.
-- No SET search_path, unlike the other functions: it lets PostgreSQL inline the body into the query that calls it
-- (the profile of every login is read through it), and the body resolves no name — one schema-qualified function,
-- string literals and the argument's columns — so no search_path can change what it does.
CREATE FUNCTION auth.user_profile(u auth.users) RETURNS jsonb
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

-- Shallow merge of a metadata patch: keys in the patch win, keys whose value is JSON null are removed.
CREATE FUNCTION auth.merge_metadata(existing jsonb, patch jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (existing OPERATOR(pg_catalog.||) patch)
           OPERATOR(pg_catalog.-) ARRAY(SELECT e.key FROM pg_catalog.jsonb_each(patch) AS e
                                        WHERE e.value OPERATOR(pg_catalog.=) 'null'::jsonb)
$$;

//! The SQL functions of schema `auth`. Each one rejects NULL arguments (22004), calls its flow,
//! and lets `sqlstate` turn a typed error into a PostgreSQL error.
//!
//! Functions that touch the tables run SECURITY DEFINER with `search_path = pg_catalog, pg_temp`;
//! all SQL they run is schema-qualified. EXECUTE is granted per role in `sql/privileges.sql`.

use pgrx::prelude::*;

// ErrorReport is the error type pgrx raises with its SQLSTATE intact, so it is returned as-is; and
// pgrx reads the login row type from the signature, which a type alias would hide from it.
#[allow(clippy::result_large_err, clippy::type_complexity)]
#[pg_schema]
pub mod auth {
    use crate::domain::error::AuthError;
    use crate::pg::flows;
    use crate::pg::json_argument::JsonArgument;
    use crate::pg::sqlstate::Failure;
    use pgrx::pg_sys::panic::ErrorReport;
    use pgrx::prelude::*;
    use pgrx::{JsonB, Uuid};

    fn required<T>(value: Option<T>, name: &'static str) -> Result<T, AuthError> {
        value.ok_or(AuthError::NullArgument(name))
    }

    fn json(value: Option<JsonArgument>, name: &'static str) -> Result<JsonB, AuthError> {
        required(value, name)?.read(name)
    }

    /// Text arguments longer than any valid value are refused before any other work (emails have their own,
    /// lower limit before normalisation, with 22023; passwords theirs before hashing).
    const MAX_TEXT_ARGUMENT_BYTES: usize = 8192;

    fn bounded<'a>(value: Option<&'a str>, name: &'static str) -> Result<&'a str, AuthError> {
        let value = required(value, name)?;
        if value.len() > MAX_TEXT_ARGUMENT_BYTES {
            return Err(AuthError::ArgumentTooLong(name));
        }
        Ok(value)
    }

    /// The version of the pg_trickle library loaded in this backend.
    #[pg_extern(immutable, parallel_safe)]
    pub fn version() -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    /// Logs a user in. Wrong credentials are a result (`ok = false`), not an error.
    #[pg_extern(security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn login(
        email: Option<&str>,
        password: Option<&str>,
    ) -> Result<
        TableIterator<
            'static,
            (
                name!(ok, bool),
                name!(status, String),
                name!(user_id, Option<Uuid>),
                name!(email, Option<String>),
                name!(profile, Option<JsonB>),
            ),
        >,
        ErrorReport,
    > {
        let result = flows::login(required(email, "email")?, required(password, "password")?)?;
        let ok = result.status.is_ok();
        Ok(TableIterator::once((ok, result.status.as_str().to_string(), result.user_id, result.email, result.profile)))
    }

    #[pg_extern(security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn signup(
        email: Option<&str>,
        password: Option<&str>,
        user_metadata: default!(Option<JsonArgument>, "'{}'"),
    ) -> Result<Uuid, ErrorReport> {
        Ok(flows::signup(
            required(email, "email")?,
            required(password, "password")?,
            json(user_metadata, "user_metadata")?,
        )?)
    }

    /// true when changed; false for wrong credentials or a locked account.
    #[pg_extern(security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn change_password(
        email: Option<&str>,
        old_password: Option<&str>,
        new_password: Option<&str>,
    ) -> Result<bool, ErrorReport> {
        Ok(flows::change_password(
            required(email, "email")?,
            required(old_password, "old_password")?,
            required(new_password, "new_password")?,
        )?)
    }

    /// Admin: sets a password without knowing the old one; also unlocks the account.
    #[pg_extern(security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn set_password(email: Option<&str>, new_password: Option<&str>) -> Result<(), ErrorReport> {
        Ok(flows::set_password(required(email, "email")?, required(new_password, "new_password")?)?)
    }

    /// A single-use token to mail to the user; returned for unknown emails too (it never works).
    #[pg_extern(security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn create_password_reset(email: Option<&str>) -> Result<String, ErrorReport> {
        Ok(flows::create_password_reset(required(email, "email")?)?)
    }

    #[pg_extern(security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn reset_password(token: Option<&str>, new_password: Option<&str>) -> Result<(), ErrorReport> {
        Ok(flows::reset_password(bounded(token, "token")?, required(new_password, "new_password")?)?)
    }

    /// The user's profile without any secret; NULL when there is no such user.
    #[pg_extern(security_definer, stable, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn get_user(email: Option<&str>) -> Result<Option<JsonB>, ErrorReport> {
        Ok(flows::get_user(required(email, "email")?)?)
    }

    /// Shallow-merges `patch` into user_metadata (null values remove keys); returns the result.
    #[pg_extern(security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn update_user_metadata(email: Option<&str>, patch: Option<JsonArgument>) -> Result<JsonB, ErrorReport> {
        Ok(flows::update_user_metadata(required(email, "email")?, json(patch, "patch")?)?)
    }

    /// Admin: like update_user_metadata, for app_metadata (roles, plans: what users must not set).
    #[pg_extern(security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn update_app_metadata(email: Option<&str>, patch: Option<JsonArgument>) -> Result<JsonB, ErrorReport> {
        Ok(flows::update_app_metadata(required(email, "email")?, json(patch, "patch")?)?)
    }

    #[pg_extern(security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn change_email(email: Option<&str>, new_email: Option<&str>) -> Result<(), ErrorReport> {
        Ok(flows::change_email(required(email, "email")?, required(new_email, "new_email")?)?)
    }

    #[pg_extern(security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn set_email_verified(email: Option<&str>, verified: Option<bool>) -> Result<(), ErrorReport> {
        Ok(flows::set_email_verified(required(email, "email")?, required(verified, "verified")?)?)
    }

    /// true when a user was deleted.
    #[pg_extern(security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn delete_user(email: Option<&str>) -> Result<bool, ErrorReport> {
        Ok(flows::delete_user(required(email, "email")?)?)
    }

    /// Admin: clears a lockout and the failure count.
    #[pg_extern(security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn unlock_user(email: Option<&str>) -> Result<(), ErrorReport> {
        Ok(flows::unlock_user(required(email, "email")?)?)
    }

    /// Admin: this node's emails (local users, legacy users and unknown ones alike) with failed attempts or a
    /// lock, from shared memory. 55000 without pg_trickle in shared_preload_libraries.
    #[pg_extern(security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn locked_users() -> Result<
        TableIterator<
            'static,
            (name!(email, String), name!(failures, i32), name!(locked_until, Option<TimestampWithTimeZone>)),
        >,
        ErrorReport,
    > {
        let rows = flows::locked_users()?.into_iter().map(|e| {
            let until = e.locked_until.map(|secs| to_timestamp(secs * 1_000_000));
            (e.identifier, e.failures.min(i32::MAX as u32) as i32, until)
        });
        Ok(TableIterator::new(rows.collect::<Vec<_>>()))
    }

    /// Admin: import mode on or off. Takes effect when the transaction commits.
    #[pg_extern(security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn set_import_mode(enabled: Option<bool>) -> Result<(), ErrorReport> {
        flows::set_import_mode(required(enabled, "enabled")?);
        Ok(())
    }

    /// Admin: creates or replaces the HTTP legacy store named `store` (docs/http-contract.md), asked at `ask_order`
    /// among the stores (default: after the others, or where it was) about the emails of `email_domains` (default:
    /// every email). Refuses unsafe settings (22023), among them plain http to a host other than loopback unless
    /// `allow_insecure`. Takes effect when the transaction commits.
    #[allow(clippy::too_many_arguments)]
    #[pg_extern(name = "configure_http_store", security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn configure_named_http_store(
        base_url: Option<&str>,
        contract: default!(Option<&str>, "'pg_trickle'"),
        auth_kind: default!(Option<&str>, "'none'"),
        auth_secret: default!(Option<&str>, "NULL"),
        auth_header: default!(Option<&str>, "NULL"),
        hmac_secret: default!(Option<&str>, "NULL"),
        connect_timeout_ms: default!(Option<i32>, 1000),
        timeout_ms: default!(Option<i32>, 5000),
        lookup_retries: default!(Option<i32>, 1),
        max_response_bytes: default!(Option<i32>, 1048576),
        ca_bundle: default!(Option<&str>, "NULL"),
        allow_insecure: default!(Option<bool>, false),
        store: default!(Option<&str>, "'default'"),
        ask_order: default!(Option<i32>, "NULL"),
        email_domains: default!(Option<Vec<Option<String>>>, "NULL"),
        pool_idle_ms: default!(Option<i32>, 30000),
        provider: default!(Option<JsonArgument>, "NULL"),
        provider_secret: default!(Option<&str>, "NULL"),
        provider_admin_secret: default!(Option<&str>, "NULL"),
    ) -> Result<(), ErrorReport> {
        let placement = placement(store, ask_order, email_domains)?;
        let provider = provider.map(|settings| settings.read("provider")).transpose()?;
        let text = |value: Option<&str>, name| bounded(value, name).map(str::to_string);
        let optional = |value: Option<&str>, name| value.map(|v| text(Some(v), name)).transpose();
        let row = crate::pg::storage::StoreRow {
            // Name and place are the placement's, checked and set by the flow.
            name: String::new(),
            ask_order: None,
            email_domains: None,
            store_kind: "http".into(),
            disconnected: false,
            http_base_url: Some(text(base_url, "base_url")?),
            http_contract: text(contract, "contract")?,
            http_auth_kind: text(auth_kind, "auth_kind")?,
            http_auth_header: optional(auth_header, "auth_header")?,
            http_auth_secret: optional(auth_secret, "auth_secret")?,
            http_hmac_secret: optional(hmac_secret, "hmac_secret")?,
            http_connect_timeout_ms: required(connect_timeout_ms, "connect_timeout_ms")?,
            http_timeout_ms: required(timeout_ms, "timeout_ms")?,
            http_lookup_retries: required(lookup_retries, "lookup_retries")?,
            http_max_response_bytes: required(max_response_bytes, "max_response_bytes")?,
            // A CA bundle is the one long text argument: a chain of PEM certificates.
            http_ca_bundle: ca_bundle.map(|pem| pem.to_string()).filter(|pem| pem.len() <= 1 << 20),
            http_allow_insecure: required(allow_insecure, "allow_insecure")?,
            http_pool_idle_ms: required(pool_idle_ms, "pool_idle_ms")?,
            http_provider: provider,
            http_provider_secret: optional(provider_secret, "provider_secret")?,
            // A service account's JSON key is a few KiB; bounded like a CA bundle.
            http_provider_admin_secret: provider_admin_secret.map(str::to_string).filter(|s| s.len() <= 64 * 1024),
            fdw_relation: None,
            fdw_mapping: None,
            fdw_reader: None,
        };
        if ca_bundle.is_some() && row.http_ca_bundle.is_none() {
            return Err(AuthError::ArgumentTooLong("ca_bundle").into());
        }
        if provider_admin_secret.is_some() && row.http_provider_admin_secret.is_none() {
            return Err(AuthError::ArgumentTooLong("provider_admin_secret").into());
        }
        Ok(flows::configure_http_store(placement, row)?)
    }

    /// A store's name, ask_order and email domains as given (checked by the flow).
    fn placement(
        store: Option<&str>,
        ask_order: Option<i32>,
        email_domains: Option<Vec<Option<String>>>,
    ) -> Result<flows::StorePlacement, AuthError> {
        let email_domains = email_domains
            .map(|list| {
                list.into_iter().collect::<Option<Vec<String>>>().ok_or(AuthError::NullArgument("email_domains"))
            })
            .transpose()?;
        Ok(flows::StorePlacement { name: bounded(store, "store")?.to_string(), ask_order, email_domains })
    }

    /// The entry point of 0.2.0 (eleven arguments, no `allow_insecure`), kept for databases not yet updated; it
    /// keeps their rule that plain http needs a loopback host.
    #[allow(clippy::too_many_arguments)]
    #[pg_extern(sql = false)]
    pub fn configure_http_store(
        base_url: Option<&str>,
        contract: Option<&str>,
        auth_kind: Option<&str>,
        auth_secret: Option<&str>,
        auth_header: Option<&str>,
        hmac_secret: Option<&str>,
        connect_timeout_ms: Option<i32>,
        timeout_ms: Option<i32>,
        lookup_retries: Option<i32>,
        max_response_bytes: Option<i32>,
        ca_bundle: Option<&str>,
    ) -> Result<(), ErrorReport> {
        configure_http_store_checked(
            base_url,
            contract,
            auth_kind,
            auth_secret,
            auth_header,
            hmac_secret,
            connect_timeout_ms,
            timeout_ms,
            lookup_retries,
            max_response_bytes,
            ca_bundle,
            Some(false),
        )
    }

    /// The entry point of 0.3.0 (one store), kept for databases not yet updated: the store `default`.
    #[allow(clippy::too_many_arguments)]
    #[pg_extern(sql = false)]
    pub fn configure_http_store_checked(
        base_url: Option<&str>,
        contract: Option<&str>,
        auth_kind: Option<&str>,
        auth_secret: Option<&str>,
        auth_header: Option<&str>,
        hmac_secret: Option<&str>,
        connect_timeout_ms: Option<i32>,
        timeout_ms: Option<i32>,
        lookup_retries: Option<i32>,
        max_response_bytes: Option<i32>,
        ca_bundle: Option<&str>,
        allow_insecure: Option<bool>,
    ) -> Result<(), ErrorReport> {
        configure_named_http_store(
            base_url,
            contract,
            auth_kind,
            auth_secret,
            auth_header,
            hmac_secret,
            connect_timeout_ms,
            timeout_ms,
            lookup_retries,
            max_response_bytes,
            ca_bundle,
            allow_insecure,
            Some("default"),
            None,
            None,
            Some(30_000),
            None,
            None,
            None,
        )
    }

    /// Admin: moves a legacy user's profile (no password) into auth.users ahead of any login;
    /// returns the local profile. P0002 when the legacy store does not know the email.
    #[pg_extern(security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn migrate(email: Option<&str>) -> Result<JsonB, ErrorReport> {
        Ok(flows::migrate(required(email, "email")?)?)
    }

    /// Admin: verifies a password against a legacy hash (docs/legacy-hashes.md). `format` is a name from
    /// auth.legacy_hash_formats() or 'auto'; malformed hashes, unknown formats, missing params and
    /// hostile costs are 22023.
    #[pg_extern(immutable, parallel_safe)]
    pub fn verify_legacy_hash(
        password: Option<&str>,
        hash: Option<&str>,
        format: default!(Option<&str>, "'auto'"),
        params: default!(Option<JsonArgument>, "'{}'"),
    ) -> Result<bool, ErrorReport> {
        let password = required(password, "password")?;
        crate::domain::password::check_length_limit(password)?;
        let params = json(params, "params")?;
        let (hash, format) = (required(hash, "hash")?, required(format, "format")?);
        Ok(crate::pg::legacy::verify_hash(password, hash, format, &params.0).map_err(AuthError::from)?)
    }

    /// For bulk import, once per legacy row: `{format, problem}`, the canonical format of a legacy hash that can be
    /// verified within the bounds and pg_trickle.max_hash_memory, or the class of why it cannot (never the hash
    /// itself). A scalar: a set-returning function cost more per row than the parse does.
    #[pg_extern(stable, parallel_safe)]
    pub fn legacy_hash_verdict(
        hash: Option<&str>,
        format: Option<&str>,
        params: Option<JsonArgument>,
    ) -> Vec<Option<&'static str>> {
        let Ok(params) = params.map(|p| p.read("params").map(|p| p.0)).transpose() else {
            return vec![None, Some("bad_param")];
        };
        let params = params.unwrap_or_default();
        let checked = crate::domain::legacy_hash::prepare(
            hash.unwrap_or_default(),
            format.unwrap_or("auto"),
            &params,
            &crate::pg::settings::hash_budget(),
        );
        match checked {
            Ok(prepared) => vec![Some(prepared.format), None],
            Err(err) => vec![None, Some(err.class())],
        }
    }

    /// The set-returning form of 0.3.0, kept for databases not yet updated (the 0.2.0 → 0.3.0 update creates it): it
    /// refuses until `ALTER EXTENSION pg_trickle UPDATE`.
    #[allow(clippy::type_complexity)]
    #[pg_extern(sql = false)]
    pub fn check_legacy_hash(
        _hash: Option<&str>,
        _format: Option<&str>,
        _params: Option<JsonArgument>,
    ) -> Result<
        TableIterator<'static, (name!(hash_format, Option<&'static str>), name!(problem, Option<&'static str>))>,
        ErrorReport,
    > {
        Err(not_updated().into())
    }

    /// Every legacy hash format pg_trickle verifies, with the params it takes.
    #[pg_extern(immutable, parallel_safe)]
    pub fn legacy_hash_formats() -> TableIterator<
        'static,
        (name!(name, &'static str), name!(description, &'static str), name!(params, &'static str)),
    > {
        TableIterator::new(crate::domain::legacy_hash::FORMATS.iter().map(|f| (f.name, f.description, f.params)))
    }

    /// Admin: points import mode at a legacy users relation (table, view or foreign table, by name) with
    /// a column mapping (docs/fdw-adapter.md), read as `read_as` (default: the caller; trickle_admin for a
    /// superuser). SECURITY INVOKER, so the caller's own rights decide what it may name. Takes effect when
    /// the transaction commits.
    #[pg_extern(name = "configure_fdw_store", volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn configure_named_fdw_store(
        relation: Option<&str>,
        mapping: Option<JsonArgument>,
        read_as: default!(Option<&str>, "NULL"),
        store: default!(Option<&str>, "'default'"),
        ask_order: default!(Option<i32>, "NULL"),
        email_domains: default!(Option<Vec<Option<String>>>, "NULL"),
    ) -> Result<(), ErrorReport> {
        let placement = placement(store, ask_order, email_domains)?;
        let (relation, mapping) = (bounded(relation, "relation")?, json(mapping, "mapping")?);
        let read_as = read_as.map(|r| bounded(Some(r), "read_as")).transpose()?;
        Ok(as_owner(|caller| flows::configure_fdw_store(caller, placement, relation, mapping, read_as))?)
    }

    /// The entry points of 0.2.0 (SECURITY DEFINER, no reader role) and 0.3.0 (one store), kept for databases not
    /// yet updated: they refuse until `ALTER EXTENSION pg_trickle UPDATE`.
    #[pg_extern(sql = false)]
    pub fn configure_fdw_store(_relation: Option<&str>, _mapping: Option<JsonB>) -> Result<(), ErrorReport> {
        Err(not_updated().into())
    }

    #[pg_extern(sql = false)]
    pub fn configure_fdw_store_read_as(
        _relation: Option<&str>,
        _mapping: Option<JsonB>,
        _read_as: Option<&str>,
    ) -> Result<(), ErrorReport> {
        Err(not_updated().into())
    }

    fn not_updated() -> AuthError {
        let (_, installed) = crate::pg::storage::extension_owner();
        AuthError::ExtensionNotUpdated { library: env!("CARGO_PKG_VERSION"), installed }
    }

    /// Runs a SECURITY INVOKER function's work with the extension owner's rights, handing it the caller;
    /// refused while the database still has an older pg_trickle's SQL objects (those ran SECURITY DEFINER).
    fn as_owner<T>(work: impl FnOnce(pgrx::pg_sys::Oid) -> Result<T, Failure>) -> Result<T, Failure> {
        let caller = crate::pg::privilege::current_role();
        let owner = current_sql()?;
        crate::pg::privilege::as_owner(owner, || work(caller))
    }

    /// The extension owner, once the installed SQL objects are this library's (functions whose SQL changed
    /// refuse to run over an older release's).
    fn current_sql() -> Result<pgrx::pg_sys::Oid, AuthError> {
        let (owner, installed) = crate::pg::storage::extension_owner();
        if installed != env!("CARGO_PKG_VERSION") {
            return Err(not_updated());
        }
        Ok(owner)
    }

    /// An email as pg_trickle stores it (trimmed, NFC, lower-case), or NULL when it is not a valid
    /// email: for verification queries that join legacy data to auth.users.
    #[pg_extern(immutable, strict, parallel_safe)]
    pub fn normalize_email(email: &str) -> Option<String> {
        crate::domain::email::normalize_email(email).ok()
    }

    /// Admin: hash-preserving bulk import (docs/bulk-import.md), from `source` with `mapping`, or from
    /// the configured FDW store when both are NULL. Re-running it never duplicates anyone nor
    /// overwrites a user who has logged in, changed their password or been migrated. SECURITY INVOKER:
    /// `source` is read as the caller (trickle_admin for a superuser), never with more rights.
    #[pg_extern(volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn import_users(
        source: default!(Option<&str>, "NULL"),
        mapping: default!(Option<JsonArgument>, "NULL"),
        all_or_nothing: default!(Option<bool>, false),
        progress_every: default!(Option<i32>, 10000),
    ) -> Result<
        TableIterator<
            'static,
            (
                name!(inserted, i64),
                name!(updated, i64),
                name!(skipped, i64),
                name!(rejected, i64),
                name!(rejections, JsonB),
            ),
        >,
        ErrorReport,
    > {
        let source = source.map(|s| bounded(Some(s), "source")).transpose()?;
        let mapping = mapping.map(|m| m.read("mapping")).transpose()?;
        let (all_or_nothing, progress_every) =
            (required(all_or_nothing, "all_or_nothing")?, required(progress_every, "progress_every")?);
        let report = as_owner(|caller| flows::import_users(caller, source, mapping, all_or_nothing, progress_every))?;
        Ok(import_row(report))
    }

    /// Admin: bulk import of a JSON array in Auth0's bulk-import user schema.
    #[pg_extern(security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn import_users_json(
        users: Option<JsonArgument>,
        all_or_nothing: default!(Option<bool>, false),
        progress_every: default!(Option<i32>, 10000),
    ) -> Result<
        TableIterator<
            'static,
            (
                name!(inserted, i64),
                name!(updated, i64),
                name!(skipped, i64),
                name!(rejected, i64),
                name!(rejections, JsonB),
            ),
        >,
        ErrorReport,
    > {
        current_sql()?;
        let report = flows::import_users_json(
            json(users, "users")?,
            required(all_or_nothing, "all_or_nothing")?,
            required(progress_every, "progress_every")?,
        )?;
        Ok(import_row(report))
    }

    /// The one row both import functions return (pgrx reads the SQL type from each signature).
    type ImportRow = TableIterator<'static, (i64, i64, i64, i64, JsonB)>;

    fn import_row(r: flows::ImportReport) -> ImportRow {
        TableIterator::once((r.inserted, r.updated, r.skipped, r.rejected, r.rejections))
    }

    /// Admin: removes every trace of an email (user, tokens, lockout state, events, tombstone).
    #[pg_extern(security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn forget_user(email: Option<&str>) -> Result<i64, ErrorReport> {
        Ok(flows::forget_user(required(email, "email")?)?)
    }

    /// Admin: how far the migration is (docs/operations.md).
    #[pg_extern(security_definer, stable, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn migration_progress() -> Result<
        TableIterator<
            'static,
            (
                name!(native, i64),
                name!(migrated, i64),
                name!(imported_pending, i64),
                name!(imported_logged_in, i64),
                name!(migrations_last_hour, i64),
                name!(migrations_last_day, i64),
                name!(failures_last_day, JsonB),
                name!(legacy_total, Option<i64>),
                name!(legacy_remaining, Option<i64>),
                name!(percent_migrated, Option<f64>),
            ),
        >,
        ErrorReport,
    > {
        let p = flows::migration_progress()?;
        let percent = p.percent_migrated();
        let l = p.local;
        Ok(TableIterator::once((
            l.native,
            l.migrated,
            l.imported_pending,
            l.imported_logged_in,
            l.migrations_last_hour,
            l.migrations_last_day,
            l.failures_last_day,
            p.legacy_total,
            p.legacy_remaining,
            percent,
        )))
    }

    /// Admin: how far the migration is for each connected legacy store (docs/operations.md).
    #[pg_extern(security_definer, stable, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn store_progress() -> Result<
        TableIterator<
            'static,
            (
                name!(store, String),
                name!(store_kind, String),
                name!(legacy_total, Option<i64>),
                name!(migrated, i64),
                name!(legacy_remaining, Option<i64>),
                name!(percent_migrated, Option<f64>),
            ),
        >,
        ErrorReport,
    > {
        let rows = flows::store_progress()?.into_iter().map(|s| {
            let percent = s.percent_migrated();
            (s.store, s.store_kind.to_string(), s.legacy_total, s.migrated, s.legacy_remaining, percent)
        });
        Ok(TableIterator::new(rows.collect::<Vec<_>>()))
    }

    /// Admin (FDW store): legacy users with no local user yet — the tail to bulk-import.
    #[pg_extern(security_definer, stable, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn unmigrated_users(
        max_rows: default!(Option<i64>, 100),
    ) -> Result<TableIterator<'static, (name!(legacy_id, Option<String>), name!(email, Option<String>))>, ErrorReport>
    {
        Ok(TableIterator::new(flows::unmigrated_users(required(max_rows, "max_rows")?)?))
    }

    /// Admin (FDW stores): legacy emails several rows hold, with their legacy ids — users refused until fixed.
    #[pg_extern(security_definer, stable, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn duplicate_legacy_users(
        max_rows: default!(Option<i64>, 100),
    ) -> Result<
        TableIterator<'static, (name!(store, String), name!(email, String), name!(legacy_ids, Vec<Option<String>>))>,
        ErrorReport,
    > {
        let rows = flows::duplicate_legacy_users(required(max_rows, "max_rows")?)?;
        Ok(TableIterator::new(rows.into_iter().map(|(store, (email, ids))| (store, email, ids))))
    }

    /// Admin: whether disconnecting the legacy store would cut anyone off.
    #[pg_extern(security_definer, stable, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn disconnect_check() -> Result<
        TableIterator<'static, (name!(safe, Option<bool>), name!(remaining, Option<i64>), name!(sample, JsonB))>,
        ErrorReport,
    > {
        Ok(TableIterator::once(flows::disconnect_check()?))
    }

    /// Admin: checks the configured legacy store, one line per item (configuration, reachability and TLS, request
    /// credentials, the not-found answer, `sample_email`'s profile, the count, for FDW the reader, relation and hash
    /// format). Nothing is migrated or recorded.
    #[pg_extern(security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn check_store(
        sample_email: default!(Option<&str>, "NULL"),
    ) -> Result<
        TableIterator<
            'static,
            (name!(store, Option<String>), name!(item, String), name!(ok, bool), name!(detail, String)),
        >,
        ErrorReport,
    > {
        let sample_email = sample_email.map(|e| bounded(Some(e), "sample_email")).transpose()?;
        let lines = flows::check_store(sample_email)?;
        Ok(TableIterator::new(lines.into_iter().map(|l| (l.store, l.item.to_string(), l.ok, l.detail))))
    }

    /// Admin: a legacy store (`store`; default: every store) goes quiet, import mode stays; returns the names of
    /// the stores disconnected.
    #[pg_extern(name = "disconnect_external_store", security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn disconnect_named_store(store: default!(Option<&str>, "NULL")) -> Result<String, ErrorReport> {
        let store = store.map(|s| bounded(Some(s), "store")).transpose()?;
        Ok(flows::disconnect_external_store(store)?)
    }

    /// Admin: restores a store (`store`; default: every one) `disconnect_external_store` silenced; returns their
    /// names.
    #[pg_extern(name = "reconnect_external_store", security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn reconnect_named_store(store: default!(Option<&str>, "NULL")) -> Result<String, ErrorReport> {
        let store = store.map(|s| bounded(Some(s), "store")).transpose()?;
        Ok(flows::reconnect_external_store(store)?)
    }

    /// The entry points of 0.3.0 and before (one store), kept for databases not yet updated: they refuse until
    /// `ALTER EXTENSION pg_trickle UPDATE`.
    #[pg_extern(sql = false)]
    pub fn disconnect_external_store() -> Result<String, ErrorReport> {
        Err(not_updated().into())
    }

    #[pg_extern(sql = false)]
    pub fn reconnect_external_store() -> Result<String, ErrorReport> {
        Err(not_updated().into())
    }

    /// Admin: forgets a legacy store's settings and secrets; its users keep its name in auth.users.legacy_store.
    #[pg_extern(security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn remove_external_store(store: Option<&str>) -> Result<(), ErrorReport> {
        Ok(flows::remove_external_store(bounded(store, "store")?)?)
    }

    /// Admin: re-reads metadata from the legacy store for up to `batch_size` migrated users whose profile
    /// came without it, merging it under what the application wrote since.
    #[pg_extern(security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn backfill_metadata(
        batch_size: default!(Option<i64>, 1000),
    ) -> Result<
        TableIterator<
            'static,
            (name!(checked, i64), name!(repaired, i64), name!(still_missing, i64), name!(not_in_store, i64)),
        >,
        ErrorReport,
    > {
        let r = flows::backfill_metadata(required(batch_size, "batch_size")?)?;
        Ok(TableIterator::once((r.checked, r.repaired, r.still_missing, r.not_in_store)))
    }

    /// Admin: re-reads one user's metadata from the legacy store; returns the profile.
    #[pg_extern(security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn repair_user(email: Option<&str>) -> Result<JsonB, ErrorReport> {
        Ok(flows::repair_user(required(email, "email")?)?)
    }

    /// Admin: login counters since the last reset (or server start), shared by all backends; the
    /// latency percentiles are of legacy store calls, as power-of-two bucket upper bounds.
    #[pg_extern(name = "stats", security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn login_stats() -> Result<
        TableIterator<
            'static,
            (
                name!(since, TimestampWithTimeZone),
                name!(hits, i64),
                name!(misses, i64),
                name!(migrations, i64),
                name!(invalid_credentials, i64),
                name!(locked, i64),
                name!(store_errors, i64),
                name!(latency_p50_ms, Option<f64>),
                name!(latency_p95_ms, Option<f64>),
                name!(latency_p99_ms, Option<f64>),
                name!(legacy_rejections, i64),
                name!(rate_limited, i64),
                name!(lookups, i64),
            ),
        >,
        ErrorReport,
    > {
        let s = crate::pg::stats::snapshot().ok_or(AuthError::StatsUnavailable)?;
        let n = |v: u64| v as i64;
        Ok(TableIterator::once((
            to_timestamp(s.since_unix_micros),
            n(s.hits),
            n(s.misses),
            n(s.migrations),
            n(s.invalid_credentials),
            n(s.locked),
            n(s.store_errors),
            s.latency.percentile_ms(0.50),
            s.latency.percentile_ms(0.95),
            s.latency.percentile_ms(0.99),
            n(s.legacy_rejections),
            n(s.rate_limited),
            n(s.lookups),
        )))
    }

    /// The 0.3.0 entry point (ten columns), kept for databases not yet updated.
    #[pg_extern(sql = false)]
    #[allow(clippy::type_complexity)]
    pub fn stats() -> Result<
        TableIterator<
            'static,
            (
                name!(since, TimestampWithTimeZone),
                name!(hits, i64),
                name!(misses, i64),
                name!(migrations, i64),
                name!(invalid_credentials, i64),
                name!(locked, i64),
                name!(store_errors, i64),
                name!(latency_p50_ms, Option<f64>),
                name!(latency_p95_ms, Option<f64>),
                name!(latency_p99_ms, Option<f64>),
            ),
        >,
        ErrorReport,
    > {
        let row = login_stats()?.next().ok_or(AuthError::StatsUnavailable)?;
        Ok(TableIterator::once((row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9)))
    }

    /// Admin: starts the counters of auth.stats() afresh.
    #[pg_extern(security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn reset_stats() -> Result<(), ErrorReport> {
        if crate::pg::stats::reset() {
            Ok(())
        } else {
            Err(AuthError::StatsUnavailable.into())
        }
    }

    /// Admin: this node's counters for each legacy store of this database since the last reset (shared memory, as
    /// `auth.stats()`): calls for logins and look-ups, migrations, refusals, errors, and the calls' latencies.
    #[pg_extern(security_definer, volatile, parallel_unsafe)]
    #[search_path(pg_catalog, pg_temp)]
    pub fn store_stats() -> Result<
        TableIterator<
            'static,
            (
                name!(store, String),
                name!(logins, i64),
                name!(lookups, i64),
                name!(migrations, i64),
                name!(rejections, i64),
                name!(unknown_users, i64),
                name!(wrong_passwords, i64),
                name!(store_errors, i64),
                name!(latency_p50_ms, Option<f64>),
                name!(latency_p95_ms, Option<f64>),
            ),
        >,
        ErrorReport,
    > {
        let stores = crate::pg::stats::store_snapshot().ok_or(AuthError::StatsUnavailable)?;
        let n = |v: u64| v as i64;
        let rows = stores.into_iter().map(|(store, c)| {
            (
                store,
                n(c.logins),
                n(c.lookups),
                n(c.migrations),
                n(c.rejections),
                n(c.unknown_users),
                n(c.wrong_passwords),
                n(c.errors),
                c.latency.percentile_ms(0.50),
                c.latency.percentile_ms(0.95),
            )
        });
        Ok(TableIterator::new(rows.collect::<Vec<_>>()))
    }

    fn to_timestamp(unix_micros: i64) -> TimestampWithTimeZone {
        // PostgreSQL counts from 2000-01-01; 946684800 s separate the epochs.
        const POSTGRES_EPOCH_OFFSET_MICROS: i64 = 946_684_800_000_000;
        TimestampWithTimeZone::try_from(unix_micros - POSTGRES_EPOCH_OFFSET_MICROS)
            .unwrap_or_else(|_| TimestampWithTimeZone::negative_infinity())
    }
}

/// Tier 2: inside a backend, in a transaction that is rolled back after each test.
#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;
    use pgrx::JsonB;

    fn login_status(email: &str, password: &str) -> String {
        Spi::get_one_with_args::<String>("SELECT status FROM auth.login($1, $2)", &[email.into(), password.into()])
            .unwrap()
            .unwrap()
    }

    #[pg_test]
    fn version_matches_the_crate() {
        let v = Spi::get_one::<String>("SELECT auth.version()").unwrap().unwrap();
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
    }

    #[pg_test]
    fn signup_normalises_email_and_login_succeeds() {
        Spi::run("SET pg_trickle.argon2_memory_kib = 8192; SET pg_trickle.argon2_iterations = 1").unwrap();
        Spi::run("SELECT auth.signup('  Alice@Example.COM ', 'correct horse battery')").unwrap();
        let stored = Spi::get_one::<String>("SELECT email FROM auth.users").unwrap().unwrap();
        assert_eq!(stored, "alice@example.com");
        assert_eq!(login_status("ALICE@example.com", "correct horse battery"), "authenticated");
        assert_eq!(login_status("alice@example.com", "wrong password"), "invalid_credentials");
        assert_eq!(login_status("nobody@example.com", "correct horse battery"), "invalid_credentials");
    }

    #[pg_test]
    fn stored_hash_is_argon2id_and_profile_has_no_secret() {
        Spi::run("SET pg_trickle.argon2_memory_kib = 8192; SET pg_trickle.argon2_iterations = 1").unwrap();
        Spi::run(r#"SELECT auth.signup('bob@example.com', 'hunter2hunter2', '{"plan": "pro"}')"#).unwrap();
        let hash = Spi::get_one::<String>("SELECT password_hash FROM auth.users").unwrap().unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=8192,t=1,p=1$"));
        let profile = Spi::get_one::<JsonB>("SELECT auth.get_user('bob@example.com')").unwrap().unwrap();
        let text = profile.0.to_string();
        assert!(!text.contains("argon2") && !text.contains("password_hash"), "{text}");
        assert_eq!(profile.0["user_metadata"]["plan"], "pro");
    }

    #[pg_test(error = "argument \"password\" must not be NULL")]
    fn null_password_is_rejected() {
        Spi::run("SELECT * FROM auth.login('a@example.com', NULL)").unwrap();
    }
}

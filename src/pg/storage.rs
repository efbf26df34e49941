//! All SPI access to pg_trickle's tables. The SQL text lives in `sql/queries/`.
//!
//! Reads use `Spi::connect` + `select`, so they neither assign a transaction id nor fail in a
//! read-only transaction or on a hot standby; writes use `connect_mut` + `update`. The queries of the login, getUser
//! and migration paths keep their plans per backend (`kept_plan`).
//! A failing statement here is a bug in pg_trickle, raised as an internal error.

use crate::legacy_store::fdw::mapping::LOOKUP_ROWS;
use crate::legacy_store::fdw::{legacy_json, HashSample, LegacyRow};
use crate::legacy_store::record::{Texts, TEXT_FIELDS};
use crate::legacy_store::LegacyUser;
use crate::pg::{privilege, settings, sqlstate};
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::spi::{OwnedPreparedStatement, SpiClient};
use pgrx::{FromDatum, IntoDatum, JsonB, PgOid, Uuid};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

macro_rules! query {
    ($name:literal) => {
        ($name, include_str!(concat!("../../sql/queries/", $name, ".sql")))
    };
}

type Query = (&'static str, &'static str);

/// A query that names the profile's text fields, with the list filled from `record::TEXT_FIELDS` (the one list of
/// them): `{text_fields}` the column names; `{text_fields from i}` each qualified by `i`; `{text_fields = excluded}`
/// each set from `excluded`; `{text_fields in $4}` the elements of the array parameter `$4`, in order.
fn with_text_fields((name, sql): Query) -> (&'static str, String) {
    let mut filled = sql.to_string();
    while let Some(start) = filled.find("{text_fields") {
        let end = start + filled[start..].find('}').expect("placeholders are closed");
        let form = filled[start + "{text_fields".len()..end].trim().to_string();
        let list: Vec<String> = TEXT_FIELDS
            .iter()
            .enumerate()
            .map(|(i, field)| match form.split_once(' ') {
                None => field.to_string(),
                Some(("from", table)) => format!("{table}.{field}"),
                Some(("=", table)) => format!("{field} = {table}.{field}"),
                Some(("in", array)) => format!("{array}[{}]", i + 1),
                Some(_) => panic!("unknown text_fields placeholder in {name}"),
            })
            .collect();
        filled.replace_range(start..=end, &list.join(", "));
    }
    (name, filled)
}

fn or_internal<T>(name: &str, result: Result<T, pgrx::spi::Error>) -> T {
    result.unwrap_or_else(|err| {
        sqlstate::internal(name, err).report(PgLogLevel::ERROR);
        unreachable!("ERROR does not return")
    })
}

/// The first column of the first row, or None when there is no row.
fn first_value<T: FromDatum + IntoDatum>(table: pgrx::spi::SpiTupleTable) -> Result<Option<T>, pgrx::spi::Error> {
    if table.is_empty() {
        Ok(None)
    } else {
        table.first().get_one::<T>()
    }
}

/// Every write to pg_trickle's tables goes through here. Where nothing can be written (a read-only transaction,
/// a hot standby) it is refused up front with 25006 and a hint: on a standby PostgreSQL itself would fail later,
/// with an internal error about transaction ids.
fn writing<R>(
    name: &str,
    work: impl FnOnce(&mut pgrx::spi::SpiClient<'_>) -> Result<R, pgrx::spi::Error>,
) -> Result<R, pgrx::spi::Error> {
    refuse_if(transaction_is_read_only(), name);
    Spi::connect_mut(work)
}

/// Writes to temporary tables only: fine in a read-only transaction, impossible on a standby.
fn writing_temporary<R>(
    name: &str,
    work: impl FnOnce(&mut pgrx::spi::SpiClient<'_>) -> Result<R, pgrx::spi::Error>,
) -> Result<R, pgrx::spi::Error> {
    // SAFETY: a plain read of backend state on the backend's own thread.
    refuse_if(unsafe { pg_sys::RecoveryInProgress() }, name);
    Spi::connect_mut(work)
}

fn refuse_if(read_only: bool, name: &str) {
    if read_only {
        sqlstate::read_only(name).report(PgLogLevel::ERROR);
    }
}

thread_local! {
    /// pg_trickle's own queries, each parsed and planned once per backend (SPI_keepplan), by query name. PostgreSQL's
    /// plan cache checks a kept plan before each use: it plans again when a table it uses changed (an extension
    /// update, a dropped and recreated extension) or the search_path differs. Never for queries of temporary
    /// tables, which each import makes anew.
    static PLANS: RefCell<HashMap<&'static str, Rc<OwnedPreparedStatement>>> = RefCell::new(HashMap::new());
}

/// The kept plan of query `name` (`sql` with the types of `args`), prepared on first use; `mutating` for writes.
fn kept_plan(
    c: &SpiClient<'_>,
    name: &'static str,
    sql: &str,
    args: &[DatumWithOid],
    mutating: bool,
) -> Result<Rc<OwnedPreparedStatement>, pgrx::spi::Error> {
    // The Rc leaves the map before the plan runs: a query may call back into pg_trickle.
    if let Some(plan) = PLANS.with(|plans| plans.borrow().get(name).cloned()) {
        return Ok(plan);
    }
    let types: Vec<PgOid> = args.iter().map(|arg| PgOid::from(arg.oid())).collect();
    let prepared = if mutating { c.prepare_mut(sql, &types)? } else { c.prepare(sql, &types)? };
    let plan = Rc::new(prepared.keep());
    PLANS.with(|plans| plans.borrow_mut().insert(name, plan.clone()));
    Ok(plan)
}

fn read_one<T: FromDatum + IntoDatum>((name, sql): Query, args: &[DatumWithOid]) -> Option<T> {
    or_internal(name, Spi::connect(|c| first_value(c.select(&*kept_plan(c, name, sql, args, false)?, Some(1), args)?)))
}

fn write_one<T: FromDatum + IntoDatum>((name, sql): Query, args: &[DatumWithOid]) -> Option<T> {
    or_internal(name, writing(name, |c| first_value(c.update(&*kept_plan(c, name, sql, args, true)?, None, args)?)))
}

fn write((name, sql): Query, args: &[DatumWithOid]) {
    or_internal(name, writing(name, |c| c.update(&*kept_plan(c, name, sql, args, true)?, None, args).map(drop)))
}

/// Local logins must work where nothing can be written (read-only transaction, hot standby).
pub fn transaction_is_read_only() -> bool {
    // SAFETY: plain reads of backend-local globals on the backend's own thread.
    unsafe { pg_sys::XactReadOnly || pg_sys::RecoveryInProgress() }
}

pub struct Credentials {
    pub user_id: Uuid,
    pub password_hash: Option<String>,
    pub password_format: Option<String>,
    /// Parameters of an imported legacy hash.
    pub password_params: Option<JsonB>,
}

pub fn find_credentials(email: &str) -> Option<Credentials> {
    let (name, sql) = query!("find_credentials");
    or_internal(
        name,
        Spi::connect(|c| {
            let args = [email.into()];
            let table = c.select(&*kept_plan(c, name, sql, &args, false)?, Some(1), &args)?;
            if table.is_empty() {
                return Ok(None);
            }
            let row = table.first();
            Ok(Some(Credentials {
                user_id: row.get::<Uuid>(1)?.expect("users.id is NOT NULL"),
                password_hash: row.get::<String>(2)?,
                password_format: row.get::<String>(3)?,
                password_params: row.get::<JsonB>(4)?,
            }))
        }),
    )
}

/// Records a successful login (and an upgraded hash, if any); returns the user's profile.
/// None when the user is gone (deleted by a concurrent transaction since the login read the row).
pub fn record_login_success(user_id: Uuid, upgraded_hash: Option<&str>) -> Option<JsonB> {
    write_one(query!("record_login_success"), &[user_id.into(), upgraded_hash.into()])
}

/// From the login writer (`pg::bookkeeping`): each user's `last_login_at` moves forward to its mark (Unix
/// microseconds); users deleted since are skipped, and so is a database where pg_trickle is no longer installed.
pub fn write_last_logins(users: Vec<Uuid>, unix_micros: Vec<i64>) {
    let installed = read_one::<bool>(query!("pg_trickle_installed"), &[]).unwrap_or(false);
    if installed {
        // A schema change holding auth.users must not stall the keeper, which waits for this writer.
        or_internal("lock timeout", Spi::run("SET LOCAL lock_timeout = '5s'"));
        write(query!("write_last_logins"), &[users.into(), unix_micros.into()]);
    }
}

pub fn profile_by_email(email: &str) -> Option<JsonB> {
    read_one(query!("profile_by_email"), &[email.into()])
}

pub fn user_id_by_email(email: &str) -> Option<Uuid> {
    read_one(query!("user_id_by_email"), &[email.into()])
}

/// The email of the local user with exactly this username.
pub fn email_by_username(username: &str) -> Option<String> {
    read_one(query!("email_by_username"), &[username.into()])
}

/// None when the email is taken (including by a concurrent signup that committed first).
pub fn insert_native_user(email: &str, password_hash: &str, user_metadata: JsonB) -> Option<Uuid> {
    write_one(query!("insert_native_user"), &[email.into(), password_hash.into(), user_metadata.into()])
}

/// Returns the user's email (None: the user is gone).
pub fn set_password_hash(user_id: Uuid, password_hash: &str) -> Option<String> {
    write_one(query!("set_password_hash"), &[user_id.into(), password_hash.into()])
}

/// Stores a token for the email's user. For an unknown email nothing is stored, but the transaction still takes a
/// transaction id, so its commit writes and flushes WAL as a stored token's does: both cost the same.
pub fn create_reset_token(email: &str, digest: Vec<u8>, ttl_secs: i32) {
    let stored: Option<bool> = write_one(query!("create_reset_token"), &[email.into(), digest.into(), ttl_secs.into()]);
    if stored.is_none() {
        // SAFETY: assigns (or returns) this transaction's id; `write_one` has refused a read-only transaction.
        unsafe { pg_sys::GetTopTransactionId() };
    }
}

/// Marks the token used; returns its user when it was valid, unused and unexpired.
pub fn consume_reset_token(digest: Vec<u8>) -> Option<Uuid> {
    write_one(query!("consume_reset_token"), &[digest.into()])
}

pub fn merge_user_metadata(email: &str, patch: JsonB) -> Option<JsonB> {
    write_one(query!("merge_user_metadata"), &[email.into(), patch.into()])
}

pub fn merge_app_metadata(email: &str, patch: JsonB) -> Option<JsonB> {
    write_one(query!("merge_app_metadata"), &[email.into(), patch.into()])
}

pub fn change_email(email: &str, new_email: &str) -> Option<Uuid> {
    write_one(query!("change_email"), &[email.into(), new_email.into()])
}

pub fn set_email_verified(email: &str, verified: bool) -> Option<Uuid> {
    write_one(query!("set_email_verified"), &[email.into(), verified.into()])
}

pub fn delete_user(email: &str) -> Option<Uuid> {
    write_one(query!("delete_user"), &[email.into()])
}

/// Import mode and the legacy stores, as stored (each store validated again by `pg::legacy` before use).
pub struct ImportConfig {
    pub import_mode: bool,
    /// In the order they are asked.
    pub stores: Vec<StoreRow>,
}

/// One row of `auth.legacy_stores`.
pub struct StoreRow {
    pub name: String,
    /// None: placed after the other stores when it is saved.
    pub ask_order: Option<i32>,
    /// None: every email.
    pub email_domains: Option<Vec<String>>,
    pub store_kind: String,
    pub disconnected: bool,
    pub http_base_url: Option<String>,
    pub http_contract: String,
    pub http_auth_kind: String,
    pub http_auth_header: Option<String>,
    pub http_auth_secret: Option<String>,
    pub http_hmac_secret: Option<String>,
    pub http_connect_timeout_ms: i32,
    pub http_timeout_ms: i32,
    pub http_lookup_retries: i32,
    pub http_max_response_bytes: i32,
    pub http_ca_bundle: Option<String>,
    /// Whether a plain-http URL to a host other than loopback was allowed explicitly.
    pub http_allow_insecure: bool,
    pub http_pool_idle_ms: i32,
    /// An identity provider contract's settings (docs/providers/) and its secret (client secret, API key).
    pub http_provider: Option<JsonB>,
    pub http_provider_secret: Option<String>,
    pub http_provider_admin_secret: Option<String>,
    /// The relation as PostgreSQL prints a regclass (quoted where needed).
    pub fdw_relation: Option<String>,
    pub fdw_mapping: Option<JsonB>,
    /// The role the relation is read as, as PostgreSQL prints a regrole; None before it was configured.
    pub fdw_reader: Option<String>,
}

impl StoreRow {
    /// Read by column name: a library newer than the installed SQL objects reads the columns it knows and defaults
    /// the others.
    fn from_json(row: &serde_json::Value) -> Self {
        let text = |key: &str| row.get(key).and_then(|v| v.as_str()).map(str::to_string);
        let int = |key: &str| row.get(key).and_then(|v| v.as_i64()).and_then(|v| i32::try_from(v).ok());
        let flag = |key: &str| row.get(key).and_then(|v| v.as_bool()).unwrap_or(false);
        StoreRow {
            name: text("name").unwrap_or_else(|| "default".into()),
            ask_order: int("ask_order"),
            email_domains: row
                .get("email_domains")
                .and_then(|v| v.as_array())
                .map(|list| list.iter().filter_map(|d| d.as_str().map(str::to_string)).collect()),
            store_kind: text("store_kind").unwrap_or_else(|| "none".into()),
            disconnected: flag("disconnected"),
            http_base_url: text("http_base_url"),
            http_contract: text("http_contract").unwrap_or_default(),
            http_auth_kind: text("http_auth_kind").unwrap_or_default(),
            http_auth_header: text("http_auth_header"),
            http_auth_secret: text("http_auth_secret"),
            http_hmac_secret: text("http_hmac_secret"),
            http_connect_timeout_ms: int("http_connect_timeout_ms").unwrap_or(1000),
            http_timeout_ms: int("http_timeout_ms").unwrap_or(5000),
            http_lookup_retries: int("http_lookup_retries").unwrap_or(1),
            http_max_response_bytes: int("http_max_response_bytes").unwrap_or(1 << 20),
            http_ca_bundle: text("http_ca_bundle"),
            http_allow_insecure: flag("http_allow_insecure"),
            http_pool_idle_ms: int("http_pool_idle_ms").unwrap_or(30_000),
            http_provider: row.get("http_provider").filter(|v| !v.is_null()).map(|v| JsonB(v.clone())),
            http_provider_secret: text("http_provider_secret"),
            http_provider_admin_secret: text("http_provider_admin_secret"),
            fdw_relation: text("fdw_relation"),
            fdw_mapping: row.get("fdw_mapping").filter(|v| !v.is_null()).map(|v| JsonB(v.clone())),
            fdw_reader: text("fdw_reader"),
        }
    }
}

impl ImportConfig {
    fn from_json(config: &serde_json::Value) -> Self {
        let import_mode = config.get("import_mode").and_then(|v| v.as_bool()).unwrap_or(false);
        let stores = match config.get("stores") {
            Some(serde_json::Value::Array(rows)) => rows.iter().map(StoreRow::from_json).collect(),
            // SQL objects of 0.3.0 and before (not updated yet): the one store lives in the configuration row.
            _ => Some(StoreRow::from_json(config))
                .filter(|store| matches!(store.store_kind.as_str(), "http" | "fdw"))
                .into_iter()
                .collect(),
        };
        ImportConfig { import_mode, stores }
    }
}

/// Whether the installed SQL objects have several legacy stores (0.4.0 on); a library newer than them (between
/// installing it and ALTER EXTENSION pg_trickle UPDATE) keeps to what they have.
pub fn sql_objects_know_stores() -> bool {
    read_one::<bool>(query!("legacy_stores_exist"), &[]).unwrap_or(false)
}

pub fn load_import_config() -> ImportConfig {
    let query =
        if sql_objects_know_stores() { query!("load_import_config") } else { query!("load_import_config_before_0_4") };
    ImportConfig::from_json(&read_one::<JsonB>(query, &[]).map(|c| c.0).unwrap_or_default())
}

/// The import configuration, unless reading it would wait: `ALTER EXTENSION pg_trickle UPDATE` may hold an
/// exclusive lock on auth.import_config until it commits, and logins of local users must not wait for that.
pub fn load_import_config_without_waiting() -> Result<ImportConfig, ConfigurationBusy> {
    // SAFETY: catalog cache look-ups and a conditional lock, on the backend's own thread; the lock is kept until
    // the transaction ends, like the one the read below would take.
    let available = unsafe {
        let schema = pg_sys::get_namespace_oid(c"auth".as_ptr(), true);
        let table = pg_sys::get_relname_relid(c"import_config".as_ptr(), schema);
        table == pg_sys::InvalidOid
            || pg_sys::ConditionalLockRelationOid(table, pg_sys::AccessShareLock as pg_sys::LOCKMODE)
    };
    if available {
        Ok(load_import_config())
    } else {
        Err(ConfigurationBusy)
    }
}

/// auth.import_config is locked by a schema change in progress.
pub struct ConfigurationBusy;

/// A configured reader role: its oid and whether it is a superuser; None when it no longer exists.
pub fn reader_role(printed: &str) -> Option<(pg_sys::Oid, bool)> {
    let (name, sql) = query!("reader_role");
    or_internal(
        name,
        Spi::connect(|c| {
            let table = c.select(sql, Some(1), &[printed.into()])?;
            if table.is_empty() {
                return Ok(None);
            }
            let row = table.first();
            let superuser = row.get::<bool>(2)?.unwrap_or(true);
            Ok(row.get::<pg_sys::Oid>(1)?.map(|oid| (oid, superuser)))
        }),
    )
}

/// What decides whether `relation` may serve as a legacy users relation read by `reader` for `caller`.
pub struct RelationFacts {
    pub temporary: bool,
    pub system: bool,
    pub pg_trickle_own: bool,
    pub caller_may_select: bool,
    pub reader_may_select: bool,
    pub caller_may_act_as_reader: bool,
    pub reader_is_superuser: bool,
}

pub fn relation_facts(relation: pg_sys::Oid, caller: pg_sys::Oid, reader: pg_sys::Oid) -> RelationFacts {
    let (name, sql) = query!("relation_facts");
    or_internal(
        name,
        Spi::connect(|c| {
            let row = c.select(sql, Some(1), &[relation.into(), caller.into(), reader.into()])?.first();
            // A missing answer counts against the relation: each fact defaults to its refusing side.
            let fact = |i: usize, refusing: bool| row.get::<bool>(i).map(|v| v.unwrap_or(refusing));
            Ok(RelationFacts {
                temporary: fact(1, true)?,
                system: fact(2, true)?,
                pg_trickle_own: fact(3, true)?,
                caller_may_select: fact(4, false)?,
                reader_may_select: fact(5, false)?,
                caller_may_act_as_reader: fact(6, false)?,
                reader_is_superuser: fact(7, true)?,
            })
        }),
    )
}

/// Who owns pg_trickle's objects, and the SQL version installed in this database.
pub fn extension_owner() -> (pg_sys::Oid, String) {
    let (name, sql) = query!("extension_owner");
    let (owner, version) = or_internal(name, Spi::get_two::<pg_sys::Oid, String>(sql));
    (owner.unwrap_or(pg_sys::Oid::INVALID), version.unwrap_or_default())
}

/// A role's name as PostgreSQL prints a regrole, for log lines.
pub fn role_name(role: pg_sys::Oid) -> String {
    read_one(query!("role_name"), &[role.into()]).unwrap_or_default()
}

/// A role by name (42704 when there is none).
pub fn role_oid(role: &str) -> pg_sys::Oid {
    read_one(query!("role_oid"), &[role.into()]).unwrap_or(pg_sys::Oid::INVALID)
}

pub fn set_import_mode(enabled: bool) {
    write(query!("set_import_mode"), &[enabled.into()]);
}

/// Creates or replaces the store named `row.name` (validated by the caller).
pub fn save_http_store(row: &StoreRow) {
    let mut args = http_settings(row);
    args.extend([
        row.http_allow_insecure.into(),
        row.name.as_str().into(),
        row.ask_order.into(),
        row.email_domains.clone().into(),
        row.http_pool_idle_ms.into(),
        row.http_provider.as_ref().map(|settings| JsonB(settings.0.clone())).into(),
        row.http_provider_secret.as_deref().into(),
        row.http_provider_admin_secret.as_deref().into(),
    ]);
    write(query!("save_http_store"), &args);
}

/// The one store of 0.3.0 and before, for SQL objects not yet updated (validated by the caller).
pub fn save_http_store_before_0_4(row: &StoreRow) {
    write(query!("save_http_store_before_0_4"), &http_settings(row));
}

/// The HTTP settings both ways of saving a store bind as `$1`-`$11`.
fn http_settings(row: &StoreRow) -> Vec<DatumWithOid<'_>> {
    vec![
        row.http_base_url.as_deref().into(),
        row.http_contract.as_str().into(),
        row.http_auth_kind.as_str().into(),
        row.http_auth_header.as_deref().into(),
        row.http_auth_secret.as_deref().into(),
        row.http_hmac_secret.as_deref().into(),
        row.http_connect_timeout_ms.into(),
        row.http_timeout_ms.into(),
        row.http_lookup_retries.into(),
        row.http_max_response_bytes.into(),
        row.http_ca_bundle.as_deref().into(),
    ]
}

/// Inserts a user moved over from the legacy store; None when a concurrent migration (or another
/// user holding the same username or legacy id) got there first. Returns the id and profile.
pub fn insert_migrated_user(p: &LegacyUser, store: &str, password_hash: Option<&str>) -> Option<(Uuid, JsonB)> {
    let (name, sql) = with_text_fields(query!("insert_migrated_user"));
    let args: [DatumWithOid; 8] = [
        p.email.as_str().into(),
        p.email_verified.into(),
        p.external_id.as_str().into(),
        p.texts.to_vec().into(),
        JsonB(serde_json::Value::Object(p.user_metadata.clone())).into(),
        JsonB(serde_json::Value::Object(p.app_metadata.clone())).into(),
        password_hash.into(),
        (!p.metadata_known).into(),
    ];
    let inserted = or_internal(
        name,
        writing(name, |c| {
            let table = c.update(&*kept_plan(c, name, &sql, &args, true)?, None, &args)?;
            if table.is_empty() {
                return Ok(None);
            }
            let row = table.first();
            Ok(row.get::<Uuid>(1)?.zip(row.get::<JsonB>(2)?))
        }),
    );
    if let Some((user_id, _)) = &inserted {
        if sql_objects_know_stores() {
            write(query!("set_user_store"), &[(*user_id).into(), store.into()]);
        }
    }
    inserted
}

/// Creates or replaces the store `name` (validated by the caller); `ask_order` None: after the other stores.
pub fn save_fdw_store(
    name: &str,
    ask_order: Option<i32>,
    email_domains: Option<Vec<String>>,
    relation: pg_sys::Oid,
    mapping: JsonB,
    reader: pg_sys::Oid,
) {
    write(
        query!("save_fdw_store"),
        &[name.into(), ask_order.into(), email_domains.into(), relation.into(), mapping.into(), reader.into()],
    );
}

/// (column name, holds json/jsonb) for every column of a relation.
pub fn relation_columns(relation: pg_sys::Oid) -> Vec<(String, bool)> {
    let (name, sql) = query!("relation_columns");
    or_internal(
        name,
        Spi::connect(|c| {
            let mut out = Vec::new();
            for row in c.select(sql, None, &[relation.into()])? {
                out.push((row.get::<String>(1)?.unwrap_or_default(), row.get::<bool>(2)?.unwrap_or(false)));
            }
            Ok(out)
        }),
    )
}

/// Parses and plans the legacy look-up once, so a mapping whose casts cannot work is refused when it is
/// set: a type error is PostgreSQL's own ERROR, with its SQLSTATE.
pub fn check_legacy_lookup(sql: &str) {
    or_internal("legacy look-up check", Spi::connect(|c| c.prepare(sql, &[pg_sys::TEXTOID.into()]).map(drop)));
}

/// Runs the mapping's look-up (built by `legacy_store::fdw`: identifiers quoted, the email bound as $1).
/// Errors of the legacy database itself (postgres_fdw: unreachable, cancelled) propagate as its ERROR.
pub fn legacy_rows(sql: &str, email: &str) -> Vec<LegacyRow> {
    or_internal(
        "legacy look-up",
        Spi::connect(|c| {
            let mut out = Vec::new();
            for row in c.select(sql, Some(LOOKUP_ROWS as i64), &[email.into()])? {
                let text = |i: usize| row.get::<String>(i);
                // The columns of record::row_columns(): seven fixed ones, the text fields, the two metadata, the
                // last activity.
                let mut texts = Texts::default();
                for (i, slot) in texts.iter_mut().enumerate() {
                    *slot = text(8 + i)?;
                }
                let after_texts = 8 + TEXT_FIELDS.len();
                out.push(LegacyRow {
                    legacy_id: text(1)?,
                    email: text(2)?,
                    password_hash: text(3)?,
                    hash_format: text(4)?,
                    hash_params: legacy_json(text(5)?),
                    email_verified: row.get::<bool>(6)?.unwrap_or(false),
                    enabled: row.get::<bool>(7)?.unwrap_or(true),
                    texts,
                    user_metadata: legacy_json(text(after_texts)?),
                    app_metadata: legacy_json(text(after_texts + 1)?),
                    last_active: row
                        .get::<pgrx::datum::TimestampWithTimeZone>(after_texts + 2)?
                        .map(pg_sys::TimestampTz::from),
                });
            }
            Ok(out)
        }),
    )
}

/// Runs the mapping's hash sample (`legacy_store::fdw::ColumnMapping::hash_sample_sql`): one row's hash, format
/// and parameters, or None for a relation without hashes.
pub fn legacy_hash_sample(sql: &str) -> Option<HashSample> {
    or_internal(
        "legacy hash sample",
        Spi::connect(|c| {
            let Some(row) = c.select(sql, Some(1), &[])?.next() else { return Ok(None) };
            let Some(hash) = row.get::<String>(1)? else { return Ok(None) };
            Ok(Some(HashSample { hash, format: row.get::<String>(2)?, params: legacy_json(row.get::<String>(3)?) }))
        }),
    )
}

/// Appends to auth.migration_events, in the caller's transaction.
pub fn record_migration_event(event: &MigrationEvent) {
    let id: Option<i64> = write_one(
        query!("record_migration_event"),
        &[
            event.email.into(),
            event.flow.into(),
            event.adapter.into(),
            event.outcome.into(),
            event.latency_ms.into(),
            event.error_class.into(),
            settings::event_retention_secs().into(),
        ],
    );
    if let (Some(id), Some(store)) = (id, event.store) {
        if sql_objects_know_stores() {
            write(query!("set_event_store"), &[id.into(), store.into()]);
        }
    }
}

pub struct MigrationEvent<'a> {
    pub email: &'a str,
    pub flow: &'a str,
    pub adapter: &'a str,
    pub outcome: &'a str,
    pub latency_ms: Option<f64>,
    pub error_class: Option<&'a str>,
    /// The legacy store asked (None: a bulk import).
    pub store: Option<&'a str>,
}

/// The relation's oid and its canonical (quoted) name; PostgreSQL raises 42P01 if it does not exist.
pub fn resolve_relation(name: &str) -> (pg_sys::Oid, String) {
    let (query_name, sql) = query!("resolve_relation");
    let (oid, text) = or_internal(query_name, Spi::get_two_with_args::<pg_sys::Oid, String>(sql, &[name.into()]));
    (oid.expect("regclass resolves to an oid"), text.expect("regclass has a name"))
}

/// Drops a staging table an earlier call in this transaction left (ON COMMIT DROP keeps it until commit).
fn drop_staged(c: &mut pgrx::spi::SpiClient<'_>, table: &str) -> Result<(), pgrx::spi::Error> {
    let staged = c.select(&format!("SELECT pg_catalog.to_regclass('pg_temp.{table}') IS NOT NULL"), None, &[])?;
    if staged.first().get_one::<bool>()? == Some(true) {
        c.update(&format!("DROP TABLE pg_temp.{table}"), None, &[])?;
    }
    Ok(())
}

/// Makes pg_temp.pg_trickle_legacy_rows (`columns`: `legacy_store::fdw::mapping::legacy_rows_table_ddl`) for the
/// rows of a legacy relation or of an import file. The table is made before any switch to a reader (a restricted
/// operation may not create temporary tables), and only INSERT on it is granted to the reader.
pub fn create_legacy_rows_table(reader: Option<pg_sys::Oid>, columns: &str) {
    let grantee = reader.map(role_name);
    or_internal(
        "legacy rows staging",
        writing_temporary("legacy rows staging", |c| {
            drop_staged(c, "pg_trickle_legacy_rows")?;
            c.update(&format!("CREATE TEMP TABLE pg_trickle_legacy_rows ({columns}) ON COMMIT DROP"), None, &[])?;
            if let Some(grantee) = grantee {
                // A regrole prints as a quoted identifier where one is needed.
                c.update(&format!("GRANT INSERT ON pg_temp.pg_trickle_legacy_rows TO {grantee}"), None, &[])?;
            }
            Ok(())
        }),
    );
}

/// Adds the rows of `scan_sql` (`row_columns()` plus a preset reason; `$1` the JSON of a file's rows), numbered
/// from `first_n` on in the order they come, to the table `create_legacy_rows_table` made: read as `reader` in a
/// security-restricted operation, or as the owner for a file. Returns how many were added.
pub fn insert_legacy_rows(scan_sql: &str, reader: Option<pg_sys::Oid>, first_n: i64, rows: Option<JsonB>) -> i64 {
    let insert = format!(
        "INSERT INTO pg_temp.pg_trickle_legacy_rows
         SELECT {first_n} + pg_catalog.row_number() OVER () - 1, x.* FROM ({scan_sql}) AS x"
    );
    let run = || {
        or_internal(
            "legacy rows read",
            writing_temporary("legacy rows read", |c| Ok(c.update(&insert, None, &[rows.into()])?.len() as i64)),
        )
    };
    match reader {
        Some(reader) => privilege::as_reader(reader, run),
        None => run(),
    }
}

/// A legacy row that could not be read, as row `n`: a rejected row of that legacy id.
pub fn insert_unreadable_legacy_row(n: i64, legacy_id: Option<&str>, reason: &str) {
    let sql = "INSERT INTO pg_temp.pg_trickle_legacy_rows (n, legacy_id, preset_reason) VALUES ($1, $2, $3)";
    or_internal(
        "legacy rows read",
        writing_temporary("legacy rows read", |c| {
            c.update(sql, None, &[n.into(), legacy_id.into(), reason.into()]).map(drop)
        }),
    );
}

/// The single text column of `sql`'s rows, read as `reader`.
pub fn legacy_texts(sql: &str, reader: pg_sys::Oid) -> Vec<Option<String>> {
    privilege::as_reader(reader, || {
        or_internal(
            "legacy ids read",
            Spi::connect(|c| c.select(sql, None, &[])?.map(|row| row.get::<String>(1)).collect()),
        )
    })
}

/// Stages a bulk import into pg_temp.pg_trickle_import (SQL from `legacy_store::fdw::mapping::staging_sql`), and
/// indexes the staged legacy rows by position for the batches to join them back.
pub fn stage_import(staging_sql: &str) {
    or_internal(
        "import staging",
        writing_temporary("import staging", |c| {
            // A second import in one transaction replaces the first one's staging table.
            drop_staged(c, "pg_trickle_import")?;
            c.update(staging_sql, None, &[])?;
            c.update("CREATE INDEX ON pg_temp.pg_trickle_legacy_rows (n)", None, &[])?;
            // Autovacuum never sees temporary tables: without statistics the batches would be planned for one row.
            c.update("ANALYZE pg_temp.pg_trickle_import, pg_temp.pg_trickle_legacy_rows", None, &[]).map(drop)
        }),
    );
}

/// (staged rows, importable rows, rejections as a JSON array).
pub fn import_summary() -> (i64, i64, JsonB) {
    let (name, sql) = query!("import_summary");
    or_internal(
        name,
        Spi::connect(|c| {
            let row = c.select(sql, Some(1), &[])?.first();
            Ok((
                row.get::<i64>(1)?.unwrap_or(0),
                row.get::<i64>(2)?.unwrap_or(0),
                row.get::<JsonB>(3)?.unwrap_or(JsonB(serde_json::json!([]))),
            ))
        }),
    )
}

/// Imports staged rows `after < n <= through`; returns (inserted, updated).
pub fn import_batch(after: i64, through: i64) -> (i64, i64) {
    let (name, sql) = with_text_fields(query!("import_batch"));
    or_internal(
        name,
        writing(name, |c| {
            let row = c.update(&sql, None, &[after.into(), through.into()])?.first();
            Ok((row.get::<i64>(1)?.unwrap_or(0), row.get::<i64>(2)?.unwrap_or(0)))
        }),
    )
}

pub fn forget_user(email: &str) -> i64 {
    write_one(query!("forget_user"), &[email.into()]).unwrap_or(0)
}

pub fn is_tombstoned(email: &str) -> bool {
    read_one(query!("is_tombstoned"), &[email.into()]).unwrap_or(false)
}

pub fn clear_tombstone(email: &str) {
    write(query!("clear_tombstone"), &[email.into()]);
}

/// Disconnects the store named (None: every store); returns the names of those it disconnected.
pub fn disconnect_store(name: Option<&str>) -> Vec<String> {
    write_one::<Vec<String>>(query!("disconnect_store"), &[name.into()]).unwrap_or_default()
}

/// Reconnects the store named (None: every disconnected store); returns the names of those it reconnected.
pub fn reconnect_store(name: Option<&str>) -> Vec<String> {
    write_one::<Vec<String>>(query!("reconnect_store"), &[name.into()]).unwrap_or_default()
}

/// Removes the store named; false when there is none.
pub fn remove_store(name: &str) -> bool {
    write_one::<bool>(query!("remove_store"), &[name.into()]).unwrap_or(false)
}

pub struct LocalProgress {
    pub native: i64,
    pub migrated: i64,
    pub imported_pending: i64,
    pub imported_logged_in: i64,
    pub migrations_last_hour: i64,
    pub migrations_last_day: i64,
    pub failures_last_day: JsonB,
}

/// How many users came from each legacy store, by its name.
pub fn migrated_per_store() -> std::collections::HashMap<String, i64> {
    let (name, sql) = query!("migrated_per_store");
    or_internal(
        name,
        Spi::connect(|c| {
            let mut out = std::collections::HashMap::new();
            for row in c.select(sql, None, &[])? {
                if let (Some(store), Some(count)) = (row.get::<String>(1)?, row.get::<i64>(2)?) {
                    out.insert(store, count);
                }
            }
            Ok(out)
        }),
    )
}

pub fn local_progress() -> LocalProgress {
    let (name, sql) = query!("migration_progress");
    or_internal(
        name,
        Spi::connect(|c| {
            let row = c.select(sql, Some(1), &[])?.first();
            let n = |i: usize| row.get::<i64>(i).map(|v| v.unwrap_or(0));
            Ok(LocalProgress {
                native: n(1)?,
                migrated: n(2)?,
                imported_pending: n(3)?,
                imported_logged_in: n(4)?,
                migrations_last_hour: n(5)?,
                migrations_last_day: n(6)?,
                failures_last_day: row.get::<JsonB>(7)?.unwrap_or(JsonB(serde_json::json!({}))),
            })
        }),
    )
}

/// Runs a count over the legacy relation (SQL from `legacy_store::fdw`).
pub fn legacy_count(sql: &str) -> i64 {
    or_internal("legacy count", Spi::connect(|c| c.select(sql, Some(1), &[])?.first().get_one::<i64>())).unwrap_or(0)
}

/// A legacy user with no local user: (legacy id, email).
pub type UnmigratedUser = (Option<String>, Option<String>);

/// Legacy users with no local user, `limit` at most.
pub fn unmigrated(sql: &str, limit: i64) -> Vec<UnmigratedUser> {
    or_internal(
        "unmigrated users",
        Spi::connect(|c| {
            let mut out = Vec::new();
            for row in c.select(sql, None, &[limit.into()])? {
                out.push((row.get::<String>(1)?, row.get::<String>(2)?));
            }
            Ok(out)
        }),
    )
}

/// A legacy email several rows hold: (normalised email, their legacy ids).
pub type DuplicateEmail = (String, Vec<Option<String>>);

/// Runs `legacy_store::fdw::mapping::duplicates_sql`, `limit` emails at most.
pub fn duplicates(sql: &str, limit: i64) -> Vec<DuplicateEmail> {
    or_internal(
        "duplicate legacy emails",
        Spi::connect(|c| {
            let mut out = Vec::new();
            for row in c.select(sql, None, &[limit.into()])? {
                if let Some(email) = row.get::<String>(1)? {
                    out.push((email, row.get::<Vec<Option<String>>>(2)?.unwrap_or_default()));
                }
            }
            Ok(out)
        }),
    )
}

/// Emails of migrated users flagged for missing metadata, `limit` at most.
pub fn incomplete_metadata(limit: i64) -> Vec<String> {
    let (name, sql) = query!("incomplete_metadata");
    or_internal(
        name,
        Spi::connect(|c| {
            let mut out = Vec::new();
            for row in c.select(sql, None, &[limit.into()])? {
                out.extend(row.get::<String>(1)?);
            }
            Ok(out)
        }),
    )
}

/// Merges re-read legacy metadata under the local one; returns the profile (None: no such user).
/// `known`: the store said what the metadata is (empty included); only then does the flag clear.
pub fn backfill_metadata(email: &str, user_metadata: JsonB, app_metadata: JsonB, known: bool) -> Option<JsonB> {
    write_one(query!("backfill_metadata"), &[email.into(), user_metadata.into(), app_metadata.into(), known.into()])
}

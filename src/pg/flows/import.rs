//! Hash-preserving bulk import from a relation or an Auth0 bulk-import file (staging SQL from
//! `legacy_store::fdw`, batches in `sql/queries/import_batch.sql`).

use super::migration::*;
use crate::domain::error::AuthError;
use crate::legacy_store::auth0;
use crate::legacy_store::fdw::{self, FdwStore};
use crate::pg::legacy;
use crate::pg::sqlstate::Failure;
use crate::pg::{settings, storage};
use pgrx::pg_sys::Oid;
use pgrx::JsonB;

pub struct ImportReport {
    pub inserted: i64,
    pub updated: i64,
    pub skipped: i64,
    pub rejected: i64,
    pub rejections: JsonB,
}

/// Admin: hash-preserving bulk import from a relation with a mapping, or (both NULL) from the
/// configured FDW store. Idempotent; see sql/queries/import_batch.sql for what is never overwritten.
pub fn import_users(
    caller: Oid,
    source: Option<&str>,
    mapping: Option<JsonB>,
    all_or_nothing: bool,
    progress_every: i32,
) -> Result<ImportReport, Failure> {
    let store = match (source, mapping) {
        (Some(relation), Some(mapping)) => {
            let reader = legacy_reader(caller, None);
            let checked = validated_mapping(caller, reader, relation, &mapping)?;
            FdwStore::new(checked.mapping, &checked.relation_name, reader.to_u32())
        }
        // The first connected FDW store.
        (None, None) => {
            let config = storage::load_import_config();
            match config.stores.iter().find(|row| row.store_kind == "fdw" && !row.disconnected) {
                Some(row) => legacy::fdw_store_from_row(row)?,
                None => return Err(AuthError::NoImportSource.into()),
            }
        }
        _ => return Err(AuthError::NoImportSource.into()),
    };
    if progress_every < 1 {
        return Err(AuthError::InvalidSetting("progress_every must be at least 1".into()).into());
    }
    settings::for_bulk_statements(|| {
        legacy::staged_rows(&store);
        run_import(store.mapping.last_active.is_some(), all_or_nothing, progress_every)
    })
}

/// Admin: bulk import of a JSON array in Auth0's bulk-import user schema.
pub fn import_users_json(users: JsonB, all_or_nothing: bool, progress_every: i32) -> Result<ImportReport, Failure> {
    let serde_json::Value::Array(list) = &users.0 else { return Err(AuthError::NotAnArray("users").into()) };
    let rows = serde_json::Value::Array(list.iter().map(auth0::import_row).collect());
    settings::for_bulk_statements(|| {
        legacy::stage_file_rows(JsonB(rows));
        // An Auth0 file has one user per email: nothing to choose between.
        run_import(false, all_or_nothing, progress_every)
    })
}

/// Imports the staged legacy rows. `most_recent_of_duplicates`: the mapping's `last_active` decides between rows
/// of one email.
fn run_import(
    most_recent_of_duplicates: bool,
    all_or_nothing: bool,
    progress_every: i32,
) -> Result<ImportReport, Failure> {
    if progress_every < 1 {
        return Err(AuthError::InvalidSetting("progress_every must be at least 1".into()).into());
    }
    storage::stage_import(&fdw::mapping::staging_sql(most_recent_of_duplicates));
    let (total, importable, rejections) = storage::import_summary();
    let rejected = total - importable;
    if all_or_nothing && rejected > 0 {
        return Err(AuthError::ImportRejected { rejected, first: first_rejection(&rejections) }.into());
    }
    let (mut inserted, mut updated) = (0, 0);
    let step = i64::from(progress_every);
    let mut after = 0;
    while after < total {
        let through = (after + step).min(total);
        let (i, u) = storage::import_batch(after, through);
        inserted += i;
        updated += u;
        pgrx::notice!("pg_trickle import: {through} of {total} rows done ({inserted} inserted, {updated} updated)");
        after = through;
    }
    Ok(ImportReport { inserted, updated, skipped: importable - inserted - updated, rejected, rejections })
}

fn first_rejection(rejections: &JsonB) -> String {
    rejections
        .0
        .get(0)
        .map(|r| format!("row {}: {}", r["row"], r["reason"].as_str().unwrap_or("?")))
        .unwrap_or_default()
}

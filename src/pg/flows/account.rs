//! The account flows an application calls: signup, password change and reset, profile and metadata,
//! email changes, deletion; each consults the legacy store where a duplicate could otherwise arise.

use super::login::*;
use super::migration::*;
use crate::domain::email::normalize_email;
use crate::domain::error::AuthError;
use crate::domain::password::{argon2id, check_new_password};
use crate::domain::reset_token;
use crate::pg::sqlstate::Failure;
use crate::pg::storage;
use crate::pg::{lockout, settings};
use pgrx::{JsonB, Uuid};

fn require_object(value: &JsonB, what: &'static str) -> Result<(), Failure> {
    if value.0.is_object() {
        Ok(())
    } else {
        Err(AuthError::NotAnObject(what).into())
    }
}

fn new_password_hash(password: &str) -> Result<String, Failure> {
    check_new_password(password, settings::password_min_length())?;
    Ok(argon2id::hash_password(password, settings::argon2_params()?, settings::hash_budget())?)
}

pub fn signup(raw_email: &str, password: &str, user_metadata: JsonB) -> Result<Uuid, Failure> {
    let email = normalize_email(raw_email)?;
    require_object(&user_metadata, "user_metadata")?;
    check_new_password(password, settings::password_min_length())?;
    // Cheap checks first, so a duplicate costs no hashing.
    if storage::user_id_by_email(&email).is_some() {
        return Err(AuthError::Duplicate("email").into());
    }
    if exists_in_legacy_store(&email, "signup")? {
        return Err(AuthError::ExistsInLegacyStore.into());
    }
    let hash = new_password_hash(password)?;
    storage::insert_native_user(&email, &hash, user_metadata).ok_or(AuthError::Duplicate("email").into())
}

/// false: wrong old password, unknown user or locked account (counted like a failed login).
pub fn change_password(raw_email: &str, old_password: &str, new_password: &str) -> Result<bool, Failure> {
    let email = normalize_email(raw_email)?;
    check_new_password(new_password, settings::password_min_length())?;
    let user_id = match verify_credentials(&email, old_password)? {
        Verdict::Refused(_) => return Ok(false),
        Verdict::Authenticated { user_id, .. }
        | Verdict::Migrated { user_id, .. }
        | Verdict::MigratedConcurrently { user_id } => user_id,
    };
    set_password_hash(user_id, &new_password_hash(new_password)?);
    Ok(true)
}

/// A new password also clears the email's lockout.
fn set_password_hash(user_id: Uuid, hash: &str) {
    if let Some(email) = storage::set_password_hash(user_id, hash) {
        lockout::forgive(&email);
    }
}

pub(super) fn existing_user(email: &str) -> Result<Uuid, Failure> {
    storage::user_id_by_email(email).ok_or(AuthError::UserNotFound.into())
}

pub fn set_password(raw_email: &str, new_password: &str) -> Result<(), Failure> {
    let user_id = existing_user(&normalize_email(raw_email)?)?;
    set_password_hash(user_id, &new_password_hash(new_password)?);
    Ok(())
}

/// Returns a token whether or not the email has an account, so the outcome reveals nothing;
/// only a token issued for a real account is stored and can be redeemed. In import mode a legacy
/// user's profile moves over first, so someone who forgot the legacy password can still move. Known, legacy and
/// unknown emails do the same work: in import mode the legacy store is asked about local users too, and the
/// commit writes WAL whether a token was stored or not (`storage::create_reset_token`).
pub fn create_password_reset(raw_email: &str) -> Result<String, Failure> {
    let email = normalize_email(raw_email)?;
    let outcome = if storage::user_id_by_email(&email).is_some() {
        ask_legacy_store(&email)
    } else {
        migrate_profile(&email, "reset").map(drop)
    };
    match outcome {
        Ok(()) | Err(Failure::Auth(AuthError::DisabledInLegacyStore)) => {}
        Err(other) => return Err(other),
    }
    let issued = reset_token::issue();
    storage::create_reset_token(&email, issued.digest, settings::reset_token_ttl_secs());
    Ok(issued.token)
}

pub fn reset_password(token: &str, new_password: &str) -> Result<(), Failure> {
    // Policy first: a rejected new password must not burn the token.
    let hash = new_password_hash(new_password)?;
    let user_id = storage::consume_reset_token(reset_token::digest(token)).ok_or(AuthError::InvalidResetToken)?;
    set_password_hash(user_id, &hash);
    Ok(())
}

pub fn get_user(raw_email: &str) -> Result<Option<JsonB>, Failure> {
    Ok(storage::profile_by_email(&normalize_email(raw_email)?))
}

pub fn update_user_metadata(raw_email: &str, patch: JsonB) -> Result<JsonB, Failure> {
    require_object(&patch, "user_metadata")?;
    storage::merge_user_metadata(&normalize_email(raw_email)?, patch).ok_or(AuthError::UserNotFound.into())
}

pub fn update_app_metadata(raw_email: &str, patch: JsonB) -> Result<JsonB, Failure> {
    require_object(&patch, "app_metadata")?;
    storage::merge_app_metadata(&normalize_email(raw_email)?, patch).ok_or(AuthError::UserNotFound.into())
}

/// The new email must be free locally and, in import mode, in the legacy store.
pub fn change_email(raw_email: &str, raw_new_email: &str) -> Result<(), Failure> {
    let email = normalize_email(raw_email)?;
    let new_email = normalize_email(raw_new_email)?;
    if new_email == email {
        // Same address in another spelling: nothing to change, and it stays verified.
        return existing_user(&email).map(drop);
    }
    if storage::user_id_by_email(&new_email).is_some() {
        return Err(AuthError::Duplicate("email").into());
    }
    existing_user(&email)?;
    if exists_in_legacy_store(&new_email, "email_change")? {
        return Err(AuthError::ExistsInLegacyStore.into());
    }
    storage::change_email(&email, &new_email).map(drop).ok_or(AuthError::UserNotFound.into())
}

pub fn set_email_verified(raw_email: &str, verified: bool) -> Result<(), Failure> {
    storage::set_email_verified(&normalize_email(raw_email)?, verified).map(drop).ok_or(AuthError::UserNotFound.into())
}

pub fn delete_user(raw_email: &str) -> Result<bool, Failure> {
    Ok(storage::delete_user(&normalize_email(raw_email)?).is_some())
}

/// Admin: clears an email's failures and lock, whether or not it has a local user yet (a legacy user locks
/// before migrating).
pub fn unlock_user(raw_email: &str) -> Result<(), Failure> {
    lockout::forgive(&normalize_email(raw_email)?);
    Ok(())
}

/// Admin: this node's emails with failed attempts or a lock.
pub fn locked_users() -> Result<Vec<crate::domain::lockout::Entry>, Failure> {
    Ok(lockout::entries()?)
}

//! The account flows: domain decisions (`crate::domain`) joined to table access (`storage`).
//! Each function takes already-non-NULL arguments and returns typed errors; `auth_api` maps
//! them to SQL.

use crate::domain::email::normalize_email;
use crate::domain::error::AuthError;
use crate::domain::login::{self, LoginStatus, LoginStep, StoredCredentials};
use crate::domain::password::{argon2id, check_length_limit, check_new_password};
use crate::domain::reset_token;
use crate::pg::{settings, storage};
use pgrx::{JsonB, Uuid};

pub struct LoginResult {
    pub status: LoginStatus,
    pub user_id: Option<Uuid>,
    pub email: Option<String>,
    pub profile: Option<JsonB>,
}

/// The outcome of checking a password against the local store.
enum Verdict {
    Authenticated {
        user_id: Uuid,
        upgraded_hash: Option<String>,
    },
    Refused(LoginStatus),
}

/// Verifies `password` for `email` (already normalised), counting failures and applying lockout.
/// Wrong credentials are a result, not an error, so the failure count survives the caller's transaction.
fn verify_credentials(email: &str, password: &str) -> Result<Verdict, AuthError> {
    check_length_limit(password)?;
    let params = settings::argon2_params();
    let stored = storage::find_credentials(email);
    let facts = stored.as_ref().map(|c| StoredCredentials {
        password_hash: c.password_hash.as_deref(),
        password_format: c.password_format.as_deref(),
        locked: c.locked,
    });
    let verified = match login::plan(facts.as_ref()) {
        LoginStep::RefuseLocked => return Ok(Verdict::Refused(LoginStatus::Locked)),
        LoginStep::DummyVerify => {
            let _ = argon2id::verify_password(password, &argon2id::dummy_hash(params));
            false
        }
        LoginStep::VerifyArgon2id(phc) => argon2id::verify_password(password, phc).unwrap_or_else(|_| {
            let user_id = stored.as_ref().map(|c| c.user_id.to_string()).unwrap_or_default();
            pgrx::log!("pg_trickle: user {user_id} has an unreadable password hash; treated as a failed login");
            false
        }),
    };
    let Some(user) = stored.as_ref() else {
        return Ok(Verdict::Refused(LoginStatus::InvalidCredentials));
    };
    if verified {
        let upgraded_hash = match facts.as_ref().and_then(|f| f.password_hash) {
            Some(phc) if argon2id::needs_rehash(phc, params) => Some(argon2id::hash_password(password, params)),
            _ => None,
        };
        return Ok(Verdict::Authenticated {
            user_id: user.user_id,
            upgraded_hash,
        });
    }
    if !storage::transaction_is_read_only() {
        let failures = storage::record_login_failure(user.user_id);
        if settings::lockout_policy().locks_at(failures) {
            storage::lock_user(user.user_id, settings::lockout_duration_secs());
        }
    }
    Ok(Verdict::Refused(LoginStatus::InvalidCredentials))
}

pub fn login(raw_email: &str, password: &str) -> Result<LoginResult, AuthError> {
    let email = normalize_email(raw_email)?;
    match verify_credentials(&email, password)? {
        Verdict::Refused(status) => Ok(LoginResult {
            status,
            user_id: None,
            email: None,
            profile: None,
        }),
        Verdict::Authenticated { user_id, upgraded_hash } => {
            // On a standby or in a read-only transaction the login still succeeds; bookkeeping waits.
            let profile = if storage::transaction_is_read_only() {
                storage::profile_by_email(&email).expect("the user was just found")
            } else {
                storage::record_login_success(user_id, upgraded_hash.as_deref())
            };
            Ok(LoginResult {
                status: LoginStatus::Authenticated,
                user_id: Some(user_id),
                email: Some(email),
                profile: Some(profile),
            })
        }
    }
}

fn require_object(value: &JsonB, what: &'static str) -> Result<(), AuthError> {
    if value.0.is_object() {
        Ok(())
    } else {
        Err(AuthError::NotAnObject(what))
    }
}

fn new_password_hash(password: &str) -> Result<String, AuthError> {
    check_new_password(password, settings::password_min_length())?;
    Ok(argon2id::hash_password(password, settings::argon2_params()))
}

pub fn signup(raw_email: &str, password: &str, user_metadata: JsonB) -> Result<Uuid, AuthError> {
    let email = normalize_email(raw_email)?;
    require_object(&user_metadata, "user_metadata")?;
    check_new_password(password, settings::password_min_length())?;
    // Cheap check first, so a duplicate costs no hashing.
    if storage::user_id_by_email(&email).is_some() {
        return Err(AuthError::Duplicate("email"));
    }
    let hash = new_password_hash(password)?;
    storage::insert_native_user(&email, &hash, user_metadata).ok_or(AuthError::Duplicate("email"))
}

/// false: wrong old password, unknown user or locked account (counted like a failed login).
pub fn change_password(raw_email: &str, old_password: &str, new_password: &str) -> Result<bool, AuthError> {
    let email = normalize_email(raw_email)?;
    check_new_password(new_password, settings::password_min_length())?;
    match verify_credentials(&email, old_password)? {
        Verdict::Authenticated { user_id, .. } => {
            storage::set_password_hash(user_id, &new_password_hash(new_password)?);
            Ok(true)
        }
        Verdict::Refused(_) => Ok(false),
    }
}

fn existing_user(email: &str) -> Result<Uuid, AuthError> {
    storage::user_id_by_email(email).ok_or(AuthError::UserNotFound)
}

pub fn set_password(raw_email: &str, new_password: &str) -> Result<(), AuthError> {
    let user_id = existing_user(&normalize_email(raw_email)?)?;
    storage::set_password_hash(user_id, &new_password_hash(new_password)?);
    Ok(())
}

/// Returns a token whether or not the email has an account, so the outcome reveals nothing;
/// only a token issued for a real account is stored and can be redeemed.
pub fn create_password_reset(raw_email: &str) -> Result<String, AuthError> {
    let email = normalize_email(raw_email)?;
    let issued = reset_token::issue();
    storage::create_reset_token(&email, issued.digest, settings::reset_token_ttl_secs());
    Ok(issued.token)
}

pub fn reset_password(token: &str, new_password: &str) -> Result<(), AuthError> {
    // Policy first: a rejected new password must not burn the token.
    let hash = new_password_hash(new_password)?;
    let user_id = storage::consume_reset_token(reset_token::digest(token)).ok_or(AuthError::InvalidResetToken)?;
    storage::set_password_hash(user_id, &hash);
    Ok(())
}

pub fn get_user(raw_email: &str) -> Result<Option<JsonB>, AuthError> {
    Ok(storage::profile_by_email(&normalize_email(raw_email)?))
}

pub fn update_user_metadata(raw_email: &str, patch: JsonB) -> Result<JsonB, AuthError> {
    require_object(&patch, "user_metadata")?;
    storage::merge_user_metadata(&normalize_email(raw_email)?, patch).ok_or(AuthError::UserNotFound)
}

pub fn update_app_metadata(raw_email: &str, patch: JsonB) -> Result<JsonB, AuthError> {
    require_object(&patch, "app_metadata")?;
    storage::merge_app_metadata(&normalize_email(raw_email)?, patch).ok_or(AuthError::UserNotFound)
}

pub fn change_email(raw_email: &str, raw_new_email: &str) -> Result<(), AuthError> {
    let email = normalize_email(raw_email)?;
    let new_email = normalize_email(raw_new_email)?;
    if new_email == email {
        // Same address in another spelling: nothing to change, and it stays verified.
        return existing_user(&email).map(drop);
    }
    if storage::user_id_by_email(&new_email).is_some() {
        return Err(AuthError::Duplicate("email"));
    }
    storage::change_email(&email, &new_email)
        .map(drop)
        .ok_or(AuthError::UserNotFound)
}

pub fn set_email_verified(raw_email: &str, verified: bool) -> Result<(), AuthError> {
    storage::set_email_verified(&normalize_email(raw_email)?, verified)
        .map(drop)
        .ok_or(AuthError::UserNotFound)
}

pub fn delete_user(raw_email: &str) -> Result<bool, AuthError> {
    Ok(storage::delete_user(&normalize_email(raw_email)?).is_some())
}

pub fn unlock_user(raw_email: &str) -> Result<(), AuthError> {
    storage::unlock_user(&normalize_email(raw_email)?)
        .map(drop)
        .ok_or(AuthError::UserNotFound)
}

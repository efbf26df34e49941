//! Settings (GUCs) under `pg_trickle.*`. Every one is superuser-only (`Suset`): an application
//! role must not be able to weaken hashing or lockout for its own session.

use crate::domain::error::AuthError;
use crate::domain::legacy_hash::Budget;
use crate::domain::login::LockoutPolicy;
use crate::domain::password::argon2id::{self, Argon2Params};
use crate::domain::password::MAX_PASSWORD_BYTES;
use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};

static ARGON2_MEMORY_KIB: GucSetting<i32> = GucSetting::<i32>::new(19_456);
static ARGON2_ITERATIONS: GucSetting<i32> = GucSetting::<i32>::new(2);
static ARGON2_PARALLELISM: GucSetting<i32> = GucSetting::<i32>::new(1);
static PASSWORD_MIN_LENGTH: GucSetting<i32> = GucSetting::<i32>::new(8);
static LOCKOUT_THRESHOLD: GucSetting<i32> = GucSetting::<i32>::new(10);
static LOCKOUT_DURATION_S: GucSetting<i32> = GucSetting::<i32>::new(15 * 60);
static RESET_TOKEN_TTL_S: GucSetting<i32> = GucSetting::<i32>::new(60 * 60);
static REMIGRATE_DELETED_USERS: GucSetting<bool> = GucSetting::<bool>::new(true);
static EVENT_RETENTION_S: GucSetting<i32> = GucSetting::<i32>::new(90 * 24 * 3600);
static MAX_HASH_MEMORY_KIB: GucSetting<i32> = GucSetting::<i32>::new(256 * 1024);
static LEGACY_CALLS_PER_SECOND: GucSetting<i32> = GucSetting::<i32>::new(0);
static KEEP_HASH_MEMORY: GucSetting<bool> = GucSetting::<bool>::new(true);

fn as_i32((lo, hi): (u32, u32)) -> (i32, i32) {
    (lo as i32, hi as i32)
}

pub fn register() {
    let (m_lo, m_hi) = as_i32(argon2id::MEMORY_KIB_RANGE);
    let (t_lo, t_hi) = as_i32(argon2id::ITERATIONS_RANGE);
    let (p_lo, p_hi) = as_i32(argon2id::PARALLELISM_RANGE);
    GucRegistry::define_int_guc(
        c"pg_trickle.argon2_memory_kib",
        c"Argon2id memory cost (KiB) for new password hashes.",
        c"Hashes with other parameters are upgraded on the next successful login.",
        &ARGON2_MEMORY_KIB,
        m_lo,
        m_hi,
        GucContext::Suset,
        GucFlags::UNIT_KB,
    );
    GucRegistry::define_int_guc(
        c"pg_trickle.argon2_iterations",
        c"Argon2id time cost (passes) for new password hashes.",
        c"",
        &ARGON2_ITERATIONS,
        t_lo,
        t_hi,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"pg_trickle.argon2_parallelism",
        c"Argon2id lanes for new password hashes (computed on one thread).",
        c"",
        &ARGON2_PARALLELISM,
        p_lo,
        p_hi,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"pg_trickle.password_min_length",
        c"Minimum length, in characters, of a password being set.",
        c"Applies to signup, password change and reset; never to a legacy user's first login.",
        &PASSWORD_MIN_LENGTH,
        1,
        MAX_PASSWORD_BYTES as i32,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"pg_trickle.lockout_threshold",
        c"Consecutive failed logins that lock an account (0 disables lockout).",
        c"",
        &LOCKOUT_THRESHOLD,
        0,
        1_000_000,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"pg_trickle.lockout_duration",
        c"How long a locked account refuses logins.",
        c"",
        &LOCKOUT_DURATION_S,
        1,
        365 * 24 * 3600,
        GucContext::Suset,
        GucFlags::UNIT_S,
    );
    GucRegistry::define_int_guc(
        c"pg_trickle.reset_token_ttl",
        c"How long a password reset token stays valid.",
        c"",
        &RESET_TOKEN_TTL_S,
        60,
        7 * 24 * 3600,
        GucContext::Suset,
        GucFlags::UNIT_S,
    );
    GucRegistry::define_int_guc(
        c"pg_trickle.event_retention",
        c"How long auth.migration_events keeps an event (0 keeps them all).",
        c"Each new event removes up to 100 expired ones.",
        &EVENT_RETENTION_S,
        0,
        i32::MAX,
        GucContext::Suset,
        GucFlags::UNIT_S,
    );
    GucRegistry::define_int_guc(
        c"pg_trickle.max_hash_memory",
        c"Most memory one password verification may use (argon2, scrypt), imported and local hashes alike.",
        c"A hash that needs more is refused before any work: a failed login, or a rejection at import.",
        &MAX_HASH_MEMORY_KIB,
        8 * 1024,
        4 * 1024 * 1024,
        GucContext::Suset,
        GucFlags::UNIT_KB,
    );
    GucRegistry::define_int_guc(
        c"pg_trickle.legacy_calls_per_second",
        c"Most calls per second this node makes to a database's legacy store for applications (0: no limit).",
        c"Logins, signups, resets and email changes beyond it fail with 53400 instead of reaching the legacy store.",
        &LEGACY_CALLS_PER_SECOND,
        0,
        1_000_000,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"pg_trickle.keep_hash_memory",
        c"Whether a backend keeps argon2's working memory (up to 64 MiB) between password verifications.",
        c"On: each verification after the first reuses it (faster). Off: it goes back to the operating system after \
          each one, so idle backends hold none; size the server for connections × argon2 memory when on.",
        &KEEP_HASH_MEMORY,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"pg_trickle.remigrate_deleted_users",
        c"Whether a deleted migrated or imported user may be migrated again from the legacy store.",
        c"Off: the deletion leaves a tombstone (auth.deleted_users) and the legacy store cannot bring the user back.",
        &REMIGRATE_DELETED_USERS,
        GucContext::Suset,
        GucFlags::default(),
    );
}

pub fn event_retention_secs() -> i32 {
    EVENT_RETENTION_S.get()
}

pub fn remigrate_deleted_users() -> bool {
    REMIGRATE_DELETED_USERS.get()
}

/// The argon2id parameters for new hashes; refused (22023) when together they exceed the work bound or
/// pg_trickle.max_hash_memory, since such hashes could then not be verified.
pub fn argon2_params() -> Result<Argon2Params, AuthError> {
    let params = Argon2Params::new(
        ARGON2_MEMORY_KIB.get() as u32,
        ARGON2_ITERATIONS.get() as u32,
        ARGON2_PARALLELISM.get() as u32,
    )?;
    if u64::from(params.memory_kib) > hash_budget().max_memory_kib {
        return Err(AuthError::InvalidSetting(
            "pg_trickle.argon2_memory_kib is above pg_trickle.max_hash_memory".into(),
        ));
    }
    Ok(params)
}

/// What one verification may cost in memory.
pub fn hash_budget() -> Budget {
    Budget {
        max_memory_kib: MAX_HASH_MEMORY_KIB.get() as u64,
        keep_work_memory: KEEP_HASH_MEMORY.get(),
        interrupted: crate::pg::legacy::interrupt_pending,
    }
}

pub fn password_min_length() -> usize {
    PASSWORD_MIN_LENGTH.get() as usize
}

pub fn lockout_policy() -> LockoutPolicy {
    LockoutPolicy { threshold: LOCKOUT_THRESHOLD.get() as u32, duration_secs: LOCKOUT_DURATION_S.get() as u32 }
}

pub fn legacy_calls_per_second() -> u32 {
    LEGACY_CALLS_PER_SECOND.get() as u32
}

pub fn reset_token_ttl_secs() -> i32 {
    RESET_TOKEN_TTL_S.get()
}

/// What a bulk import's statements run with: no JIT compilation — each statement runs once, and compiling it
/// (about 0.8 s on the benchmark machine) costs more than it saves —; the work memory to group and join a file's
/// or a relation's rows without spilling to disk; and a small statistics sample for the staged rows' ANALYZE
/// (the batches' plans need row counts and the range of `n`, which 3,000 sampled rows give in a few ms).
const BULK_STATEMENT_SETTINGS: [(&std::ffi::CStr, &std::ffi::CStr); 3] =
    [(c"jit", c"off"), (c"work_mem", c"64MB"), (c"default_statistics_target", c"10")];

/// Runs `work` with `BULK_STATEMENT_SETTINGS`, as a function's `SET` clauses would: they come back on the way out,
/// and on an error the (sub)transaction's abort restores them.
pub fn for_bulk_statements<T>(work: impl FnOnce() -> T) -> T {
    // SAFETY: GUC calls on the backend's own thread, inside a transaction, paired as fmgr_security_definer pairs them.
    let level = unsafe { pgrx::pg_sys::NewGUCNestLevel() };
    for (name, value) in BULK_STATEMENT_SETTINGS {
        unsafe {
            pgrx::pg_sys::set_config_option(
                name.as_ptr(),
                value.as_ptr(),
                pgrx::pg_sys::GucContext::PGC_USERSET,
                pgrx::pg_sys::GucSource::PGC_S_SESSION,
                pgrx::pg_sys::GucAction::GUC_ACTION_SAVE,
                true,
                0,
                false,
            );
        }
    }
    let result = work();
    unsafe { pgrx::pg_sys::AtEOXact_GUC(true, level) };
    result
}

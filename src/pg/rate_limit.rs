//! The legacy-call rate limit (`crate::domain::rate_limit`) in shared memory: every backend of this node draws
//! from the same bucket per store, whatever its transaction does. Each node has its own buckets.

use crate::domain::error::AuthError;
use crate::domain::rate_limit::RateLimits;
use crate::pg::settings;
use crate::pg::shmem;
use pgrx::lwlock::PgLwLock;
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::shmem::PGRXSharedMemory;

// SAFETY: RateLimits is plain old data (integers), valid for any bit pattern.
unsafe impl PGRXSharedMemory for RateLimits {}

// SAFETY: the name is unique to pg_trickle; the lock is initialised by pg_shmem_init! in _PG_init.
static LIMITS: PgLwLock<RateLimits> = unsafe { PgLwLock::new(c"pg_trickle_rate_limits") };

/// From _PG_init, while pg_trickle is being preloaded: claims the shared memory.
pub fn init() {
    pgrx::pg_shmem_init!(LIMITS = RateLimits::EMPTY);
}

fn now_micros() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// Takes one call to this database's legacy store, or refuses (53400) when `pg_trickle.legacy_calls_per_second`
/// is reached on this node.
pub fn admit_legacy_call() -> Result<(), AuthError> {
    let per_second = settings::legacy_calls_per_second();
    if per_second == 0 {
        return Ok(());
    }
    if !shmem::available() {
        return Err(AuthError::RateLimitUnavailable);
    }
    // SAFETY: a backend-local global, set at connection. Each database has one store (its key).
    let store = u64::from(unsafe { pg_sys::MyDatabaseId }.to_u32());
    if LIMITS.exclusive().admit(store, per_second, now_micros()) {
        Ok(())
    } else {
        Err(AuthError::LegacyRateLimited { per_second })
    }
}

//! `auth.stats` counters in shared memory, so every backend adds to the same numbers and a failed
//! (rolled-back) login still counts. Shared memory exists only when pg_trickle is in
//! shared_preload_libraries; otherwise nothing is counted and `auth.stats()` says how to enable it.

use crate::domain::stats::{LoginStats, StatEvent};
use crate::pg::shmem;
use pgrx::lwlock::PgLwLock;
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::shmem::PGRXSharedMemory;

// SAFETY: LoginStats is plain old data (integers and an array of them), valid for any bit pattern.
unsafe impl PGRXSharedMemory for LoginStats {}

// SAFETY: the name is unique to pg_trickle; the lock is initialised by pg_shmem_init! in _PG_init.
static STATS: PgLwLock<LoginStats> = unsafe { PgLwLock::new(c"pg_trickle_login_stats") };

fn now_unix_micros() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// From _PG_init, while pg_trickle is being preloaded: claims the shared memory.
pub fn init() {
    pgrx::pg_shmem_init!(STATS = LoginStats::starting_at(now_unix_micros()));
}

pub fn record(event: StatEvent) {
    if shmem::available() {
        STATS.exclusive().record(event);
    }
}

pub fn snapshot() -> Option<LoginStats> {
    shmem::available().then(|| *STATS.share())
}

pub fn reset() -> bool {
    if shmem::available() {
        *STATS.exclusive() = LoginStats::starting_at(now_unix_micros());
    }
    shmem::available()
}

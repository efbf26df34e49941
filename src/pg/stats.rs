//! `auth.stats` counters in shared memory, so every backend adds to the same numbers and a failed
//! (rolled-back) login still counts. Shared memory exists only when pg_trickle is in
//! shared_preload_libraries; otherwise nothing is counted and `auth.stats()` says how to enable it.

use crate::domain::stats::{LoginStats, StatEvent};
use crate::domain::store_stats::{StoreCounters, StoreEvent, StoreStatsTable};
use crate::pg::shmem;
use pgrx::lwlock::PgLwLock;
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::shmem::PGRXSharedMemory;

// SAFETY: LoginStats is plain old data (integers and an array of them), valid for any bit pattern.
unsafe impl PGRXSharedMemory for LoginStats {}

// SAFETY: StoreStatsTable is plain old data (integers and byte arrays), valid for any bit pattern.
unsafe impl PGRXSharedMemory for StoreStatsTable {}

// SAFETY: the names are unique to pg_trickle; the locks are initialised by pg_shmem_init! in _PG_init.
static STATS: PgLwLock<LoginStats> = unsafe { PgLwLock::new(c"pg_trickle_login_stats") };
static STORE_STATS: PgLwLock<StoreStatsTable> = unsafe { PgLwLock::new(c"pg_trickle_store_stats") };

fn now_unix_micros() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// From _PG_init, while pg_trickle is being preloaded: claims the shared memory.
pub fn init() {
    pgrx::pg_shmem_init!(STATS = LoginStats::starting_at(now_unix_micros()));
    pgrx::pg_shmem_init!(STORE_STATS);
}

fn database() -> u32 {
    // SAFETY: a plain read of a backend global, set once the backend has connected to its database.
    unsafe { pg_sys::MyDatabaseId }.to_u32()
}

/// Counts an event of one legacy store of this database.
pub fn record_store(store: &str, event: StoreEvent) {
    if shmem::available() {
        STORE_STATS.exclusive().record(database(), store, event);
    }
}

/// This database's stores' counters, by name.
pub fn store_snapshot() -> Option<Vec<(String, StoreCounters)>> {
    shmem::available().then(|| STORE_STATS.share().of_database(database()))
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
        *STORE_STATS.exclusive() = StoreStatsTable::default();
    }
    shmem::available()
}

//! The lockout table (`crate::domain::lockout`) in shared memory.
//!
//! Shared memory is outside every transaction: a failed attempt counts whatever the caller's transaction does
//! (ROLLBACK, READ ONLY) and on a hot standby, where nothing can be written. Each node has its own table. The
//! keeper (`crate::pg::keeper`) writes it beside the data every few seconds and when the server stops, and reads it
//! back when the server starts: a clean restart keeps every count and lock, a crash loses what changed since the
//! last write.
//!
//! Without `shared_preload_libraries = 'pg_trickle'` there is no shared memory: logins are then refused (55000)
//! while `pg_trickle.lockout_threshold` is above 0, rather than run without brute-force protection.

use crate::domain::error::AuthError;
use crate::domain::lockout::{Admission, Entry, LockoutTable};
use crate::pg::settings;
use crate::pg::shmem;
use pgrx::lwlock::PgLwLock;
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::shmem::PGRXSharedMemory;
use std::time::Duration;

// SAFETY: LockoutTable is plain old data (integers and byte arrays), valid for any bit pattern.
unsafe impl PGRXSharedMemory for LockoutTable {}

// SAFETY: the name is unique to pg_trickle; the lock is initialised by pg_shmem_init! in _PG_init.
static LOCKOUTS: PgLwLock<LockoutTable> = unsafe { PgLwLock::new(c"pg_trickle_lockouts") };

/// From _PG_init, while pg_trickle is being preloaded: claims the shared memory.
pub fn init() {
    pgrx::pg_shmem_init!(LOCKOUTS = LockoutTable::EMPTY);
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Each database is a user store of its own: its oid goes in front of the email.
fn identifier(email: &str) -> String {
    // SAFETY: a backend-local global, set at connection.
    format!("{}/{email}", unsafe { pg_sys::MyDatabaseId }.to_u32())
}

/// What a login may do: verify (holding a reservation), or answer `locked` without verifying.
pub enum Gate {
    Open(Reservation),
    Locked,
}

/// An attempt reserved in the table until it is reported; dropped unreported (an error, a cancel), it is
/// released and counts neither way.
pub struct Reservation {
    /// None while lockout is off.
    identifier: Option<String>,
}

impl Reservation {
    pub fn failed(mut self) {
        if let Some(id) = self.identifier.take() {
            LOCKOUTS.exclusive().failed(&id, settings::lockout_policy(), now());
        }
    }

    pub fn succeeded(mut self) {
        if let Some(id) = self.identifier.take() {
            LOCKOUTS.exclusive().succeeded(&id);
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(id) = self.identifier.take() {
            LOCKOUTS.exclusive().released(&id);
        }
    }
}

/// How long an attempt waits for attempts of the same email in flight before it is answered `locked`.
const MAX_WAIT: Duration = Duration::from_secs(10);

/// Reserves a login attempt for `email` (normalised) before its password is verified.
pub fn attempt(email: &str) -> Result<Gate, AuthError> {
    let policy = settings::lockout_policy();
    if policy.threshold == 0 {
        return Ok(Gate::Open(Reservation { identifier: None }));
    }
    if !shmem::available() {
        return Err(AuthError::LockoutUnavailable);
    }
    let id = identifier(email);
    let deadline = std::time::Instant::now() + MAX_WAIT;
    loop {
        match LOCKOUTS.exclusive().attempt(&id, policy, now()) {
            Admission::Verify => return Ok(Gate::Open(Reservation { identifier: Some(id) })),
            Admission::Locked { .. } => return Ok(Gate::Locked),
            Admission::Wait if std::time::Instant::now() >= deadline => return Ok(Gate::Locked),
            Admission::Wait => {
                std::thread::sleep(Duration::from_millis(2));
                crate::pg::legacy::raise_interrupt();
            }
        }
    }
}

/// A new password or an admin's unlock: the email's failures and lock are forgotten.
pub fn forgive(email: &str) {
    if shmem::available() {
        LOCKOUTS.exclusive().forgive(&identifier(email));
    }
}

/// Emails of this database with failures or a lock on this node.
pub fn entries() -> Result<Vec<Entry>, AuthError> {
    if !shmem::available() {
        return Err(AuthError::LockoutUnavailable);
    }
    let prefix = identifier("");
    let mine = LOCKOUTS.share().entries(now()).into_iter().filter_map(|e| {
        let email = e.identifier.strip_prefix(&prefix)?.to_string();
        Some(Entry { identifier: email, ..e })
    });
    Ok(mine.collect())
}

/// The table as the keeper saves it: (identifier, failures, locked until).
pub fn export() -> Vec<(String, u32, i64)> {
    LOCKOUTS.share().export()
}

pub fn import(rows: &[(String, u32, i64)]) {
    LOCKOUTS.exclusive().import(rows, now());
}

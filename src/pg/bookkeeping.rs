//! Success bookkeeping outside the caller's transaction: a successful login leaves its `last_login_at` in shared
//! memory (`crate::domain::login_marks`) instead of updating `auth.users`, so it takes no transaction id, writes no
//! WAL and waits for no commit flush. The keeper (`crate::pg::keeper`) starts a short-lived writer for each
//! database with marks every second; marks left when the server stops are saved beside the data and written after
//! the next start. A crash loses the marks of the last second. On a hot standby there is nothing to write to:
//! its logins are not marked.

use crate::domain::login_marks::{LoginMarks, Mark};
use crate::pg::shmem;
use crate::pg::storage;
use pgrx::bgworkers::{
    BackgroundWorker, BackgroundWorkerBuilder, BackgroundWorkerStatus, BgWorkerStartTime, DynamicBackgroundWorker,
    SignalWakeFlags,
};
use pgrx::lwlock::PgLwLock;
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::shmem::PGRXSharedMemory;
use std::collections::HashMap;

// SAFETY: LoginMarks is plain old data (integers and byte arrays), valid for any bit pattern.
unsafe impl PGRXSharedMemory for LoginMarks {}

// SAFETY: the name is unique to pg_trickle; the lock is initialised by pg_shmem_init! in _PG_init.
static MARKS: PgLwLock<LoginMarks> = unsafe { PgLwLock::new(c"pg_trickle_login_marks") };

/// From _PG_init, while pg_trickle is being preloaded: claims the shared memory.
pub fn init() {
    pgrx::pg_shmem_init!(MARKS = LoginMarks::EMPTY);
}

fn now_micros() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// What became of a successful login's `last_login_at`.
pub enum Marked {
    /// Kept for the keeper, or nothing to keep (a standby).
    Done,
    /// No room (or no shared memory): the caller writes it itself where it can.
    WriteItNow,
}

pub fn mark_login(user: pgrx::Uuid) -> Marked {
    // SAFETY: a plain read of backend state on the backend's own thread.
    if unsafe { pg_sys::RecoveryInProgress() } {
        return Marked::Done;
    }
    if !shmem::available() {
        return Marked::WriteItNow;
    }
    // SAFETY: a backend-local global, set at connection.
    let database = unsafe { pg_sys::MyDatabaseId }.to_u32();
    if MARKS.exclusive().mark(database, *user.as_bytes(), now_micros()) {
        Marked::Done
    } else {
        Marked::WriteItNow
    }
}

/// The writers the keeper has started, by database: a database gets a new one only once its last one is done.
#[derive(Default)]
pub struct Writers(HashMap<u32, DynamicBackgroundWorker>);

/// Keeper: starts a short-lived writer for each database with marks, unless one is still at work there. Never
/// waits for them: the keeper's other work (saving the lockout table) must go on whatever a writer meets.
pub fn write_marks(writers: &mut Writers) {
    // SAFETY: a plain read of shared state; a promoted standby starts writing at the next round.
    if unsafe { pg_sys::RecoveryInProgress() } {
        return;
    }
    writers.0.retain(|_, writer| matches!(writer.pid(), Ok(_) | Err(BackgroundWorkerStatus::NotYetStarted)));
    let mut databases = MARKS.share().databases();
    databases.retain(|d| !writers.0.contains_key(d));
    for database in databases {
        let writer = BackgroundWorkerBuilder::new("pg_trickle login writer")
            .set_library("pg_trickle")
            .set_function("pg_trickle_login_writer")
            .set_argument(Some(pg_sys::Datum::from(database)))
            .enable_spi_access()
            .set_start_time(BgWorkerStartTime::RecoveryFinished)
            .set_restart_time(None)
            .load_dynamic();
        match writer {
            Ok(writer) => {
                writers.0.insert(database, writer);
            }
            // No free worker slot (max_worker_processes): the marks wait for the next round.
            Err(_) => break,
        }
    }
}

pub fn export() -> Vec<Mark> {
    MARKS.share().export()
}

pub fn import(marks: &[Mark]) {
    let mut table = MARKS.exclusive();
    for mark in marks.iter().filter(|m| m.database != 0) {
        table.mark(mark.database, mark.user, mark.at);
    }
}

/// The writer: takes the marks of the database in its argument, connects to it and writes them in one
/// transaction. If the database is gone, its marks go with the failed connection; if the write fails (a lock
/// timeout), they are marked again for the next round.
#[pg_guard]
#[unsafe(no_mangle)]
pub extern "C-unwind" fn pg_trickle_login_writer(arg: pg_sys::Datum) {
    BackgroundWorker::attach_signal_handlers(SignalWakeFlags::SIGTERM);
    let database = pg_sys::Oid::from(arg.value() as u32);
    let marks = MARKS.exclusive().take(database.to_u32());
    if marks.is_empty() {
        return;
    }
    BackgroundWorker::connect_worker_to_spi_by_oid(Some(database), None);
    let users: Vec<pgrx::Uuid> = marks.iter().map(|m| pgrx::Uuid::from_bytes(m.user)).collect();
    let times: Vec<i64> = marks.iter().map(|m| m.at).collect();
    PgTryBuilder::new(|| BackgroundWorker::transaction(|| storage::write_last_logins(users, times)))
        .catch_others(|caught| {
            import(&marks);
            caught.rethrow()
        })
        .execute();
}

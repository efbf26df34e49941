//! The keeper: one background worker (started with the server when pg_trickle is preloaded) that keeps pg_trickle's
//! shared memory across restarts and writes what it holds for the databases. Every second it has the waiting
//! `last_login_at` marks written (`crate::pg::bookkeeping`); every five seconds, and when the server stops, it saves
//! the lockout table and the marks beside the data; when the server starts it reads them back. A crash loses at
//! most five seconds of lockout changes and one second of last-login times.

use crate::domain::login_marks::Mark;
use crate::pg::{bookkeeping, lockout};
use pgrx::bgworkers::{BackgroundWorker, BackgroundWorkerBuilder, BgWorkerStartTime, SignalWakeFlags};
use pgrx::pg_sys;
use pgrx::prelude::*;
use std::path::PathBuf;
use std::time::Duration;

const TICK: Duration = Duration::from_secs(1);
/// Lockout saves happen every this many ticks.
const TICKS_PER_SAVE: u32 = 5;
const LOCKOUT_FILE: &str = "pg_trickle_lockouts.json";
const MARKS_FILE: &str = "pg_trickle_login_marks.json";

/// From _PG_init, while pg_trickle is being preloaded: registers the keeper.
pub fn init() {
    BackgroundWorkerBuilder::new("pg_trickle keeper")
        .set_library("pg_trickle")
        .set_function("pg_trickle_keeper")
        .enable_shmem_access(None)
        .set_start_time(BgWorkerStartTime::PostmasterStart)
        .set_restart_time(Some(Duration::from_secs(1)))
        .load();
}

fn state_path(file: &str) -> PathBuf {
    // SAFETY: DataDir is set before any worker starts and never changes.
    let data_dir = unsafe { std::ffi::CStr::from_ptr(pg_sys::DataDir) };
    std::path::Path::new(&*data_dir.to_string_lossy()).join(file)
}

/// Writes `value` beside the data (a temporary file renamed over the last one: never half a file).
fn save(file: &str, value: serde_json::Result<Vec<u8>>) {
    let path = state_path(file);
    let tmp = path.with_extension("json.tmp");
    let written = value
        .map_err(std::io::Error::other)
        .and_then(|bytes| std::fs::write(&tmp, bytes))
        .and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(err) = written {
        pgrx::warning!("pg_trickle: cannot save {}: {err}", path.display());
    }
}

fn restore<T>(file: &str, parse: impl FnOnce(&[u8]) -> serde_json::Result<T>) -> Option<T> {
    let path = state_path(file);
    let bytes = std::fs::read(&path).ok()?;
    let value = parse(&bytes);
    if value.is_err() {
        pgrx::warning!("pg_trickle: ignoring an unreadable {}", path.display());
    }
    value.ok()
}

fn save_all() {
    save(LOCKOUT_FILE, serde_json::to_vec(&lockout::export()));
    let marks: Vec<(u32, [u8; 16], i64)> = bookkeeping::export().iter().map(|m| (m.database, m.user, m.at)).collect();
    save(MARKS_FILE, serde_json::to_vec(&marks));
}

#[pg_guard]
#[unsafe(no_mangle)]
pub extern "C-unwind" fn pg_trickle_keeper(_arg: pg_sys::Datum) {
    BackgroundWorker::attach_signal_handlers(SignalWakeFlags::SIGHUP | SignalWakeFlags::SIGTERM);
    if let Some(rows) = restore(LOCKOUT_FILE, |b| serde_json::from_slice::<Vec<(String, u32, i64)>>(b)) {
        lockout::import(&rows);
    }
    if let Some(marks) = restore(MARKS_FILE, |b| serde_json::from_slice::<Vec<(u32, [u8; 16], i64)>>(b)) {
        let marks: Vec<Mark> = marks.into_iter().map(|(database, user, at)| Mark { database, user, at }).collect();
        bookkeeping::import(&marks);
    }
    let mut ticks = 0u32;
    let mut writers = bookkeeping::Writers::default();
    while BackgroundWorker::wait_latch(Some(TICK)) {
        bookkeeping::write_marks(&mut writers);
        ticks += 1;
        if ticks.is_multiple_of(TICKS_PER_SAVE) {
            save_all();
        }
    }
    save_all();
}

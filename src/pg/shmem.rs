//! Whether pg_trickle's shared memory exists. It is claimed in `_PG_init` only while the library is being
//! preloaded (`shared_preload_libraries`): the lockout table, the legacy-call buckets, the last-login marks and the
//! counters, all together. Forked backends inherit the answer.

use pgrx::pg_sys;
use std::sync::atomic::{AtomicBool, Ordering};

static CLAIMED: AtomicBool = AtomicBool::new(false);

/// True in `_PG_init` while PostgreSQL loads its preload libraries: the only time shared memory can be claimed.
pub fn preloading() -> bool {
    // SAFETY: a plain read of a global PostgreSQL sets before loading preload libraries.
    unsafe { pg_sys::process_shared_preload_libraries_in_progress }
}

/// From `_PG_init`, once every module has claimed its part.
pub fn claimed() {
    CLAIMED.store(true, Ordering::Relaxed);
}

pub fn available() -> bool {
    CLAIMED.load(Ordering::Relaxed)
}

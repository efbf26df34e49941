//! Whose rights pg_trickle's code runs with.
//!
//! Functions that read a relation their caller names (bulk import, the FDW store's configuration) run
//! SECURITY INVOKER, so the caller is known, and take the extension owner's rights only for pg_trickle's own
//! tables. A legacy relation is never read with the owner's rights: it is read as its *reader* — the role the
//! configuring admin chose and could already read it as, never a superuser — inside a security-restricted
//! operation, the way PostgreSQL runs code it must not trust (REFRESH MATERIALIZED VIEW, ANALYZE of index
//! expressions): code in a view then cannot change roles or settings, or create temporary objects.

use pgrx::pg_sys::{self, Oid};
use pgrx::PgTryBuilder;
use std::panic::AssertUnwindSafe;

/// The role running the current SQL function (the caller, in a SECURITY INVOKER function).
pub fn current_role() -> Oid {
    // SAFETY: reads a backend-local global on the backend's own thread.
    unsafe { pg_sys::GetUserId() }
}

pub fn is_superuser(role: Oid) -> bool {
    // SAFETY: a catalog look-up on the backend's own thread, inside a transaction.
    unsafe { pg_sys::superuser_arg(role) }
}

/// Runs `work` as `role`; `restricted` adds SECURITY_RESTRICTED_OPERATION, with setting changes made meanwhile
/// undone. The previous user and context come back on the way out, error or not.
fn run_as<T>(role: Oid, restricted: bool, work: impl FnOnce() -> T) -> T {
    let (mut saved_role, mut saved_context) = (Oid::INVALID, 0);
    // SAFETY: backend-local globals, read and set on the backend's own thread, as fmgr_security_definer does.
    unsafe { pg_sys::GetUserIdAndSecContext(&mut saved_role, &mut saved_context) };
    let mut context = saved_context | pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32;
    if restricted {
        context |= pg_sys::SECURITY_RESTRICTED_OPERATION as i32;
    }
    unsafe { pg_sys::SetUserIdAndSecContext(role, context) };
    let guc_level = if restricted { unsafe { pg_sys::NewGUCNestLevel() } } else { 0 };
    PgTryBuilder::new(AssertUnwindSafe(|| {
        let result = work();
        if restricted {
            // On an error the transaction's (or subtransaction's) abort undoes them instead.
            unsafe { pg_sys::AtEOXact_GUC(false, guc_level) };
        }
        result
    }))
    .finally(|| unsafe { pg_sys::SetUserIdAndSecContext(saved_role, saved_context) })
    .execute()
}

/// The extension owner's rights, for pg_trickle's own tables, inside a SECURITY INVOKER function.
pub fn as_owner<T>(owner: Oid, work: impl FnOnce() -> T) -> T {
    run_as(owner, false, work)
}

/// A legacy relation's reader's rights, in a security-restricted operation.
pub fn as_reader<T>(reader: Oid, work: impl FnOnce() -> T) -> T {
    run_as(reader, true, work)
}

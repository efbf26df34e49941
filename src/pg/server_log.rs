//! The lines pg_trickle writes to the server log. LOG ranks above `log_min_error_statement`'s default (ERROR), so
//! PostgreSQL would print the statement after each such line — with any password or secret the caller wrote into it
//! as a literal (`auth.configure_http_store(…, provider_secret => '…')` typed in psql). Every line here hides it.

use pgrx::pg_sys;
use std::ffi::{c_char, c_int, CString};

unsafe extern "C-unwind" {
    fn errstart(elevel: c_int, domain: *const c_char) -> bool;
    fn errfinish(filename: *const c_char, lineno: c_int, funcname: *const c_char);
}

/// Writes `message` to the server log (never to the client) without the statement that led to it.
pub fn log(message: &str) {
    let text = CString::new(message.replace('\0', "")).expect("NULs removed");
    // SAFETY: the ereport protocol (errstart, message, errfinish) at LOG, which returns; the format is a literal "%s"
    // and its argument a NUL-terminated string that outlives the call.
    unsafe {
        if errstart(pg_sys::LOG_SERVER_ONLY as c_int, std::ptr::null()) {
            pg_sys::errmsg_internal(c"%s".as_ptr(), text.as_ptr());
            pg_sys::errhidestmt(true);
            errfinish(c"pg_trickle".as_ptr(), 0, std::ptr::null());
        }
    }
}

//! A subtransaction around work that may fail on one bad row, as PL/pgSQL's `EXCEPTION` block makes one: its
//! writes stay if it succeeds; on a data exception (SQLSTATE class 22: a value the server cannot read, such as
//! MySQL's zero date through mysql_fdw) they are rolled back and the transaction goes on. Every other error —
//! a cancel, a privilege or connection failure — still ends the transaction.

use pgrx::pg_sys::errcodes::PgSqlErrorCode;
use pgrx::pg_sys::panic::CaughtError;
use pgrx::{pg_sys, PgTryBuilder};
use std::panic::AssertUnwindSafe;

/// The five-character SQLSTATE of a data exception that was rolled back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataException(pub String);

pub fn rolled_back_on_data_exception<T>(work: impl FnOnce() -> T) -> Result<T, DataException> {
    // SAFETY: backend-local globals on the backend's own thread, saved and restored as PL/Python's
    // subtransactions do (BeginInternalSubTransaction switches both).
    let (context, owner) = unsafe { (pg_sys::CurrentMemoryContext, pg_sys::CurrentResourceOwner) };
    let restore = move || unsafe {
        pg_sys::MemoryContextSwitchTo(context);
        pg_sys::CurrentResourceOwner = owner;
    };
    unsafe { pg_sys::BeginInternalSubTransaction(std::ptr::null()) };
    // The work runs under the subtransaction's resource owner, so that its abort releases what the work held;
    // only the memory context goes back at once.
    unsafe { pg_sys::MemoryContextSwitchTo(context) };
    PgTryBuilder::new(AssertUnwindSafe(|| {
        let result = work();
        unsafe { pg_sys::ReleaseCurrentSubTransaction() };
        restore();
        Ok(result)
    }))
    .catch_others(|caught| {
        unsafe { pg_sys::RollbackAndReleaseCurrentSubTransaction() };
        restore();
        match &caught {
            CaughtError::PostgresError(report) if is_data_exception(report.sql_error_code()) => {
                Err(DataException(sqlstate_text(report.sql_error_code())))
            }
            _ => caught.rethrow(),
        }
    })
    .execute()
}

fn is_data_exception(code: PgSqlErrorCode) -> bool {
    // ERRCODE_TO_CATEGORY: the class is the low 12 bits of the packed SQLSTATE.
    code as isize & 0xFFF == PgSqlErrorCode::ERRCODE_DATA_EXCEPTION as isize & 0xFFF
}

/// PGUNSIXBIT: the packed SQLSTATE back into its five characters.
fn sqlstate_text(code: PgSqlErrorCode) -> String {
    let packed = code as u32;
    (0..5).map(|i| char::from((((packed >> (6 * i)) & 0x3F) as u8) + b'0')).collect()
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::*;
    use pgrx::prelude::*;

    #[pg_test]
    fn a_data_exception_is_rolled_back_and_the_transaction_goes_on() {
        Spi::run("CREATE TEMP TABLE sub_t (v text)").unwrap();
        let failed = rolled_back_on_data_exception(|| {
            Spi::run("INSERT INTO sub_t VALUES ('written, then rolled back')").unwrap();
            Spi::get_one::<pgrx::datum::Timestamp>("SELECT '0000-00-00 00:00:00'::timestamp").unwrap()
        });
        assert_eq!(failed.err(), Some(DataException("22008".into())));
        let kept = rolled_back_on_data_exception(|| Spi::run("INSERT INTO sub_t VALUES ('kept')").unwrap());
        assert!(kept.is_ok());
        assert_eq!(Spi::get_one::<String>("SELECT string_agg(v, ',') FROM sub_t").unwrap(), Some("kept".into()));
    }

    #[pg_test(error = "permission denied to create role")]
    fn other_errors_still_end_the_transaction() {
        Spi::run("CREATE ROLE sub_nobody NOLOGIN").unwrap();
        Spi::run("SET ROLE sub_nobody").unwrap();
        let _ = rolled_back_on_data_exception(|| Spi::run("CREATE ROLE sub_other").unwrap());
    }
}

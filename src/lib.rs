//! pg_trickle: trickle (lazy) migration of users from a legacy user store into PostgreSQL.
//!
//! - `domain`: the pure core (no PostgreSQL): email rules, password hashing, login decisions;
//! - `pg`: the thin SQL surface (schema `auth`), storage, settings and SQLSTATE mapping.

use pgrx::prelude::*;

pub mod domain;
pub mod legacy_store;
pub mod pg;

::pgrx::pg_module_magic!(name, version);

pgrx::extension_sql_file!("../sql/schema.sql", name = "schema", bootstrap);
pgrx::extension_sql_file!("../sql/privileges.sql", name = "privileges", finalize);

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    pg::settings::register();
    if pg::shmem::preloading() {
        pg::stats::init();
        pg::lockout::init();
        pg::rate_limit::init();
        pg::bookkeeping::init();
        pg::keeper::init();
        pg::shmem::claimed();
    }
}

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        // Lockout lives in shared memory: without preloading, logins are refused.
        vec!["shared_preload_libraries = 'pg_trickle'"]
    }
}

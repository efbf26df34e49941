//! The thin SQL surface: everything that touches PostgreSQL lives below `pg`.
//!
//! - `auth_api`: the SQL functions (schema `auth`), argument checks only;
//! - `flows/`: the flows (login, account, migration, import, operations) joining domain decisions to storage;
//! - `storage`: the only module that runs SQL (text in `sql/queries/`);
//! - `sqlstate`: the only place typed errors become SQLSTATEs;
//! - `settings`: the `pg_trickle.*` GUCs;
//! - `privilege`: whose rights code runs with (the owner, a legacy relation's reader);
//! - `lockout`, `rate_limit`, `bookkeeping`, `stats`: shared memory (failed attempts and locks; legacy calls per
//!   second; last logins waiting to be written; counters), outside every transaction; `keeper` the background
//!   worker that saves them across restarts and has the last logins written; `shmem` whether they exist;
//! - `json_argument`: jsonb arguments that serde_json may fail to read;
//! - `subtransaction`: work rolled back alone when one bad row raises a data exception.

pub mod auth_api;
pub mod bookkeeping;
pub mod flows;
pub mod json_argument;
pub mod keeper;
pub mod legacy;
pub mod lockout;
pub mod privilege;
pub mod rate_limit;
pub mod server_log;
pub mod settings;
pub mod shmem;
pub mod sqlstate;
pub mod stats;
pub mod storage;
pub mod subtransaction;

//! The thin SQL surface: everything that touches PostgreSQL lives below `pg`.
//!
//! - `auth_api`: the SQL functions (schema `auth`), argument checks only;
//! - `flows/`: the flows (login, account, migration, import, operations) joining domain decisions to storage;
//! - `storage`: the only module that runs SQL (text in `sql/queries/`);
//! - `sqlstate`: the only place typed errors become SQLSTATEs;
//! - `settings`: the `pg_trickle.*` GUCs;
//! - `privilege`: whose rights code runs with (the owner, a legacy relation's reader);
//! - `lockout`, `rate_limit`, `stats`: shared memory (failed attempts and locks; legacy calls per second;
//!   counters), outside every transaction;
//! - `json_argument`: jsonb arguments that serde_json may fail to read.

pub mod auth_api;
pub mod flows;
pub mod json_argument;
pub mod legacy;
pub mod lockout;
pub mod privilege;
pub mod rate_limit;
pub mod settings;
pub mod sqlstate;
pub mod stats;
pub mod storage;

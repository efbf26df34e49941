//! The HTTP adapter: configuration (validated before it is stored) and the client.

pub mod client;
pub mod config;

pub use client::HttpStore;
pub use config::{Contract, HttpAuth, HttpStoreConfig};

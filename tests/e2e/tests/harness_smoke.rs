//! The harness itself: the cluster, the legacy HTTP store and the legacy database are real.

use pg_trickle_e2e::{LegacyDb, LegacyHttpStore, TestDb};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;

fn http_get(base_url: &str, path: &str) -> String {
    let addr = base_url.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn extension_is_installed_and_reports_its_version() {
    let db = TestDb::new("smoke");
    let version: String = db.superuser().query_one("SELECT auth.version()", &[]).unwrap().get(0);
    assert!(!version.is_empty());
}

#[test]
fn legacy_http_store_answers_on_loopback() {
    let store = LegacyHttpStore::start(&json!([
        {"user_id": "42", "email": "ada@legacy.test", "password": "analytical", "name": "Ada"}
    ]));
    assert!(store.base_url.starts_with("http://127.0.0.1:"));
    let health = http_get(&store.base_url, "/health");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let found = http_get(&store.base_url, "/users?email=ADA%40legacy.test");
    assert!(found.starts_with("HTTP/1.1 200") && found.contains("\"user_id\":\"42\""), "{found}");
    assert!(!found.contains("analytical"), "the store must not return passwords");
    let missing = http_get(&store.base_url, "/users?email=nobody%40legacy.test");
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
}

#[test]
fn legacy_database_is_reachable_through_postgres_fdw() {
    let legacy = LegacyDb::create(
        "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, password_hash text);
         INSERT INTO users VALUES (1, 'grace@legacy.test', '$2y$10$abcdefghijklmnopqrstuu'), (2, 'alan@legacy.test', NULL);",
    );
    let db = TestDb::new("fdw_smoke");
    legacy.attach_to(&db);
    let mut su = db.superuser();
    let rows = su.query("SELECT email FROM legacy.users ORDER BY id", &[]).unwrap();
    let emails: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(emails, ["grace@legacy.test", "alan@legacy.test"]);
    let server: String = su
        .query_one("SELECT srvname::text FROM pg_foreign_server WHERE srvname = 'legacy_server'", &[])
        .unwrap()
        .get(0);
    assert_eq!(server, "legacy_server");
}

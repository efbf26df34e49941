//! migration-bench: first-login (migration) latency through `auth.login`, next to the legacy store's own
//! login round trip and the bare hash, both measured in the same run. Used by `make bench`.
//!
//! Usage: migration-bench PORT DBNAME STORE_URL FIRST LAST CLIENTS HASH PASSWORD
//! Expects DBNAME to have pg_trickle in import mode against STORE_URL, whose users are
//! `migrate{i}@legacy.test` with password `legacy-password-{i}`. Of users FIRST..=LAST it uses the first
//! half for the store round trip and the second half for migrations, shared among CLIENTS connections; each
//! connection alternates a migration with `auth.verify_legacy_hash(PASSWORD, HASH)` (an argon2id hash of the
//! migrated users' parameters: the hash a migration makes), so that the machine's drift falls on both alike.
//! Prints `key=value` lines (ms).

use postgres::{Client, NoTls};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// One keep-alive HTTP/1.1 connection, the cheapest way to ask the store: a strict baseline.
struct StoreConnection {
    reader: BufReader<TcpStream>,
    host: String,
}

impl StoreConnection {
    fn open(base_url: &str) -> Self {
        let host = base_url.strip_prefix("http://").expect("http URL").trim_end_matches('/').to_string();
        let stream = TcpStream::connect(&host).expect("connect to the store");
        stream.set_nodelay(true).expect("nodelay");
        StoreConnection { reader: BufReader::new(stream), host }
    }

    fn login(&mut self, email: &str, password: &str) -> u16 {
        let body = serde_json::json!({"email": email, "password": password}).to_string();
        let request = format!(
            "POST /login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        );
        self.reader.get_mut().write_all(request.as_bytes()).expect("send");
        let mut status_line = String::new();
        self.reader.read_line(&mut status_line).expect("status line");
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).expect("header");
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().expect("content length");
                }
            }
        }
        let mut body = vec![0u8; length];
        self.reader.read_exact(&mut body).expect("body");
        status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status")
    }
}

/// One client's migrations of `users` and, alternating with them, bare verifications: their latencies (ms).
fn migrate_alternating(
    port: &str,
    dbname: &str,
    users: Vec<usize>,
    hash: &str,
    password: &str,
) -> (Vec<f64>, Vec<f64>) {
    let mut db = Client::connect(&format!("host=127.0.0.1 port={port} user=postgres dbname={dbname}"), NoTls)
        .expect("connect to the bench database");
    let login = db.prepare("SELECT status FROM auth.login($1, $2)").expect("prepare");
    let verify = db.prepare("SELECT auth.verify_legacy_hash($1, $2)").expect("prepare");
    let (mut migrations, mut bare) = (vec![], vec![]);
    for i in users {
        let started = Instant::now();
        let right: bool = db.query_one(&verify, &[&password, &hash]).expect("verify").get(0);
        bare.push(started.elapsed().as_secs_f64() * 1000.0);
        assert!(right, "the bare hash verifies");
        let (email, password) = (format!("migrate{i}@legacy.test"), format!("legacy-password-{i}"));
        let started = Instant::now();
        let status: String = db.query_one(&login, &[&email, &password]).expect("login").get(0);
        migrations.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(status, "migrated");
    }
    (migrations, bare)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, port, dbname, store_url, first, last, clients, hash, password] = args.as_slice() else {
        panic!("usage: migration-bench PORT DBNAME STORE_URL FIRST LAST CLIENTS HASH PASSWORD");
    };
    let first: usize = first.parse().expect("FIRST is a number");
    let last: usize = last.parse().expect("LAST is a number");
    let clients: usize = clients.parse().expect("CLIENTS is a number");
    let middle = first + (last - first + 1).div_ceil(2);

    let mut store = StoreConnection::open(store_url);
    let round_trips: Vec<f64> = (first..middle)
        .map(|i| {
            let started = Instant::now();
            assert_eq!(store.login(&format!("migrate{i}@legacy.test"), &format!("legacy-password-{i}")), 200);
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();

    let (mut migrations, mut bare) = (vec![], vec![]);
    std::thread::scope(|scope| {
        let runs: Vec<_> = (0..clients)
            .map(|c| {
                let users = (middle..=last).skip(c).step_by(clients).collect();
                scope.spawn(move || migrate_alternating(port, dbname, users, hash, password))
            })
            .collect();
        for run in runs {
            let (m, b) = run.join().expect("a client");
            migrations.extend(m);
            bare.extend(b);
        }
    });
    println!("store_round_trip_ms={:.3}", median(round_trips));
    println!("migration_login_ms={:.3}", median(migrations));
    println!("bare_verify_ms={:.3}", median(bare));
    println!("migrations={}", last + 1 - middle);
}

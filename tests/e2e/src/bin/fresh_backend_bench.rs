//! fresh-backend-bench: what the first login on a new connection costs more than the next one, for a hit (a local
//! user) and for a miss (a first login that migrates from the legacy store). Used by `make bench`.
//!
//! Usage: fresh-backend-bench PORT DBNAME HIT_EMAIL HIT_PASSWORD FIRST_LEGACY ROUNDS
//! Expects DBNAME in import mode against a store whose users are `migrate{i}@legacy.test` with password
//! `legacy-password-{i}`; uses two legacy users per round from FIRST_LEGACY on. Each round opens a connection, runs
//! `SELECT 1` (the server's own first-statement work is not pg_trickle's), then times two logins. The bare hash of the
//! hit user (`auth.verify_legacy_hash` of their stored argon2id hash) is timed the same way, on connections of its
//! own: what a fresh backend's first hash costs by itself (faulting in argon2's memory), apart from the login's
//! bookkeeping; and so is a plain SQL login without pg_trickle (`public.peer_users` checked with pgcrypto's `crypt`,
//! made by `make bench`): what PostgreSQL itself charges a new backend for a first query and a first function call.
//! Prints `key=value` lines (ms, medians over the rounds).

use postgres::{Client, NoTls};
use std::time::Instant;

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn timed_login(db: &mut Client, email: &str, password: &str, expected: &str) -> f64 {
    let started = Instant::now();
    let status: String =
        db.query_one("SELECT status FROM auth.login($1, $2)", &[&email, &password]).expect("login").get(0);
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(status, expected, "{email}");
    elapsed
}

fn timed_hash(db: &mut Client, password: &str, hash: &str) -> f64 {
    let started = Instant::now();
    let ok: bool = db.query_one("SELECT auth.verify_legacy_hash($1, $2)", &[&password, &hash]).expect("verify").get(0);
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    assert!(ok, "the hit user's own hash");
    elapsed
}

fn timed_peer(db: &mut Client, email: &str, password: &str) -> f64 {
    let started = Instant::now();
    let ok: bool = db
        .query_one(
            "SELECT password_hash = crypt($2, password_hash) FROM public.peer_users WHERE email = $1",
            &[&email, &password],
        )
        .expect("the peer's login")
        .get(0);
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    assert!(ok, "the peer's user");
    elapsed
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, port, dbname, hit_email, hit_password, first_legacy, rounds] = args.as_slice() else {
        panic!("usage: fresh-backend-bench PORT DBNAME HIT_EMAIL HIT_PASSWORD FIRST_LEGACY ROUNDS");
    };
    let first_legacy: usize = first_legacy.parse().expect("FIRST_LEGACY is a number");
    let rounds: usize = rounds.parse().expect("ROUNDS is a number");
    let connect = || {
        let mut db = Client::connect(&format!("host=127.0.0.1 port={port} user=postgres dbname={dbname}"), NoTls)
            .expect("connect to the bench database");
        db.simple_query("SELECT 1").expect("first statement");
        db
    };
    let (mut hit_first, mut hit_next, mut miss_first, mut miss_next) = (vec![], vec![], vec![], vec![]);
    let (mut hash_first, mut hash_next, mut peer_first, mut peer_next) = (vec![], vec![], vec![], vec![]);
    let hit_hash: String = connect()
        .query_one("SELECT password_hash FROM auth.users WHERE email = $1", &[hit_email])
        .expect("the hit user's hash")
        .get(0);
    for round in 0..rounds {
        let mut db = connect();
        hash_first.push(timed_hash(&mut db, hit_password, &hit_hash));
        hash_next.push(timed_hash(&mut db, hit_password, &hit_hash));
        let mut db = connect();
        peer_first.push(timed_peer(&mut db, hit_email, hit_password));
        peer_next.push(timed_peer(&mut db, hit_email, hit_password));
        let mut db = connect();
        hit_first.push(timed_login(&mut db, hit_email, hit_password, "authenticated"));
        hit_next.push(timed_login(&mut db, hit_email, hit_password, "authenticated"));
        let mut db = connect();
        for (samples, i) in
            [(&mut miss_first, first_legacy + 2 * round), (&mut miss_next, first_legacy + 2 * round + 1)]
        {
            let (email, password) = (format!("migrate{i}@legacy.test"), format!("legacy-password-{i}"));
            samples.push(timed_login(&mut db, &email, &password, "migrated"));
        }
    }
    let (hit_first, hit_next) = (median(hit_first), median(hit_next));
    let (miss_first, miss_next) = (median(miss_first), median(miss_next));
    println!("fresh_peer_ms={:.3}", median(peer_first));
    println!("warm_peer_ms={:.3}", median(peer_next));
    println!("fresh_hash_ms={:.3}", median(hash_first));
    println!("warm_hash_ms={:.3}", median(hash_next));
    println!("fresh_hit_ms={hit_first:.3}");
    println!("warm_hit_ms={hit_next:.3}");
    println!("fresh_miss_ms={miss_first:.3}");
    println!("warm_miss_ms={miss_next:.3}");
}

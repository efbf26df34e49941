//! timing-classes: how long `auth.login` takes to refuse, for each kind of email an attacker could tell apart, in
//! import mode. Used by `make bench`.
//!
//! Usage: timing-classes PORT DBNAME ROUNDS LEGACY_EMAIL_PATTERN [PROBE_SQL]
//! Expects DBNAME in import mode with a lockout threshold below ROUNDS, local users `local{i}@example.org`
//! (i in 1..=ROUNDS) and legacy users `LEGACY_EMAIL_PATTERN` with `{}` replaced by i, none of whom knows the
//! password `not-the-password`. Each round times, in rotating order, one refused login of: an email neither store
//! has, a local user (wrong password), a legacy user (wrong password) and a locked email — a fresh user each round,
//! so only the locked email is ever locked. PROBE_SQL, when given, is timed the same way next to `SELECT 1`: the
//! store's own round trip. Prints `key=value` lines (medians, ms).

use postgres::{Client, NoTls};
use std::time::Instant;

const WRONG: &str = "not-the-password";

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn timed(db: &mut Client, sql: &str, params: &[&(dyn postgres::types::ToSql + Sync)]) -> (f64, Vec<postgres::Row>) {
    let started = Instant::now();
    let rows = db.query(sql, params).expect("statement");
    (started.elapsed().as_secs_f64() * 1000.0, rows)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (port, dbname, rounds, legacy_pattern, probe) = match args.as_slice() {
        [_, port, dbname, rounds, pattern] => (port, dbname, rounds, pattern, None),
        [_, port, dbname, rounds, pattern, probe] => (port, dbname, rounds, pattern, Some(probe)),
        _ => panic!("usage: timing-classes PORT DBNAME ROUNDS LEGACY_EMAIL_PATTERN [PROBE_SQL]"),
    };
    let rounds: usize = rounds.parse().expect("ROUNDS is a number");
    let mut db = Client::connect(&format!("host=127.0.0.1 port={port} user=postgres dbname={dbname}"), NoTls)
        .expect("connect to the bench database");
    let login = db.prepare("SELECT status FROM auth.login($1, $2)").expect("prepare");
    let status = |db: &mut Client, email: &str| -> (f64, String) {
        let started = Instant::now();
        let status: String = db.query_one(&login, &[&email, &WRONG]).expect("login").get(0);
        (started.elapsed().as_secs_f64() * 1000.0, status)
    };
    let locked_email = "locked@example.org";
    while status(&mut db, locked_email).1 != "locked" {}
    // One warm-up of each kind: the first call of a backend reads catalogs and (FDW) samples the store's hash.
    status(&mut db, "warm-up@nowhere.test");
    status(&mut db, "local1@example.org");

    let classes = ["unknown", "local_wrong", "legacy_wrong", "locked"];
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); classes.len()];
    for round in 1..=rounds {
        for k in 0..classes.len() {
            let class = (round + k) % classes.len();
            let email = match classes[class] {
                "unknown" => format!("nobody{round}@nowhere.test"),
                "local_wrong" => format!("local{round}@example.org"),
                "legacy_wrong" => legacy_pattern.replace("{}", &round.to_string()),
                _ => locked_email.to_string(),
            };
            let (ms, answer) = status(&mut db, &email);
            let expected = if classes[class] == "locked" { "locked" } else { "invalid_credentials" };
            assert_eq!(answer, expected, "{email}");
            samples[class].push(ms);
        }
    }
    let medians: Vec<f64> = samples.into_iter().map(median).collect();
    for (class, ms) in classes.iter().zip(&medians) {
        println!("{class}_ms={ms:.3}");
    }
    if let Some(probe) = probe {
        let baseline: Vec<f64> = (0..rounds).map(|_| timed(&mut db, "SELECT 1", &[]).0).collect();
        let probed: Vec<f64> = (0..rounds).map(|_| timed(&mut db, probe, &[]).0).collect();
        println!("store_round_trip_ms={:.3}", (median(probed) - median(baseline)).max(0.0));
    }
}

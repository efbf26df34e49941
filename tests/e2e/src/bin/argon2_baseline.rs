//! argon2-baseline: the cost of a bare argon2id verification with the argon2 crate pg_trickle links,
//! outside PostgreSQL. `make bench` divides `auth.login` latency by this number.
//!
//! Usage: argon2-baseline [--memory-kib 19456] [--iterations 2] [--parallelism 1] [--rounds 50]
//! Prints: `median_ms=<f> mean_ms=<f> rounds=<n>`.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use std::time::Instant;

fn main() {
    let mut memory_kib = 19_456;
    let mut iterations = 2;
    let mut parallelism = 1;
    let mut rounds = 50usize;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().and_then(|v| v.parse::<u32>().ok()).expect("each flag takes a number");
        match flag.as_str() {
            "--memory-kib" => memory_kib = value,
            "--iterations" => iterations = value,
            "--parallelism" => parallelism = value,
            "--rounds" => rounds = value as usize,
            other => panic!("unknown flag {other}"),
        }
    }
    let params = Params::new(memory_kib, iterations, parallelism, None).expect("valid parameters");
    let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let phc = hasher.hash_password(b"bench-password-1").expect("hash").to_string();
    let parsed = PasswordHash::new(&phc).expect("parse");

    let mut samples: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            assert!(Argon2::default().verify_password(b"bench-password-1", &parsed).is_ok());
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    let median = samples[samples.len() / 2];
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    println!("median_ms={median:.3} mean_ms={mean:.3} rounds={rounds}");
}

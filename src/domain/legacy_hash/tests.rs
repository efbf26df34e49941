//! Reference vectors (tests/vectors/legacy_hashes.json, made by each format's reference implementation with
//! tests/vectors/legacy_hashes.py, and tests/vectors/django_hashes.json, made by Django 4.2's own hashers with
//! tests/vectors/django_hashes.py; tests/vectors/auth0_hashes.json, the further kinds an Auth0 export carries, from
//! tests/vectors/auth0_hashes.py; tests/vectors/wordpress_hashes.json, WordPress users' hashes and what WordPress's
//! logins accept, from tests/vectors/wordpress_hashes.py), detection, bounds, and a mutation fuzz over every parser.

use super::*;
use serde_json::json;

struct Vector {
    format: String,
    password: String,
    hash: String,
    params: Value,
    valid: bool,
}

fn vectors() -> Vec<Vector> {
    let mut all: Vec<Value> =
        serde_json::from_str(include_str!("../../../tests/vectors/legacy_hashes.json")).expect("vector file");
    let django: Vec<Value> =
        serde_json::from_str(include_str!("../../../tests/vectors/django_hashes.json")).expect("Django vector file");
    all.extend(django);
    let auth0: Vec<Value> =
        serde_json::from_str(include_str!("../../../tests/vectors/auth0_hashes.json")).expect("Auth0 vector file");
    all.extend(auth0);
    all.into_iter()
        .map(|v| Vector {
            format: v["format"].as_str().expect("format").to_string(),
            password: v["password"].as_str().expect("password").to_string(),
            hash: v["hash"].as_str().expect("hash").to_string(),
            params: v["params"].clone(),
            valid: v["valid"].as_bool().expect("valid"),
        })
        .collect()
}

#[test]
fn every_reference_vector_verifies_as_its_implementation_says() {
    let vectors = vectors();
    assert!(vectors.len() > 1000);
    for v in &vectors {
        let got = verify(&v.password, &v.hash, &v.format, &v.params, &Budget::default());
        // The reference implementations accept "" where it was hashed; pg_trickle never does (Prepared::verify).
        let expected = v.valid && !v.password.is_empty();
        assert_eq!(got, Ok(expected), "{} {:?} against {}", v.format, v.password, v.hash);
    }
    assert!(vectors.iter().any(|v| v.valid && v.password.is_empty()), "hashes of the empty password are among them");
}

#[test]
fn wordpress_accepts_what_wordpress_logins_accept() {
    let vectors: Vec<Value> =
        serde_json::from_str(include_str!("../../../tests/vectors/wordpress_hashes.json")).expect("WordPress vectors");
    assert!(vectors.len() >= 20);
    for v in &vectors {
        let (password, hash) = (v["password"].as_str().unwrap(), v["hash"].as_str().unwrap());
        let got = verify(password, hash, "wordpress", &v["params"], &Budget::default());
        assert_eq!(got, Ok(v["valid"].as_bool().unwrap()), "{} {password:?} against {hash}", v["stored_by"]);
    }
    assert!(vectors.iter().any(|v| v["valid"] == false), "near misses are among them");
    let malformed =
        verify("pw", "$Q$not-a-wordpress-hash-at-all-xxxxxx", "wordpress", &Value::Null, &Budget::default());
    assert!(matches!(malformed, Err(HashError::Malformed { .. })), "{malformed:?}");
}

#[test]
fn auto_detects_every_format_with_an_unambiguous_string_form() {
    // Bare digests (hex, base64) and ASP.NET's base64 say nothing about their format; their `$...$` forms do.
    let bare = ["md4", "md5", "sha1", "sha256", "sha512", "hmac", "firebase_scrypt"];
    let detectable =
        |v: &Vector| v.format != "aspnet_identity" && (v.hash.starts_with('$') || !bare.contains(&v.format.as_str()));
    for v in vectors().iter().filter(|v| detectable(v)) {
        assert_eq!(detect(&v.hash), Some(v.format.as_str()), "{}", v.hash);
        let expected = v.valid && !v.password.is_empty();
        assert_eq!(verify(&v.password, &v.hash, "auto", &v.params, &Budget::default()), Ok(expected), "{}", v.hash);
    }
}

#[test]
fn every_listed_format_has_vectors() {
    let vectors = vectors();
    for f in FORMATS {
        assert!(vectors.iter().any(|v| v.format == f.name && v.valid), "no vectors for {}", f.name);
    }
}

#[test]
fn unknown_formats_and_malformed_hashes_are_errors_that_never_echo_the_password() {
    let secret = "s3cret-password";
    let cases = [
        ("$2y$10$tooshort", "auto"),
        ("plainly not a hash", "auto"),
        ("abc", "nosuchformat"),
        ("$argon2id$v=19$m=x$", "argon2"),
        ("$scrypt$ln=1$", "scrypt"),
        ("zz", "md5"),
        ("{FOO}abc", "ldap"),
        ("AQ==", "aspnet_identity"),
        ("{}", "keycloak"),
        ("$P$", "phpass"),
    ];
    for (hash, format) in cases {
        let err = verify(secret, hash, format, &Value::Null, &Budget::default()).unwrap_err();
        assert!(!err.to_string().contains(secret), "{err}");
    }
    assert!(matches!(verify("x", "abc", "nosuch", &Value::Null, &Budget::default()), Err(HashError::UnknownFormat)));
    assert_eq!(verify("x", "not a hash", "auto", &Value::Null, &Budget::default()), Err(HashError::Undetectable));
}

#[test]
fn missing_and_bad_params_are_named() {
    let md5 = "0cc175b9c0f1b6a831c399e269772661";
    assert_eq!(
        verify("a", md5, "md5", &json!({"salt": "s"}), &Budget::default()),
        Err(HashError::MissingParam { format: "md5", param: "salt_position" })
    );
    assert!(matches!(
        verify("a", md5, "md5", &json!({"salt": "s", "salt_position": "middle"}), &Budget::default()),
        Err(HashError::BadParam { .. })
    ));
    assert_eq!(
        verify("a", md5, "hmac", &json!({"key": "k"}), &Budget::default()),
        Err(HashError::MissingParam { format: "hmac", param: "digest" })
    );
}

#[test]
fn hostile_costs_are_refused_before_any_work() {
    let started = std::time::Instant::now();
    let too_costly = [
        ("$2b$31$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234", "bcrypt"),
        ("$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHQ$jacJHQ+PoBstB/ZoVNk8re3s1yzVABZujceGiwVNJnk", "argon2"),
        ("$pbkdf2-sha256$999999999$c2FsdA$aGFzaA", "pbkdf2"),
        ("$scrypt$ln=30,r=8,p=1$c2FsdA$aGFzaA", "scrypt"),
        ("$6$rounds=999999999$salt$hash", "sha512_crypt"),
        ("$P$Qabcdefgh0123456789012345678901", "phpass"),
    ];
    for (hash, format) in too_costly {
        assert!(
            matches!(verify("pw", hash, format, &Value::Null, &Budget::default()), Err(HashError::TooCostly { .. })),
            "{hash}"
        );
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
}

/// The attacks seen against 0.2.0: each is refused while parsing, before any work or allocation.
#[test]
fn the_hostile_hashes_of_issue_11_are_refused_unread() {
    let firebase =
        json!({"salt": "c2FsdA==", "salt_separator": "Bw==", "signer_key": "a2V5", "rounds": 1024, "mem_cost": 22});
    let cases = [
        ("$scrypt$ln=22,r=1024,p=1$c2FsdA$aGFzaA", "scrypt", Value::Null),
        ("$scrypt$ln=20,r=8,p=1$c2FsdA$aGFzaA", "scrypt", Value::Null),
        ("aGFzaA==", "firebase_scrypt", firebase),
        ("$2b$20$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234", "bcrypt", Value::Null),
        (
            "$argon2id$v=19$m=1048576,t=64,p=1$c29tZXNhbHQ$jacJHQ+PoBstB/ZoVNk8re3s1yzVABZujceGiwVNJnk",
            "argon2",
            Value::Null,
        ),
        (
            "$argon2id$v=19$m=19456,t=1000,p=1$c29tZXNhbHQ$jacJHQ+PoBstB/ZoVNk8re3s1yzVABZujceGiwVNJnk",
            "argon2",
            Value::Null,
        ),
        ("$pbkdf2-sha512$i=10000000,l=1024$c2FsdA$aGFzaA", "pbkdf2", Value::Null),
        ("$6$rounds=10000000$salt$hash", "sha512_crypt", Value::Null),
        ("$S$Nabcdefgh0123456789012345678901234567890123456789012", "drupal7", Value::Null),
    ];
    for (hash, format, params) in &cases {
        let refused = prepare(hash, format, params, &Budget::default());
        assert!(matches!(refused, Err(HashError::TooCostly { .. })), "{hash}: {:?}", refused.err());
    }
    // A smaller memory budget refuses what the default admits.
    let moderate = "$scrypt$ln=17,r=8,p=1$c2FsdA$aGFzaGhhc2hoYXNo";
    assert!(prepare(moderate, "scrypt", &Value::Null, &Budget::default()).is_ok());
    assert!(matches!(
        prepare(moderate, "scrypt", &Value::Null, &Budget { max_memory_kib: 64 * 1024, ..Budget::default() }),
        Err(HashError::TooCostly { .. })
    ));
}

/// PBKDF2 and phpass stop between slices of work once the caller says so; the other formats run to the end.
#[test]
fn splittable_work_stops_when_interrupted() {
    let stop = Budget { interrupted: || true, ..Budget::default() };
    for format in ["django_pbkdf2_sha256", "pbkdf2", "keycloak", "phpass", "drupal7"] {
        let v = vectors().into_iter().find(|v| v.format == format && v.valid).expect("a vector");
        assert_eq!(verify(&v.password, &v.hash, format, &v.params, &stop), Err(HashError::Interrupted), "{format}");
        assert_eq!(verify(&v.password, &v.hash, format, &v.params, &Budget::default()), Ok(true), "{format}");
    }
}

#[test]
fn a_multi_byte_character_in_a_phpass_salt_is_malformed_not_a_panic() {
    for hash in
        ["$P$Babcdefé0123456789012345678901", "$S$Cabcdefgé1234567890123456789012345678901234567890123", "$P$B1234567é"]
    {
        let format = if hash.starts_with("$S$") { "drupal7" } else { "phpass" };
        assert_eq!(verify("pw", hash, format, &Value::Null, &Budget::default()), Ok(false), "{hash}");
    }
}

#[test]
fn errors_never_quote_the_hash() {
    let marker = "QQQQQQQQ";
    let cases = [
        (format!("{{{marker}}}abc"), "ldap"),
        (format!("$pbkdf2-{marker}$1000$c2FsdA$aGFzaA"), "pbkdf2"),
        (format!("{{\"secretData\": \"{{}}\", \"credentialData\": {{\"hashIterations\": 1, \"algorithm\": \"{marker}\"}}}}"), "keycloak"),
        (format!("$hmac-{marker}$aGFzaA==$a2V5"), "hmac"),
        (marker.to_string(), marker),
    ];
    for (hash, format) in &cases {
        let err = prepare(hash, format, &Value::Null, &Budget::default()).err().expect("refused");
        assert!(!err.to_string().contains(marker), "{err}");
    }
}

fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

/// How many mutations the fuzz tests try: a short run in `make test`, a long one in `make fuzz`.
fn fuzz_rounds(default: usize) -> usize {
    std::env::var("PG_TRICKLE_FUZZ_ROUNDS").ok().and_then(|n| n.parse().ok()).unwrap_or(default)
}

const ALPHABET: &[&str] =
    &["$", ".", "/", "+", "=", ",", "{", "}", "a", "Z", "\"", "\\", ":", " ", "\u{0}", "é", "✓", "9", "0", "ln=", "i="];

fn mutate(next: &mut impl FnMut() -> u64, hash: &str, digits_too: bool) -> String {
    let mut chars: Vec<String> = hash.chars().map(String::from).collect();
    for _ in 0..1 + next() % 3 {
        let at = (next() as usize) % (chars.len() + 1);
        let piece = ALPHABET[(next() as usize) % ALPHABET.len()].to_string();
        match next() % 3 {
            0 if at < chars.len() && (digits_too || !chars[at].chars().all(|c| c.is_ascii_digit())) => {
                chars[at] = piece
            }
            1 => chars.truncate(at),
            _ => chars.insert(at.min(chars.len()), piece),
        }
    }
    chars.concat()
}

/// Mutations of valid hashes, multi-byte characters included, never panic in any parser; costs may change
/// (digits too), so only parsing runs.
#[test]
fn mutated_hashes_never_panic_while_parsing() {
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
    let seeds: Vec<Vector> = vectors().into_iter().filter(|v| v.valid).collect();
    for round in 0..fuzz_rounds(20_000) {
        let seed = &seeds[(next() as usize) % seeds.len()];
        let hash = mutate(&mut next, &seed.hash, true);
        let format = if round % 2 == 0 { "auto" } else { seed.format.as_str() };
        let outcome = std::panic::catch_unwind(|| dispatch(&hash, format, &seed.params, &Budget::default()).map(drop));
        assert!(outcome.is_ok(), "the {format} parser panicked on {hash:?}");
    }
}

/// Mutations that leave every digit (so every cost) as generated are verified in full: never a panic.
#[test]
fn mutated_hashes_never_panic_while_verifying() {
    let mut next = xorshift(0x2545_f491_4f6c_dd1d);
    let seeds: Vec<Vector> = vectors().into_iter().filter(|v| v.valid && v.password.len() < 20).collect();
    for round in 0..fuzz_rounds(4000) {
        let seed = &seeds[(next() as usize) % seeds.len()];
        let hash = mutate(&mut next, &seed.hash, false);
        let format = if round % 2 == 0 { "auto" } else { seed.format.as_str() };
        let outcome = std::panic::catch_unwind(|| {
            dispatch(&hash, format, &seed.params, &Budget::default()).and_then(|p| p.verify(&seed.password))
        });
        assert!(outcome.is_ok(), "the {format} verifier panicked on {hash:?}");
    }
}

/// The most expensive hash each bound admits, timed: `make fuzz` runs it, docs/legacy-hashes.md quotes it.
#[test]
#[ignore = "slow: measures the worst admitted case of every bounded format"]
fn worst_admitted_cost_of_each_format() {
    let budget = Budget::default();
    let bcrypt = vectors().into_iter().find(|v| v.format == "bcrypt" && v.hash.starts_with("$2b$")).expect("a vector");
    let worst = [
        ("bcrypt", format!("$2b${}{}", bounds::BCRYPT_COST, &bcrypt.hash[6..]), Value::Null),
        (
            "argon2",
            "$argon2id$v=19$m=262144,t=8,p=1$c29tZXNhbHQ$jacJHQ+PoBstB/ZoVNk8re3s1yzVABZujceGiwVNJnk".into(),
            Value::Null,
        ),
        ("pbkdf2", format!("$pbkdf2-sha512$i={},l=64$c2FsdA$aGFzaA", bounds::PBKDF2_WORK / 2), Value::Null),
        ("pbkdf2", format!("$pbkdf2-sha256$i={},l=32$c2FsdA$aGFzaA", bounds::PBKDF2_WORK), Value::Null),
        ("scrypt", "$scrypt$ln=18,r=8,p=1$c2FsdA$aGFzaGhhc2hoYXNo".into(), Value::Null),
        ("scrypt", "$scrypt$ln=14,r=8,p=32$c2FsdA$aGFzaGhhc2hoYXNo".into(), Value::Null),
        ("sha512_crypt", format!("$6$rounds={}$salt$hash", bounds::SHA_CRYPT_ROUNDS), Value::Null),
        ("sha256_crypt", format!("$5$rounds={}$salt$hash", bounds::SHA_CRYPT_ROUNDS), Value::Null),
        (
            "phpass",
            format!("$P${}abcdefgh0123456789012345678901", encoding::ITOA64[bounds::PHPASS_LOG2 as usize] as char),
            Value::Null,
        ),
        (
            "drupal7",
            format!(
                "$S${}abcdefgh0123456789012345678901234567890123456789012",
                encoding::ITOA64[bounds::PHPASS_LOG2 as usize] as char
            ),
            Value::Null,
        ),
    ];
    for (format, hash, params) in &worst {
        let prepared = prepare(hash, format, params, &budget).unwrap_or_else(|e| panic!("{format}: {e}"));
        let started = std::time::Instant::now();
        let _ = prepared.verify("a password");
        println!("worst admitted {format:<14} {:>7.0} ms  {hash:.60}", started.elapsed().as_secs_f64() * 1000.0);
    }
}

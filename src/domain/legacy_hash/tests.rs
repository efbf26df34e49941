//! Reference vectors (tests/vectors/legacy_hashes.json, made by each format's reference implementation with
//! tests/vectors/legacy_hashes.py), detection, bounds, and a mutation fuzz over every parser.

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
    let all: Vec<Value> =
        serde_json::from_str(include_str!("../../../tests/vectors/legacy_hashes.json")).expect("vector file");
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
        let got = verify(&v.password, &v.hash, &v.format, &v.params);
        assert_eq!(got, Ok(v.valid), "{} {:?} against {}", v.format, v.password, v.hash);
    }
}

#[test]
fn auto_detects_every_format_with_an_unambiguous_string_form() {
    // Bare digests (hex, base64) and ASP.NET's base64 say nothing about their format; their `$...$` forms do.
    let bare = ["md5", "sha1", "sha256", "sha512", "hmac", "firebase_scrypt"];
    let detectable =
        |v: &Vector| v.format != "aspnet_identity" && (v.hash.starts_with('$') || !bare.contains(&v.format.as_str()));
    for v in vectors().iter().filter(|v| detectable(v)) {
        assert_eq!(detect(&v.hash), Some(v.format.as_str()), "{}", v.hash);
        assert_eq!(verify(&v.password, &v.hash, "auto", &v.params), Ok(v.valid), "{}", v.hash);
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
        let err = verify(secret, hash, format, &Value::Null).unwrap_err();
        assert!(!err.to_string().contains(secret), "{err}");
    }
    assert!(matches!(verify("x", "abc", "nosuch", &Value::Null), Err(HashError::UnknownFormat(_))));
    assert_eq!(verify("x", "not a hash", "auto", &Value::Null), Err(HashError::Undetectable));
}

#[test]
fn missing_and_bad_params_are_named() {
    let md5 = "0cc175b9c0f1b6a831c399e269772661";
    assert_eq!(
        verify("a", md5, "md5", &json!({"salt": "s"})),
        Err(HashError::MissingParam { format: "md5", param: "salt_position" })
    );
    assert!(matches!(
        verify("a", md5, "md5", &json!({"salt": "s", "salt_position": "middle"})),
        Err(HashError::BadParam { .. })
    ));
    assert_eq!(
        verify("a", md5, "hmac", &json!({"key": "k"})),
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
        assert!(matches!(verify("pw", hash, format, &Value::Null), Err(HashError::TooCostly { .. })), "{hash}");
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
}

/// Mutations of valid hashes (never touching digits, so costs stay as generated) must never panic.
#[test]
fn mutated_hashes_never_panic() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    const ALPHABET: &[u8] = b"$./+=,{}abcdefxyzABCXYZ\"\\: \x00\xff";
    let seeds: Vec<Vector> = vectors().into_iter().filter(|v| v.valid && v.password.len() < 20).collect();
    for round in 0..4000 {
        let seed = &seeds[(next() as usize) % seeds.len()];
        let mut bytes = seed.hash.as_bytes().to_vec();
        for _ in 0..1 + next() % 3 {
            let at = (next() as usize) % (bytes.len() + 1);
            match next() % 3 {
                0 if at < bytes.len() && !bytes[at].is_ascii_digit() => {
                    bytes[at] = ALPHABET[(next() as usize) % ALPHABET.len()]
                }
                1 => bytes.truncate(at),
                _ => bytes.insert(at.min(bytes.len()), ALPHABET[(next() as usize) % ALPHABET.len()]),
            }
        }
        let hash = String::from_utf8_lossy(&bytes);
        let format = if round % 2 == 0 { "auto" } else { seed.format.as_str() };
        let _ = verify(&seed.password, &hash, format, &seed.params);
    }
}

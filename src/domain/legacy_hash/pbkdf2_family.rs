//! PBKDF2 in its many wrappings: passlib and PHC strings, Django, ASP.NET Identity, Keycloak.

use super::{bounds, check, encoding, malformed, Budget, Check, HashError, ITERATIONS_PER_POLL};
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use md4::Md4;
use md5::Md5;
use serde_json::Value;
use sha1::Sha1;
use sha2::{Sha256, Sha512};

#[derive(Clone, Copy)]
enum Prf {
    /// PHC `$pbkdf2-md4$` and `$pbkdf2-md5$`, as Auth0 exports carry them.
    Md4,
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

impl Prf {
    fn output_bytes(self) -> usize {
        match self {
            Prf::Md4 | Prf::Md5 => 16,
            Prf::Sha1 => 20,
            Prf::Sha256 => 32,
            Prf::Sha512 => 64,
        }
    }

    /// Relative cost of one iteration: SHA-512 has no instructions of its own on x86 (SHA-1 and SHA-256 do) and
    /// measured about five times SHA-256's time here; weighted 2, its worst admitted case stays under two
    /// seconds (`make fuzz` prints it).
    fn weight(self) -> u64 {
        match self {
            Prf::Md4 | Prf::Md5 | Prf::Sha1 | Prf::Sha256 => 1,
            Prf::Sha512 => 2,
        }
    }
}

/// Bounds the derivation (iterations times output blocks), then defers it until a password is given.
fn pbkdf2_check(
    prf: Prf,
    salt: Vec<u8>,
    iterations: u32,
    expected: Vec<u8>,
    format: &'static str,
    budget: &Budget,
) -> Result<Check<'static>, HashError> {
    if iterations == 0 {
        return Err(malformed(format, "zero iterations"));
    }
    let len = expected.len();
    if len == 0 || len > bounds::PBKDF2_KEY_BYTES {
        return Err(malformed(format, "derived key length"));
    }
    let work = u64::from(iterations) * len.div_ceil(prf.output_bytes()) as u64 * prf.weight();
    if work > bounds::PBKDF2_WORK {
        return Err(HashError::TooCostly { format, reason: format!("{iterations} iterations for {len} bytes") });
    }
    let interrupted = budget.interrupted;
    check(move |password: &str| {
        let (pw, mut out) = (password.as_bytes(), vec![0u8; len]);
        match prf {
            Prf::Md4 => pbkdf2_hmac::<Hmac<Md4>>(pw, &salt, iterations, &mut out, interrupted),
            Prf::Md5 => pbkdf2_hmac::<Hmac<Md5>>(pw, &salt, iterations, &mut out, interrupted),
            Prf::Sha1 => pbkdf2_hmac::<Hmac<Sha1>>(pw, &salt, iterations, &mut out, interrupted),
            Prf::Sha256 => pbkdf2_hmac::<Hmac<Sha256>>(pw, &salt, iterations, &mut out, interrupted),
            Prf::Sha512 => pbkdf2_hmac::<Hmac<Sha512>>(pw, &salt, iterations, &mut out, interrupted),
        }?;
        Ok(encoding::equal(&out, &expected))
    })
}

/// PBKDF2 (RFC 8018 §5.2) over the `hmac` crate. Written out rather than taken from the `pbkdf2` crate, whose
/// single call cannot be interrupted: this loop polls `interrupted` every few thousand iterations, so a query
/// cancel stops a costly hash. The reference vectors (Django, passlib, ASP.NET, Keycloak, Ory) check it.
fn pbkdf2_hmac<M: Mac + KeyInit + Clone>(
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    out: &mut [u8],
    interrupted: fn() -> bool,
) -> Result<(), HashError> {
    let prf = <M as KeyInit>::new_from_slice(password).expect("HMAC takes a key of any length");
    let block_len = <M as hmac::digest::OutputSizeUser>::output_size();
    for (index, chunk) in out.chunks_mut(block_len).enumerate() {
        let block_number = u32::try_from(index + 1).expect("the key length is bounded").to_be_bytes();
        let mut u = prf.clone().chain_update(salt).chain_update(block_number).finalize().into_bytes();
        let mut t = u.clone();
        for n in 1..u64::from(iterations) {
            if (n - 1) % ITERATIONS_PER_POLL == 0 && interrupted() {
                return Err(HashError::Interrupted);
            }
            u = prf.clone().chain_update(&u).finalize().into_bytes();
            t.iter_mut().zip(u.iter()).for_each(|(t, u)| *t ^= u);
        }
        chunk.copy_from_slice(&t[..chunk.len()]);
    }
    Ok(())
}

fn prf_named(name: &str, format: &'static str) -> Result<Prf, HashError> {
    match name {
        "md4" => Ok(Prf::Md4),
        "md5" => Ok(Prf::Md5),
        "" | "sha1" => Ok(Prf::Sha1),
        "sha256" => Ok(Prf::Sha256),
        "sha512" => Ok(Prf::Sha512),
        _ => Err(malformed(format, "unsupported digest")),
    }
}

/// passlib `$pbkdf2[-sha256|-sha512]$<rounds>$<salt>$<hash>` (adapted base64; passlib.handlers.pbkdf2),
/// or PHC `$pbkdf2-<digest>$i=<rounds>,l=<len>$<salt>$<hash>` (standard base64; Ory Kratos, Auth0).
pub fn pbkdf2(hash: &str, budget: &Budget) -> Result<Check<'static>, HashError> {
    let f = "pbkdf2";
    let fields: Vec<&str> = hash.split('$').collect();
    let [_, ident, settings, salt, digest] = fields.as_slice() else {
        return Err(malformed(f, "expected $pbkdf2...$settings$salt$hash"));
    };
    let prf = prf_named(ident.strip_prefix("pbkdf2").unwrap_or("x").trim_start_matches('-'), f)?;
    if settings.starts_with("i=") {
        let mut iterations = None;
        for kv in settings.split(',') {
            match kv.split_once('=') {
                Some(("i", v)) => iterations = v.parse::<u32>().ok(),
                Some(("l", _)) => {}
                _ => return Err(malformed(f, "unknown PHC parameter")),
            }
        }
        let iterations = iterations.ok_or_else(|| malformed(f, "i= is not a number"))?;
        let salt = encoding::base64_any(salt).ok_or_else(|| malformed(f, "salt is not base64"))?;
        let expected = encoding::base64_any(digest).ok_or_else(|| malformed(f, "hash is not base64"))?;
        return pbkdf2_check(prf, salt, iterations, expected, f, budget);
    }
    let iterations: u32 = settings.parse().map_err(|_| malformed(f, "rounds is not a number"))?;
    let salt = encoding::ab64_decode(salt).ok_or_else(|| malformed(f, "salt is not adapted base64"))?;
    let expected = encoding::ab64_decode(digest).ok_or_else(|| malformed(f, "hash is not adapted base64"))?;
    pbkdf2_check(prf, salt, iterations, expected, f, budget)
}

/// Django `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` and `pbkdf2_sha1$...`; the salt is used as
/// text (django.contrib.auth.hashers.PBKDF2PasswordHasher).
pub fn django(hash: &str, format: &'static str, budget: &Budget) -> Result<Check<'static>, HashError> {
    let fields: Vec<&str> = hash.split('$').collect();
    let [algorithm, iterations, salt, digest] = fields.as_slice() else {
        return Err(malformed(format, "expected algorithm$iterations$salt$hash"));
    };
    let prf = match *algorithm {
        "pbkdf2_sha256" => Prf::Sha256,
        "pbkdf2_sha1" => Prf::Sha1,
        _ => return Err(malformed(format, "unknown algorithm")),
    };
    let iterations: u32 = iterations.parse().map_err(|_| malformed(format, "iterations is not a number"))?;
    let expected = encoding::base64_any(digest).ok_or_else(|| malformed(format, "hash is not base64"))?;
    pbkdf2_check(prf, salt.as_bytes().to_vec(), iterations, expected, format, budget)
}

/// ASP.NET Identity (Microsoft.AspNetCore.Identity.PasswordHasher): base64 of
/// V2 `0x00 | salt(16) | subkey(32)`, PBKDF2-HMAC-SHA1 with 1000 iterations; or
/// V3 `0x01 | prf(u32 BE) | iterations(u32 BE) | salt length(u32 BE) | salt | subkey`.
pub fn aspnet_identity(hash: &str, budget: &Budget) -> Result<Check<'static>, HashError> {
    let f = "aspnet_identity";
    let bytes = encoding::base64_any(hash).ok_or_else(|| malformed(f, "not base64"))?;
    let be32 = |at: usize| -> Result<u32, HashError> {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| malformed(f, "too short"))
    };
    match bytes.first() {
        Some(0x00) if bytes.len() == 1 + 16 + 32 => {
            pbkdf2_check(Prf::Sha1, bytes[1..17].to_vec(), 1000, bytes[17..].to_vec(), f, budget)
        }
        Some(0x00) => Err(malformed(f, "V2 hash must be 49 bytes")),
        Some(0x01) => {
            let prf = match be32(1)? {
                0 => Prf::Sha1,
                1 => Prf::Sha256,
                2 => Prf::Sha512,
                _ => return Err(malformed(f, "unknown PRF")),
            };
            let iterations = be32(5)?;
            let salt_len = be32(9)? as usize;
            if salt_len < 8 || 13 + salt_len >= bytes.len() {
                return Err(malformed(f, "salt length"));
            }
            let (salt, subkey) = bytes[13..].split_at(salt_len);
            pbkdf2_check(prf, salt.to_vec(), iterations, subkey.to_vec(), f, budget)
        }
        _ => Err(malformed(f, "unknown version byte")),
    }
}

/// A Keycloak password credential from a realm export: `secretData` and `credentialData` are JSON
/// strings, e.g. {"value":"<b64>","salt":"<b64>"} and {"hashIterations":27500,"algorithm":"pbkdf2-sha256"}.
pub fn keycloak(hash: &str, budget: &Budget) -> Result<Check<'static>, HashError> {
    let f = "keycloak";
    let credential: Value = serde_json::from_str(hash).map_err(|_| malformed(f, "not JSON"))?;
    let nested = |key: &str| -> Result<Value, HashError> {
        match &credential[key] {
            Value::String(s) => serde_json::from_str(s).map_err(|_| malformed(f, format!("{key} is not JSON"))),
            Value::Object(_) => Ok(credential[key].clone()),
            _ => Err(malformed(f, format!("{key} is missing"))),
        }
    };
    let secret = nested("secretData")?;
    let data = nested("credentialData")?;
    let iterations = data["hashIterations"].as_u64().ok_or_else(|| malformed(f, "hashIterations is missing"))?;
    let iterations = u32::try_from(iterations).map_err(|_| malformed(f, "hashIterations too large"))?;
    let prf = match data["algorithm"].as_str().unwrap_or("pbkdf2-sha256") {
        "pbkdf2" => Prf::Sha1,
        "pbkdf2-sha256" => Prf::Sha256,
        "pbkdf2-sha512" => Prf::Sha512,
        _ => return Err(malformed(f, "unsupported algorithm")),
    };
    let decode = |key: &str| {
        secret[key]
            .as_str()
            .and_then(encoding::base64_any)
            .ok_or_else(|| malformed(f, format!("secretData.{key} is not base64")))
    };
    pbkdf2_check(prf, decode("salt")?, iterations, decode("value")?, f, budget)
}

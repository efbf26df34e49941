//! PBKDF2 in its many wrappings: passlib and PHC strings, Django, ASP.NET Identity, Keycloak.

use super::{bounds, check, encoding, malformed, Check, HashError};
use hmac::Hmac;
use serde_json::Value;
use sha1::Sha1;
use sha2::{Sha256, Sha512};

#[derive(Clone, Copy)]
enum Prf {
    Sha1,
    Sha256,
    Sha512,
}

impl Prf {
    fn output_bytes(self) -> usize {
        match self {
            Prf::Sha1 => 20,
            Prf::Sha256 => 32,
            Prf::Sha512 => 64,
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
) -> Result<Check<'static>, HashError> {
    if iterations == 0 {
        return Err(malformed(format, "zero iterations"));
    }
    let len = expected.len();
    if len == 0 || len > bounds::PBKDF2_KEY_BYTES {
        return Err(malformed(format, "derived key length"));
    }
    let work = u64::from(iterations) * len.div_ceil(prf.output_bytes()) as u64;
    if work > bounds::PBKDF2_WORK {
        return Err(HashError::TooCostly { format, reason: format!("{iterations} iterations for {len} bytes") });
    }
    check(move |password: &str| {
        let (pw, mut out) = (password.as_bytes(), vec![0u8; len]);
        let result = match prf {
            Prf::Sha1 => pbkdf2::pbkdf2::<Hmac<Sha1>>(pw, &salt, iterations, &mut out),
            Prf::Sha256 => pbkdf2::pbkdf2::<Hmac<Sha256>>(pw, &salt, iterations, &mut out),
            Prf::Sha512 => pbkdf2::pbkdf2::<Hmac<Sha512>>(pw, &salt, iterations, &mut out),
        };
        result.map_err(|_| malformed(format, "invalid PBKDF2 parameters"))?;
        Ok(encoding::equal(&out, &expected))
    })
}

fn prf_named(name: &str, format: &'static str) -> Result<Prf, HashError> {
    match name {
        "" | "sha1" => Ok(Prf::Sha1),
        "sha256" => Ok(Prf::Sha256),
        "sha512" => Ok(Prf::Sha512),
        _ => Err(malformed(format, "unsupported digest")),
    }
}

/// passlib `$pbkdf2[-sha256|-sha512]$<rounds>$<salt>$<hash>` (adapted base64; passlib.handlers.pbkdf2),
/// or PHC `$pbkdf2-<digest>$i=<rounds>,l=<len>$<salt>$<hash>` (standard base64; Ory Kratos, Auth0).
pub fn pbkdf2(hash: &str) -> Result<Check<'static>, HashError> {
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
        return pbkdf2_check(prf, salt, iterations, expected, f);
    }
    let iterations: u32 = settings.parse().map_err(|_| malformed(f, "rounds is not a number"))?;
    let salt = encoding::ab64_decode(salt).ok_or_else(|| malformed(f, "salt is not adapted base64"))?;
    let expected = encoding::ab64_decode(digest).ok_or_else(|| malformed(f, "hash is not adapted base64"))?;
    pbkdf2_check(prf, salt, iterations, expected, f)
}

/// Django `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` and `pbkdf2_sha1$...`; the salt is used as
/// text (django.contrib.auth.hashers.PBKDF2PasswordHasher).
pub fn django(hash: &str, format: &'static str) -> Result<Check<'static>, HashError> {
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
    pbkdf2_check(prf, salt.as_bytes().to_vec(), iterations, expected, format)
}

/// ASP.NET Identity (Microsoft.AspNetCore.Identity.PasswordHasher): base64 of
/// V2 `0x00 | salt(16) | subkey(32)`, PBKDF2-HMAC-SHA1 with 1000 iterations; or
/// V3 `0x01 | prf(u32 BE) | iterations(u32 BE) | salt length(u32 BE) | salt | subkey`.
pub fn aspnet_identity(hash: &str) -> Result<Check<'static>, HashError> {
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
            pbkdf2_check(Prf::Sha1, bytes[1..17].to_vec(), 1000, bytes[17..].to_vec(), f)
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
            pbkdf2_check(prf, salt.to_vec(), iterations, subkey.to_vec(), f)
        }
        _ => Err(malformed(f, "unknown version byte")),
    }
}

/// A Keycloak password credential from a realm export: `secretData` and `credentialData` are JSON
/// strings, e.g. {"value":"<b64>","salt":"<b64>"} and {"hashIterations":27500,"algorithm":"pbkdf2-sha256"}.
pub fn keycloak(hash: &str) -> Result<Check<'static>, HashError> {
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
    pbkdf2_check(prf, decode("salt")?, iterations, decode("value")?, f)
}

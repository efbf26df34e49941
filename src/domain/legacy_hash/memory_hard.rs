//! Argon2 (PHC strings, also Django's prefix) and scrypt as passlib and Django write it.

use super::{bounds, check, encoding, malformed, Budget, Check, HashError};
use crate::domain::password::argon2id;
use argon2::password_hash::phc::PasswordHash;
use argon2::Params;
use serde_json::Value;

pub fn argon2<'a>(hash: &'a str, budget: &Budget) -> Result<Check<'a>, HashError> {
    let parsed = PasswordHash::new(hash).map_err(|_| malformed("argon2", "not a PHC string"))?;
    let params = Params::try_from(&parsed).map_err(|_| malformed("argon2", "invalid m/t/p parameters"))?;
    argon2id::admit(&params, "argon2", budget)?;
    let budget = *budget;
    check(move |password: &str| {
        argon2id::verify_password(password, hash, budget).map_err(|_| malformed("argon2", "unreadable PHC string"))
    })
}

/// Django `argon2$argon2id$v=19$...`: the PHC string with Django's algorithm name in front
/// (django.contrib.auth.hashers.Argon2PasswordHasher).
pub fn django_argon2<'a>(hash: &'a str, budget: &Budget) -> Result<Check<'a>, HashError> {
    let phc = hash.strip_prefix("argon2").ok_or_else(|| malformed("django_argon2", "no argon2$ prefix"))?;
    argon2(phc, budget)
}

/// passlib `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>`, salt and hash in passlib's adapted base64
/// (passlib.handlers.scrypt).
pub fn passlib_scrypt(hash: &str, budget: &Budget) -> Result<Check<'static>, HashError> {
    let fail = |r: &str| malformed("scrypt", r);
    let mut fields = hash.strip_prefix("$scrypt$").ok_or_else(|| fail("no $scrypt$ prefix"))?.split('$');
    let (Some(settings), Some(salt), Some(digest), None) = (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(fail("expected $scrypt$ln=..,r=..,p=..$salt$hash"));
    };
    let (mut ln, mut r, mut p) = (None, None, None);
    for kv in settings.split(',') {
        match kv.split_once('=') {
            Some(("ln", v)) => ln = v.parse::<u64>().ok(),
            Some(("r", v)) => r = v.parse::<u32>().ok(),
            Some(("p", v)) => p = v.parse::<u32>().ok(),
            _ => return Err(fail("unknown setting")),
        }
    }
    let (Some(ln), Some(r), Some(p)) = (ln, r, p) else { return Err(fail("ln, r and p are required")) };
    // passlib writes log2(N); Ory Kratos writes N itself under the same name (a power of two above 63).
    let log_n = if ln > 63 && ln.is_power_of_two() { ln.trailing_zeros() as u64 } else { ln };
    let log_n = u8::try_from(log_n).map_err(|_| fail("ln is not log2(N) or a power of two"))?;
    let (salt, expected) = (
        decode_either(salt).ok_or_else(|| fail("salt is not base64"))?,
        decode_either(digest).ok_or_else(|| fail("hash is not base64"))?,
    );
    if expected.is_empty() || expected.len() > 256 {
        return Err(fail("hash length"));
    }
    let derive = scrypt_key(salt, log_n, r, p, expected.len(), "scrypt", budget)?;
    check(move |password: &str| Ok(encoding::equal(&derive(password.as_bytes())?, &expected)))
}

/// Django `scrypt$<N>$<salt>$<r>$<p>$<base64 hash>`: scrypt of the password with the salt's UTF-8 bytes, 64 bytes
/// of output (django.contrib.auth.hashers.ScryptPasswordHasher).
pub fn django_scrypt(hash: &str, budget: &Budget) -> Result<Check<'static>, HashError> {
    let fail = |r: &str| malformed("django_scrypt", r);
    let fields: Vec<&str> = hash.strip_prefix("scrypt$").ok_or_else(|| fail("no scrypt$ prefix"))?.split('$').collect();
    let [n, salt, r, p, digest] = fields.as_slice() else { return Err(fail("expected scrypt$N$salt$r$p$hash")) };
    let n: u64 = n
        .parse()
        .ok()
        .filter(|n: &u64| n.is_power_of_two() && *n > 1)
        .ok_or_else(|| fail("N is not a power of two"))?;
    let (r, p): (u32, u32) = (r.parse().map_err(|_| fail("r"))?, p.parse().map_err(|_| fail("p"))?);
    let expected = encoding::base64_any(digest)
        .filter(|d| !d.is_empty() && d.len() <= 256)
        .ok_or_else(|| fail("hash is not base64"))?;
    let log_n = u8::try_from(n.trailing_zeros()).map_err(|_| fail("N"))?;
    let derive = scrypt_key(salt.as_bytes().to_vec(), log_n, r, p, expected.len(), "django_scrypt", budget)?;
    check(move |password: &str| Ok(encoding::equal(&derive(password.as_bytes())?, &expected)))
}

/// passlib's adapted base64 ('.' for '+', unpadded) or standard base64 (Ory).
fn decode_either(s: &str) -> Option<Vec<u8>> {
    encoding::ab64_decode(s).or_else(|| encoding::base64_any(s))
}

/// Bounds scrypt's work (N·r·p) and memory (128·r·N bytes) before deferring the derivation.
fn scrypt_key(
    salt: Vec<u8>,
    log_n: u8,
    r: u32,
    p: u32,
    len: usize,
    format: &'static str,
    budget: &Budget,
) -> Result<impl FnOnce(&[u8]) -> Result<Vec<u8>, HashError>, HashError> {
    let too_costly = || HashError::TooCostly { format, reason: format!("log2(N)={log_n} r={r} p={p}") };
    if log_n == 0 || log_n > bounds::SCRYPT_LOG_N || r == 0 || p == 0 {
        return Err(if log_n > bounds::SCRYPT_LOG_N { too_costly() } else { malformed(format, "invalid N/r/p") });
    }
    let n_times_r = (1u64 << log_n) * u64::from(r);
    if n_times_r.saturating_mul(u64::from(p)) > bounds::SCRYPT_WORK {
        return Err(too_costly());
    }
    budget.admit(format, n_times_r * 128 / 1024)?;
    let params = scrypt::Params::new(log_n, r, p, len).map_err(|_| malformed(format, "invalid N/r/p"))?;
    Ok(move |password: &[u8]| {
        let mut key = vec![0u8; len];
        scrypt::scrypt(password, &salt, &params, &mut key).map_err(|_| malformed(format, "invalid output length"))?;
        Ok(key)
    })
}

/// Firebase Auth's modified scrypt (github.com/firebase/scrypt): key = scrypt(password, salt ‖ separator,
/// N = 2^mem_cost, r = rounds, p = 1); the stored hash is AES-256-CTR(key, IV 0) of the project's signer key.
/// Parameters come from `params` (as the Firebase console prints them), or from Ory's
/// `$firescrypt$ln=<mem_cost>,r=<rounds>,p=<p>$<salt>$<hash>$<separator>$<signer key>`.
pub fn firebase_scrypt(hash: &str, params: &Value, budget: &Budget) -> Result<Check<'static>, HashError> {
    use aes::cipher::{KeyIvInit, StreamCipher};
    let f = "firebase_scrypt";
    let b64 =
        |s: &str, what: &str| encoding::base64_any(s).ok_or_else(|| malformed(f, format!("{what} is not base64")));
    let (salt, expected, separator, signer_key, mem_cost, rounds, p) =
        if let Some(rest) = hash.strip_prefix("$firescrypt$") {
            let fields: Vec<&str> = rest.split('$').collect();
            let [settings, salt, digest, separator, signer] = fields.as_slice() else {
                return Err(malformed(f, "expected $firescrypt$ln=..,r=..,p=..$salt$hash$separator$signer_key"));
            };
            let mut values = [None; 3];
            for kv in settings.split(',') {
                let slot = match kv.split_once('=') {
                    Some(("ln", v)) => (0, v),
                    Some(("r", v)) => (1, v),
                    Some(("p", v)) => (2, v),
                    _ => return Err(malformed(f, "unknown setting")),
                };
                values[slot.0] = slot.1.parse::<u32>().ok();
            }
            let [Some(ln), Some(r), Some(p)] = values else { return Err(malformed(f, "ln, r and p are required")) };
            (
                b64(salt, "salt")?,
                b64(digest, "hash")?,
                b64(separator, "salt separator")?,
                b64(signer, "signer key")?,
                ln,
                r,
                p,
            )
        } else {
            let text = |key: &'static str| {
                params.get(key).and_then(Value::as_str).ok_or(HashError::MissingParam { format: f, param: key })
            };
            let number = |key: &'static str| {
                params
                    .get(key)
                    .and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or(HashError::MissingParam { format: f, param: key })
            };
            (
                b64(text("salt")?, "salt")?,
                b64(hash, "hash")?,
                b64(text("salt_separator")?, "salt separator")?,
                b64(text("signer_key")?, "signer key")?,
                number("mem_cost")?,
                number("rounds")?,
                1,
            )
        };
    let log_n = u8::try_from(mem_cost).map_err(|_| malformed(f, "mem_cost"))?;
    let derive = scrypt_key([salt, separator].concat(), log_n, rounds, p, 32, f, budget)?;
    check(move |password: &str| {
        let key = derive(password.as_bytes())?;
        let mut cipher = ctr::Ctr128BE::<aes::Aes256>::new(key.as_slice().into(), &[0u8; 16].into());
        let mut actual = signer_key;
        cipher.apply_keystream(&mut actual);
        Ok(encoding::equal(&actual, &expected))
    })
}

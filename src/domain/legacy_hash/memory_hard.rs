//! Argon2 (PHC strings, also Django's prefix) and scrypt as passlib writes it.

use super::{bounds, encoding, malformed, HashError};
use crate::domain::password::argon2id;
use argon2::password_hash::phc::PasswordHash;
use argon2::Params;

pub fn argon2(password: &str, hash: &str) -> Result<bool, HashError> {
    let parsed = PasswordHash::new(hash).map_err(|_| malformed("argon2", "not a PHC string"))?;
    let params = Params::try_from(&parsed).map_err(|_| malformed("argon2", "invalid m/t/p parameters"))?;
    if params.m_cost() > bounds::ARGON2_MEMORY_KIB
        || params.t_cost() > bounds::ARGON2_ITERATIONS
        || params.p_cost() > bounds::ARGON2_LANES
    {
        return Err(HashError::TooCostly {
            format: "argon2",
            reason: format!("m={} t={} p={}", params.m_cost(), params.t_cost(), params.p_cost()),
        });
    }
    argon2id::verify_password(password, hash).map_err(|_| malformed("argon2", "unreadable PHC string"))
}

/// Django `argon2$argon2id$v=19$...`: the PHC string with Django's algorithm name in front
/// (django.contrib.auth.hashers.Argon2PasswordHasher).
pub fn django_argon2(password: &str, hash: &str) -> Result<bool, HashError> {
    let phc = hash.strip_prefix("argon2").ok_or_else(|| malformed("django_argon2", "no argon2$ prefix"))?;
    argon2(password, phc)
}

/// passlib `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>`, salt and hash in passlib's adapted base64
/// (passlib.handlers.scrypt).
pub fn passlib_scrypt(password: &[u8], hash: &str) -> Result<bool, HashError> {
    let fail = |r: &str| malformed("scrypt", r);
    let mut fields = hash.strip_prefix("$scrypt$").ok_or_else(|| fail("no $scrypt$ prefix"))?.split('$');
    let (Some(settings), Some(salt), Some(digest), None) = (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(fail("expected $scrypt$ln=..,r=..,p=..$salt$hash"));
    };
    let (mut ln, mut r, mut p) = (None, None, None);
    for kv in settings.split(',') {
        match kv.split_once('=') {
            Some(("ln", v)) => ln = v.parse::<u8>().ok(),
            Some(("r", v)) => r = v.parse::<u32>().ok(),
            Some(("p", v)) => p = v.parse::<u32>().ok(),
            _ => return Err(fail("unknown setting")),
        }
    }
    let (Some(ln), Some(r), Some(p)) = (ln, r, p) else { return Err(fail("ln, r and p are required")) };
    if ln > bounds::SCRYPT_LOG_N || u64::from(r) * u64::from(p) > bounds::SCRYPT_R_TIMES_P {
        return Err(HashError::TooCostly { format: "scrypt", reason: format!("ln={ln} r={r} p={p}") });
    }
    let salt = encoding::ab64_decode(salt).ok_or_else(|| fail("salt is not adapted base64"))?;
    let expected = encoding::ab64_decode(digest).ok_or_else(|| fail("hash is not adapted base64"))?;
    if expected.is_empty() || expected.len() > 256 {
        return Err(fail("hash length"));
    }
    let params = scrypt::Params::new(ln, r, p, expected.len()).map_err(|_| fail("invalid ln/r/p"))?;
    let mut actual = vec![0u8; expected.len()];
    scrypt::scrypt(password, &salt, &params, &mut actual).map_err(|_| fail("invalid output length"))?;
    Ok(encoding::equal(&actual, &expected))
}

//! bcrypt and the formats that wrap it (Django's bcrypt and bcrypt_sha256, WordPress 6.8+).

use super::{bounds, check, encoding, malformed, Check, HashError};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha384};
use std::str::FromStr;

/// bcrypt as OpenBSD, PHP and Linux crypt do it: passwords beyond 72 bytes are truncated.
/// `pre_hash` turns the password into what is bcrypted (the wrapping formats hash it first).
fn bcrypt_over<'a>(
    hash: &'a str,
    format: &'static str,
    pre_hash: fn(&[u8]) -> Vec<u8>,
) -> Result<Check<'a>, HashError> {
    // The cost is read before anything else, so a hostile cost is refused whatever follows it.
    let cost: u32 = hash.get(4..6).and_then(|c| c.parse().ok()).ok_or_else(|| malformed(format, "no cost"))?;
    if cost > bounds::BCRYPT_COST {
        return Err(HashError::TooCostly { format, reason: format!("cost {cost} > {}", bounds::BCRYPT_COST) });
    }
    bcrypt::HashParts::from_str(hash).map_err(|_| malformed(format, "not a $2a$/$2b$/$2x$/$2y$ string"))?;
    check(move |password: &str| {
        bcrypt::verify(pre_hash(password.as_bytes()), hash).map_err(|_| malformed(format, "not a valid bcrypt string"))
    })
}

pub fn bcrypt(hash: &str) -> Result<Check<'_>, HashError> {
    bcrypt_over(hash, "bcrypt", <[u8]>::to_vec)
}

/// Django `bcrypt$<bcrypt>`: bcrypt of the password itself (django.contrib.auth.hashers.BCryptPasswordHasher).
pub fn django_bcrypt(hash: &str) -> Result<Check<'_>, HashError> {
    let inner = hash.strip_prefix("bcrypt$").ok_or_else(|| malformed("django_bcrypt", "no bcrypt$ prefix"))?;
    bcrypt_over(inner, "django_bcrypt", <[u8]>::to_vec)
}

/// Django `bcrypt_sha256$<bcrypt>`: bcrypt over the hex SHA-256 of the password
/// (django.contrib.auth.hashers.BCryptSHA256PasswordHasher).
pub fn django_bcrypt_sha256(hash: &str) -> Result<Check<'_>, HashError> {
    let inner = hash.strip_prefix("bcrypt_sha256$").ok_or_else(|| malformed("django_bcrypt_sha256", "no prefix"))?;
    bcrypt_over(inner, "django_bcrypt_sha256", |pw| hex::encode(Sha256::digest(pw)).into_bytes())
}

/// WordPress 6.8 `$wp$2y$...`: wp_hash_password() bcrypts base64(HMAC-SHA384(key "wp-sha384", password))
/// (wp-includes/pluggable.php).
pub fn wp_bcrypt(hash: &str) -> Result<Check<'_>, HashError> {
    let inner = hash.strip_prefix("$wp").ok_or_else(|| malformed("wordpress", "no $wp prefix"))?;
    bcrypt_over(inner, "wordpress", |pw| {
        let mut mac = Hmac::<Sha384>::new_from_slice(b"wp-sha384").expect("HMAC takes any key");
        mac.update(pw);
        encoding::base64_standard(&mac.finalize().into_bytes()).into_bytes()
    })
}

//! bcrypt and the formats that wrap it (Django's bcrypt_sha256, WordPress 6.8+).

use super::{bounds, encoding, malformed, HashError};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha384};
use std::str::FromStr;

/// bcrypt as OpenBSD, PHP and Linux crypt do it: passwords beyond 72 bytes are truncated.
pub fn bcrypt(password: &[u8], hash: &str) -> Result<bool, HashError> {
    // The cost is read before anything else, so a hostile cost is refused whatever follows it.
    let cost: u32 = hash.get(4..6).and_then(|c| c.parse().ok()).ok_or_else(|| malformed("bcrypt", "no cost"))?;
    if cost > bounds::BCRYPT_COST {
        return Err(HashError::TooCostly {
            format: "bcrypt",
            reason: format!("cost {cost} > {}", bounds::BCRYPT_COST),
        });
    }
    bcrypt::HashParts::from_str(hash).map_err(|_| malformed("bcrypt", "not a $2a$/$2b$/$2x$/$2y$ string"))?;
    bcrypt::verify(password, hash).map_err(|_| malformed("bcrypt", "not a valid bcrypt string"))
}

/// Django `bcrypt_sha256$<bcrypt>`: bcrypt over the hex SHA-256 of the password
/// (django.contrib.auth.hashers.BCryptSHA256PasswordHasher).
pub fn django_bcrypt_sha256(password: &[u8], hash: &str) -> Result<bool, HashError> {
    let inner = hash.strip_prefix("bcrypt_sha256$").ok_or_else(|| malformed("django_bcrypt_sha256", "no prefix"))?;
    bcrypt(hex::encode(Sha256::digest(password)).as_bytes(), inner)
}

/// WordPress 6.8 `$wp$2y$...`: wp_hash_password() bcrypts base64(HMAC-SHA384(key "wp-sha384", password))
/// (wp-includes/pluggable.php).
pub fn wordpress(password: &[u8], hash: &str) -> Result<bool, HashError> {
    let inner = hash.strip_prefix("$wp").ok_or_else(|| malformed("wordpress", "no $wp prefix"))?;
    let mut mac = Hmac::<Sha384>::new_from_slice(b"wp-sha384").expect("HMAC takes any key");
    mac.update(password);
    bcrypt(encoding::base64_standard(&mac.finalize().into_bytes()).as_bytes(), inner)
}

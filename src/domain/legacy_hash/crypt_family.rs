//! crypt(3)-style strings: SHA-crypt ($5$, $6$) via the sha-crypt crate; MD5-crypt ($1$, $apr1$),
//! phpass ($P$, $H$) and Drupal 7 ($S$) written here after their reference sources.

use super::encoding::{self, to64};
use super::{bounds, check, malformed, Budget, Check, HashError, ITERATIONS_PER_POLL};
use md5::{Digest, Md5};
use sha2::Sha512;

/// SHA-crypt after Ulrich Drepper's specification (glibc): `$5$`/`$6$`, optional `rounds=N$` (clamped to
/// 1000..=999999999 as glibc does), a salt of up to 16 characters, and the digest in crypt's base64.
pub fn sha_crypt(hash: String, format: &'static str) -> Result<Check<'static>, HashError> {
    let magic = if format == "sha256_crypt" { "$5$" } else { "$6$" };
    let rest = hash.strip_prefix(magic).ok_or_else(|| malformed(format, "wrong prefix"))?.to_string();
    let (rounds, rest) = match rest.strip_prefix("rounds=").and_then(|r| r.split_once('$')) {
        Some((n, rest)) => (n.parse::<u64>().map_err(|_| malformed(format, "rounds is not a number"))?, rest),
        None => (sha_crypt::ROUNDS_DEFAULT as u64, rest.as_str()),
    };
    if rounds > bounds::SHA_CRYPT_ROUNDS {
        return Err(HashError::TooCostly { format, reason: format!("rounds={rounds}") });
    }
    let rounds = rounds.max(sha_crypt::ROUNDS_MIN as u64) as usize;
    let (salt, digest) = rest.rsplit_once('$').ok_or_else(|| malformed(format, "expected salt$hash"))?;
    let salt = salt.as_bytes()[..salt.len().min(16)].to_vec();
    let digest = digest.as_bytes().to_vec();
    check(move |password: &str| {
        let pw = password.as_bytes();
        let computed = if format == "sha256_crypt" {
            sha_crypt::Sha256Params::new(rounds).and_then(|p| sha_crypt::sha256_crypt_b64(pw, &salt, &p))
        } else {
            sha_crypt::Sha512Params::new(rounds).and_then(|p| sha_crypt::sha512_crypt_b64(pw, &salt, &p))
        }
        .map_err(|_| malformed(format, "invalid salt or rounds"))?;
        Ok(encoding::equal(computed.as_bytes(), &digest))
    })
}

/// Traditional DES crypt(3) through the pwhash crate (13 characters: 2 of salt, 11 of hash).
pub fn des_crypt(hash: &str) -> Result<Check<'_>, HashError> {
    if hash.len() != 13 || !hash.bytes().all(|b| encoding::itoa64_index(b).is_some()) {
        return Err(malformed("des_crypt", "expected 13 characters of [./0-9A-Za-z]"));
    }
    check(move |password: &str| Ok(pwhash::unix_crypt::verify(password, hash)))
}

/// Django `crypt$<salt>$<crypt string>` (CryptPasswordHasher, up to Django 4.2): crypt(3) of the password, verified
/// with the crypt string as its own setting — DES crypt as Django wrote it, or an MD5/SHA crypt string.
pub fn django_crypt(hash: &str) -> Result<Check<'_>, HashError> {
    let fail = || malformed("django_crypt", "expected crypt$salt$<crypt string>");
    let (_, data) = hash.strip_prefix("crypt$").and_then(|r| r.split_once('$')).ok_or_else(fail)?;
    if data.starts_with("$1$") {
        md5_crypt(data.to_string(), "md5_crypt")
    } else if data.starts_with("$5$") {
        sha_crypt(data.to_string(), "sha256_crypt")
    } else if data.starts_with("$6$") {
        sha_crypt(data.to_string(), "sha512_crypt")
    } else {
        des_crypt(data)
    }
}

/// MD5-crypt, after Poul-Henning Kamp's FreeBSD crypt-md5.c; `$apr1$` is Apache's copy with another magic.
pub fn md5_crypt(hash: String, format: &'static str) -> Result<Check<'static>, HashError> {
    let magic = if format == "apr1" { "$apr1$" } else { "$1$" };
    let rest = hash.strip_prefix(magic).ok_or_else(|| malformed(format, "wrong prefix"))?;
    let (salt, _) = rest.split_once('$').ok_or_else(|| malformed(format, "no salt terminator"))?;
    let salt = salt.as_bytes()[..salt.len().min(8)].to_vec();
    check(move |password: &str| Ok(md5_crypt_matches(password.as_bytes(), &salt, magic, &hash)))
}

fn md5_crypt_matches(password: &[u8], salt: &[u8], magic: &str, hash: &str) -> bool {
    let alternate = Md5::new().chain_update(password).chain_update(salt).chain_update(password).finalize();
    let mut ctx = Md5::new().chain_update(password).chain_update(magic).chain_update(salt);
    let mut remaining = password.len();
    while remaining > 0 {
        let n = remaining.min(16);
        ctx.update(&alternate[..n]);
        remaining -= n;
    }
    let mut bits = password.len();
    while bits > 0 {
        if bits & 1 == 1 {
            ctx.update([0u8]);
        } else {
            ctx.update(&password[..password.len().min(1)]);
        }
        bits >>= 1;
    }
    let mut digest = ctx.finalize();
    for round in 0..1000 {
        let mut c = Md5::new();
        if round & 1 == 1 {
            c.update(password);
        } else {
            c.update(digest);
        }
        if round % 3 != 0 {
            c.update(salt);
        }
        if round % 7 != 0 {
            c.update(password);
        }
        if round & 1 == 1 {
            c.update(digest);
        } else {
            c.update(password);
        }
        digest = c.finalize();
    }
    let d = |i: usize| u32::from(digest[i]);
    let mut encoded = String::with_capacity(22);
    for (a, b, c) in [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)] {
        to64(&mut encoded, (d(a) << 16) | (d(b) << 8) | d(c), 4);
    }
    to64(&mut encoded, d(11), 2);
    let expected = format!("{magic}{}${encoded}", String::from_utf8_lossy(salt));
    encoding::equal(expected.as_bytes(), hash.as_bytes())
}

/// phpass portable hashes (Openwall phpass 0.5, PasswordHash.php `crypt_private`) and Drupal 7's
/// SHA-512 variant (includes/password.inc `_password_crypt`, truncated to 55 characters).
pub fn phpass<'a>(hash: &'a str, format: &'static str, budget: &Budget) -> Result<Check<'a>, HashError> {
    let bytes = hash.as_bytes();
    let prefix_ok = match format {
        "drupal7" => hash.starts_with("$S$"),
        _ => hash.starts_with("$P$") || hash.starts_with("$H$"),
    };
    if !prefix_ok || bytes.len() < 12 {
        return Err(malformed(format, "expected a 3-character prefix, a cost character and an 8-character salt"));
    }
    let log2 = encoding::itoa64_index(bytes[3]).ok_or_else(|| malformed(format, "invalid cost character"))?;
    if !(7..=30).contains(&log2) {
        return Err(malformed(format, "cost outside 7..30"));
    }
    if log2 > bounds::PHPASS_LOG2 {
        return Err(HashError::TooCostly { format, reason: format!("2^{log2} iterations") });
    }
    // Bytes, not characters: a multi-byte character inside the salt must not split a string slice.
    let setting = &bytes[..12];
    let salt = &bytes[4..12];
    let count = 1u64 << log2;
    let interrupted = budget.interrupted;
    check(move |password: &str| {
        let pw = password.as_bytes();
        let encoded = if format == "drupal7" {
            stretch::<Sha512>(salt, pw, count, interrupted)?
        } else {
            stretch::<Md5>(salt, pw, count, interrupted)?
        };
        Ok(phpass_matches(setting, &encoded, bytes, format))
    })
}

/// phpass's stretching: digest(salt ‖ password), then `count` times digest(previous ‖ password); encoded.
fn stretch<D: Digest>(
    salt: &[u8],
    password: &[u8],
    count: u64,
    interrupted: fn() -> bool,
) -> Result<String, HashError> {
    let mut digest = D::new().chain_update(salt).chain_update(password).finalize();
    for n in 0..count {
        if n % ITERATIONS_PER_POLL == 0 && interrupted() {
            return Err(HashError::Interrupted);
        }
        digest = D::new().chain_update(&digest).chain_update(password).finalize();
    }
    Ok(encoding::phpass_encode64(&digest))
}

fn phpass_matches(setting: &[u8], encoded: &str, hash: &[u8], format: &str) -> bool {
    let mut expected = [setting, encoded.as_bytes()].concat();
    if format == "drupal7" {
        expected.truncate(55);
    }
    encoding::equal(&expected, hash)
}

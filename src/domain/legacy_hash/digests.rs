//! Fast digests: plain (optionally salted) MD5/SHA-1/SHA-256/SHA-512, HMAC, and LDAP's RFC 2307 schemes.
//! Weak on their own; pg_trickle only verifies them once and replaces them with argon2id.

use super::{encoding, malformed, HashError};
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use serde_json::Value;
use sha1::Sha1;
use sha2::{Sha256, Sha512};

fn digest_of(name: &str, parts: &[&[u8]]) -> Option<Vec<u8>> {
    fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
        let mut d = D::new();
        for p in parts {
            d.update(p);
        }
        d.finalize().to_vec()
    }
    Some(match name {
        "md5" => run::<Md5>(parts),
        "sha1" => run::<Sha1>(parts),
        "sha256" => run::<Sha256>(parts),
        "sha512" => run::<Sha512>(parts),
        _ => return None,
    })
}

fn digest_len(name: &str) -> usize {
    match name {
        "md5" => 16,
        "sha1" => 20,
        "sha256" => 32,
        _ => 64,
    }
}

fn string_param<'a>(params: &'a Value, key: &'static str, format: &'static str) -> Result<Option<&'a str>, HashError> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(HashError::BadParam { format, reason: format!("\"{key}\" must be a string") }),
    }
}

/// `md5`, `sha1`, `sha256`, `sha512`: hex (either case) or base64 of digest(password), or with
/// params {"salt": "...", "salt_position": "prefix" | "suffix"} of digest(salt + password) / digest(password + salt).
pub fn plain(password: &[u8], hash: &str, format: &'static str, params: &Value) -> Result<bool, HashError> {
    let expected = encoding::hex_or_base64(hash, digest_len(format))
        .ok_or_else(|| malformed(format, format!("expected {} hex characters or base64", digest_len(format) * 2)))?;
    let salt = string_param(params, "salt", format)?;
    let actual = match (salt, string_param(params, "salt_position", format)?) {
        (None, _) => digest_of(format, &[password]),
        (Some(salt), Some("prefix")) => digest_of(format, &[salt.as_bytes(), password]),
        (Some(salt), Some("suffix")) => digest_of(format, &[password, salt.as_bytes()]),
        (Some(_), None) => return Err(HashError::MissingParam { format, param: "salt_position" }),
        (Some(_), Some(other)) => {
            return Err(HashError::BadParam { format, reason: format!("salt_position \"{other}\" (prefix, suffix)") })
        }
    }
    .expect("format names a digest");
    Ok(encoding::equal(&actual, &expected))
}

/// `hmac`: hex or base64 of HMAC-<digest>(key, password), params {"digest": ..., "key": ...}.
pub fn hmac(password: &[u8], hash: &str, params: &Value) -> Result<bool, HashError> {
    let format = "hmac";
    let digest = string_param(params, "digest", format)?.ok_or(HashError::MissingParam { format, param: "digest" })?;
    let key = string_param(params, "key", format)?.ok_or(HashError::MissingParam { format, param: "key" })?;
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], msg: &[u8]) -> Vec<u8> {
        let mut mac = <M as Mac>::new_from_slice(key).expect("HMAC takes any key");
        mac.update(msg);
        mac.finalize().into_bytes().to_vec()
    }
    let actual = match digest {
        "md5" => run::<Hmac<Md5>>(key.as_bytes(), password),
        "sha1" => run::<Hmac<Sha1>>(key.as_bytes(), password),
        "sha256" => run::<Hmac<Sha256>>(key.as_bytes(), password),
        "sha512" => run::<Hmac<Sha512>>(key.as_bytes(), password),
        other => {
            return Err(HashError::BadParam {
                format,
                reason: format!("digest \"{other}\" (md5, sha1, sha256, sha512)"),
            })
        }
    };
    let expected =
        encoding::hex_or_base64(hash, actual.len()).ok_or_else(|| malformed(format, "expected hex or base64"))?;
    Ok(encoding::equal(&actual, &expected))
}

/// RFC 2307 userPassword values (OpenLDAP slappasswd): `{SCHEME}base64(digest [+ salt])`, or
/// `{CRYPT}` followed by any crypt string this module detects.
pub fn ldap(password: &str, hash: &str) -> Result<bool, HashError> {
    let format = "ldap";
    let (scheme, rest) = hash
        .strip_prefix('{')
        .and_then(|h| h.split_once('}'))
        .ok_or_else(|| malformed(format, "expected {SCHEME}value"))?;
    let scheme = scheme.to_ascii_uppercase();
    if scheme == "CRYPT" {
        let inner = super::detect(rest)
            .filter(|f| *f != "ldap")
            .ok_or_else(|| malformed(format, "unsupported {CRYPT} value"))?;
        return super::verify(password, rest, inner, &Value::Null);
    }
    let (salted, name) = match scheme.as_str() {
        "SHA" => (false, "sha1"),
        "SSHA" => (true, "sha1"),
        "SHA256" => (false, "sha256"),
        "SSHA256" => (true, "sha256"),
        "SHA512" => (false, "sha512"),
        "SSHA512" => (true, "sha512"),
        "MD5" => (false, "md5"),
        "SMD5" => (true, "md5"),
        other => return Err(malformed(format, format!("unsupported scheme {{{other}}}"))),
    };
    let bytes = encoding::base64_any(rest).ok_or_else(|| malformed(format, "value is not base64"))?;
    let len = digest_len(name);
    if bytes.len() < len || (!salted && bytes.len() != len) {
        return Err(malformed(format, "value has the wrong length"));
    }
    let (expected, salt) = bytes.split_at(len);
    let actual = digest_of(name, &[password.as_bytes(), salt]).expect("known digest");
    Ok(encoding::equal(&actual, expected))
}

//! Fast digests: plain (optionally salted) MD4/MD5/SHA-1/SHA-256/SHA-512, HMAC, and LDAP's RFC 2307 schemes.
//! Weak on their own; pg_trickle only verifies them once and replaces them with argon2id.

use super::{check, encoding, malformed, Budget, Check, HashError};
use hmac::{Hmac, Mac};
use md4::Md4;
use md5::{Digest, Md5};
use ripemd::Ripemd160;
use serde_json::Value;
use sha1::Sha1;
use sha2::{Sha256, Sha384, Sha512};

fn digest_of(name: &str, parts: &[&[u8]]) -> Option<Vec<u8>> {
    fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
        let mut d = D::new();
        for p in parts {
            d.update(p);
        }
        d.finalize().to_vec()
    }
    Some(match name {
        "md4" => run::<Md4>(parts),
        "md5" => run::<Md5>(parts),
        "sha1" => run::<Sha1>(parts),
        "sha256" => run::<Sha256>(parts),
        "sha384" => run::<Sha384>(parts),
        "sha512" => run::<Sha512>(parts),
        _ => return None,
    })
}

fn digest_len(name: &str) -> usize {
    match name {
        "md4" | "md5" => 16,
        "sha1" => 20,
        "sha256" => 32,
        "sha384" => 48,
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

/// A text parameter decoded as its `<name>_encoding` says: `utf8` (default), `base64` or `hex`.
fn binary_param(
    params: &Value,
    key: &'static str,
    encoding_key: &'static str,
    format: &'static str,
) -> Result<Option<Vec<u8>>, HashError> {
    let Some(value) = string_param(params, key, format)? else { return Ok(None) };
    let decoded = match string_param(params, encoding_key, format)?.unwrap_or("utf8") {
        "utf8" => Some(value.as_bytes().to_vec()),
        "base64" => encoding::base64_any(value),
        "hex" => hex::decode(value).ok(),
        _ => return Err(HashError::BadParam { format, reason: format!("{encoding_key} must be utf8, base64 or hex") }),
    };
    decoded
        .map(Some)
        .ok_or_else(|| HashError::BadParam { format, reason: format!("\"{key}\" is not valid for its encoding") })
}

/// `md4`, `md5`, `sha1`, `sha256`, `sha512`: hex (either case) or base64 of digest(password), or with
/// params {"salt": "...", "salt_position": "prefix" | "suffix"} of digest(salt + password) / digest(password + salt).
pub fn plain(hash: &str, format: &'static str, params: &Value) -> Result<Check<'static>, HashError> {
    if let Some(rest) = hash.strip_prefix(&format!("${format}$")) {
        return ory_digest(rest, format);
    }
    let expected = encoding::hex_or_base64(hash, digest_len(format))
        .ok_or_else(|| malformed(format, format!("expected {} hex characters or base64", digest_len(format) * 2)))?;
    let salt = binary_param(params, "salt", "salt_encoding", format)?;
    let salt_first = match (&salt, string_param(params, "salt_position", format)?) {
        (None, _) => false,
        (Some(_), Some("prefix")) => true,
        (Some(_), Some("suffix")) => false,
        (Some(_), None) => return Err(HashError::MissingParam { format, param: "salt_position" }),
        (Some(_), Some(_)) => {
            return Err(HashError::BadParam { format, reason: "salt_position must be prefix or suffix".into() })
        }
    };
    check(move |password: &str| {
        let (pw, salt) = (password.as_bytes(), salt.unwrap_or_default());
        let parts: [&[u8]; 2] = if salt_first { [&salt, pw] } else { [pw, &salt] };
        Ok(encoding::equal(&digest_of(format, &parts).expect("format names a digest"), &expected))
    })
}

/// Django's `md5$<salt>$<hex>` and `sha1$<salt>$<hex>`: the digest of salt + password in hex; with an empty salt
/// (`md5$$<hex>`, `sha1$$<hex>`) the unsalted hashers of Django up to 4.2 (MD5PasswordHasher, SHA1PasswordHasher,
/// UnsaltedMD5PasswordHasher, UnsaltedSHA1PasswordHasher). A bare 32-character hex MD5, Django's oldest form, is
/// format `md5`.
pub fn django_salted(hash: &str, format: &'static str) -> Result<Check<'static>, HashError> {
    let digest = format.strip_prefix("django_").expect("django_md5 or django_sha1");
    let rest = hash.strip_prefix(digest).and_then(|r| r.strip_prefix('$'));
    let (salt, hex_digest) = rest
        .and_then(|r| r.split_once('$'))
        .ok_or_else(|| malformed(format, format!("expected {digest}$salt$hash")))?;
    let expected = encoding::hex_or_base64(hex_digest, digest_len(digest))
        .filter(|_| hex_digest.len() == digest_len(digest) * 2)
        .ok_or_else(|| malformed(format, format!("expected {} hex characters", digest_len(digest) * 2)))?;
    let salt = salt.as_bytes().to_vec();
    check(move |password: &str| {
        let computed = digest_of(digest, &[&salt, password.as_bytes()]).expect("md5 and sha1 are digests");
        Ok(encoding::equal(&computed, &expected))
    })
}

/// Ory Kratos's forms (hash/hash_comparator.go): `$md5$<b64 hash>`, or `$<digest>$pf=<b64 pattern>$<b64 salt>$<b64 hash>`
/// where the pattern says how salt and password were joined, e.g. `{SALT}{PASSWORD}`.
fn ory_digest(rest: &str, format: &'static str) -> Result<Check<'static>, HashError> {
    let b64 =
        |s: &str, what: &str| encoding::base64_any(s).ok_or_else(|| malformed(format, format!("{what} is not base64")));
    let fields: Vec<&str> = rest.split('$').collect();
    let (pattern, salt, expected) = match fields.as_slice() {
        [digest] if format == "md5" => (b"{PASSWORD}".to_vec(), Vec::new(), b64(digest, "hash")?),
        [pattern, salt, digest] => {
            let pattern = pattern.strip_prefix("pf=").ok_or_else(|| malformed(format, "expected pf=<pattern>"))?;
            (b64(pattern, "pattern")?, b64(salt, "salt")?, b64(digest, "hash")?)
        }
        _ => return Err(malformed(format, "expected $<digest>$pf=..$salt$hash")),
    };
    check(move |password: &str| {
        let input = substitute(&pattern, &salt, password.as_bytes());
        Ok(encoding::equal(&digest_of(format, &[&input]).expect("format names a digest"), &expected))
    })
}

/// Replaces `{SALT}` and `{PASSWORD}` in a salting pattern, in one left-to-right pass.
fn substitute(pattern: &[u8], salt: &[u8], password: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(pattern.len() + salt.len() + password.len());
    let mut rest = pattern;
    while let Some((&first, tail)) = rest.split_first() {
        if let Some(after) = rest.strip_prefix(b"{SALT}") {
            out.extend_from_slice(salt);
            rest = after;
        } else if let Some(after) = rest.strip_prefix(b"{PASSWORD}") {
            out.extend_from_slice(password);
            rest = after;
        } else {
            out.push(first);
            rest = tail;
        }
    }
    out
}

fn hmac_of(digest: &str, key: &[u8], message: &[u8]) -> Option<Vec<u8>> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], msg: &[u8]) -> Vec<u8> {
        let mut mac = <M as Mac>::new_from_slice(key).expect("HMAC takes any key");
        mac.update(msg);
        mac.finalize().into_bytes().to_vec()
    }
    Some(match digest {
        "md4" => run::<Hmac<Md4>>(key, message),
        "md5" => run::<Hmac<Md5>>(key, message),
        "ripemd160" => run::<Hmac<Ripemd160>>(key, message),
        "sha1" => run::<Hmac<Sha1>>(key, message),
        "sha224" => run::<Hmac<sha2::Sha224>>(key, message),
        "sha256" => run::<Hmac<Sha256>>(key, message),
        "sha384" => run::<Hmac<sha2::Sha384>>(key, message),
        "sha512" => run::<Hmac<Sha512>>(key, message),
        _ => return None,
    })
}

/// `hmac`: hex or base64 of HMAC-<digest>(key, password), params {"digest": ..., "key": ...}; or Ory's
/// `$hmac-<digest>$<b64>$<b64 key>`, where the base64 holds the MAC's lowercase hex text.
pub fn hmac(hash: &str, params: &Value) -> Result<Check<'static>, HashError> {
    let format = "hmac";
    let unknown = || HashError::BadParam {
        format,
        reason: "digest must be md4, md5, ripemd160, sha1, sha224, sha256, sha384 or sha512".into(),
    };
    let known = |d: &str| hmac_of(d, b"", b"").map(|probe| probe.len()).ok_or_else(unknown);
    if let Some(rest) = hash.strip_prefix("$hmac-") {
        let fields: Vec<&str> = rest.split('$').collect();
        let [digest, mac, key] = fields.as_slice() else {
            return Err(malformed(format, "expected $hmac-<digest>$<hash>$<key>"));
        };
        let b64 = |s: &str, what: &str| {
            encoding::base64_any(s).ok_or_else(|| malformed(format, format!("{what} is not base64")))
        };
        known(digest)?;
        let (digest, key, expected) = (digest.to_string(), b64(key, "key")?, b64(mac, "hash")?);
        return check(move |password: &str| {
            let actual = hmac_of(&digest, &key, password.as_bytes()).ok_or_else(unknown)?;
            Ok(encoding::equal(hex::encode(actual).as_bytes(), &expected))
        });
    }
    let digest = string_param(params, "digest", format)?.ok_or(HashError::MissingParam { format, param: "digest" })?;
    let key =
        binary_param(params, "key", "key_encoding", format)?.ok_or(HashError::MissingParam { format, param: "key" })?;
    let expected =
        encoding::hex_or_base64(hash, known(digest)?).ok_or_else(|| malformed(format, "expected hex or base64"))?;
    let digest = digest.to_string();
    check(move |password: &str| {
        let actual = hmac_of(&digest, &key, password.as_bytes()).ok_or_else(unknown)?;
        Ok(encoding::equal(&actual, &expected))
    })
}

/// RFC 2307 userPassword values (OpenLDAP slappasswd): `{SCHEME}base64(digest [+ salt])`, or
/// `{CRYPT}` followed by any crypt string this module detects.
pub fn ldap<'a>(hash: &'a str, budget: &Budget) -> Result<Check<'a>, HashError> {
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
        static NO_PARAMS: Value = Value::Null;
        let inner = super::dispatch(rest, inner, &NO_PARAMS, budget)?;
        return check(move |password: &str| inner.verify(password));
    }
    let (salted, name) = match scheme.as_str() {
        "SHA" => (false, "sha1"),
        "SSHA" => (true, "sha1"),
        "SHA256" => (false, "sha256"),
        "SSHA256" => (true, "sha256"),
        "SHA384" => (false, "sha384"),
        "SSHA384" => (true, "sha384"),
        "SHA512" => (false, "sha512"),
        "SSHA512" => (true, "sha512"),
        "MD5" => (false, "md5"),
        "SMD5" => (true, "md5"),
        _ => return Err(malformed(format, "unsupported scheme")),
    };
    let bytes = encoding::base64_any(rest).ok_or_else(|| malformed(format, "value is not base64"))?;
    let len = digest_len(name);
    if bytes.len() < len || (!salted && bytes.len() != len) {
        return Err(malformed(format, "value has the wrong length"));
    }
    check(move |password: &str| {
        let (expected, salt) = bytes.split_at(len);
        Ok(encoding::equal(&digest_of(name, &[password.as_bytes(), salt]).expect("known digest"), expected))
    })
}

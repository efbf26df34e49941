//! Verifying the password hashes legacy user stores hold, so users move over without a reset.
//!
//! Each family lives in its own module and uses the maintained crate for its primitive (bcrypt,
//! argon2, scrypt, pbkdf2, sha-crypt, md-5, sha1, sha2, hmac); only thin format wrappers are written
//! here, each documented with its source. Every comparison of derived bytes is constant-time, and
//! cost parameters are bounded (see `bounds`) so a hostile row cannot burn minutes of CPU.

mod bcrypt_family;
mod crypt_family;
mod digests;
pub mod encoding;
mod memory_hard;
mod pbkdf2_family;
mod wordpress;

use serde_json::Value;
use thiserror::Error;

/// Why a hash (or its parameters) cannot be verified. Never carries the password.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HashError {
    #[error("unknown legacy hash format (see auth.legacy_hash_formats())")]
    UnknownFormat,
    #[error("the hash matches no format that can be detected; name the format")]
    Undetectable,
    #[error("malformed {format} hash: {reason}")]
    Malformed { format: &'static str, reason: String },
    #[error("format {format} needs the parameter \"{param}\"")]
    MissingParam { format: &'static str, param: &'static str },
    #[error("invalid parameter for {format}: {reason}")]
    BadParam { format: &'static str, reason: String },
    #[error("{format} cost is beyond the accepted bound: {reason}")]
    TooCostly { format: &'static str, reason: String },
    #[error("the verification was interrupted")]
    Interrupted,
}

impl HashError {
    /// A short class for events and logs (never the hash).
    pub fn class(&self) -> &'static str {
        match self {
            HashError::UnknownFormat => "unknown_format",
            HashError::Undetectable => "undetectable",
            HashError::Malformed { .. } => "malformed",
            HashError::MissingParam { .. } => "missing_param",
            HashError::BadParam { .. } => "bad_param",
            HashError::TooCostly { .. } => "too_costly",
            HashError::Interrupted => "interrupted",
        }
    }
}

pub(crate) fn malformed(format: &'static str, reason: impl Into<String>) -> HashError {
    HashError::Malformed { format, reason: reason.into() }
}

/// Upper bounds on work factors. Each keeps the most expensive accepted hash of its format at about two
/// seconds of one core (measured worst cases in docs/legacy-hashes.md), far above what real stores use; memory
/// is bounded apart, by the caller's [`Budget`]. Checked while parsing, before any work starts.
pub mod bounds {
    pub const BCRYPT_COST: u32 = 14;
    /// Memory (KiB) times passes: 256 MiB × 8 passes.
    pub const ARGON2_WORK: u64 = 2 * 1024 * 1024;
    pub const ARGON2_LANES: u32 = 16;
    /// Iterations times output blocks of the PRF.
    pub const PBKDF2_WORK: u64 = 4_000_000;
    pub const PBKDF2_KEY_BYTES: usize = 1024;
    pub const SCRYPT_LOG_N: u8 = 24;
    /// N × r × p, the number of salsa20/8 block mixes.
    pub const SCRYPT_WORK: u64 = 1 << 22;
    pub const SHA_CRYPT_ROUNDS: u64 = 2_000_000;
    pub const PHPASS_LOG2: u32 = 22;
    /// A hash string (or its parameters' JSON) longer than this is refused unread.
    pub const HASH_BYTES: usize = 4096;
}

/// What one verification may cost in memory, set by the caller (a superuser setting in the database), and how
/// the work that can be split learns that the caller wants it stopped (a query cancel, a timeout).
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub max_memory_kib: u64,
    /// Whether argon2's working memory stays allocated for the next verification in this process (faster) or is
    /// given back to the operating system after each one (a backend then holds no idle argon2 memory).
    pub keep_work_memory: bool,
    /// Polled between slices of PBKDF2 and phpass work; true stops it with `HashError::Interrupted`.
    pub interrupted: fn() -> bool,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { max_memory_kib: 256 * 1024, keep_work_memory: true, interrupted: || false }
    }
}

/// How many iterations run between two polls of `Budget::interrupted`.
pub(crate) const ITERATIONS_PER_POLL: u64 = 4096;

impl Budget {
    /// Refuses a hash whose verification would need more than the budget's memory.
    pub(crate) fn admit(&self, format: &'static str, memory_kib: u64) -> Result<(), HashError> {
        if memory_kib > self.max_memory_kib {
            return Err(HashError::TooCostly {
                format,
                reason: format!("needs {memory_kib} KiB of memory, the limit is {} KiB", self.max_memory_kib),
            });
        }
        Ok(())
    }
}

/// The work of checking one password against an already parsed and bounded hash.
pub(crate) type Check<'a> = Box<dyn FnOnce(&str) -> Result<bool, HashError> + 'a>;

pub(crate) fn check<'a>(work: impl FnOnce(&str) -> Result<bool, HashError> + 'a) -> Result<Check<'a>, HashError> {
    Ok(Box::new(work))
}

/// A hash parsed and admitted: its format, and the verification still to run.
pub struct Prepared<'a> {
    pub format: &'static str,
    check: Check<'a>,
}

impl Prepared<'_> {
    /// An empty password never verifies, whatever the hash says: legacy stores hold hashes of "" (accounts made by
    /// scripts, a password field left blank), and no such account may be taken over by leaving the field blank.
    pub fn verify(self, password: &str) -> Result<bool, HashError> {
        if password.is_empty() {
            return Ok(false);
        }
        (self.check)(password)
    }
}

pub struct FormatInfo {
    pub name: &'static str,
    pub description: &'static str,
    /// Parameters taken from the `params` JSON (empty: everything is in the hash string).
    pub params: &'static str,
}

pub const FORMATS: &[FormatInfo] = &[
    FormatInfo { name: "bcrypt", description: "bcrypt $2a$/$2b$/$2x$/$2y$ (passwords over 72 bytes truncated, as real implementations do)", params: "" },
    FormatInfo { name: "argon2", description: "Argon2 PHC string $argon2id$/$argon2i$/$argon2d$, v=16 or v=19", params: "" },
    FormatInfo { name: "scrypt", description: "scrypt as written by passlib: $scrypt$ln=..,r=..,p=..$salt$hash", params: "" },
    FormatInfo { name: "sha256_crypt", description: "SHA-256 crypt $5$ (glibc), with or without rounds=", params: "" },
    FormatInfo { name: "sha512_crypt", description: "SHA-512 crypt $6$ (glibc), with or without rounds=", params: "" },
    FormatInfo { name: "md5_crypt", description: "MD5 crypt $1$ (FreeBSD, glibc)", params: "" },
    FormatInfo { name: "des_crypt", description: "traditional DES crypt(3): 13 characters, 2 of salt; only the first 8 password characters count", params: "" },
    FormatInfo { name: "apr1", description: "Apache htpasswd MD5 $apr1$", params: "" },
    FormatInfo { name: "pbkdf2", description: "passlib $pbkdf2$/$pbkdf2-sha256$/$pbkdf2-sha512$, and PHC $pbkdf2-<digest>$i=..,l=..$salt$hash with digest md4, md5, sha1, sha256 or sha512 (Ory Kratos, Auth0)", params: "" },
    FormatInfo { name: "django_pbkdf2_sha256", description: "Django pbkdf2_sha256$iterations$salt$hash", params: "" },
    FormatInfo { name: "django_pbkdf2_sha1", description: "Django pbkdf2_sha1$iterations$salt$hash", params: "" },
    FormatInfo { name: "django_bcrypt_sha256", description: "Django bcrypt_sha256$ (bcrypt over the hex SHA-256 of the password)", params: "" },
    FormatInfo { name: "django_bcrypt", description: "Django bcrypt$<bcrypt> (BCryptPasswordHasher: bcrypt of the password itself)", params: "" },
    FormatInfo { name: "django_scrypt", description: "Django scrypt$N$salt$r$p$hash (ScryptPasswordHasher, Django 4.0+)", params: "" },
    FormatInfo { name: "django_md5", description: "Django md5$salt$hex and md5$$hex (MD5PasswordHasher, UnsaltedMD5PasswordHasher; a bare 32-hex MD5 is format md5)", params: "" },
    FormatInfo { name: "django_sha1", description: "Django sha1$salt$hex and sha1$$hex (SHA1PasswordHasher, UnsaltedSHA1PasswordHasher, up to Django 4.2)", params: "" },
    FormatInfo { name: "django_crypt", description: "Django crypt$salt$<crypt string> (CryptPasswordHasher, up to Django 4.2)", params: "" },
    FormatInfo { name: "django_argon2", description: "Django argon2$argon2id$... / argon2$argon2i$...", params: "" },
    FormatInfo { name: "phpass", description: "phpass portable hashes $P$ (WordPress up to 6.7) and $H$ (phpBB3)", params: "" },
    FormatInfo { name: "wordpress", description: "WordPress as wp_check_password reads its users' hashes: $wp$2y$ (6.8+: bcrypt over base64(HMAC-SHA384(key 'wp-sha384', password))), $P$ phpass, a 32-hex MD5 (before 2.5), other bcrypt/argon2 (plugins); the password tried trimmed and trimmed after WordPress's slashing, as its logins do", params: "" },
    FormatInfo { name: "drupal7", description: "Drupal 7 $S$ (SHA-512 phpass variant, 55 characters)", params: "" },
    FormatInfo { name: "ldap", description: "RFC 2307 {SHA} {SSHA} {SHA256} {SSHA256} {SHA384} {SSHA384} {SHA512} {SSHA512} {MD5} {SMD5} {CRYPT}<crypt string>", params: "" },
    FormatInfo { name: "aspnet_identity", description: "ASP.NET Identity base64 hashes, V2 (PBKDF2-HMAC-SHA1) and V3 (PBKDF2 with SHA-1/256/512)", params: "" },
    FormatInfo { name: "keycloak", description: "Keycloak credential JSON from a realm export: secretData {value, salt}, credentialData {hashIterations, algorithm}", params: "" },
    FormatInfo { name: "firebase_scrypt", description: "Firebase Auth's modified scrypt (auth:export hash), or Ory's $firescrypt$ln=..,r=..,p=..$salt$hash$separator$signer_key", params: "salt, signer_key, salt_separator (base64), rounds, mem_cost (unless $firescrypt$)" },
    FormatInfo { name: "md4", description: "hex or base64 MD4 digest, optionally salted (Auth0 exports)", params: "salt, salt_position (prefix | suffix), salt_encoding (utf8 | base64 | hex)" },
    FormatInfo { name: "md5", description: "hex or base64 MD5 digest, optionally salted; or Ory's $md5$<hash> / $md5$pf=..$salt$hash", params: "salt, salt_position (prefix | suffix), salt_encoding (utf8 | base64 | hex), unless $md5$" },
    FormatInfo { name: "sha1", description: "hex or base64 SHA-1 digest, optionally salted; or Ory's $sha1$pf=..$salt$hash", params: "salt, salt_position, salt_encoding, unless $sha1$" },
    FormatInfo { name: "sha256", description: "hex or base64 SHA-256 digest, optionally salted; or Ory's $sha256$pf=..$salt$hash", params: "salt, salt_position, salt_encoding, unless $sha256$" },
    FormatInfo { name: "sha512", description: "hex or base64 SHA-512 digest, optionally salted; or Ory's $sha512$pf=..$salt$hash", params: "salt, salt_position, salt_encoding, unless $sha512$" },
    FormatInfo { name: "hmac", description: "hex or base64 HMAC of the password; or Ory's $hmac-<digest>$<hash>$<key>", params: "digest (md4 | md5 | ripemd160 | sha1 | sha224 | sha256 | sha384 | sha512), key, key_encoding (utf8 | base64 | hex), unless $hmac-" },
];

/// The canonical format of a hash whose string form says it unambiguously.
pub fn detect(hash: &str) -> Option<&'static str> {
    let h = hash.trim();
    let starts = |p: &str| h.starts_with(p);
    Some(match () {
        _ if starts("$2a$") || starts("$2b$") || starts("$2x$") || starts("$2y$") => "bcrypt",
        _ if starts("$argon2") => "argon2",
        _ if starts("$scrypt$") => "scrypt",
        _ if starts("$5$") || starts("$sha256-crypt$") => "sha256_crypt",
        _ if starts("$6$") || starts("$sha512-crypt$") => "sha512_crypt",
        _ if starts("$firescrypt$") => "firebase_scrypt",
        _ if starts("$md5$") => "md5",
        _ if starts("$sha1$") => "sha1",
        _ if starts("$sha256$") => "sha256",
        _ if starts("$sha512$") => "sha512",
        _ if starts("$hmac-") => "hmac",
        _ if starts("$1$") || starts("$md5-crypt$") => "md5_crypt",
        _ if starts("$apr1$") => "apr1",
        _ if starts("$pbkdf2") => "pbkdf2",
        _ if starts("pbkdf2_sha256$") => "django_pbkdf2_sha256",
        _ if starts("pbkdf2_sha1$") => "django_pbkdf2_sha1",
        _ if starts("bcrypt_sha256$") => "django_bcrypt_sha256",
        _ if starts("argon2$argon2") => "django_argon2",
        _ if starts("bcrypt$$2") => "django_bcrypt",
        _ if starts("scrypt$") => "django_scrypt",
        _ if starts("md5$") => "django_md5",
        _ if starts("sha1$") => "django_sha1",
        _ if starts("crypt$") => "django_crypt",
        _ if starts("$P$") || starts("$H$") => "phpass",
        _ if starts("$wp$2") => "wordpress",
        _ if starts("$S$") => "drupal7",
        _ if h.starts_with('{') && h.contains("secretData") => "keycloak",
        _ if starts("{") => "ldap",
        _ if h.len() == 13 && h.bytes().all(|b| encoding::itoa64_index(b).is_some()) => "des_crypt",
        // Django's (and many an old application's) unsalted MD5: what else 32 hex characters would be is unlikely to
        // be stored as a password.
        _ if h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()) => "md5",
        _ => return None,
    })
}

/// Ory Kratos names crypt strings `$md5-crypt$`, `$sha256-crypt$`, `$sha512-crypt$` for `$1$`, `$5$`, `$6$`.
fn ory_crypt_prefix(hash: &str) -> String {
    for (ory, crypt) in [("$md5-crypt$", "$1$"), ("$sha256-crypt$", "$5$"), ("$sha512-crypt$", "$6$")] {
        if let Some(rest) = hash.strip_prefix(ory) {
            return format!("{crypt}{rest}");
        }
    }
    hash.to_string()
}

/// Parses `hash` in `format` (a canonical name or `auto`) and checks its costs against the bounds and
/// `budget`, without verifying anything: what bulk import runs on every row.
pub fn prepare<'a>(hash: &'a str, format: &str, params: &'a Value, budget: &Budget) -> Result<Prepared<'a>, HashError> {
    if hash.len() > bounds::HASH_BYTES || params.to_string().len() > bounds::HASH_BYTES {
        return Err(malformed("legacy", "longer than any supported hash"));
    }
    // No parser may panic (a panic's message would quote the hash); the fuzz tests hold them to that, and this
    // turns a missed case into a rejection rather than an internal error.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| dispatch(hash, format, params, budget)))
        .unwrap_or_else(|_| Err(malformed("legacy", "unparseable")))
}

fn dispatch<'a>(hash: &'a str, format: &str, params: &'a Value, budget: &Budget) -> Result<Prepared<'a>, HashError> {
    let hash = hash.trim();
    let format = match format.trim().to_ascii_lowercase().as_str() {
        "auto" | "" => detect(hash).ok_or(HashError::Undetectable)?,
        name => FORMATS.iter().find(|f| f.name == name).map(|f| f.name).ok_or(HashError::UnknownFormat)?,
    };
    let check = match format {
        "bcrypt" => bcrypt_family::bcrypt(hash),
        "django_bcrypt_sha256" => bcrypt_family::django_bcrypt_sha256(hash),
        "django_bcrypt" => bcrypt_family::django_bcrypt(hash),
        "django_scrypt" => memory_hard::django_scrypt(hash, budget),
        "django_md5" | "django_sha1" => digests::django_salted(hash, format),
        "django_crypt" => crypt_family::django_crypt(hash),
        "wordpress" => wordpress::wordpress(hash, budget),
        "argon2" => memory_hard::argon2(hash, budget),
        "django_argon2" => memory_hard::django_argon2(hash, budget),
        "scrypt" => memory_hard::passlib_scrypt(hash, budget),
        "sha256_crypt" | "sha512_crypt" => crypt_family::sha_crypt(ory_crypt_prefix(hash), format),
        "firebase_scrypt" => memory_hard::firebase_scrypt(hash, params, budget),
        "md5_crypt" | "apr1" => crypt_family::md5_crypt(ory_crypt_prefix(hash), format),
        "des_crypt" => crypt_family::des_crypt(hash),
        "phpass" | "drupal7" => crypt_family::phpass(hash, format, budget),
        "pbkdf2" => pbkdf2_family::pbkdf2(hash, budget),
        "django_pbkdf2_sha256" | "django_pbkdf2_sha1" => pbkdf2_family::django(hash, format, budget),
        "aspnet_identity" => pbkdf2_family::aspnet_identity(hash, budget),
        "keycloak" => pbkdf2_family::keycloak(hash, budget),
        "ldap" => digests::ldap(hash, budget),
        "md4" | "md5" | "sha1" | "sha256" | "sha512" => digests::plain(hash, format, params),
        "hmac" => digests::hmac(hash, params),
        _ => Err(HashError::UnknownFormat),
    }?;
    Ok(Prepared { format, check })
}

/// Verifies `password` against a legacy `hash`. `format` is a canonical name or `auto`.
pub fn verify(password: &str, hash: &str, format: &str, params: &Value, budget: &Budget) -> Result<bool, HashError> {
    prepare(hash, format, params, budget)?.verify(password)
}

#[cfg(test)]
mod tests;

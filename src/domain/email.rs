//! Email normalisation: the one spelling under which a user is stored and looked up.
//!
//! Trimmed, Unicode NFC, lower-cased (then NFC again, since lower-casing can denormalise).
//! Lower-casing the local part is a deliberate choice: identity providers treat
//! `Alice@x` and `alice@x` as one account, and so do the legacy stores we migrate from.

use crate::domain::error::AuthError;
use unicode_normalization::UnicodeNormalization;

/// RFC 5321 limits a forward path to 256 octets including the angle brackets.
pub const MAX_EMAIL_BYTES: usize = 254;

/// Raw input longer than this is refused before any normalisation: normalising is linear in the input,
/// and nothing this long can normalise to a valid address (surrounding white space included).
pub const MAX_RAW_EMAIL_BYTES: usize = 1024;

pub fn normalize_email(raw: &str) -> Result<String, AuthError> {
    if raw.len() > MAX_RAW_EMAIL_BYTES {
        return Err(AuthError::InvalidEmail("it is longer than 254 bytes"));
    }
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(AuthError::InvalidEmail("it is empty"));
    }
    // ASCII is in NFC already, and lower-cases to ASCII: the common case skips both normalisations (bulk import
    // normalises every row).
    let email: String = if trimmed.is_ascii() {
        trimmed.to_ascii_lowercase()
    } else {
        let lowered: String = trimmed.nfc().collect::<String>().to_lowercase();
        lowered.nfc().collect()
    };
    if email.len() > MAX_EMAIL_BYTES {
        return Err(AuthError::InvalidEmail("it is longer than 254 bytes"));
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AuthError::InvalidEmail("it contains whitespace or control characters"));
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Err(AuthError::InvalidEmail("it has no '@'"));
    };
    if local.is_empty() || domain.is_empty() {
        return Err(AuthError::InvalidEmail("the part before or after '@' is empty"));
    }
    if local.contains('@') || domain.contains('@') {
        return Err(AuthError::InvalidEmail("it has more than one '@'"));
    }
    if domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
        return Err(AuthError::InvalidEmail("the domain is malformed"));
    }
    Ok(email)
}

/// What a login names its user by: an email address, or — without an '@' — a username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginName {
    /// Normalised.
    Email(String),
    /// Trimmed and in NFC, its case kept: usernames compare exactly, as Django compares them (a legacy database
    /// with a case-insensitive collation finds other spellings itself).
    Username(String),
}

/// A username may be as long as an email address.
pub const MAX_USERNAME_BYTES: usize = MAX_EMAIL_BYTES;

/// Reads what a login was given. An '@' makes it an email address, so a username holding one logs in by email.
pub fn login_name(raw: &str) -> Result<LoginName, AuthError> {
    if raw.contains('@') {
        return normalize_email(raw).map(LoginName::Email);
    }
    if raw.len() > MAX_RAW_EMAIL_BYTES {
        return Err(AuthError::InvalidUsername("it is longer than 254 bytes"));
    }
    let name: String = raw.trim().nfc().collect();
    if name.is_empty() {
        return Err(AuthError::InvalidUsername("it is empty"));
    }
    if name.len() > MAX_USERNAME_BYTES {
        return Err(AuthError::InvalidUsername("it is longer than 254 bytes"));
    }
    if name.chars().any(|c| c.is_control()) {
        return Err(AuthError::InvalidUsername("it contains control characters"));
    }
    Ok(LoginName::Username(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_name_is_an_email_with_an_at_sign_and_a_username_without() {
        assert_eq!(login_name(" Ann@Example.org "), Ok(LoginName::Email("ann@example.org".into())));
        assert_eq!(login_name(" Ann.Smith "), Ok(LoginName::Username("Ann.Smith".into())));
        assert_eq!(login_name("Jose\u{0301}"), Ok(LoginName::Username("Jos\u{e9}".into())));
        assert_eq!(login_name("ann@"), Err(AuthError::InvalidEmail("the part before or after '@' is empty")));
        assert_eq!(login_name("  "), Err(AuthError::InvalidUsername("it is empty")));
        assert_eq!(login_name("a\u{0}b"), Err(AuthError::InvalidUsername("it contains control characters")));
        assert_eq!(login_name(&"x".repeat(255)), Err(AuthError::InvalidUsername("it is longer than 254 bytes")));
        assert!(login_name(&"x".repeat(254)).is_ok());
    }

    #[test]
    fn trims_and_lowercases() {
        assert_eq!(normalize_email("  Alice@Example.COM \n").unwrap(), "alice@example.com");
    }

    #[test]
    fn composes_unicode_to_nfc() {
        // "é" as e + combining acute (NFD) and as one code point (NFC) are the same user.
        let decomposed = "Jose\u{0301}@example.com";
        let composed = "jos\u{00e9}@example.com";
        assert_eq!(normalize_email(decomposed).unwrap(), composed);
        assert_eq!(normalize_email(composed).unwrap(), composed);
    }

    #[test]
    fn lowercases_non_ascii() {
        assert_eq!(normalize_email("ÉLODIE@ÉCOLE.FR").unwrap(), "élodie@école.fr");
        assert_eq!(normalize_email("ΣΟΦΙΑ@example.gr").unwrap(), "σοφια@example.gr");
    }

    #[test]
    fn rejects_malformed() {
        for bad in
            ["", "   ", "no-at-sign", "@example.com", "alice@", "a@b@c", "a b@c.d", "a@.com", "a@b..c", "a@b.\u{0}"]
        {
            assert!(normalize_email(bad).is_err(), "{bad:?} should be rejected");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(normalize_email(&long).is_err());
    }

    #[test]
    fn raw_input_over_the_limit_is_refused_even_if_it_would_normalise_to_a_valid_address() {
        let padded = format!("{}ada@example.com", " ".repeat(MAX_RAW_EMAIL_BYTES));
        assert_eq!(normalize_email(&padded), Err(AuthError::InvalidEmail("it is longer than 254 bytes")));
        let within = format!("{}ada@example.com", " ".repeat(100));
        assert_eq!(normalize_email(&within).unwrap(), "ada@example.com");
    }
}

//! Password-reset tokens: 256 random bits handed to the caller once, stored only as a SHA-256 digest,
//! so a leaked table (or backup) cannot be used to reset anyone's password.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

pub struct IssuedToken {
    /// What the application mails to the user (URL-safe).
    pub token: String,
    /// What the database keeps.
    pub digest: Vec<u8>,
}

pub fn issue() -> IssuedToken {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).expect("the operating system's random source is available");
    let token = URL_SAFE_NO_PAD.encode(raw);
    let digest = digest(&token);
    IssuedToken { token, digest }
}

/// A high-entropy token needs no salt or slow hash: guessing it is already 2^256 work.
pub fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.trim().as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_url_safe_and_stored_as_digest() {
        let a = issue();
        let b = issue();
        assert_ne!(a.token, b.token);
        assert_eq!(a.token.len(), 43);
        assert!(a.token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(a.digest, digest(&a.token));
        assert_eq!(a.digest.len(), 32);
        assert_ne!(a.digest, a.token.as_bytes());
    }

    #[test]
    fn digest_ignores_surrounding_whitespace_from_copy_paste() {
        assert_eq!(digest(" abc \n"), digest("abc"));
    }
}

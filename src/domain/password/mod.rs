//! Passwords: the policy new passwords must meet, and argon2id hashing.

pub mod argon2id;
mod work_memory;

use crate::domain::error::AuthError;

/// Larger input is refused before any hashing: hashing cost must not be an attacker's lever.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The DoS guard applies to every password we are handed, including a login attempt.
pub fn check_length_limit(password: &str) -> Result<(), AuthError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AuthError::PasswordTooLong { max: MAX_PASSWORD_BYTES });
    }
    Ok(())
}

/// Policy for a password being *set* (signup, change, reset) — never for a legacy user's first login,
/// whose password was accepted by the legacy store under its own rules.
pub fn check_new_password(password: &str, min_chars: usize) -> Result<(), AuthError> {
    check_length_limit(password)?;
    if password.chars().count() < min_chars {
        return Err(AuthError::PasswordTooShort { min: min_chars });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimum_counts_characters_not_bytes() {
        assert!(check_new_password("ééééééé", 8).is_err()); // 7 chars, 14 bytes
        assert!(check_new_password("éééééééé", 8).is_ok());
        assert_eq!(check_new_password("short", 8), Err(AuthError::PasswordTooShort { min: 8 }));
    }

    #[test]
    fn maximum_counts_bytes() {
        assert!(check_new_password(&"a".repeat(1024), 8).is_ok());
        assert_eq!(check_new_password(&"a".repeat(1025), 8), Err(AuthError::PasswordTooLong { max: 1024 }));
        // 513 two-byte characters are 1026 bytes.
        assert!(check_length_limit(&"é".repeat(513)).is_err());
    }
}

//! Login decisions, separate from how the user row is read or written or how the legacy store is asked.
//!
//! An unknown email and a wrong password must be indistinguishable: same status, same work
//! (a dummy verification at the current parameters), so neither result nor timing reveals
//! whether an account exists.

/// What `auth.login` reports; the strings are part of the SQL API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginStatus {
    Authenticated,
    /// Authenticated by the legacy store, and moved into `auth.users` by this login.
    Migrated,
    InvalidCredentials,
    Locked,
}

impl LoginStatus {
    pub fn is_ok(self) -> bool {
        matches!(self, LoginStatus::Authenticated | LoginStatus::Migrated)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LoginStatus::Authenticated => "authenticated",
            LoginStatus::Migrated => "migrated",
            LoginStatus::InvalidCredentials => "invalid_credentials",
            LoginStatus::Locked => "locked",
        }
    }
}

/// The parts of a stored user that a login decision needs.
pub struct StoredCredentials<'a> {
    pub password_hash: Option<&'a str>,
    pub password_format: Option<&'a str>,
}

/// The work a login must do next.
#[derive(Debug, PartialEq, Eq)]
pub enum LoginStep<'a> {
    /// No local user, or one whose password has not moved over yet: in import mode the legacy store
    /// decides; otherwise this is a `DummyVerify`.
    NoLocalPassword,
    /// A stored hash nobody can log in with here: burn one verification, answer `invalid_credentials`.
    DummyVerify,
    /// Verify against the stored argon2id hash.
    VerifyArgon2id(&'a str),
    /// Verify an imported legacy hash; on success it is replaced by argon2id.
    VerifyLegacy { hash: &'a str, format: &'a str },
}

pub fn plan<'a>(stored: Option<&StoredCredentials<'a>>) -> LoginStep<'a> {
    let Some(user) = stored else {
        return LoginStep::NoLocalPassword;
    };
    match (user.password_hash, user.password_format) {
        (None, _) => LoginStep::NoLocalPassword,
        (Some(hash), Some(crate::domain::password::argon2id::FORMAT_NAME)) => LoginStep::VerifyArgon2id(hash),
        (Some(hash), Some(format)) => LoginStep::VerifyLegacy { hash, format },
        // A hash without a format: nobody can log in with it.
        (Some(_), None) => LoginStep::DummyVerify,
    }
}

/// The verifications a refused login has done. Every refusal must cost one argon2id verification and, in import
/// mode with an FDW store, one verification in the legacy store's own hash format — real or not — so that neither
/// the answer nor its timing tells an unknown email from a local, a legacy or a locked account. (An HTTP store
/// verifies on its side: its round trip is the one difference left, for emails the local store does not have.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spent {
    pub argon2id: bool,
    pub legacy_hash: bool,
}

impl Spent {
    pub const NOTHING: Spent = Spent { argon2id: false, legacy_hash: false };
    pub const ARGON2ID: Spent = Spent { argon2id: true, legacy_hash: false };
    /// A legacy hash verified here, or the legacy store asked (it verifies on its side).
    pub const LEGACY_HASH: Spent = Spent { argon2id: false, legacy_hash: true };

    /// What is left to spend so that this refusal costs what every other one costs.
    pub fn missing(self) -> Spent {
        Spent { argon2id: !self.argon2id, legacy_hash: !self.legacy_hash }
    }
}

/// Consecutive failed logins before an identifier locks (0 disables lockout), and for how long.
#[derive(Debug, Clone, Copy)]
pub struct LockoutPolicy {
    pub threshold: u32,
    pub duration_secs: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user<'a>(hash: Option<&'a str>, format: Option<&'a str>) -> StoredCredentials<'a> {
        StoredCredentials { password_hash: hash, password_format: format }
    }

    #[test]
    fn unknown_user_has_no_local_password() {
        assert_eq!(plan(None), LoginStep::NoLocalPassword);
    }

    #[test]
    fn argon2id_user_is_verified() {
        assert_eq!(plan(Some(&user(Some("$argon2id$x"), Some("argon2id")))), LoginStep::VerifyArgon2id("$argon2id$x"));
    }

    #[test]
    fn profile_without_password_waits_for_the_legacy_store() {
        assert_eq!(plan(Some(&user(None, None))), LoginStep::NoLocalPassword);
    }

    #[test]
    fn imported_legacy_hash_is_verified_in_its_format() {
        assert_eq!(
            plan(Some(&user(Some("$P$abc"), Some("phpass")))),
            LoginStep::VerifyLegacy { hash: "$P$abc", format: "phpass" }
        );
    }

    #[test]
    fn every_refusal_ends_up_with_one_verification_of_each_kind() {
        for spent in [Spent::NOTHING, Spent::ARGON2ID, Spent::LEGACY_HASH] {
            let missing = spent.missing();
            assert!(spent.argon2id ^ missing.argon2id, "{spent:?}");
            assert!(spent.legacy_hash ^ missing.legacy_hash, "{spent:?}");
        }
        assert_eq!(Spent::NOTHING.missing(), Spent { argon2id: true, legacy_hash: true }, "a locked email pays both");
    }

    #[test]
    fn hash_without_format_costs_a_dummy_verification() {
        assert_eq!(plan(Some(&user(Some("x"), None))), LoginStep::DummyVerify);
        assert_ne!(plan(Some(&user(Some("$P$abc"), Some("phpass")))), LoginStep::DummyVerify);
    }
}

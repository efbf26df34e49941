//! The one record of what a legacy store says about a user, and the one table of its profile fields.
//!
//! Every mapping is derived from `TEXT_FIELDS`: the HTTP contract presets (`http::contract`), the FDW column
//! mapping and the legacy row (`fdw`), the Auth0 import file (`auth0`), and the SQL that inserts or imports a user
//! (`crate::pg::storage` fills the lists into `sql/queries/`). Adding a profile field is one entry here, its
//! `auth.users` column (with an update script) and its tests.

use serde_json::{Map, Value};

/// The optional text fields of a profile, named as `auth.users` names its columns (and as pg_trickle's HTTP
/// contract, the FDW mapping and Auth0's file name them).
pub const TEXT_FIELDS: [&str; 6] = ["username", "name", "given_name", "family_name", "nickname", "picture"];

/// Values in `TEXT_FIELDS` order; None for a field the store left out (an empty string counts as left out).
pub type Texts = [Option<String>; TEXT_FIELDS.len()];

/// The position of a field in `TEXT_FIELDS`.
pub fn text_field(name: &str) -> Option<usize> {
    TEXT_FIELDS.iter().position(|field| *field == name)
}

#[derive(Debug, Clone, PartialEq)]
pub struct LegacyUser {
    /// The legacy store's id; stored as `auth.users.external_id`.
    pub external_id: String,
    /// Normalised; equal to the email that was asked about.
    pub email: String,
    pub email_verified: bool,
    pub texts: Texts,
    pub user_metadata: Map<String, Value>,
    pub app_metadata: Map<String, Value>,
    /// Whether the answer said what the metadata is (empty included). A store that left the fields out has not:
    /// the user is flagged for `auth.backfill_metadata` — never one whose metadata is known to be empty.
    pub metadata_known: bool,
    /// A disabled legacy user is never migrated.
    pub enabled: bool,
    /// The most recently active of several legacy rows of this email (the FDW mapping's `last_active`).
    pub chosen_among_duplicates: bool,
}

impl LegacyUser {
    /// What a migration event adds about where the user came from: `most_recent_of_duplicates` for a user chosen
    /// among several rows of the email.
    pub fn migration_note(&self) -> Option<&'static str> {
        self.chosen_among_duplicates.then_some("most_recent_of_duplicates")
    }

    /// The same user without one text field (another local user holds their username).
    pub fn without(&self, field: &str) -> LegacyUser {
        let mut user = self.clone();
        if let Some(i) = text_field(field) {
            user.texts[i] = None;
        }
        user
    }

    /// One text field by its name in `TEXT_FIELDS`.
    pub fn text(&self, field: &str) -> Option<&str> {
        text_field(field).and_then(|i| self.texts[i].as_deref())
    }
}

/// The columns of a legacy row as the FDW adapter reads it and a bulk import stages it, in order, with their SQL
/// types: the record's fields plus the legacy hash (its format and parameters) a login or an import verifies.
pub fn row_columns() -> Vec<(&'static str, &'static str)> {
    let mut columns = vec![
        ("legacy_id", "text"),
        ("email", "text"),
        ("password_hash", "text"),
        ("hash_format", "text"),
        ("hash_params", "jsonb"),
        ("email_verified", "boolean"),
        ("enabled", "boolean"),
    ];
    columns.extend(TEXT_FIELDS.iter().map(|field| (*field, "text")));
    columns.extend([("user_metadata", "jsonb"), ("app_metadata", "jsonb")]);
    // When the account was last active (FDW `last_active`): which of several rows of one email counts.
    columns.push(("last_active", "timestamptz"));
    columns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_field_is_found_by_its_name() {
        let mut user = LegacyUser {
            external_id: "1".into(),
            email: "a@b.c".into(),
            email_verified: false,
            texts: Default::default(),
            user_metadata: Map::new(),
            app_metadata: Map::new(),
            metadata_known: true,
            enabled: true,
            chosen_among_duplicates: false,
        };
        user.texts[text_field("nickname").unwrap()] = Some("countess".into());
        assert_eq!(user.text("nickname"), Some("countess"));
        assert_eq!(user.text("name"), None);
        assert_eq!(user.text("no_such_field"), None);
    }

    #[test]
    fn row_columns_carry_every_text_field_once() {
        let names: Vec<_> = row_columns().into_iter().map(|(name, _)| name).collect();
        for field in TEXT_FIELDS {
            assert_eq!(names.iter().filter(|n| **n == field).count(), 1, "{field}");
        }
        assert_eq!(names.len(), 10 + TEXT_FIELDS.len());
    }
}

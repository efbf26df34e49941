//! The FDW adapter: a legacy users relation (a table, view or foreign table, e.g. through postgres_fdw or
//! mysql_fdw) read with the admin's column mapping (`mapping`), and the legacy hash verified in the database.
//! The host reads the rows as the store's reader role; everything decided about them is decided here.

pub mod error;
pub mod mapping;

pub use error::FdwError;
pub use mapping::{ColumnMapping, HashFormat};

use crate::domain::email::normalize_email;
use crate::legacy_store::record::{text_field, LegacyUser, Texts};
use crate::legacy_store::{Adapter, Host, LoginAnswer, Rejection, StoreError};
use serde_json::{Map, Value};
use std::cell::RefCell;

/// A json column of a legacy row, read by serde_json; Err when it cannot be (nested deeper than 128 levels, a number
/// beyond a double): an error of that row alone.
pub type LegacyJson = Result<Option<Value>, UnreadableJson>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnreadableJson;

/// A json column that came as text.
pub fn legacy_json(text: Option<String>) -> LegacyJson {
    text.map(|t| serde_json::from_str(&t).map_err(|_| UnreadableJson)).transpose()
}

/// One legacy user row, in the order of `record::row_columns()` (json columns come as text).
#[derive(Debug, Clone, PartialEq)]
pub struct LegacyRow {
    pub legacy_id: Option<String>,
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub hash_format: Option<String>,
    pub hash_params: LegacyJson,
    pub email_verified: bool,
    /// The mapping's `enabled` and `blocked` columns together: may the account log in.
    pub enabled: bool,
    pub texts: Texts,
    pub user_metadata: LegacyJson,
    pub app_metadata: LegacyJson,
    /// The mapping's `last_active`, in microseconds (any epoch: only compared).
    pub last_active: Option<i64>,
}

/// One stored hash of the store, with its format and parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct HashSample {
    pub hash: String,
    pub format: Option<String>,
    pub params: LegacyJson,
}

/// A legacy users relation and how to read it.
pub struct FdwStore {
    pub mapping: ColumnMapping,
    /// As PostgreSQL prints the regclass (quoted where needed).
    pub relation: String,
    /// The role the relation is read as: never a superuser (checked by the host when it made this store).
    pub reader: u32,
    lookup_sql: String,
    /// None: the mapping names no username column.
    username_lookup_sql: Option<String>,
    hash_sample_sql: String,
}

/// Hash samples kept per backend, one per FDW store (a few stores at most).
const SAMPLES_KEPT: usize = 8;

thread_local! {
    /// Per backend: one stored hash of each FDW store (keyed by its sample query and reader), verified when a login
    /// must cost what a legacy user's costs without having one. None inside: the relation holds no hash.
    static HASH_SAMPLES: RefCell<Vec<(String, u32, Option<HashSample>)>> = const { RefCell::new(Vec::new()) };
}

enum Lookup {
    /// The row, and whether it was chosen among several rows of the email (the most recently active).
    Found(Box<LegacyRow>, bool),
    Missing,
    Ambiguous,
}

impl FdwStore {
    pub fn new(mapping: ColumnMapping, relation: &str, reader: u32) -> Self {
        let lookup_sql = mapping.lookup_sql(relation);
        let hash_sample_sql = mapping.hash_sample_sql(relation);
        let username_lookup_sql = mapping.username_lookup_sql(relation);
        FdwStore { mapping, relation: relation.to_string(), reader, lookup_sql, username_lookup_sql, hash_sample_sql }
    }

    /// Whether logins by username are looked up here (the mapping names a username column).
    pub fn looks_up_usernames(&self) -> bool {
        self.username_lookup_sql.is_some()
    }

    /// Every row of the relation in `record::row_columns()` order plus a NULL preset rejection reason.
    pub fn scan_sql(&self) -> String {
        self.mapping.scan_sql(&self.relation)
    }

    /// The canonical format of one stored hash (parsed and bounded, not verified) or the class of what is wrong
    /// with it, as `prepare` says; None when no row has a hash.
    pub fn sample_hash_format(
        &self,
        host: &dyn Host,
        prepare: impl FnOnce(&str, &str, &Value) -> Result<&'static str, &'static str>,
    ) -> Option<Result<&'static str, &'static str>> {
        let sample = host.legacy_hash_sample(self.reader, &self.hash_sample_sql)?;
        let Ok(params) = sample.params.map(Option::unwrap_or_default) else { return Some(Err("bad_param")) };
        Some(prepare(&sample.hash, sample.format.as_deref().unwrap_or("auto"), &params))
    }

    /// The row of exactly this email. The legacy database compared by its own rules, which may be looser than
    /// pg_trickle's normalisation (a `_ci` collation makes `josé` equal `jose`): only rows whose email normalises to
    /// the one asked about count; two of those are duplicates, and a full batch with none cannot be told apart.
    fn row(&self, host: &dyn Host, email: &str) -> Lookup {
        let rows = host.legacy_rows(self.reader, &self.lookup_sql, email);
        let read = rows.len();
        let mut exact: Vec<LegacyRow> = rows
            .into_iter()
            .filter(|row| row.email.as_deref().and_then(|e| normalize_email(e).ok()).is_some_and(|e| e == email))
            .collect();
        match exact.len() {
            0 if read >= mapping::LOOKUP_ROWS => Lookup::Ambiguous,
            0 => Lookup::Missing,
            1 => Lookup::Found(Box::new(exact.remove(0)), false),
            _ if self.mapping.last_active.is_some() => match most_recently_active(exact) {
                Some(row) => Lookup::Found(Box::new(row), true),
                None => Lookup::Ambiguous,
            },
            _ => Lookup::Ambiguous,
        }
    }
}

/// The one row active later than every other; None when the latest activity is shared or unknown (NULL ranks
/// last: never active). A full batch may hide later rows, so it decides nothing.
fn most_recently_active(rows: Vec<LegacyRow>) -> Option<LegacyRow> {
    if rows.len() >= mapping::LOOKUP_ROWS {
        return None;
    }
    let latest = rows.iter().filter_map(|row| row.last_active).max()?;
    let mut at_latest = rows.into_iter().filter(|row| row.last_active == Some(latest));
    match (at_latest.next(), at_latest.next()) {
        (Some(row), None) => Some(row),
        _ => None,
    }
}

/// A legacy row as the record; the row's email must normalise to the one asked about.
fn user_from_row(row: &LegacyRow, requested: &str, chosen_among_duplicates: bool) -> Result<LegacyUser, StoreError> {
    let invalid = |r: &str| StoreError::from(FdwError::InvalidRow(r.to_string()));
    let email = row.email.as_deref().and_then(|e| normalize_email(e).ok()).ok_or_else(|| invalid("invalid email"))?;
    if email != requested {
        return Err(invalid("the email differs from the one requested"));
    }
    let object = |j: &LegacyJson, what: &str| match j {
        Ok(None | Some(Value::Null)) => Ok(Map::new()),
        Ok(Some(Value::Object(m))) => Ok(m.clone()),
        Ok(Some(_)) => Err(invalid(&format!("{what} is not a JSON object"))),
        Err(_) => {
            Err(invalid(&format!("{what} is JSON nested deeper than 128 levels or with a number beyond a double")))
        }
    };
    Ok(LegacyUser {
        external_id: row.legacy_id.clone().filter(|id| !id.is_empty()).ok_or_else(|| invalid("no legacy id"))?,
        email,
        email_verified: row.email_verified,
        texts: row.texts.clone(),
        user_metadata: object(&row.user_metadata, "user_metadata")?,
        app_metadata: object(&row.app_metadata, "app_metadata")?,
        // The row was read whole: NULL or empty metadata is what the legacy database holds.
        metadata_known: true,
        enabled: row.enabled,
        chosen_among_duplicates,
    })
}

impl Adapter for FdwStore {
    /// Reads the legacy row and verifies its hash in the database. A row whose hash is missing or unverifiable is a
    /// rejection (recorded for the admin), never an error to the application. Every answer costs one legacy hash
    /// verification, real or not, so the answer's timing does not tell whether the email is there.
    fn log_in(&self, host: &dyn Host, email: &str, password: &str) -> Result<LoginAnswer, StoreError> {
        let rejected = |reason: Rejection| {
            self.spend_like_a_check(host, password);
            Ok(LoginAnswer::Rejected(reason))
        };
        let (row, chosen) = match self.row(host, email) {
            Lookup::Found(row, chosen) => (row, chosen),
            Lookup::Missing => return rejected(Rejection::UnknownUser),
            Lookup::Ambiguous => return rejected(Rejection::Ambiguous),
        };
        let Some(hash) = row.password_hash.as_deref().filter(|h| !h.trim().is_empty()) else {
            return rejected(Rejection::NoPassword);
        };
        let format = match &self.mapping.hash_format {
            HashFormat::Fixed(f) => f.as_str(),
            HashFormat::Column(_) => row.hash_format.as_deref().unwrap_or("auto"),
        };
        let Ok(params) = row.hash_params.clone().map(Option::unwrap_or_default) else {
            return rejected(Rejection::UnverifiableHash("bad_param"));
        };
        match host.verify_hash(password, hash, format, &params) {
            // Only a right password learns (in the admin's events) that the account is disabled.
            Ok(true) if !row.enabled => Ok(LoginAnswer::Rejected(Rejection::Disabled)),
            Ok(true) => Ok(LoginAnswer::Accepted(Box::new(user_from_row(&row, email, chosen)?))),
            Ok(false) => Ok(LoginAnswer::Rejected(Rejection::WrongPassword)),
            Err(err) => rejected(Rejection::UnverifiableHash(err.class())),
        }
    }

    fn look_up(&self, host: &dyn Host, email: &str) -> Result<Option<LegacyUser>, StoreError> {
        match self.row(host, email) {
            Lookup::Found(row, chosen) => Ok(Some(user_from_row(&row, email, chosen)?)),
            Lookup::Missing => Ok(None),
            Lookup::Ambiguous => Err(FdwError::Ambiguous.into()),
        }
    }

    fn count(&self, host: &dyn Host) -> Result<Option<i64>, StoreError> {
        let sql = format!("SELECT pg_catalog.count(*) FROM {}", self.relation);
        Ok(Some(host.legacy_count(self.reader, &sql)))
    }

    /// The legacy database compares usernames by its own rules: one row is its answer, even in another spelling
    /// (a `_ci` collation's `Ann` for `ann`); among several, only a row of exactly this username is.
    fn email_of_username(&self, host: &dyn Host, username: &str) -> Result<Option<String>, StoreError> {
        let Some(sql) = &self.username_lookup_sql else { return Ok(None) };
        let rows = host.legacy_rows(self.reader, sql, username);
        let username_of = |row: &LegacyRow| text_field("username").and_then(|i| row.texts[i].clone());
        let exactly = |row: &&LegacyRow| username_of(row).as_deref() == Some(username);
        let row = match rows.iter().filter(exactly).count() {
            1 => rows.iter().find(exactly),
            0 if rows.len() == 1 => rows.first(),
            _ => None,
        };
        Ok(row.and_then(|row| row.email.as_deref()).and_then(|email| normalize_email(email).ok()))
    }

    /// Verifies `password` against one of the store's own hashes and ignores the result. The sample is read once
    /// per backend and store (one row, as the reader); a relation without hashes costs nothing, since no email in
    /// it can be told apart then.
    fn spend_like_a_check(&self, host: &dyn Host, password: &str) {
        HASH_SAMPLES.with(|cell| {
            let mut samples = cell.borrow_mut();
            let known =
                samples.iter().position(|(sql, reader, _)| *sql == self.hash_sample_sql && *reader == self.reader);
            let index = known.unwrap_or_else(|| {
                if samples.len() == SAMPLES_KEPT {
                    samples.remove(0);
                }
                let sample = host.legacy_hash_sample(self.reader, &self.hash_sample_sql);
                samples.push((self.hash_sample_sql.clone(), self.reader, sample));
                samples.len() - 1
            });
            if let Some((_, _, Some(sample))) = samples.get(index) {
                let params = sample.params.clone().ok().flatten().unwrap_or_default();
                let _ = host.verify_hash(password, &sample.hash, sample.format.as_deref().unwrap_or("auto"), &params);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::legacy_hash::HashError;
    use serde_json::json;
    use std::cell::Cell;

    /// A host whose relation is `rows` and whose hashes are verified by comparing with "hash-of-{password}".
    struct Relation {
        rows: Vec<LegacyRow>,
        verifications: Cell<u32>,
    }

    impl Host for Relation {
        fn interrupted(&self) -> bool {
            false
        }
        fn verify_hash(&self, password: &str, hash: &str, _: &str, _: &Value) -> Result<bool, HashError> {
            self.verifications.set(self.verifications.get() + 1);
            Ok(hash == format!("hash-of-{password}"))
        }
        /// Compares as a MySQL `_ci` collation would: case and accents aside. By username when the query asks
        /// by the "login" column.
        fn legacy_rows(&self, _: u32, sql: &str, wanted: &str) -> Vec<LegacyRow> {
            let fold = |e: &str| e.to_lowercase().replace('é', "e");
            let by_username = sql.contains(r#""login" = $1"#);
            let key = |r: &LegacyRow| if by_username { r.texts[0].clone() } else { r.email.clone() };
            let matching = self.rows.iter().filter(|r| key(r).as_deref().map(fold) == Some(fold(wanted)));
            matching.take(mapping::LOOKUP_ROWS).cloned().collect()
        }
        fn legacy_count(&self, _: u32, _: &str) -> i64 {
            self.rows.len() as i64
        }
        fn legacy_hash_sample(&self, _: u32, _: &str) -> Option<HashSample> {
            let row = self.rows.iter().find(|r| r.password_hash.is_some())?;
            Some(HashSample { hash: row.password_hash.clone()?, format: None, params: Ok(None) })
        }
    }

    fn row(email: &str, hash: Option<&str>) -> LegacyRow {
        let mut texts = Texts::default();
        texts[0] = Some("ada".into());
        LegacyRow {
            legacy_id: Some("7".into()),
            email: Some(email.into()),
            password_hash: hash.map(str::to_string),
            hash_format: None,
            hash_params: Ok(None),
            email_verified: true,
            enabled: true,
            texts,
            user_metadata: Ok(Some(json!({"theme": "dark"}))),
            app_metadata: Ok(None),
            last_active: None,
        }
    }

    fn store() -> FdwStore {
        let mapping = json!({"email": "e", "id": "i", "password_hash": "h", "hash_format": "bcrypt"});
        FdwStore::new(ColumnMapping::from_json(&mapping).unwrap(), "legacy.users", 10)
    }

    fn relation(rows: Vec<LegacyRow>) -> Relation {
        Relation { rows, verifications: Cell::new(0) }
    }

    #[test]
    fn a_right_password_gives_the_row_as_the_record() {
        let host = relation(vec![row("a@b.c", Some("hash-of-pw"))]);
        let LoginAnswer::Accepted(user) = store().log_in(&host, "a@b.c", "pw").unwrap() else { panic!() };
        assert_eq!((user.external_id.as_str(), user.text("username")), ("7", Some("ada")));
        assert_eq!(user.user_metadata["theme"], "dark");
        assert!(user.metadata_known && user.enabled && user.email_verified);
    }

    #[test]
    fn collation_twins_are_told_apart_and_true_duplicates_are_not() {
        let mut jose = row("jose@b.c", Some("hash-of-jose"));
        jose.legacy_id = Some("2".into());
        let host = relation(vec![row("josé@b.c", Some("hash-of-pw")), jose]);
        let LoginAnswer::Accepted(user) = store().log_in(&host, "jose@b.c", "jose").unwrap() else { panic!() };
        assert_eq!(user.external_id, "2", "jose is not josé");
        assert_eq!(store().log_in(&host, "jose@b.c", "pw").unwrap(), LoginAnswer::Rejected(Rejection::WrongPassword));
        let LoginAnswer::Accepted(user) = store().log_in(&host, "josé@b.c", "pw").unwrap() else { panic!() };
        assert_eq!(user.external_id, "7");

        let twice = relation(vec![row("ann@b.c", Some("hash-of-pw")), row("Ann@B.c", Some("hash-of-pw"))]);
        assert_eq!(store().log_in(&twice, "ann@b.c", "pw").unwrap(), LoginAnswer::Rejected(Rejection::Ambiguous));
        let crowd = relation((0..mapping::LOOKUP_ROWS).map(|_| row("josé@b.c", None)).collect());
        assert_eq!(store().look_up(&crowd, "jose@b.c"), Err(FdwError::Ambiguous.into()), "a full batch of twins");
    }

    #[test]
    fn a_username_names_the_email_of_its_one_row() {
        let mapping = json!({"email": "e", "id": "i", "password_hash": "h", "username": "login"});
        let by_username = FdwStore::new(ColumnMapping::from_json(&mapping).unwrap(), "legacy.users", 10);
        let named = |username: &str, email: &str| {
            let mut r = row(email, Some("hash-of-pw"));
            r.texts[0] = Some(username.into());
            r
        };
        let host = relation(vec![
            named("ada", "Ada@B.c"),
            named("Bob", "bob@b.c"),
            named("cy", "cy@b.c"),
            named("Cy", "other-cy@b.c"),
            named("noemail", "not an address"),
        ]);
        let email = |username: &str| by_username.email_of_username(&host, username).unwrap();
        assert_eq!(email("ada"), Some("ada@b.c".into()));
        assert_eq!(email("bob"), Some("bob@b.c".into()), "the legacy collation's answer, in another spelling");
        assert_eq!((email("cy"), email("Cy")), (Some("cy@b.c".into()), Some("other-cy@b.c".into())));
        assert_eq!(email("CY"), None, "two rows, neither exactly this username");
        assert_eq!(email("noemail"), None, "no valid email: nothing to move over");
        assert_eq!(email("nobody"), None);
        assert!(!store().looks_up_usernames());
        assert_eq!(store().email_of_username(&host, "ada").unwrap(), None, "no username column mapped");
    }

    #[test]
    fn with_last_active_the_most_recently_active_duplicate_counts() {
        let mapping = json!({"email": "e", "id": "i", "password_hash": "h", "last_active": "last_login"});
        let by_activity = FdwStore::new(ColumnMapping::from_json(&mapping).unwrap(), "legacy.users", 10);
        let at = |id: &str, hash: &str, last_active: Option<i64>| {
            let mut r = row("ann@b.c", Some(hash));
            (r.legacy_id, r.last_active) = (Some(id.into()), last_active);
            r
        };
        let host =
            relation(vec![at("1", "hash-of-old", Some(10)), at("2", "hash-of-new", Some(20)), at("3", "x", None)]);
        let LoginAnswer::Accepted(user) = by_activity.log_in(&host, "ann@b.c", "new").unwrap() else { panic!() };
        assert_eq!((user.external_id.as_str(), user.chosen_among_duplicates), ("2", true));
        let old = by_activity.log_in(&host, "ann@b.c", "old").unwrap();
        assert_eq!(old, LoginAnswer::Rejected(Rejection::WrongPassword), "an older row's password is not the user's");
        assert_eq!(store().log_in(&host, "ann@b.c", "new").unwrap(), LoginAnswer::Rejected(Rejection::Ambiguous));

        let tie = relation(vec![at("1", "hash-of-pw", Some(20)), at("2", "hash-of-pw", Some(20))]);
        assert_eq!(by_activity.log_in(&tie, "ann@b.c", "pw").unwrap(), LoginAnswer::Rejected(Rejection::Ambiguous));
        let never = relation(vec![at("1", "hash-of-pw", None), at("2", "hash-of-pw", None)]);
        assert_eq!(by_activity.look_up(&never, "ann@b.c"), Err(FdwError::Ambiguous.into()));
        let single = relation(vec![at("1", "hash-of-pw", None)]);
        assert!(!by_activity.look_up(&single, "ann@b.c").unwrap().unwrap().chosen_among_duplicates);
    }

    #[test]
    fn a_disabled_account_is_refused_even_with_its_password() {
        let mut disabled = row("a@b.c", Some("hash-of-pw"));
        disabled.enabled = false;
        let host = relation(vec![disabled]);
        assert_eq!(store().log_in(&host, "a@b.c", "pw").unwrap(), LoginAnswer::Rejected(Rejection::Disabled));
        assert_eq!(store().log_in(&host, "a@b.c", "nope").unwrap(), LoginAnswer::Rejected(Rejection::WrongPassword));
        assert!(!store().look_up(&host, "a@b.c").unwrap().unwrap().enabled, "getUser flows see it too");
    }

    #[test]
    fn every_refusal_costs_one_verification() {
        let host = relation(vec![
            row("a@b.c", Some("hash-of-pw")),
            row("nohash@b.c", None),
            row("twice@b.c", Some("hash-of-pw")),
            row("twice@b.c", Some("hash-of-pw")),
        ]);
        let cases = [
            ("a@b.c", Rejection::WrongPassword),
            ("unknown@b.c", Rejection::UnknownUser),
            ("nohash@b.c", Rejection::NoPassword),
            ("twice@b.c", Rejection::Ambiguous),
        ];
        for (email, expected) in cases {
            host.verifications.set(0);
            assert_eq!(store().log_in(&host, email, "wrong").unwrap(), LoginAnswer::Rejected(expected), "{email}");
            assert_eq!(host.verifications.get(), 1, "{email}");
        }
    }

    #[test]
    fn a_row_about_another_email_or_without_id_is_an_invalid_answer() {
        let mut spelled_otherwise = row("A@B.C ", None);
        assert!(user_from_row(&spelled_otherwise, "a@b.c", false).is_ok(), "normalised alike");
        spelled_otherwise.legacy_id = None;
        assert!(matches!(
            user_from_row(&spelled_otherwise, "a@b.c", false),
            Err(StoreError::Fdw(FdwError::InvalidRow(_)))
        ));
        assert!(matches!(
            user_from_row(&row("x@b.c", None), "a@b.c", false),
            Err(StoreError::Fdw(FdwError::InvalidRow(_)))
        ));
    }

    #[test]
    fn unreadable_metadata_is_an_error_of_that_row() {
        let mut bad = row("a@b.c", Some("hash-of-pw"));
        bad.user_metadata = Err(UnreadableJson);
        assert!(matches!(
            store().look_up(&relation(vec![bad]), "a@b.c"),
            Err(StoreError::Fdw(FdwError::InvalidRow(_)))
        ));
    }
}

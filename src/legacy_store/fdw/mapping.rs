//! The FDW adapter's pure half: the column mapping an admin gives for a legacy users relation (a table,
//! view or foreign table), its validation, and the SQL built from it. Identifiers are always quoted and
//! values always bound as parameters, so neither an email nor a column name can inject SQL.
//!
//! The rows are read by the host (`crate::pg::legacy`) and judged by the adapter (`super`).

use crate::domain::legacy_hash;
use crate::legacy_store::fdw::FdwError;
use crate::legacy_store::record::{row_columns, text_field, Texts, TEXT_FIELDS};
use crate::legacy_store::StoreError;
use serde_json::{Map, Value};

/// Where each part of a legacy user lives in the relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMapping {
    pub email: String,
    /// Match `lower(email column) = normalised email` (index the legacy table on that expression).
    pub email_case_insensitive: bool,
    pub id: String,
    pub password_hash: String,
    pub hash_format: HashFormat,
    /// Parameters for the hash format (salt etc.), as auth.verify_legacy_hash takes them.
    pub hash_params: HashParams,
    pub email_verified: Option<String>,
    /// A boolean column, true for an account that may log in (Django's `is_active`).
    pub enabled: Option<String>,
    /// A boolean column, true for an account that may not log in.
    pub blocked: Option<String>,
    /// A timestamp column of the account's last activity (Django's `last_login`): several rows of one email resolve
    /// to the most recently active one. Without it they are refused as duplicates.
    pub last_active: Option<String>,
    /// The column of each of `TEXT_FIELDS`, if any.
    pub texts: Texts,
    pub user_metadata: Metadata,
    pub app_metadata: Metadata,
}

/// Rows a look-up reads at most: enough for a legacy collation's twins of one email, and to tell duplicates.
pub const LOOKUP_ROWS: usize = 16;

/// How the json columns of a legacy row come back: as jsonb, to be staged and joined in SQL (bulk import), or as
/// text for the backend to read itself (a login's look-up), so that JSON serde_json cannot read — nested deeper
/// than 128 levels, a number beyond a double — is an error of that row alone, never a panic.
#[derive(Debug, Clone, Copy)]
enum JsonAs {
    Jsonb,
    Text,
}

impl JsonAs {
    fn cast(self, jsonb_expression: String) -> String {
        match self {
            JsonAs::Jsonb => jsonb_expression,
            JsonAs::Text => format!("({jsonb_expression})::text"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashFormat {
    /// One format for every row (a name from auth.legacy_hash_formats(), or `auto`).
    Fixed(String),
    /// The format is in this column, row by row.
    Column(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashParams {
    /// The same for every row.
    Fixed(Map<String, Value>),
    /// A json/jsonb column (a view can build it, e.g. jsonb_build_object('salt', salt, 'salt_position', 'suffix')).
    Column(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Metadata {
    None,
    /// A json or jsonb column holding an object.
    JsonColumn(String),
    /// Plain columns gathered into an object keyed by column name.
    Columns(Vec<String>),
}

fn bad(reason: impl Into<String>) -> StoreError {
    StoreError::from(FdwError::InvalidMapping(reason.into()))
}

fn column_name(value: &Value, key: &str) -> Result<String, StoreError> {
    match value {
        Value::String(s) if !s.is_empty() && s.len() <= 63 => Ok(s.clone()),
        _ => Err(bad(format!("\"{key}\" must name a column"))),
    }
}

fn optional_column(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, StoreError> {
    obj.get(key).filter(|v| !v.is_null()).map(|v| column_name(v, key)).transpose()
}

fn text_columns(obj: &Map<String, Value>) -> Result<Texts, StoreError> {
    let mut texts = Texts::default();
    for (slot, field) in texts.iter_mut().zip(TEXT_FIELDS) {
        *slot = optional_column(obj, field)?;
    }
    Ok(texts)
}

fn metadata(obj: &Map<String, Value>, key: &str) -> Result<Metadata, StoreError> {
    let columns_key = format!("{key}_columns");
    match (obj.get(key).filter(|v| !v.is_null()), obj.get(&columns_key).filter(|v| !v.is_null())) {
        (None, None) => Ok(Metadata::None),
        (Some(v), None) => Ok(Metadata::JsonColumn(column_name(v, key)?)),
        (None, Some(Value::Array(list))) if !list.is_empty() => {
            Ok(Metadata::Columns(list.iter().map(|v| column_name(v, &columns_key)).collect::<Result<_, _>>()?))
        }
        (None, Some(_)) => Err(bad(format!("\"{columns_key}\" must be a non-empty array of column names"))),
        (Some(_), Some(_)) => Err(bad(format!("give \"{key}\" or \"{columns_key}\", not both"))),
    }
}

/// The mapping's keys besides the text fields, which are named as `TEXT_FIELDS` names them.
const KEYS: &[&str] = &[
    "email",
    "email_case_insensitive",
    "id",
    "password_hash",
    "hash_format",
    "hash_format_column",
    "hash_params",
    "hash_params_column",
    "email_verified",
    "enabled",
    "blocked",
    "last_active",
    "user_metadata",
    "user_metadata_columns",
    "app_metadata",
    "app_metadata_columns",
];

fn is_known_key(key: &str) -> bool {
    KEYS.contains(&key) || text_field(key).is_some()
}

impl ColumnMapping {
    /// From the admin's JSON, e.g. {"email": "mail", "id": "uid", "password_hash": "pw", "hash_format": "bcrypt"}.
    pub fn from_json(mapping: &Value) -> Result<Self, StoreError> {
        let obj = mapping.as_object().ok_or_else(|| bad("must be a JSON object"))?;
        if let Some(unknown) = obj.keys().find(|k| !is_known_key(k)) {
            let known = [KEYS, &TEXT_FIELDS[..]].concat().join(", ");
            return Err(bad(format!("unknown key \"{unknown}\" (known: {known})")));
        }
        let required = |key: &str| {
            obj.get(key).ok_or_else(|| bad(format!("\"{key}\" is required"))).and_then(|v| column_name(v, key))
        };
        let hash_format = match (obj.get("hash_format"), obj.get("hash_format_column")) {
            (Some(Value::String(f)), None) => {
                let f = f.to_ascii_lowercase();
                if f != "auto" && !legacy_hash::FORMATS.iter().any(|known| known.name == f) {
                    return Err(bad(format!("unknown hash format \"{f}\" (see auth.legacy_hash_formats())")));
                }
                HashFormat::Fixed(f)
            }
            (None, Some(column)) => HashFormat::Column(column_name(column, "hash_format_column")?),
            (None, None) => HashFormat::Fixed("auto".into()),
            _ => return Err(bad("give \"hash_format\" (a format name) or \"hash_format_column\", not both")),
        };
        let hash_params = match (obj.get("hash_params"), obj.get("hash_params_column")) {
            (None | Some(Value::Null), None) => HashParams::Fixed(Map::new()),
            (Some(Value::Object(m)), None) => HashParams::Fixed(m.clone()),
            (None, Some(column)) => HashParams::Column(column_name(column, "hash_params_column")?),
            (Some(Value::Object(_)), Some(_)) => {
                return Err(bad("give \"hash_params\" or \"hash_params_column\", not both"))
            }
            (Some(_), _) => return Err(bad("\"hash_params\" must be an object")),
        };
        let email_case_insensitive = match obj.get("email_case_insensitive") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(bad("\"email_case_insensitive\" must be a boolean")),
        };
        Ok(ColumnMapping {
            email: required("email")?,
            email_case_insensitive,
            id: required("id")?,
            password_hash: required("password_hash")?,
            hash_format,
            hash_params,
            email_verified: optional_column(obj, "email_verified")?,
            enabled: optional_column(obj, "enabled")?,
            blocked: optional_column(obj, "blocked")?,
            last_active: optional_column(obj, "last_active")?,
            texts: text_columns(obj)?,
            user_metadata: metadata(obj, "user_metadata")?,
            app_metadata: metadata(obj, "app_metadata")?,
        })
    }

    /// Every column the mapping names, with whether it must hold json/jsonb.
    pub fn columns(&self) -> Vec<(&str, bool)> {
        let mut out =
            vec![(self.email.as_str(), false), (self.id.as_str(), false), (self.password_hash.as_str(), false)];
        if let HashFormat::Column(c) = &self.hash_format {
            out.push((c, false));
        }
        if let HashParams::Column(c) = &self.hash_params {
            out.push((c, true));
        }
        let flags = [&self.email_verified, &self.enabled, &self.blocked, &self.last_active];
        for c in flags.into_iter().chain(&self.texts).flatten() {
            out.push((c, false));
        }
        for m in [&self.user_metadata, &self.app_metadata] {
            match m {
                Metadata::None => {}
                Metadata::JsonColumn(c) => out.push((c, true)),
                Metadata::Columns(cs) => out.extend(cs.iter().map(|c| (c.as_str(), false))),
            }
        }
        out
    }

    /// The hash, its format and its parameters as `text, text, jsonb` select expressions (the parameters as text
    /// with `JsonAs::Text`).
    fn hash_expressions(&self, json: JsonAs) -> [String; 3] {
        let format = match &self.hash_format {
            HashFormat::Fixed(f) => format!("{}::text", quote_literal(f)),
            HashFormat::Column(c) => format!("({})::text", quote_ident(c)),
        };
        let params = match &self.hash_params {
            HashParams::Fixed(m) if m.is_empty() => "NULL::jsonb".to_string(),
            HashParams::Fixed(m) => format!("{}::jsonb", quote_literal(&Value::Object(m.clone()).to_string())),
            HashParams::Column(c) => format!("({})::jsonb", quote_ident(c)),
        };
        [format!("({})::text", quote_ident(&self.password_hash)), format, json.cast(params)]
    }

    /// The select list that turns one legacy row into pg_trickle's shape, columns in `row_columns()` order.
    fn select_list(&self, json: JsonAs) -> String {
        let text = |c: &str| format!("({})::text", quote_ident(c));
        let optional_text = |c: &Option<String>| c.as_deref().map(text).unwrap_or_else(|| "NULL::text".into());
        let [hash, format, params] = self.hash_expressions(json);
        let flag = |c: &Option<String>, absent: &str| {
            c.as_deref()
                .map(|c| format!("COALESCE(({})::boolean, {absent})", quote_ident(c)))
                .unwrap_or_else(|| absent.into())
        };
        let verified = flag(&self.email_verified, "false");
        // A NULL flag counts as its column's absence: enabled, not blocked.
        let enabled = format!("({} AND NOT {})", flag(&self.enabled, "true"), flag(&self.blocked, "false"));
        let meta = |m: &Metadata| match m {
            Metadata::None => "'{}'::jsonb".to_string(),
            Metadata::JsonColumn(c) => format!("({})::jsonb", quote_ident(c)),
            Metadata::Columns(cs) => format!(
                "pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object({}))",
                cs.iter().map(|c| format!("{}, {}", quote_literal(c), quote_ident(c))).collect::<Vec<_>>().join(", ")
            ),
        };
        [text(&self.id), text(&self.email), hash, format, params, verified, enabled]
            .into_iter()
            .chain(self.texts.iter().map(optional_text))
            .chain([json.cast(meta(&self.user_metadata)), json.cast(meta(&self.app_metadata))])
            .chain([self
                .last_active
                .as_deref()
                .map_or_else(|| "NULL::timestamptz".to_string(), |c| format!("({})::timestamptz", quote_ident(c)))])
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// One user by email, `$1` being the normalised email. The predicate is a plain comparison (or
    /// `lower(column) = $1`) so the FDW ships it to the remote side. A legacy database's collation may find rows of
    /// other emails (MySQL's `_ci`: `josé` = `jose`); up to `LOOKUP_ROWS` come back, for the adapter to keep the
    /// exact ones (see `super::FdwStore`).
    /// `relation` must come from PostgreSQL's own regclass output (already quoted).
    pub fn lookup_sql(&self, relation: &str) -> String {
        let column = quote_ident(&self.email);
        let predicate = if self.email_case_insensitive {
            format!("pg_catalog.lower({column}) = $1")
        } else {
            format!("{column} = $1")
        };
        format!("SELECT {} FROM {relation} WHERE {predicate} LIMIT {LOOKUP_ROWS}", self.select_list(JsonAs::Text))
    }

    /// The rows of one username (`$1`, compared by the legacy database's own rules), when the mapping names a
    /// username column: a login by username finds its user's email this way.
    pub fn username_lookup_sql(&self, relation: &str) -> Option<String> {
        let column = self.texts[text_field("username")?].as_deref()?;
        Some(format!(
            "SELECT {} FROM {relation} WHERE {} = $1 LIMIT {LOOKUP_ROWS}",
            self.select_list(JsonAs::Text),
            quote_ident(column)
        ))
    }

    /// Some row's hash, format and parameters (`text, text, text`): what verifying a legacy user's password
    /// costs in this store, for logins that must cost as much without one (see `crate::pg::legacy`).
    pub fn hash_sample_sql(&self, relation: &str) -> String {
        let [hash, format, params] = self.hash_expressions(JsonAs::Text);
        let column = quote_ident(&self.password_hash);
        format!("SELECT {hash}, {format}, {params} FROM {relation} WHERE {column} IS NOT NULL LIMIT 1")
    }

    /// Every row, for bulk import (with a NULL preset rejection reason, see `staging_sql`).
    pub fn scan_sql(&self, relation: &str) -> String {
        format!("SELECT {}, NULL::text FROM {relation}", self.select_list(JsonAs::Jsonb))
    }

    /// Every legacy id (as text, NULL for rows without one), reading no other column: the keys of a row-by-row
    /// scan when some row cannot be read as a whole.
    pub fn ids_sql(&self, relation: &str) -> String {
        format!("SELECT DISTINCT ({})::text FROM {relation}", quote_ident(&self.id))
    }

    /// `scan_sql`'s rows of one legacy id (`None`: rows without one). The id is an untyped literal, so it takes
    /// the column's own type and the comparison is shipped to the legacy database, where the id is usually the
    /// primary key.
    pub fn scan_of_id_sql(&self, relation: &str, id: Option<&str>) -> String {
        let column = quote_ident(&self.id);
        let predicate = match id {
            Some(id) => format!("{column} = {}", quote_literal(id)),
            None => format!("{column} IS NULL"),
        };
        format!("{} WHERE {predicate}", self.scan_sql(relation))
    }
}

/// The table a bulk import (and the unmigrated tail, and the duplicates list) reads legacy rows from: `n`, each
/// row's position, then `row_columns()` and the preset rejection reason (NULL when the source had nothing to object
/// to). Filled by the host (`crate::pg::legacy::staged_rows`, or a file's rows).
pub const LEGACY_ROWS_TABLE: &str = "pg_temp.pg_trickle_legacy_rows";

/// The columns of `LEGACY_ROWS_TABLE`, with their types.
pub fn legacy_rows_table_ddl() -> String {
    format!("n bigint, {}", row_columns_ddl())
}

/// `LEGACY_ROWS_TABLE`'s rows as `row_columns()` plus the preset reason (what `unmigrated_sql` and
/// `duplicates_sql` read).
pub fn staged_rows_sql() -> String {
    format!("SELECT {}, preset_reason FROM {LEGACY_ROWS_TABLE}", row_column_names())
}

/// Stages a bulk import: for each row of `LEGACY_ROWS_TABLE`, its position `n`, normalised email, legacy id, the
/// canonical format of its hash and the reason it is rejected (NULL: importable), into a narrow temporary table
/// (the rows themselves stay where they are; the import joins them back by `n`). One pass over the rows; each hash
/// is parsed and its costs bounded (auth.legacy_hash_verdict), none verified. Duplicates are found by grouping
/// (hash aggregates, no sorts). With `most_recent_of_duplicates` (the mapping's `last_active`), of several rows of
/// one email the one active later than the others imports, and they are rejected as
/// `duplicate_email_not_most_recent`.
pub fn staging_sql(most_recent_of_duplicates: bool) -> String {
    let duplicate_reason = if most_recent_of_duplicates {
        "CASE WHEN COALESCE(l.at_latest, 0) <> 1 THEN 'duplicate_email'
              WHEN s.last_active IS DISTINCT FROM d.latest THEN 'duplicate_email_not_most_recent' END"
    } else {
        "'duplicate_email'"
    };
    format!(
        "CREATE TEMP TABLE pg_trickle_import ON COMMIT DROP AS
         WITH s AS MATERIALIZED (
                SELECT v.n, v.legacy_id, v.username, v.enabled, v.last_active, v.preset_reason, v.norm,
                       v.verdict[1] AS detected_format,
                       -- What is wrong with the row itself, in the order the reasons are given.
                       CASE WHEN v.verdict[2] IS NOT NULL THEN 'hash_' OPERATOR(pg_catalog.||) v.verdict[2]
                            WHEN pg_catalog.jsonb_typeof(v.hash_params) NOT IN ('object', 'null') THEN 'hash_params_not_object'
                            WHEN pg_catalog.jsonb_typeof(v.user_metadata) NOT IN ('object', 'null')
                                 THEN 'user_metadata_not_object'
                            WHEN pg_catalog.jsonb_typeof(v.app_metadata) NOT IN ('object', 'null') THEN 'app_metadata_not_object'
                       END AS row_problem
                  FROM (SELECT r.n, r.legacy_id, r.username, r.enabled, r.last_active, r.preset_reason, r.hash_params,
                               r.user_metadata, r.app_metadata, auth.normalize_email(r.email) AS norm,
                               CASE WHEN NULLIF(r.password_hash, '') IS NOT NULL
                                    THEN auth.legacy_hash_verdict(r.password_hash, r.hash_format, r.hash_params)
                               END AS verdict
                          -- OFFSET 0: one verdict per row, not one per use of it.
                          FROM {LEGACY_ROWS_TABLE} AS r OFFSET 0) AS v),
              by_email AS (SELECT norm, pg_catalog.max(last_active) AS latest FROM s WHERE norm IS NOT NULL
                            GROUP BY norm HAVING pg_catalog.count(*) > 1),
              latest AS (SELECT s.norm, pg_catalog.count(*) AS at_latest FROM s JOIN by_email AS d
                                 ON d.norm = s.norm AND s.last_active = d.latest GROUP BY s.norm),
              by_id AS (SELECT legacy_id FROM s WHERE legacy_id IS NOT NULL
                         GROUP BY legacy_id HAVING pg_catalog.count(*) > 1),
              by_username AS (SELECT username FROM s WHERE username IS NOT NULL
                               GROUP BY username HAVING pg_catalog.count(*) > 1)
         SELECT s.n, s.norm, s.legacy_id, s.detected_format,
                COALESCE(s.preset_reason, CASE
                    WHEN s.norm IS NULL THEN 'invalid_email'
                    WHEN s.enabled IS FALSE THEN 'disabled'
                    WHEN d.norm IS NOT NULL AND {duplicate_reason} IS NOT NULL THEN {duplicate_reason}
                    WHEN i.legacy_id IS NOT NULL THEN 'duplicate_legacy_id'
                    WHEN u.username IS NOT NULL THEN 'duplicate_username'
                    WHEN s.row_problem IS NOT NULL THEN s.row_problem
                    WHEN id_holder.id IS NOT NULL THEN 'legacy_id_taken'
                    WHEN name_holder.id IS NOT NULL THEN 'username_taken'
                END) AS reason
           FROM s
           LEFT JOIN by_email AS d ON d.norm = s.norm
           LEFT JOIN latest AS l ON l.norm = s.norm
           LEFT JOIN by_id AS i ON i.legacy_id = s.legacy_id
           LEFT JOIN by_username AS u ON u.username = s.username
           -- Joins, not per-row subqueries: external_id (per store; imported users carry none) and username are
           -- unique, so at most one match each.
           LEFT JOIN auth.users AS id_holder ON id_holder.external_id = s.legacy_id AND id_holder.legacy_store IS NULL
                                            AND id_holder.email <> s.norm
           LEFT JOIN auth.users AS name_holder ON name_holder.username = s.username AND name_holder.email <> s.norm"
    )
}

/// Legacy users with no local user of the same (normalised) email: the migration's remaining tail.
/// `count_only`: the number of them; otherwise their legacy id and email, `$1` rows at most.
pub fn unmigrated_sql(scan_sql: &str, count_only: bool) -> String {
    let columns = row_column_names();
    let (select, limit) = if count_only { ("pg_catalog.count(*)", "") } else { ("x.legacy_id, x.email", " LIMIT $1") };
    format!(
        "SELECT {select} FROM ({scan_sql}) AS x({columns}, preset_reason)
          WHERE NOT EXISTS (SELECT 1 FROM auth.users AS u WHERE u.email = auth.normalize_email(x.email)){limit}"
    )
}

/// The names of `row_columns()`, as a column alias list.
fn row_column_names() -> String {
    row_columns().iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
}

/// Legacy users whose email (normalised as pg_trickle does) more than one row holds: their normalised email and
/// legacy ids, `$1` emails at most. `staged` reads rows of `row_columns()`.
pub fn duplicates_sql(staged: &str) -> String {
    format!(
        "SELECT d.email, pg_catalog.array_agg(d.legacy_id ORDER BY d.legacy_id)
           FROM (SELECT auth.normalize_email(x.email) AS email, x.legacy_id FROM ({staged}) AS x) AS d
          WHERE d.email IS NOT NULL
          GROUP BY d.email HAVING pg_catalog.count(*) > 1
          ORDER BY d.email LIMIT $1"
    )
}

/// The columns of a table holding `scan_sql`'s rows: `row_columns()` with their types, then the preset reason.
pub fn row_columns_ddl() -> String {
    row_columns()
        .iter()
        .map(|(name, sql_type)| format!("{name} {sql_type}"))
        .chain(std::iter::once("preset_reason text".to_string()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// PostgreSQL's quote_ident rule: always quoted here, with embedded quotes doubled.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// As PostgreSQL's own quote_literal(): an E'' string when there is a backslash, so the literal means the same
/// whatever standard_conforming_strings says.
fn quote_literal(text: &str) -> String {
    let quoted = text.replace('\'', "''");
    if text.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal() -> Value {
        json!({"email": "mail", "id": "uid", "password_hash": "pw", "hash_format": "bcrypt"})
    }

    #[test]
    fn minimal_mapping_and_its_query() {
        let m = ColumnMapping::from_json(&minimal()).unwrap();
        assert_eq!(
            m.lookup_sql("legacy.users"),
            "SELECT (\"uid\")::text, (\"mail\")::text, (\"pw\")::text, 'bcrypt'::text, (NULL::jsonb)::text, false, \
             (true AND NOT false), NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, ('{}'::jsonb)::text, \
             ('{}'::jsonb)::text, NULL::timestamptz FROM legacy.users WHERE \"mail\" = $1 LIMIT 16"
        );
    }

    #[test]
    fn the_hash_sample_reads_one_row_s_hash_format_and_params() {
        let mut j = minimal();
        j["hash_params"] = json!({"salt": "s"});
        assert_eq!(
            ColumnMapping::from_json(&j).unwrap().hash_sample_sql("legacy.users"),
            "SELECT (\"pw\")::text, 'bcrypt'::text, ('{\"salt\":\"s\"}'::jsonb)::text FROM legacy.users WHERE \"pw\" IS NOT NULL LIMIT 1"
        );
    }

    #[test]
    fn literals_with_backslashes_mean_the_same_under_either_string_setting() {
        assert_eq!(quote_literal("a'b"), "'a''b'");
        assert_eq!(quote_literal("a\\b'c"), "E'a\\\\b''c'");
    }

    #[test]
    fn a_username_is_looked_up_only_when_the_mapping_names_its_column() {
        assert_eq!(ColumnMapping::from_json(&minimal()).unwrap().username_lookup_sql("t"), None);
        let mut with_username = minimal();
        with_username["username"] = json!("login");
        let sql = ColumnMapping::from_json(&with_username).unwrap().username_lookup_sql("t").unwrap();
        assert!(sql.ends_with(&format!(r#" FROM t WHERE "login" = $1 LIMIT {LOOKUP_ROWS}"#)), "{sql}");
    }

    #[test]
    fn row_by_row_scans_compare_the_id_column_itself() {
        let m = ColumnMapping::from_json(&minimal()).unwrap();
        assert_eq!(m.ids_sql("t"), r#"SELECT DISTINCT ("uid")::text FROM t"#);
        assert!(m.scan_of_id_sql("t", Some("4'2")).ends_with(r#" FROM t WHERE "uid" = '4''2'"#));
        assert!(m.scan_of_id_sql("t", None).ends_with(r#" FROM t WHERE "uid" IS NULL"#));
    }

    #[test]
    fn case_insensitive_lookup_uses_lower_for_pushdown() {
        let mut j = minimal();
        j["email_case_insensitive"] = json!(true);
        let sql = ColumnMapping::from_json(&j).unwrap().lookup_sql("t");
        assert!(sql.ends_with("WHERE pg_catalog.lower(\"mail\") = $1 LIMIT 16"), "{sql}");
    }

    #[test]
    fn hostile_column_names_stay_identifiers() {
        let j = json!({"email": "mail\"; DROP TABLE auth.users; --", "id": "uid", "password_hash": "pw",
                       "user_metadata_columns": ["a'b", "c\"d"]});
        let m = ColumnMapping::from_json(&j).unwrap();
        let sql = m.lookup_sql("t");
        assert!(sql.contains("\"mail\"\"; DROP TABLE auth.users; --\""), "{sql}");
        assert!(sql.contains("'a''b', \"a'b\""), "{sql}");
        assert!(sql.contains("'c\"d', \"c\"\"d\""), "{sql}");
        assert_eq!(m.hash_format, HashFormat::Fixed("auto".into()));
    }

    #[test]
    fn invalid_mappings_are_refused_with_reasons() {
        let cases = [
            (json!([1]), "object"),
            (json!({"id": "a", "password_hash": "b"}), "\"email\" is required"),
            (json!({"email": "", "id": "a", "password_hash": "b"}), "must name a column"),
            (json!({"email": "e", "id": "a", "password_hash": "b", "hash_format": "rot13"}), "unknown hash format"),
            (json!({"email": "e", "id": "a", "password_hash": "b", "colour": "c"}), "unknown key"),
            (
                json!({"email": "e", "id": "a", "password_hash": "b", "hash_format": "md5", "hash_format_column": "f"}),
                "not both",
            ),
            (
                json!({"email": "e", "id": "a", "password_hash": "b", "user_metadata": "m", "user_metadata_columns": ["x"]}),
                "not both",
            ),
            (json!({"email": "e", "id": "a", "password_hash": "b", "hash_params": "salt"}), "hash_params"),
        ];
        for (j, expected) in cases {
            match ColumnMapping::from_json(&j) {
                Err(StoreError::Fdw(FdwError::InvalidMapping(m))) => assert!(m.contains(expected), "{m}"),
                other => panic!("{j}: {other:?}"),
            }
        }
    }

    #[test]
    fn columns_lists_what_must_exist_and_be_json() {
        let j = json!({"email": "e", "id": "i", "password_hash": "h", "hash_format_column": "f", "name": "n",
                       "user_metadata": "um", "app_metadata_columns": ["role", "plan"]});
        let m = ColumnMapping::from_json(&j).unwrap();
        assert_eq!(
            m.columns(),
            vec![
                ("e", false),
                ("i", false),
                ("h", false),
                ("f", false),
                ("n", false),
                ("um", true),
                ("role", false),
                ("plan", false)
            ]
        );
        assert_eq!(row_columns().len(), 16);
    }
}

//! HTTP contract presets as data: which calls a legacy endpoint answers, what its statuses mean, and where the
//! record's fields are in its user JSON. A new preset is a new entry in `PRESETS`, not new control flow; the client
//! (`client`) and `parse_user` read them. Unknown fields in an answer are ignored. docs/http-contract.md.

use crate::domain::email::normalize_email;
use crate::legacy_store::record::{text_field, LegacyUser, Texts};
use crate::legacy_store::StoreError;
use serde_json::{Map, Value};

/// A path segment of a call: fixed text, or the email asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    Fixed(&'static str),
    Email,
}

/// How a contract asks whether credentials are valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginCall {
    /// `POST {base}/{path}`.
    pub path: &'static [Segment],
    /// The JSON body carries the email as well as the password.
    pub sends_email: bool,
    /// Statuses that accept the credentials.
    pub accepted: &'static [u16],
    /// Statuses that mean wrong password or unknown user (any other: the store is unavailable).
    pub invalid: &'static [u16],
    /// The accepting answer is the user; otherwise the user is looked up after it.
    pub answers_user: bool,
}

/// Where the record's parts are in a contract's user JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserFields {
    pub id: &'static str,
    pub email: &'static str,
    pub email_verified: &'static str,
    /// (record text field, JSON key).
    pub texts: &'static [(&'static str, &'static str)],
    /// No `name` in the answer: given and family name joined.
    pub name_from_parts: bool,
    /// An object key that becomes user_metadata.
    pub user_metadata: &'static str,
    pub app_metadata: AppMetadata,
    /// `true` (or absent): enabled.
    pub enabled: Option<&'static str>,
    /// `true`: disabled.
    pub blocked: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppMetadata {
    /// An object key that becomes app_metadata.
    Object(&'static str),
    /// Array keys kept under their own names in app_metadata (what the application, not the user, decides).
    Lists(&'static [&'static str]),
}

#[derive(Debug, PartialEq, Eq)]
pub struct Preset {
    /// As `auth.configure_http_store(contract => ...)` names it.
    pub name: &'static str,
    pub login: LoginCall,
    /// `GET {base}/{path}`, with `?{query}={email}` when set.
    pub lookup_path: &'static [Segment],
    pub lookup_query: Option<&'static str>,
    /// The optional `GET {base}/{path}` answering `{"count": n}`.
    pub count_path: Option<&'static [Segment]>,
    pub fields: UserFields,
}

/// Each text field under its own name (pg_trickle's contract).
const SAME_NAMED_TEXTS: &[(&str, &str)] = &[
    ("username", "username"),
    ("name", "name"),
    ("given_name", "given_name"),
    ("family_name", "family_name"),
    ("nickname", "nickname"),
    ("picture", "picture"),
];

pub const PRESETS: &[Preset] = &[
    // pg_trickle's own contract: `POST /login`, `GET /users?email=`, `GET /users/count`.
    Preset {
        name: "pg_trickle",
        login: LoginCall {
            path: &[Segment::Fixed("login")],
            sends_email: true,
            accepted: &[200],
            invalid: &[401, 403, 404],
            answers_user: true,
        },
        lookup_path: &[Segment::Fixed("users")],
        lookup_query: Some("email"),
        count_path: Some(&[Segment::Fixed("users"), Segment::Fixed("count")]),
        fields: UserFields {
            id: "user_id",
            email: "email",
            email_verified: "email_verified",
            texts: SAME_NAMED_TEXTS,
            name_from_parts: false,
            user_metadata: "user_metadata",
            app_metadata: AppMetadata::Object("app_metadata"),
            enabled: Some("enabled"),
            blocked: Some("blocked"),
        },
    },
    // The Keycloak user-migration plugin's REST contract: `POST /{email}` with the password, `GET /{email}`.
    // The plugin treats every non-200 as invalid; its reference legacy server answers 400 (no body) for a wrong
    // password and an unknown user alike.
    Preset {
        name: "keycloak",
        login: LoginCall {
            path: &[Segment::Email],
            sends_email: false,
            accepted: &[200, 204],
            invalid: &[400, 401, 403, 404],
            answers_user: false,
        },
        lookup_path: &[Segment::Email],
        lookup_query: None,
        count_path: None,
        fields: UserFields {
            id: "id",
            email: "email",
            email_verified: "emailVerified",
            texts: &[("username", "username"), ("given_name", "firstName"), ("family_name", "lastName")],
            name_from_parts: true,
            user_metadata: "attributes",
            app_metadata: AppMetadata::Lists(&["roles", "groups"]),
            enabled: Some("enabled"),
            blocked: None,
        },
    },
];

/// A preset by name.
pub fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|preset| preset.name == name)
}

pub(crate) fn invalid(reason: impl Into<String>) -> StoreError {
    StoreError::InvalidAnswer(reason.into())
}

fn optional_string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, StoreError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!("field \"{key}\" must be a string"))),
    }
}

fn optional_bool(obj: &Map<String, Value>, key: Option<&str>, default: bool) -> Result<bool, StoreError> {
    match key.and_then(|key| obj.get(key).map(|value| (key, value))) {
        None | Some((_, Value::Null)) => Ok(default),
        Some((_, Value::Bool(b))) => Ok(*b),
        Some((key, _)) => Err(invalid(format!("field \"{key}\" must be a boolean"))),
    }
}

fn optional_object(obj: &Map<String, Value>, key: &str) -> Result<Map<String, Value>, StoreError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(invalid(format!("field \"{key}\" must be an object"))),
    }
}

/// Ids are strings in the contract; integer ids (common in legacy databases) are accepted as their decimal text.
fn required_id(obj: &Map<String, Value>, key: &str) -> Result<String, StoreError> {
    match obj.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        _ => Err(invalid(format!("field \"{key}\" is required (a non-empty string)"))),
    }
}

/// The answer must be about the email that was asked: anything else would attach another person's
/// identity to this login.
pub(crate) fn matching_email(obj: &Map<String, Value>, key: &str, requested: &str) -> Result<String, StoreError> {
    let Some(Value::String(raw)) = obj.get(key) else {
        return Err(invalid(format!("field \"{key}\" is required (a string)")));
    };
    let email = normalize_email(raw).map_err(|_| invalid(format!("field \"{key}\" is not a valid email")))?;
    if email != requested {
        return Err(invalid("the answer is about another email than the one requested"));
    }
    Ok(email)
}

pub(crate) fn parse_object(body: &[u8]) -> Result<Map<String, Value>, StoreError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(_) => Err(invalid("the body is not a JSON object")),
        Err(_) => Err(invalid("the body is not valid JSON")),
    }
}

fn texts(obj: &Map<String, Value>, fields: &UserFields) -> Result<Texts, StoreError> {
    let mut texts = Texts::default();
    for (field, key) in fields.texts {
        let slot = text_field(field).expect("presets name fields of TEXT_FIELDS");
        texts[slot] = optional_string(obj, key)?;
    }
    let name = text_field("name").expect("name is a text field");
    if fields.name_from_parts && texts[name].is_none() {
        let part = |field: &str| texts[text_field(field).expect("a text field")].clone();
        texts[name] = match (part("given_name"), part("family_name")) {
            (Some(given), Some(family)) => Some(format!("{given} {family}")),
            (Some(one), None) | (None, Some(one)) => Some(one),
            (None, None) => None,
        };
    }
    Ok(texts)
}

fn app_metadata(obj: &Map<String, Value>, shape: AppMetadata) -> Result<(Map<String, Value>, bool), StoreError> {
    match shape {
        AppMetadata::Object(key) => Ok((optional_object(obj, key)?, obj.contains_key(key))),
        AppMetadata::Lists(keys) => {
            let mut out = Map::new();
            for key in keys {
                match obj.get(*key) {
                    None | Some(Value::Null) => {}
                    Some(list @ Value::Array(_)) => {
                        out.insert(key.to_string(), list.clone());
                    }
                    Some(_) => return Err(invalid(format!("field \"{key}\" must be an array"))),
                }
            }
            Ok((out, keys.iter().any(|key| obj.contains_key(*key))))
        }
    }
}

/// A user JSON in `preset`'s shape as the record; the email must be the one asked about.
pub fn parse_user(preset: &Preset, body: &[u8], requested_email: &str) -> Result<LegacyUser, StoreError> {
    let obj = parse_object(body)?;
    let fields = &preset.fields;
    let (app_metadata, app_metadata_given) = app_metadata(&obj, fields.app_metadata)?;
    Ok(LegacyUser {
        external_id: required_id(&obj, fields.id)?,
        email: matching_email(&obj, fields.email, requested_email)?,
        email_verified: optional_bool(&obj, Some(fields.email_verified), false)?,
        texts: texts(&obj, fields)?,
        user_metadata: optional_object(&obj, fields.user_metadata)?,
        metadata_known: app_metadata_given || obj.contains_key(fields.user_metadata),
        app_metadata,
        enabled: optional_bool(&obj, fields.enabled, true)? && !optional_bool(&obj, fields.blocked, false)?,
        // The store answers for one user per email.
        chosen_among_duplicates: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn trickle() -> &'static Preset {
        preset("pg_trickle").unwrap()
    }

    fn keycloak() -> &'static Preset {
        preset("keycloak").unwrap()
    }

    fn body(v: Value) -> Vec<u8> {
        v.to_string().into_bytes()
    }

    #[test]
    fn trickle_profile_maps_every_field_and_ignores_unknown_ones() {
        let p = parse_user(
            trickle(),
            &body(json!({
                "user_id": "u-1", "email": " Ada@Legacy.test", "email_verified": true, "username": "ada",
                "name": "Ada L", "given_name": "Ada", "family_name": "L", "nickname": "countess",
                "picture": "https://x/a.png", "user_metadata": {"theme": "dark"}, "app_metadata": {"plan": "pro"},
                "favourite_colour": "green"
            })),
            "ada@legacy.test",
        )
        .unwrap();
        assert_eq!(p.external_id, "u-1");
        assert_eq!(p.email, "ada@legacy.test");
        assert!(p.email_verified && p.enabled);
        assert_eq!(p.text("username"), Some("ada"));
        assert_eq!(p.text("nickname"), Some("countess"));
        assert_eq!(p.user_metadata["theme"], "dark");
        assert_eq!(p.app_metadata["plan"], "pro");
    }

    #[test]
    fn trickle_profile_says_disabled_with_enabled_false_or_blocked_true() {
        let parse = |extra: Value| {
            let mut profile = json!({"user_id": "u-1", "email": "a@b.c"});
            profile.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            parse_user(trickle(), &body(profile), "a@b.c").map(|p| p.enabled)
        };
        assert_eq!(parse(json!({})), Ok(true));
        assert_eq!(parse(json!({"enabled": false})), Ok(false));
        assert_eq!(parse(json!({"blocked": true})), Ok(false));
        assert_eq!(parse(json!({"enabled": true, "blocked": false})), Ok(true));
        assert!(parse(json!({"enabled": "no"})).is_err(), "not a boolean: an invalid answer");
    }

    #[test]
    fn metadata_left_out_is_unknown_and_empty_metadata_is_known() {
        let known = |v: Value| parse_user(trickle(), &body(v), "a@b.c").unwrap().metadata_known;
        assert!(!known(json!({"user_id": "1", "email": "a@b.c"})));
        assert!(known(json!({"user_id": "1", "email": "a@b.c", "user_metadata": {}})));
        assert!(known(json!({"user_id": "1", "email": "a@b.c", "app_metadata": {"x": 1}})));
        let keycloak = |v: Value| parse_user(keycloak(), &body(v), "a@b.c").unwrap().metadata_known;
        assert!(!keycloak(json!({"id": "1", "email": "a@b.c"})));
        assert!(keycloak(json!({"id": "1", "email": "a@b.c", "attributes": {}})));
    }

    #[test]
    fn integer_ids_are_accepted_as_text() {
        let p = parse_user(trickle(), &body(json!({"user_id": 42, "email": "a@b.c"})), "a@b.c").unwrap();
        assert_eq!(p.external_id, "42");
    }

    #[test]
    fn invalid_answers_are_rejected_with_a_reason() {
        let cases = [
            (b"not json".to_vec(), "not valid JSON"),
            (body(json!([1, 2])), "not a JSON object"),
            (body(json!({"email": "a@b.c"})), "user_id"),
            (body(json!({"user_id": "", "email": "a@b.c"})), "user_id"),
            (body(json!({"user_id": "1"})), "email"),
            (body(json!({"user_id": "1", "email": "mallory@b.c"})), "another email"),
            (body(json!({"user_id": "1", "email": "a@b.c", "user_metadata": "x"})), "user_metadata"),
            (body(json!({"user_id": "1", "email": "a@b.c", "email_verified": "yes"})), "email_verified"),
        ];
        for (input, expected) in cases {
            match parse_user(trickle(), &input, "a@b.c") {
                Err(StoreError::InvalidAnswer(reason)) => assert!(reason.contains(expected), "{reason}"),
                other => panic!("{expected}: {other:?}"),
            }
        }
    }

    #[test]
    fn keycloak_user_maps_roles_groups_and_attributes() {
        let p = parse_user(
            keycloak(),
            &body(json!({
                "id": "kc-7", "username": "grace", "email": "grace@legacy.test", "emailVerified": true,
                "firstName": "Grace", "lastName": "Hopper", "enabled": true,
                "attributes": {"dept": ["navy"]}, "roles": ["admin"], "groups": ["/eng"], "requiredActions": []
            })),
            "grace@legacy.test",
        )
        .unwrap();
        assert_eq!(p.external_id, "kc-7");
        assert_eq!(p.text("name"), Some("Grace Hopper"));
        assert_eq!(p.user_metadata["dept"], json!(["navy"]));
        assert_eq!(p.app_metadata, json!({"roles": ["admin"], "groups": ["/eng"]}).as_object().unwrap().clone());
        assert!(p.enabled && p.email_verified);
    }

    #[test]
    fn keycloak_disabled_user_is_flagged() {
        let p = parse_user(keycloak(), &body(json!({"id": "1", "email": "a@b.c", "enabled": false})), "a@b.c").unwrap();
        assert!(!p.enabled);
    }

    #[test]
    fn presets_name_only_record_fields_and_distinct_names() {
        for preset in PRESETS {
            for (field, _) in preset.fields.texts {
                assert!(text_field(field).is_some(), "{}: {field}", preset.name);
            }
            assert_eq!(PRESETS.iter().filter(|p| p.name == preset.name).count(), 1);
            assert!(preset.login.accepted.iter().all(|s| !preset.login.invalid.contains(s)), "{}", preset.name);
        }
    }
}

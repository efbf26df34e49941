//! Legacy profiles: the JSON a legacy store answers with, validated and mapped onto `auth.users`.
//!
//! Two contracts (docs/http-contract.md): pg_trickle's own profile JSON, and the user JSON of the
//! Keycloak user-migration plugin's REST contract. Unknown fields are ignored.

use crate::domain::email::normalize_email;
use crate::legacy_store::StoreError;
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct LegacyProfile {
    /// The legacy store's id; stored as `auth.users.external_id`.
    pub external_id: String,
    /// Normalised; equal to the email that was asked about.
    pub email: String,
    pub email_verified: bool,
    pub username: Option<String>,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub nickname: Option<String>,
    pub picture: Option<String>,
    pub user_metadata: Map<String, Value>,
    pub app_metadata: Map<String, Value>,
    /// Whether the answer said what the metadata is (empty included). A store that left the fields out has not:
    /// the user is flagged for `auth.backfill_metadata` — never one whose metadata is known to be empty.
    pub metadata_known: bool,
    /// `enabled` (pg_trickle's contract, Keycloak), or not `blocked` (pg_trickle's contract, Auth0's word); a
    /// disabled legacy user is never migrated.
    pub enabled: bool,
}

fn invalid(reason: impl Into<String>) -> StoreError {
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

fn optional_bool(obj: &Map<String, Value>, key: &str, default: bool) -> Result<bool, StoreError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(invalid(format!("field \"{key}\" must be a boolean"))),
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
fn matching_email(obj: &Map<String, Value>, key: &str, requested: &str) -> Result<String, StoreError> {
    let Some(Value::String(raw)) = obj.get(key) else {
        return Err(invalid(format!("field \"{key}\" is required (a string)")));
    };
    let email = normalize_email(raw).map_err(|_| invalid(format!("field \"{key}\" is not a valid email")))?;
    if email != requested {
        return Err(invalid("the answer is about another email than the one requested"));
    }
    Ok(email)
}

fn parse_object(body: &[u8]) -> Result<Map<String, Value>, StoreError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(_) => Err(invalid("the body is not a JSON object")),
        Err(_) => Err(invalid("the body is not valid JSON")),
    }
}

/// pg_trickle's contract: `user_id`, `email` required; the rest optional.
pub fn parse_trickle_profile(body: &[u8], requested_email: &str) -> Result<LegacyProfile, StoreError> {
    let obj = parse_object(body)?;
    Ok(LegacyProfile {
        external_id: required_id(&obj, "user_id")?,
        email: matching_email(&obj, "email", requested_email)?,
        email_verified: optional_bool(&obj, "email_verified", false)?,
        username: optional_string(&obj, "username")?,
        name: optional_string(&obj, "name")?,
        given_name: optional_string(&obj, "given_name")?,
        family_name: optional_string(&obj, "family_name")?,
        nickname: optional_string(&obj, "nickname")?,
        picture: optional_string(&obj, "picture")?,
        user_metadata: optional_object(&obj, "user_metadata")?,
        app_metadata: optional_object(&obj, "app_metadata")?,
        metadata_known: obj.contains_key("user_metadata") || obj.contains_key("app_metadata"),
        enabled: optional_bool(&obj, "enabled", true)? && !optional_bool(&obj, "blocked", false)?,
    })
}

/// Keycloak user-migration contract: `attributes` become user_metadata, `roles` and `groups` go
/// into app_metadata (what the application, not the user, decides).
pub fn parse_keycloak_user(body: &[u8], requested_email: &str) -> Result<LegacyProfile, StoreError> {
    let obj = parse_object(body)?;
    let given_name = optional_string(&obj, "firstName")?;
    let family_name = optional_string(&obj, "lastName")?;
    let name = match (&given_name, &family_name) {
        (Some(g), Some(f)) => Some(format!("{g} {f}")),
        (Some(one), None) | (None, Some(one)) => Some(one.clone()),
        (None, None) => None,
    };
    let mut app_metadata = Map::new();
    for key in ["roles", "groups"] {
        match obj.get(key) {
            None | Some(Value::Null) => {}
            Some(list @ Value::Array(_)) => {
                app_metadata.insert(key.to_string(), list.clone());
            }
            Some(_) => return Err(invalid(format!("field \"{key}\" must be an array"))),
        }
    }
    Ok(LegacyProfile {
        external_id: required_id(&obj, "id")?,
        email: matching_email(&obj, "email", requested_email)?,
        email_verified: optional_bool(&obj, "emailVerified", false)?,
        username: optional_string(&obj, "username")?,
        name,
        given_name,
        family_name,
        nickname: None,
        picture: None,
        user_metadata: optional_object(&obj, "attributes")?,
        metadata_known: ["attributes", "roles", "groups"].iter().any(|key| obj.contains_key(*key)),
        app_metadata,
        enabled: optional_bool(&obj, "enabled", true)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Vec<u8> {
        v.to_string().into_bytes()
    }

    #[test]
    fn trickle_profile_maps_every_field_and_ignores_unknown_ones() {
        let p = parse_trickle_profile(
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
        assert_eq!(p.username.as_deref(), Some("ada"));
        assert_eq!(p.nickname.as_deref(), Some("countess"));
        assert_eq!(p.user_metadata["theme"], "dark");
        assert_eq!(p.app_metadata["plan"], "pro");
    }

    #[test]
    fn trickle_profile_says_disabled_with_enabled_false_or_blocked_true() {
        let parse = |extra: Value| {
            let mut profile = json!({"user_id": "u-1", "email": "a@b.c"});
            profile.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            parse_trickle_profile(&body(profile), "a@b.c").map(|p| p.enabled)
        };
        assert_eq!(parse(json!({})), Ok(true));
        assert_eq!(parse(json!({"enabled": false})), Ok(false));
        assert_eq!(parse(json!({"blocked": true})), Ok(false));
        assert_eq!(parse(json!({"enabled": true, "blocked": false})), Ok(true));
        assert!(parse(json!({"enabled": "no"})).is_err(), "not a boolean: an invalid answer");
    }

    #[test]
    fn metadata_left_out_is_unknown_and_empty_metadata_is_known() {
        let known = |v: Value| parse_trickle_profile(&body(v), "a@b.c").unwrap().metadata_known;
        assert!(!known(json!({"user_id": "1", "email": "a@b.c"})));
        assert!(known(json!({"user_id": "1", "email": "a@b.c", "user_metadata": {}})));
        assert!(known(json!({"user_id": "1", "email": "a@b.c", "app_metadata": {"x": 1}})));
        let keycloak = |v: Value| parse_keycloak_user(&body(v), "a@b.c").unwrap().metadata_known;
        assert!(!keycloak(json!({"id": "1", "email": "a@b.c"})));
        assert!(keycloak(json!({"id": "1", "email": "a@b.c", "attributes": {}})));
    }

    #[test]
    fn integer_ids_are_accepted_as_text() {
        let p = parse_trickle_profile(&body(json!({"user_id": 42, "email": "a@b.c"})), "a@b.c").unwrap();
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
            match parse_trickle_profile(&input, "a@b.c") {
                Err(StoreError::InvalidAnswer(reason)) => assert!(reason.contains(expected), "{reason}"),
                other => panic!("{expected}: {other:?}"),
            }
        }
    }

    #[test]
    fn keycloak_user_maps_roles_groups_and_attributes() {
        let p = parse_keycloak_user(
            &body(json!({
                "id": "kc-7", "username": "grace", "email": "grace@legacy.test", "emailVerified": true,
                "firstName": "Grace", "lastName": "Hopper", "enabled": true,
                "attributes": {"dept": ["navy"]}, "roles": ["admin"], "groups": ["/eng"], "requiredActions": []
            })),
            "grace@legacy.test",
        )
        .unwrap();
        assert_eq!(p.external_id, "kc-7");
        assert_eq!(p.name.as_deref(), Some("Grace Hopper"));
        assert_eq!(p.user_metadata["dept"], json!(["navy"]));
        assert_eq!(p.app_metadata, json!({"roles": ["admin"], "groups": ["/eng"]}).as_object().unwrap().clone());
        assert!(p.enabled && p.email_verified);
    }

    #[test]
    fn keycloak_disabled_user_is_flagged() {
        let p = parse_keycloak_user(&body(json!({"id": "1", "email": "a@b.c", "enabled": false})), "a@b.c").unwrap();
        assert!(!p.enabled);
    }
}

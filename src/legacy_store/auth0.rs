//! Auth0's bulk-import user schema → pg_trickle's import rows, so a file prepared for Auth0 imports
//! unchanged. Fields: email, email_verified, user_id, username, given_name, family_name, name, nickname,
//! picture, blocked, user_metadata, app_metadata, password_hash (bcrypt), and custom_password_hash
//! {algorithm, hash {value, encoding, digest, key {value, encoding}}, salt {value, encoding, position},
//! password {encoding}}. A user that cannot be imported gets a `reason` instead of failing the file.

use crate::legacy_store::record::TEXT_FIELDS;
use serde_json::{json, Map, Value};

fn text(user: &Value, key: &str) -> Value {
    match &user[key] {
        Value::String(s) if !s.is_empty() => Value::String(s.clone()),
        Value::Number(n) => Value::String(n.to_string()),
        _ => Value::Null,
    }
}

/// The legacy format, hash string and params for a `custom_password_hash`, or the reason it cannot be used.
fn custom_hash(custom: &Value) -> Result<(String, String, Value), &'static str> {
    let algorithm = custom["algorithm"].as_str().ok_or("custom_password_hash_without_algorithm")?;
    let hash =
        custom["hash"]["value"].as_str().filter(|h| !h.is_empty()).ok_or("custom_password_hash_without_value")?;
    match custom["password"]["encoding"].as_str().unwrap_or("utf8") {
        "utf8" | "utf-8" => {}
        _ => return Err("unsupported_password_encoding"),
    }
    let encoding = custom["hash"]["encoding"].as_str().unwrap_or("hex");
    if !matches!(encoding, "hex" | "base64" | "utf8") {
        return Err("unsupported_hash_encoding");
    }
    let mut params = Map::new();
    let format = match algorithm {
        "bcrypt" | "argon2" | "ldap" | "pbkdf2" => algorithm.to_string(),
        "md4" | "md5" | "sha1" | "sha256" | "sha512" => {
            if let Some(salt) = custom.get("salt").filter(|s| s.is_object()) {
                let value = salt["value"].as_str().ok_or("salt_without_value")?;
                params.insert("salt".into(), json!(value));
                params.insert("salt_encoding".into(), json!(salt["encoding"].as_str().unwrap_or("utf8")));
                params.insert("salt_position".into(), json!(salt["position"].as_str().unwrap_or("prefix")));
            }
            algorithm.to_string()
        }
        "hmac" => {
            let digest = custom["hash"]["digest"].as_str().ok_or("hmac_without_digest")?;
            let key = custom["hash"]["key"]["value"].as_str().ok_or("hmac_without_key")?;
            params.insert("digest".into(), json!(digest));
            params.insert("key".into(), json!(key));
            params.insert("key_encoding".into(), json!(custom["hash"]["key"]["encoding"].as_str().unwrap_or("utf8")));
            "hmac".into()
        }
        _ => return Err("unsupported_algorithm"),
    };
    let params = if params.is_empty() { Value::Null } else { Value::Object(params) };
    Ok((format, hash.to_string(), params))
}

/// One Auth0 user as an import row keyed like `record::row_columns()`, plus `preset_reason`.
pub fn import_row(user: &Value) -> Value {
    let mut reason = None;
    let (format, hash, params) = match (&user["custom_password_hash"], text(user, "password_hash")) {
        (Value::Object(_), _) => match custom_hash(&user["custom_password_hash"]) {
            Ok((f, h, p)) => (json!(f), json!(h), p),
            Err(r) => {
                reason = Some(r);
                (Value::Null, Value::Null, Value::Null)
            }
        },
        (_, Value::String(bcrypt)) => (json!("bcrypt"), json!(bcrypt), Value::Null),
        _ => (Value::Null, Value::Null, Value::Null),
    };
    // MFA enrolments hold secrets (TOTP seeds) that pg_trickle has no place for: never dropped silently, never put
    // where the application could read them.
    if user["mfa_factors"].as_array().is_some_and(|factors| !factors.is_empty()) {
        reason = Some("mfa_factors_not_imported");
    }
    if user["blocked"] == json!(true) {
        reason = Some("blocked");
    }
    if !user.is_object() {
        reason = Some("not_an_object");
    }
    let object_or_null = |key: &str| if user[key].is_null() { Value::Null } else { user[key].clone() };
    // Auth0 names the profile fields as pg_trickle does.
    let mut row: Map<String, Value> = TEXT_FIELDS.iter().map(|field| (field.to_string(), text(user, field))).collect();
    row.extend([
        ("legacy_id".to_string(), text(user, "user_id")),
        ("email".to_string(), text(user, "email")),
        ("password_hash".to_string(), hash),
        ("hash_format".to_string(), format),
        ("hash_params".to_string(), params),
        ("email_verified".to_string(), json!(user["email_verified"].as_bool().unwrap_or(false))),
        ("enabled".to_string(), json!(user["blocked"] != json!(true))),
        ("user_metadata".to_string(), object_or_null("user_metadata")),
        ("app_metadata".to_string(), object_or_null("app_metadata")),
        ("preset_reason".to_string(), json!(reason)),
    ]);
    Value::Object(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcrypt_password_hash_and_profile_fields() {
        let row = import_row(&json!({
            "email": "a@b.c", "email_verified": true, "user_id": "auth0|1", "given_name": "A",
            "password_hash": "$2b$10$abc", "user_metadata": {"x": 1}
        }));
        assert_eq!(row["hash_format"], "bcrypt");
        assert_eq!(row["password_hash"], "$2b$10$abc");
        assert_eq!(row["legacy_id"], "auth0|1");
        assert_eq!(row["user_metadata"], json!({"x": 1}));
        assert_eq!(row["given_name"], "A");
        assert_eq!(row["nickname"], Value::Null);
        let keys: Vec<_> = row.as_object().unwrap().keys().cloned().collect();
        for (column, _) in crate::legacy_store::record::row_columns() {
            assert!(keys.iter().any(|k| k == column), "{column}");
        }
        assert_eq!(row["preset_reason"], Value::Null);
    }

    #[test]
    fn salted_custom_hash_becomes_format_and_params() {
        let row = import_row(&json!({"email": "a@b.c", "custom_password_hash": {
            "algorithm": "sha256", "hash": {"value": "abcd", "encoding": "hex"},
            "salt": {"value": "c2FsdA==", "encoding": "base64", "position": "suffix"}}}));
        assert_eq!(row["hash_format"], "sha256");
        assert_eq!(
            row["hash_params"],
            json!({"salt": "c2FsdA==", "salt_encoding": "base64", "salt_position": "suffix"})
        );
    }

    #[test]
    fn hmac_custom_hash_carries_digest_and_key() {
        let row = import_row(&json!({"email": "a@b.c", "custom_password_hash": {
            "algorithm": "hmac", "hash": {"value": "ff", "encoding": "hex", "digest": "sha1",
                                          "key": {"value": "a2V5", "encoding": "base64"}}}}));
        assert_eq!(row["hash_params"], json!({"digest": "sha1", "key": "a2V5", "key_encoding": "base64"}));
    }

    #[test]
    fn md4_is_a_salted_digest_like_the_others() {
        let row = import_row(&json!({"email": "a@b.c", "custom_password_hash": {
            "algorithm": "md4", "hash": {"value": "AbuUujgF0pPPkJPSFRTpmA==", "encoding": "base64"}}}));
        assert_eq!((row["hash_format"].as_str(), row["preset_reason"].is_null()), (Some("md4"), true));
    }

    #[test]
    fn unusable_users_get_a_reason() {
        let scrypt = import_row(
            &json!({"email": "a@b.c", "custom_password_hash": {"algorithm": "scrypt", "hash": {"value": "x"}}}),
        );
        assert_eq!(scrypt["preset_reason"], "unsupported_algorithm");
        let blocked = import_row(&json!({"email": "a@b.c", "blocked": true}));
        assert_eq!(blocked["preset_reason"], "blocked");
        let mfa = import_row(&json!({"email": "a@b.c", "password_hash": "$2b$10$x",
                                     "mfa_factors": [{"totp": {"secret": "2PRXZWZAYYDAWCD"}}]}));
        assert_eq!(mfa["preset_reason"], "mfa_factors_not_imported");
        assert!(!mfa.to_string().contains("2PRXZWZAYYDAWCD"), "the secret goes nowhere");
        let none = import_row(&json!({"email": "a@b.c", "mfa_factors": []}));
        assert_eq!(none["preset_reason"], Value::Null);
        assert_eq!(import_row(&json!("x"))["preset_reason"], "not_an_object");
        let utf16 = import_row(&json!({"email": "a@b.c", "custom_password_hash": {
            "algorithm": "md5", "hash": {"value": "x"}, "password": {"encoding": "utf16le"}}}));
        assert_eq!(utf16["preset_reason"], "unsupported_password_encoding");
    }
}

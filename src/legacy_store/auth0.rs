//! Auth0's bulk-import user schema → pg_trickle's import rows, so a file prepared for Auth0 imports
//! unchanged. Fields: email, email_verified, user_id, username, given_name, family_name, name, nickname,
//! picture, blocked, user_metadata, app_metadata, password_hash (bcrypt), and custom_password_hash
//! {algorithm, hash {value, encoding, digest, key {value, encoding}}, salt {value, encoding, position},
//! password {encoding}}, and for scrypt keylen, cost, blockSize, parallelization. A user that cannot be imported
//! gets a `reason` instead of failing the file.

use crate::domain::legacy_hash::encoding;
use crate::legacy_store::record::TEXT_FIELDS;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;
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
        // These strings carry their own salt; a separate one would be silently ignored and the user could never
        // log in.
        "bcrypt" | "argon2" | "ldap" | "pbkdf2" if custom.get("salt").is_some_and(|s| !s.is_null()) => {
            return Err("salt_not_supported_for_algorithm")
        }
        "bcrypt" | "argon2" | "ldap" | "pbkdf2" => algorithm.to_string(),
        "scrypt" => return scrypt_as_passlib(custom, hash, encoding),
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

/// Auth0's scrypt fields as the `scrypt` format's one string (passlib's `$scrypt$ln=..,r=..,p=..$salt$hash`), so
/// one verifier serves both: scrypt(password, salt, N = cost (default 16384), r = blockSize (8),
/// p = parallelization (1), keylen bytes). keylen is required and must be the hash's length.
fn scrypt_as_passlib(custom: &Value, hash: &str, hash_encoding: &str) -> Result<(String, String, Value), &'static str> {
    let decode = |value: &str, encoding: &str| match encoding {
        "utf8" => Some(value.as_bytes().to_vec()),
        "base64" => encoding::base64_any(value),
        "hex" => hex::decode(value).ok(),
        _ => None,
    };
    let derived = decode(hash, hash_encoding).filter(|d| hash_encoding != "utf8" && !d.is_empty());
    let derived = derived.ok_or("scrypt_hash_not_decodable")?;
    let salt = &custom["salt"];
    let salt = decode(salt["value"].as_str().ok_or("salt_without_value")?, salt["encoding"].as_str().unwrap_or("utf8"))
        .ok_or("salt_not_decodable")?;
    let number = |key: &str, default: Option<u64>| match &custom[key] {
        Value::Null => default.ok_or("scrypt_without_keylen"),
        value => value.as_u64().filter(|n| *n > 0).ok_or("scrypt_parameter_not_a_positive_integer"),
    };
    if number("keylen", None)? != derived.len() as u64 {
        return Err("scrypt_keylen_differs_from_hash");
    }
    let cost = number("cost", Some(16384))?;
    if !cost.is_power_of_two() || cost < 2 {
        return Err("scrypt_cost_not_a_power_of_two");
    }
    let (r, p) = (number("blockSize", Some(8))?, number("parallelization", Some(1))?);
    let adapted = |bytes: &[u8]| STANDARD_NO_PAD.encode(bytes).replace('+', ".");
    let phc = format!("$scrypt$ln={},r={r},p={p}${}${}", cost.trailing_zeros(), adapted(&salt), adapted(&derived));
    Ok(("scrypt".into(), phc, Value::Null))
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
        // Auth0's file has one user per email: nothing to choose between.
        ("last_active".to_string(), Value::Null),
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
        let reason = |custom: Value| {
            import_row(&json!({"email": "a@b.c", "custom_password_hash": custom}))["preset_reason"].clone()
        };
        assert_eq!(reason(json!({"algorithm": "sha3", "hash": {"value": "x"}})), "unsupported_algorithm");
        let bcrypt_with_salt = json!({"algorithm": "bcrypt", "hash": {"value": "$2b$10$x"}, "salt": {"value": "s"}});
        assert_eq!(reason(bcrypt_with_salt), "salt_not_supported_for_algorithm");
        let scrypt = |extra: Value| {
            let mut custom = json!({"algorithm": "scrypt", "hash": {"value": "00ff", "encoding": "hex"},
                                    "salt": {"value": "s"}, "keylen": 2});
            custom.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            reason(custom)
        };
        assert_eq!(scrypt(json!({})), Value::Null);
        assert_eq!(scrypt(json!({"keylen": null})), "scrypt_without_keylen");
        assert_eq!(scrypt(json!({"keylen": 64})), "scrypt_keylen_differs_from_hash");
        assert_eq!(scrypt(json!({"cost": 1000})), "scrypt_cost_not_a_power_of_two");
        assert_eq!(scrypt(json!({"blockSize": -1})), "scrypt_parameter_not_a_positive_integer");
        assert_eq!(scrypt(json!({"hash": {"value": "zz", "encoding": "hex"}})), "scrypt_hash_not_decodable");
        assert_eq!(scrypt(json!({"salt": {"encoding": "utf8"}})), "salt_without_value");
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

    /// tests/vectors/auth0_scrypt_users.json (Python's hashlib.scrypt): each Auth0 scrypt object becomes a `scrypt`
    /// row that accepts exactly the passwords scrypt accepts.
    #[test]
    fn auth0_scrypt_users_verify_as_hashlib_says() {
        use crate::domain::legacy_hash::{verify, Budget};
        let vectors: Vec<Value> =
            serde_json::from_str(include_str!("../../tests/vectors/auth0_scrypt_users.json")).expect("vectors");
        assert!(vectors.len() >= 12);
        for v in &vectors {
            let row = import_row(&json!({"email": "a@b.c", "custom_password_hash": v["custom_password_hash"]}));
            assert_eq!(row["preset_reason"], Value::Null, "{v}");
            assert_eq!(row["hash_format"], "scrypt");
            let (hash, password) = (row["password_hash"].as_str().unwrap(), v["password"].as_str().unwrap());
            let got = verify(password, hash, "scrypt", &row["hash_params"], &Budget::default());
            assert_eq!(got, Ok(v["valid"].as_bool().unwrap()), "{password:?} against {hash}");
        }
    }
}

//! Firebase Authentication through the Identity Toolkit REST API: `accounts:signInWithPassword` checks the password,
//! `accounts:lookup` with the ID token it returns gives the profile. The base URL is
//! `https://identitytoolkit.googleapis.com` (or the Authentication emulator's `http://HOST:PORT/identitytoolkit.googleapis.com`);
//! the provider secret is the project's Web API key. Users who never log in come over from a `firebase auth:export`
//! file with the `firebase_scrypt` format (docs/providers/firebase.md).

use super::{
    answer_object, flag, set_text, settings_object, shown_code, text_setting, token, unavailable, user, Exchange,
};
use crate::legacy_store::http::client::Request;
use crate::legacy_store::http::contract::invalid;
use crate::legacy_store::http::HttpError;
use crate::legacy_store::{LegacyUser, LoginAnswer, Rejection, StoreError};
use reqwest::Url;
use serde_json::{json, Map, Value};

const KNOWN: &[&str] = &["tenant_id"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firebase {
    api_key: String,
    /// Identity Platform multi-tenancy: the tenant the users belong to.
    tenant_id: Option<String>,
}

impl Firebase {
    pub fn parse(settings: &Value, api_key: Option<String>) -> Result<Self, StoreError> {
        let obj = settings_object("firebase", settings, KNOWN)?;
        let api_key = api_key.ok_or_else(|| {
            StoreError::InvalidConfig("firebase needs the project's Web API key as provider_secret".into())
        })?;
        Ok(Firebase { api_key, tenant_id: text_setting(obj, "tenant_id")? })
    }

    fn call(&self, base: &Url, method: &str, mut body: Map<String, Value>) -> Request {
        let mut url = base.clone();
        url.path_segments_mut().expect("http(s) URLs have a path").pop_if_empty().extend(["v1", method]);
        url.query_pairs_mut().append_pair("key", &self.api_key);
        if let Some(tenant) = &self.tenant_id {
            body.insert("tenantId".into(), json!(tenant));
        }
        Request::post(url, "application/json", Value::Object(body).to_string())
    }

    pub fn log_in(
        &self,
        exchange: &dyn Exchange,
        base: &Url,
        email: &str,
        password: &str,
    ) -> Result<LoginAnswer, StoreError> {
        let sign_in = json!({"email": email, "password": password, "returnSecureToken": true});
        let reply = exchange.send(self.call(base, "accounts:signInWithPassword", object(sign_in)))?;
        let answer = answer_object(&reply)?;
        if reply.status != 200 {
            return match refusal(reply.status, &answer)? {
                Some(rejection) => Ok(LoginAnswer::Rejected(rejection)),
                None => Err(unavailable(&reply)),
            };
        }
        // A user enrolled in multi-factor sign-in gets a pending credential instead of an ID token.
        if answer.contains_key("mfaPendingCredential") {
            return Ok(LoginAnswer::Rejected(Rejection::ProviderStepRequired));
        }
        let id_token = token(&answer, "idToken")?;
        let reply = exchange.send(self.call(base, "accounts:lookup", object(json!({"idToken": id_token}))))?;
        if reply.status != 200 {
            return Err(unavailable(&reply));
        }
        let user = match answer_object(&reply)?.get("users") {
            Some(Value::Array(users)) if users.len() == 1 => match &users[0] {
                Value::Object(user) => profile(user, email)?,
                _ => return Err(invalid("accounts:lookup gave a user that is not an object")),
            },
            _ => return Err(invalid("accounts:lookup did not give exactly one user")),
        };
        Ok(if user.enabled {
            LoginAnswer::Accepted(Box::new(user))
        } else {
            LoginAnswer::Rejected(Rejection::Disabled)
        })
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("built from an object literal"),
    }
}

/// A refusal of `signInWithPassword` (`{"error": {"message": CODE}}`, the code sometimes followed by " : text");
/// None when the code says the service, not the credentials, is the matter (rate limits and the like).
fn refusal(status: u16, answer: &Map<String, Value>) -> Result<Option<Rejection>, StoreError> {
    let message = answer.get("error").and_then(|e| e.get("message")).and_then(Value::as_str).unwrap_or_default();
    let code = message.split([' ', ':']).next().unwrap_or_default();
    Ok(match code {
        "EMAIL_NOT_FOUND" | "INVALID_PASSWORD" | "INVALID_LOGIN_CREDENTIALS" | "INVALID_EMAIL" => {
            Some(Rejection::WrongCredentials)
        }
        "USER_DISABLED" => Some(Rejection::Disabled),
        // A wrong or restricted Web API key: pg_trickle's own request credential.
        "API" | "API_KEY_INVALID" | "INVALID_API_KEY" => return Err(HttpError::RequestRefused.into()),
        _ if status >= 500 || status == 429 => None,
        _ if code.is_empty() => return Err(invalid("the error answer has no error message code")),
        // PASSWORD_LOGIN_DISABLED, OPERATION_NOT_ALLOWED, TOO_MANY_ATTEMPTS_TRY_LATER, …
        _ => return Err(HttpError::ProviderRefused(shown_code(code)).into()),
    })
}

/// An `accounts:lookup` user as the record: `localId` the legacy id, the custom claims (`customAttributes`, a JSON
/// text the project's admin SDK set) its app_metadata.
fn profile(found: &Map<String, Value>, email: &str) -> Result<LegacyUser, StoreError> {
    let mut user = user(found.get("localId"), "localId", found, "email", email)?;
    user.email_verified = flag(found.get("emailVerified"), "emailVerified")?;
    user.enabled = !flag(found.get("disabled"), "disabled")?;
    set_text(&mut user, "name", found.get("displayName"))?;
    set_text(&mut user, "picture", found.get("photoUrl"))?;
    user.app_metadata = match found.get("customAttributes") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::String(text)) => match serde_json::from_str(text) {
            Ok(Value::Object(claims)) => claims,
            _ => return Err(invalid("customAttributes is not a JSON object")),
        },
        Some(_) => return Err(invalid("customAttributes is not a JSON text")),
    };
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(v: Value) -> Map<String, Value> {
        object(v)
    }

    #[test]
    fn refusals_by_message_code() {
        let refused =
            |status, message: &str| refusal(status, &answer(json!({"error": {"code": status, "message": message}})));
        assert_eq!(refused(400, "INVALID_PASSWORD"), Ok(Some(Rejection::WrongCredentials)));
        assert_eq!(refused(400, "EMAIL_NOT_FOUND"), Ok(Some(Rejection::WrongCredentials)));
        assert_eq!(refused(400, "INVALID_LOGIN_CREDENTIALS"), Ok(Some(Rejection::WrongCredentials)));
        assert_eq!(refused(400, "USER_DISABLED : The user account has been disabled."), Ok(Some(Rejection::Disabled)));
        assert_eq!(
            refused(400, "API key not valid. Please pass a valid API key."),
            Err(HttpError::RequestRefused.into())
        );
        assert_eq!(refused(503, "UNAVAILABLE"), Ok(None));
        assert_eq!(
            refused(400, "TOO_MANY_ATTEMPTS_TRY_LATER : Access to this account has been temporarily disabled"),
            Err(HttpError::ProviderRefused("TOO_MANY_ATTEMPTS_TRY_LATER".into()).into())
        );
        assert!(matches!(refusal(400, &answer(json!({}))), Err(StoreError::InvalidAnswer(_))));
    }

    #[test]
    fn a_looked_up_user_maps_to_the_record() {
        let found = answer(json!({
            "localId": "fb-1", "email": "ada@legacy.test", "emailVerified": true, "displayName": "Ada L",
            "photoUrl": "https://x/a.png", "customAttributes": "{\"plan\":\"pro\"}", "passwordHash": "ignored"
        }));
        let user = profile(&found, "ada@legacy.test").unwrap();
        assert_eq!(user.external_id, "fb-1");
        assert!(user.email_verified && user.enabled);
        assert_eq!((user.text("name"), user.text("picture")), (Some("Ada L"), Some("https://x/a.png")));
        assert_eq!(Value::Object(user.app_metadata), json!({"plan": "pro"}));
        let disabled = answer(json!({"localId": "fb-1", "email": "ada@legacy.test", "disabled": true}));
        assert!(!profile(&disabled, "ada@legacy.test").unwrap().enabled);
        let bad_claims = answer(json!({"localId": "fb-1", "email": "ada@legacy.test", "customAttributes": "[1]"}));
        assert!(profile(&bad_claims, "ada@legacy.test").is_err());
    }

    #[test]
    fn the_api_key_is_required_and_sent_as_the_key_parameter() {
        assert!(Firebase::parse(&Value::Null, None).is_err());
        assert!(Firebase::parse(&json!({"project": "x"}), Some("k".into())).is_err());
        let firebase = Firebase::parse(&json!({"tenant_id": "t-1"}), Some("AIza k".into())).unwrap();
        let base = Url::parse("http://127.0.0.1:9099/identitytoolkit.googleapis.com").unwrap();
        let request = firebase.call(&base, "accounts:lookup", Map::new());
        assert_eq!(
            request.url.as_str(),
            "http://127.0.0.1:9099/identitytoolkit.googleapis.com/v1/accounts:lookup?key=AIza+k"
        );
        assert_eq!(request.body.unwrap().1, r#"{"tenantId":"t-1"}"#);
    }
}

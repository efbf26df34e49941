//! Firebase Authentication through the Identity Toolkit REST API: `accounts:signInWithPassword` checks the password,
//! `accounts:lookup` with the ID token it returns gives the profile. The base URL is
//! `https://identitytoolkit.googleapis.com` (or the Authentication emulator's `http://HOST:PORT/identitytoolkit.googleapis.com`);
//! the provider secret is the project's Web API key. Users who never log in come over from a `firebase auth:export`
//! file with the `firebase_scrypt` format (docs/providers/firebase.md).
//!
//! The admin look-up (getUser) is `projects/PROJECT/accounts:lookup` by email, with an OAuth 2.0 token of a Google
//! service account (its JSON key is `provider_admin_secret`): a JWT signed with the account's key (RS256) is
//! exchanged at its `token_uri` (RFC 7523), and the token kept until shortly before it expires.

use super::{
    answer_object, bad, flag, set_text, settings_object, shown_code, text_setting, token, token_answer, unavailable,
    user, Exchange, Session,
};
use crate::legacy_store::http::client::Request;
use crate::legacy_store::http::config::endpoint_url;
use crate::legacy_store::http::contract::invalid;
use crate::legacy_store::http::HttpError;
use crate::legacy_store::{LegacyUser, LoginAnswer, Rejection, StoreError};
use base64::Engine;
use reqwest::Url;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use serde_json::{json, Map, Value};
use std::time::{SystemTime, UNIX_EPOCH};

const KNOWN: &[&str] = &["tenant_id"];
/// What the service account's token may do: Identity Toolkit's admin calls are under the Cloud Platform scope.
const ADMIN_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firebase {
    api_key: String,
    /// Identity Platform multi-tenancy: the tenant the users belong to.
    tenant_id: Option<String>,
    service_account: Option<ServiceAccount>,
}

/// A Google service account's JSON key, as the Cloud console downloads it.
#[derive(Clone, PartialEq, Eq)]
struct ServiceAccount {
    client_email: String,
    project_id: String,
    token_uri: String,
    /// PKCS#8 DER of the RSA private key.
    key: Vec<u8>,
}

impl std::fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccount").field("client_email", &self.client_email).finish_non_exhaustive()
    }
}

fn base64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// RS256 (RSASSA-PKCS1-v1_5 with SHA-256) of `input` with a PKCS#8 RSA key.
fn sign_rs256(key: &[u8], input: &str) -> Result<Vec<u8>, StoreError> {
    let refused = || StoreError::InvalidConfig("the service account's private_key is not a usable RSA key".into());
    let pair = RsaKeyPair::from_pkcs8(key).map_err(|_| refused())?;
    let mut signature = vec![0; pair.public().modulus_len()];
    pair.sign(&RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), input.as_bytes(), &mut signature)
        .map_err(|_| refused())?;
    Ok(signature)
}

impl ServiceAccount {
    fn parse(json: &str) -> Result<Self, StoreError> {
        // Fixed messages: neither the key nor any of the file's text is echoed.
        let refused = |what: &str| bad(format!("provider_admin_secret is not a Google service account key: {what}"));
        let Ok(Value::Object(file)) = serde_json::from_str::<Value>(json) else { return refused("not a JSON object") };
        if file.get("type").and_then(Value::as_str) != Some("service_account") {
            return refused("its type is not service_account");
        }
        let field = |key: &str| file.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
        let (Some(client_email), Some(project_id), Some(pem)) =
            (field("client_email"), field("project_id"), field("private_key"))
        else {
            return refused("client_email, project_id and private_key are required");
        };
        let body: String =
            pem.lines().filter(|line| !line.starts_with("-----")).flat_map(|line| line.trim().chars()).collect();
        let Ok(key) = base64::engine::general_purpose::STANDARD.decode(body) else {
            return refused("private_key is not a PEM key");
        };
        let account = ServiceAccount {
            client_email,
            project_id,
            token_uri: field("token_uri").unwrap_or_else(|| "https://oauth2.googleapis.com/token".into()),
            key,
        };
        sign_rs256(&account.key, "")?;
        Ok(account)
    }

    /// The signed assertion of RFC 7523 for this account, issued at `now` (seconds), valid for an hour.
    fn assertion(&self, now: u64) -> Result<String, StoreError> {
        let header = base64url(br#"{"alg":"RS256","typ":"JWT"}"#);
        let claims = json!({"iss": self.client_email, "scope": ADMIN_SCOPE, "aud": self.token_uri,
                            "iat": now, "exp": now + 3600});
        let input = format!("{header}.{}", base64url(claims.to_string().as_bytes()));
        let signature = sign_rs256(&self.key, &input)?;
        Ok(format!("{input}.{}", base64url(&signature)))
    }

    /// An access token for the admin calls, and its lifetime in seconds.
    fn access_token(&self, exchange: &dyn Exchange) -> Result<(String, u64), StoreError> {
        let token_uri = endpoint_url("the service account's token_uri", &self.token_uri, exchange.allow_insecure())?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", JWT_BEARER).append_pair("assertion", &self.assertion(now)?);
        token_answer(&exchange.send(Request::post(token_uri, "application/x-www-form-urlencoded", form.finish()))?)
    }
}

impl Firebase {
    pub fn parse(settings: &Value, api_key: Option<String>, service_account: Option<&str>) -> Result<Self, StoreError> {
        let obj = settings_object("firebase", settings, KNOWN)?;
        let api_key = api_key.ok_or_else(|| {
            StoreError::InvalidConfig("firebase needs the project's Web API key as provider_secret".into())
        })?;
        Ok(Firebase {
            api_key,
            tenant_id: text_setting(obj, "tenant_id")?,
            service_account: service_account.map(ServiceAccount::parse).transpose()?,
        })
    }

    /// The user with this email (`accounts:lookup` as the service account); None without one, or when nobody has it.
    pub fn look_up(
        &self,
        exchange: &dyn Exchange,
        session: &Session,
        base: &Url,
        email: &str,
    ) -> Result<Option<LegacyUser>, StoreError> {
        let Some(account) = &self.service_account else { return Ok(None) };
        let mut url = base.clone();
        url.path_segments_mut().expect("http(s) URLs have a path").pop_if_empty().extend([
            "v1",
            "projects",
            &account.project_id,
            "accounts:lookup",
        ]);
        let mut body = Map::new();
        body.insert("email".into(), json!([email]));
        if let Some(tenant) = &self.tenant_id {
            body.insert("tenantId".into(), json!(tenant));
        }
        let request = Request::post(url, "application/json", Value::Object(body).to_string());
        let reply = session.send_as_admin(exchange, request, || account.access_token(exchange))?;
        match answer_object(&reply)?.get("users") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(users)) if users.is_empty() => Ok(None),
            Some(Value::Array(users)) if users.len() == 1 => match &users[0] {
                Value::Object(user) => Ok(Some(profile(user, email)?)),
                _ => Err(invalid("accounts:lookup gave a user that is not an object")),
            },
            _ => Err(invalid("accounts:lookup gave several users for one email")),
        }
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
        assert!(Firebase::parse(&Value::Null, None, None).is_err());
        assert!(Firebase::parse(&json!({"project": "x"}), Some("k".into()), None).is_err());
        let firebase = Firebase::parse(&json!({"tenant_id": "t-1"}), Some("AIza k".into()), None).unwrap();
        let base = Url::parse("http://127.0.0.1:9099/identitytoolkit.googleapis.com").unwrap();
        let request = firebase.call(&base, "accounts:lookup", Map::new());
        assert_eq!(
            request.url.as_str(),
            "http://127.0.0.1:9099/identitytoolkit.googleapis.com/v1/accounts:lookup?key=AIza+k"
        );
        assert_eq!(request.body.unwrap().1, r#"{"tenantId":"t-1"}"#);
    }

    /// A throwaway 2048-bit key made for this test with Python's `cryptography`, and that library's RS256
    /// signature of `SIGNED`: PKCS#1 v1.5 signatures are deterministic, so ours must be the same bytes.
    const TEST_KEY: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDC+yc0+HJF67sB\n7xPRfZvY9CR4AkchT+3A9w24vhMbysOe+ludrFGvDF5t2R2wJJdhjkkb7wHUc1VG\nOJAHgVoKt6Z9YH4kMCnJ3HOFUxkoOgJ9vU82BWDh1Zhmd0XkLL2JqQuKhdH8qbAN\ns/DWvU5z1ihKWO8v4wWxdGm+FkGvSW69+G0AQJZxLSgchd9neIJYlQFVkTdDs2xE\nIrxHzgWF8esLtw49eg66yLXIWuheQnJsNKAceS6kOn0Qhhw6XIRJGsj70sG1b/Iq\nwaeFEyJ+Nfynp4fNOEoEjmRP+q00B1xV+hT/YMOIzFDZ3akPS7rweaR+Y8G3cg8G\n/RBg7M3dAgMBAAECggEAGW8ztRg3p+FROrZaKnitLMbkPvdlGfZYOFTB6Hh6+6Qe\nko1sCAxjd2cwpjmtQr3zNVmfNdKetXz6Abf9Kc141m8Qe8hrjALwYJGuTBUD8hhn\nHMnmHFDlS3BWef9TEam4a82uYLqGIuRrv83aO9jj8/5asSAay29c3cImzRIQLXI3\nL2sqbq827GlA5NQCWwcJ6OmRHV3H1aJCQmX9ZhBgVGoZNPI5mUahIQtCnAvzK4eR\n6FYF7Nx7fZ6BQjsJ2brHqtDpN5HaVDYf5Ly4nEIdnDk6Rt2CpChg2Mx2nRNhuGVJ\nSzQUuXrwzavL+BTIvlPIHkfWz1gEooNPah+ubbFMQQKBgQD4X1TtpgTvJ37IQ9UI\nqWpim/BnOv6KCkXfu0IRQAcJFZ+sNxVmncBbfEN13tswXiR6eE3EN1Ufq62hd1wL\nv8llXNvATHUFkUor0IS7/pfRp2kT0DWulMbH1Du0lTBIt+hNrsfSLzcEGLKlC6I3\n4BsgLA67XmAslljwy2rWvXO3LQKBgQDI+BECySFInOSgKnk5taikZRHH3J6tuJJa\nxryPeraI08krIBwkv8ooZiBJEOt0Vx158mgYBzTB3ANDmvO93hAoyW7LlTEuBSu7\nET5Y00TZhybKHX4Us4RQWt2WzJunidYALMy/4G7pjV5YiDpmOJtYYJUKY3SQ1MzC\nrYJWduSfcQKBgFTSygB3iIvcozHl6KWSpmCS/SFkRnYCWCa2nzOg+EYj+mooTcjD\n62PTJn7k41q7bB3fZD+03f949E2GpArnLvLNKcec1QJXwksAZbSGmHbjg8FehFbh\nPJoWY2Wi5eCP3mhZXqjrsxBVFv3C4V3PzbPJGCbpblML7cge0JgSD6jpAoGAY/+b\nZ0lxOFJpKJE51M9hZLutx0ct5b8rg+PTu4kR/q9zL/RATMDp9IQsmG7E2hTm4+EM\njrg3NiclsKQPmHBAlir06HQKDp4gDmscHNKzNZIcaQGX1PEma11rWTfiU9EwHNIt\n52PjjG79fQv8ExUjpywXvR2TyOU6Jbx0WFW8mOECgYEAzEoL4s8s+BhkxVn75Jkf\nMTVrQkyqOITGuTD+wGLevsCOCCVeO5jfnBNP8/9LlcpmsfCuJqOa1Utd5R6osQPj\n/WQdqF/W6E+SXYyI1WIw/F/jeGiRofNfRpi/gmWXe170XHc3jpmnisjt+qb9UrFF\n+hXsWsw3AarRf1KMXhKZcDg=\n-----END PRIVATE KEY-----";
    const SIGNED: &str =
        "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJ0cmlja2xlQGRlbW8uaWFtLmdzZXJ2aWNlYWNjb3VudC5jb20ifQ";
    const SIGNATURE: &str = "GNn37BudPV8XUqZL3uYZjxbVTc2AGX8IIr4En3opZSTC3ey3ySXp-3d5uD7zQ8ChEQyBZZuLeRwglcxoxEOeXjBfZgJ7nnlfPhS7Zn7uM_LVXC6C_8-inFbukF4km9IIH4bKG3G24SaYIrlAr22_UVsxiIuOqFqrDfPTlr9f-maXeRDvpax_6TOEBWcEU41LcKk66RxHet5ex5CS1YCo9iaFRZ4OR6qIPX_w_24RxA_1SlePrEOoh46uAJzhGImJc6X4QCyYhufSzZ6M2IEbPFuKGv6s4RtSfRhsQkk64Vl4UJ_z5s8BRYjyD_DGq2DN8jlQDNIGj9y4zU6Y3_Udfw";

    fn account_json(key: &str) -> String {
        json!({"type": "service_account", "project_id": "demo-trickle", "private_key": key,
               "client_email": "trickle@demo.iam.gserviceaccount.com", "token_uri": "https://oauth2.googleapis.com/token"})
        .to_string()
    }

    #[test]
    fn a_service_account_signs_rs256_like_the_reference() {
        let account = ServiceAccount::parse(&account_json(TEST_KEY)).unwrap();
        assert_eq!(base64url(&sign_rs256(&account.key, SIGNED).unwrap()), SIGNATURE);
        let jwt = account.assertion(1_700_000_000).unwrap();
        let claims = jwt.split('.').nth(1).unwrap();
        let claims: Value =
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
        assert_eq!(claims["iss"], "trickle@demo.iam.gserviceaccount.com");
        assert_eq!(claims["aud"], "https://oauth2.googleapis.com/token");
        assert_eq!(claims["exp"], 1_700_003_600);
        assert!(!format!("{account:?}").contains("MII"), "Debug never shows the key");
    }

    #[test]
    fn a_service_account_key_is_checked_and_never_echoed() {
        for broken in [
            "not json".to_string(),
            json!({"type": "authorized_user"}).to_string(),
            account_json("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"),
            account_json("-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----"),
        ] {
            let err = ServiceAccount::parse(&broken).unwrap_err().to_string();
            assert!(!err.contains("AAAA") && !err.contains("!!!"), "{err}");
        }
    }
}

//! Identity providers as legacy stores, through their own public APIs: nobody writes or hosts an endpoint on the old
//! side. Each provider is a protocol over the HTTP client (`Exchange`): it asks whether a password is right, and on
//! success reads the profile with the token it was given (never stored, never logged). docs/providers/.
//!
//! - `oidc`: OAuth 2.0 resource-owner password grant + OpenID Connect userinfo (Auth0, Keycloak, Okta, Entra ID);
//! - `firebase`: Firebase Authentication (Identity Toolkit `accounts:signInWithPassword`, `accounts:lookup`);
//! - `cognito`: Amazon Cognito (`InitiateAuth` with `USER_PASSWORD_AUTH`, `GetUser`).
//!
//! The getUser flows (signup, reset, email change, `auth.migrate`) ask a provider only with the credential of its
//! admin look-up (`provider_admin_secret`): an admin client of Auth0's Management API or Keycloak's admin REST API
//! (client-credentials token), a Firebase service account (a signed JWT exchanged for a token). Without one, or for
//! Cognito, they rely on the local table (docs/providers/README.md). Admin tokens are kept per backend until
//! shortly before they expire, never stored or logged.

pub mod cognito;
pub mod firebase;
pub mod oidc;

use crate::legacy_store::http::client::{Reply, Request};
use crate::legacy_store::http::contract::{invalid, matching_email, parse_object};
use crate::legacy_store::http::HttpError;
use crate::legacy_store::record::{text_field, LegacyUser, Texts};
use crate::legacy_store::{LoginAnswer, StoreError};
use reqwest::Url;
use serde_json::{Map, Value};
use std::cell::{OnceCell, RefCell};
use std::time::{Duration, Instant};

/// The contract names of the providers, as `auth.configure_http_store(contract => …)` takes them.
pub const NAMES: [&str; 3] = ["oidc", "firebase", "cognito"];

/// A provider's settings (`auth.configure_http_store(provider => …)`): short texts, at most this long.
const SETTING_MAX_CHARS: usize = 2048;
/// A list setting (claims copied into metadata), at most this many entries.
const LIST_MAX_ENTRIES: usize = 64;
/// A token the provider hands back is sent again as a header: a longer one is not a token.
const TOKEN_MAX_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    Oidc(oidc::Oidc),
    Firebase(firebase::Firebase),
    Cognito(cognito::Cognito),
}

/// Sends one request and gives the answer back; `HttpStore` with the caller's interrupt check.
pub trait Exchange {
    fn send(&self, request: Request) -> Result<Reply, StoreError>;
    /// Whether plain http to a host other than loopback was allowed for this store (discovered endpoints obey it).
    fn allow_insecure(&self) -> bool;
}

/// What a provider's protocol learns once per client and keeps while the configuration is unchanged.
#[derive(Default)]
pub struct Session {
    /// The OpenID provider's token and userinfo endpoints, from its discovery document.
    pub oidc_endpoints: OnceCell<oidc::Endpoints>,
    /// The admin look-up's access token, and when to stop using it.
    admin_token: RefCell<Option<(String, Instant)>>,
}

/// An admin token is given up this long before the provider said it expires (clock skew, a slow call).
const TOKEN_EXPIRY_MARGIN: Duration = Duration::from_secs(60);

impl Session {
    /// The cached admin token, or a new one from `fetch` (the token and its lifetime in seconds).
    fn admin_token(&self, fetch: impl FnOnce() -> Result<(String, u64), StoreError>) -> Result<String, StoreError> {
        if let Some((token, until)) = self.admin_token.borrow().as_ref() {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let (token, lifetime) = fetch()?;
        let until = Instant::now() + Duration::from_secs(lifetime).saturating_sub(TOKEN_EXPIRY_MARGIN);
        *self.admin_token.borrow_mut() = Some((token.clone(), until));
        Ok(token)
    }

    /// After the provider refused the cached token (revoked, rotated keys): the next look-up fetches another.
    fn forget_admin_token(&self) {
        self.admin_token.borrow_mut().take();
    }

    /// Sends an admin request with the cached token (from `fetch` when there is none); the reply when it is 200. A
    /// refused token (401, 403: revoked, or the credential lacks the right) is forgotten, so the next look-up asks for
    /// another.
    fn send_as_admin(
        &self,
        exchange: &dyn Exchange,
        request: Request,
        fetch: impl FnOnce() -> Result<(String, u64), StoreError>,
    ) -> Result<Reply, StoreError> {
        let token = self.admin_token(fetch)?;
        let reply = exchange
            .send(request.header("authorization", format!("Bearer {token}")))
            .inspect_err(|_| self.forget_admin_token())?;
        match reply.status {
            200 => Ok(reply),
            401 | 403 => {
                self.forget_admin_token();
                Err(HttpError::RequestRefused.into())
            }
            _ => Err(unavailable(&reply)),
        }
    }
}

/// A token endpoint's answer (RFC 6749 §5.1, §5.2): the token and its lifetime; a refused credential is pg_trickle's
/// configuration (`invalid_client`; `invalid_grant` for a client-credentials or JWT grant), any other error code the
/// provider's refusal of the request.
fn token_answer(reply: &Reply) -> Result<(String, u64), StoreError> {
    let answer = answer_object(reply)?;
    match (reply.status, answer.get("error").and_then(Value::as_str)) {
        (200, _) => Ok((token(&answer, "access_token")?, lifetime(&answer))),
        (400 | 401 | 403, Some("invalid_client" | "invalid_grant")) => Err(HttpError::RequestRefused.into()),
        (400 | 401 | 403, Some(code)) => Err(HttpError::ProviderRefused(shown_code(code)).into()),
        _ => Err(unavailable(reply)),
    }
}

/// The record's text fields and the OpenID Connect standard claims that carry them (OIDC Core §5.1); Cognito's
/// standard attributes have the same names.
const STANDARD_CLAIMS: [(&str, &str); 6] = [
    ("username", "preferred_username"),
    ("name", "name"),
    ("given_name", "given_name"),
    ("family_name", "family_name"),
    ("nickname", "nickname"),
    ("picture", "picture"),
];

/// A token answer's lifetime (`expires_in`, seconds; one hour when absent, bounded to a day).
fn lifetime(answer: &Map<String, Value>) -> u64 {
    answer.get("expires_in").and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok())).unwrap_or(3600).min(86_400)
}

impl Provider {
    /// The provider `name` configured with `settings` (a JSON object), `secret` and the credential of its admin
    /// look-ups; None when `name` is no provider.
    pub fn parse(
        name: &str,
        settings: &Value,
        secret: Option<&str>,
        admin_secret: Option<&str>,
    ) -> Result<Option<Self>, StoreError> {
        let secret = secret.filter(|s| !s.is_empty()).map(str::to_string);
        let admin_secret = admin_secret.filter(|s| !s.is_empty());
        Ok(Some(match name {
            "oidc" => Provider::Oidc(oidc::Oidc::parse(settings, secret, admin_secret)?),
            "firebase" => Provider::Firebase(firebase::Firebase::parse(settings, secret, admin_secret)?),
            "cognito" if admin_secret.is_some() => {
                return bad("cognito has no admin look-up here: leave provider_admin_secret out")
            }
            "cognito" => Provider::Cognito(cognito::Cognito::parse(settings, secret)?),
            _ => return Ok(None),
        }))
    }

    /// The user with this email, through the provider's admin look-up; None without one (docs/providers/).
    pub fn look_up(
        &self,
        exchange: &dyn Exchange,
        session: &Session,
        base: &Url,
        email: &str,
    ) -> Result<Option<LegacyUser>, StoreError> {
        match self {
            Provider::Oidc(oidc) => oidc.look_up(exchange, session, base, email),
            Provider::Firebase(firebase) => firebase.look_up(exchange, session, base, email),
            Provider::Cognito(_) => Ok(None),
        }
    }

    /// Whether the provider accepts this password for this email, and the profile when it does.
    pub fn log_in(
        &self,
        exchange: &dyn Exchange,
        session: &Session,
        base: &Url,
        email: &str,
        password: &str,
    ) -> Result<LoginAnswer, StoreError> {
        match self {
            Provider::Oidc(oidc) => oidc.log_in(exchange, session, base, email, password),
            Provider::Firebase(firebase) => firebase.log_in(exchange, base, email, password),
            Provider::Cognito(cognito) => cognito.log_in(exchange, base, email, password),
        }
    }
}

fn bad<T>(message: impl Into<String>) -> Result<T, StoreError> {
    Err(StoreError::InvalidConfig(message.into()))
}

/// A provider's settings object: only the keys it knows (a misspelt key is an error, not a silent default).
fn settings_object<'a>(
    provider: &str,
    settings: &'a Value,
    known: &[&str],
) -> Result<&'a Map<String, Value>, StoreError> {
    let empty: &'static Map<String, Value> = {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        EMPTY.get_or_init(Map::new)
    };
    let obj = match settings {
        Value::Null => empty,
        Value::Object(obj) => obj,
        _ => return bad(format!("{provider} settings must be a JSON object")),
    };
    if let Some(key) = obj.keys().find(|key| !known.contains(&key.as_str())) {
        // Keys are the admin's, not a secret; bounded before they are shown.
        let shown: String = key.chars().take(64).collect();
        return bad(format!("unknown {provider} setting \"{shown}\" (known: {})", known.join(", ")));
    }
    Ok(obj)
}

/// A text setting: a non-empty string without control characters, bounded.
fn text_setting(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, StoreError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s))
            if !s.trim().is_empty() && s.chars().count() <= SETTING_MAX_CHARS && !s.chars().any(char::is_control) =>
        {
            Ok(Some(s.trim().to_string()))
        }
        Some(_) => {
            bad(format!("setting \"{key}\" must be a non-empty string of at most {SETTING_MAX_CHARS} characters"))
        }
    }
}

fn required_text_setting(obj: &Map<String, Value>, provider: &str, key: &str) -> Result<String, StoreError> {
    text_setting(obj, key)?.map_or_else(|| bad(format!("{provider} needs the setting \"{key}\"")), Ok)
}

/// A list of names (claims): strings, at most `LIST_MAX_ENTRIES`.
fn list_setting(obj: &Map<String, Value>, key: &str) -> Result<Vec<String>, StoreError> {
    let refused = || {
        StoreError::InvalidConfig(format!(
            "setting \"{key}\" must be an array of at most {LIST_MAX_ENTRIES} non-empty strings"
        ))
    };
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) if items.len() <= LIST_MAX_ENTRIES => items
            .iter()
            .map(|item| match item {
                Value::String(s) if !s.is_empty() && s.chars().count() <= 256 => Ok(s.clone()),
                _ => Err(refused()),
            })
            .collect(),
        Some(_) => Err(refused()),
    }
}

/// A provider's error code as shown in an error message: its own short code, never free text it chose (which
/// could carry anything), bounded.
fn shown_code(code: &str) -> String {
    let code: String = code.chars().take_while(|c| c.is_ascii_alphanumeric() || "_.:-".contains(*c)).take(64).collect();
    if code.is_empty() {
        "an unnamed error".into()
    } else {
        code
    }
}

/// The JSON object of an answer (any status), or an invalid answer.
fn answer_object(reply: &Reply) -> Result<Map<String, Value>, StoreError> {
    parse_object(reply.json_body()?)
}

/// A token the provider issued, to be sent back as a header: a non-empty bounded printable string.
fn token(obj: &Map<String, Value>, key: &str) -> Result<String, StoreError> {
    match obj.get(key) {
        Some(Value::String(t))
            if !t.is_empty() && t.len() <= TOKEN_MAX_BYTES && t.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Ok(t.clone())
        }
        _ => Err(invalid(format!("the answer has no usable \"{key}\""))),
    }
}

/// The record of a provider's user: its id, the email (which must be the one asked about), and the rest empty for
/// the provider to fill. Its metadata is what the provider said (nothing to repair later).
fn user(
    id: Option<&Value>,
    id_key: &str,
    email: &Map<String, Value>,
    email_key: &str,
    requested: &str,
) -> Result<LegacyUser, StoreError> {
    let external_id = match id {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => return Err(invalid(format!("field \"{id_key}\" is required (a non-empty string)"))),
    };
    Ok(LegacyUser {
        external_id,
        email: matching_email(email, email_key, requested)?,
        email_verified: false,
        texts: Texts::default(),
        user_metadata: Map::new(),
        app_metadata: Map::new(),
        metadata_known: true,
        enabled: true,
        chosen_among_duplicates: false,
    })
}

/// Sets a record text field from a JSON string value (an empty or absent one stays unset).
fn set_text(user: &mut LegacyUser, field: &str, value: Option<&Value>) -> Result<(), StoreError> {
    let slot = text_field(field).expect("providers name fields of TEXT_FIELDS");
    user.texts[slot] = match value {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(invalid(format!("the provider's {field} is not a string"))),
    };
    Ok(())
}

/// A boolean the provider may send as a JSON boolean or as the text "true" / "false" (AWS attributes, some OIDC
/// providers' `email_verified`).
fn flag(value: Option<&Value>, key: &str) -> Result<bool, StoreError> {
    match value {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
        Some(_) => Err(invalid(format!("field \"{key}\" must be a boolean"))),
    }
}

/// An answer the protocol did not expect for its status: the provider is unavailable (5xx, 429, anything else).
fn unavailable(reply: &Reply) -> StoreError {
    HttpError::Unavailable(reply.status).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_refuse_unknown_keys_and_bound_texts() {
        let known = ["client_id"];
        assert!(settings_object("oidc", &json!({"client_id": "x"}), &known).is_ok());
        assert!(settings_object("oidc", &Value::Null, &known).unwrap().is_empty());
        let err = settings_object("oidc", &json!({"clientid": "x"}), &known).unwrap_err().to_string();
        assert!(err.contains("unknown oidc setting \"clientid\""), "{err}");
        assert!(settings_object("oidc", &json!(["client_id"]), &known).is_err());
        let long = "x".repeat(SETTING_MAX_CHARS + 1);
        assert!(text_setting(json!({"k": long}).as_object().unwrap(), "k").is_err());
        assert!(text_setting(json!({"k": "a\nb"}).as_object().unwrap(), "k").is_err());
        assert!(text_setting(json!({"k": 5}).as_object().unwrap(), "k").is_err());
        assert_eq!(text_setting(json!({"k": " v "}).as_object().unwrap(), "k").unwrap().as_deref(), Some("v"));
        let many: Vec<_> = (0..=LIST_MAX_ENTRIES).map(|i| format!("c{i}")).collect();
        assert!(list_setting(json!({"k": many}).as_object().unwrap(), "k").is_err());
    }

    #[test]
    fn provider_codes_are_shown_without_free_text() {
        assert_eq!(shown_code("unauthorized_client"), "unauthorized_client");
        assert_eq!(
            shown_code("TOO_MANY_ATTEMPTS_TRY_LATER : Access disabled for a@b.c"),
            "TOO_MANY_ATTEMPTS_TRY_LATER"
        );
        assert_eq!(shown_code("<html>"), "an unnamed error");
        assert_eq!(shown_code(&"A".repeat(500)).len(), 64);
    }

    #[test]
    fn tokens_are_bounded_printable_strings() {
        let obj = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(token(&obj(json!({"t": "abc.def"})), "t").unwrap(), "abc.def");
        assert!(token(&obj(json!({"t": "a\r\nX-Injected: 1"})), "t").is_err());
        assert!(token(&obj(json!({"t": ""})), "t").is_err());
        assert!(token(&obj(json!({"t": "x".repeat(TOKEN_MAX_BYTES + 1)})), "t").is_err());
        assert!(token(&obj(json!({})), "t").is_err());
    }

    #[test]
    fn flags_accept_booleans_and_their_text() {
        assert!(flag(Some(&json!(true)), "k").unwrap());
        assert!(flag(Some(&json!("true")), "k").unwrap());
        assert!(!flag(Some(&json!("False")), "k").unwrap());
        assert!(!flag(None, "k").unwrap());
        assert!(flag(Some(&json!("yes")), "k").is_err());
    }
}

//! Amazon Cognito user pools through their public API: `InitiateAuth` with `USER_PASSWORD_AUTH` checks the password
//! (with `SECRET_HASH` when the app client has a secret), `GetUser` with the access token it returns gives the
//! attributes. The base URL is the pool's regional endpoint, `https://cognito-idp.REGION.amazonaws.com`; neither
//! call is signed with AWS credentials (both are public operations of the app client).

use super::{
    answer_object, flag, required_text_setting, set_text, settings_object, shown_code, token, unavailable, user,
    Exchange, STANDARD_CLAIMS,
};
use crate::legacy_store::http::client::Request;
use crate::legacy_store::http::contract::invalid;
use crate::legacy_store::http::HttpError;
use crate::legacy_store::{LegacyUser, LoginAnswer, Rejection, StoreError};
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::Url;
use serde_json::{json, Map, Value};
use sha2::Sha256;

const KNOWN: &[&str] = &["client_id"];
const AMZ_JSON: &str = "application/x-amz-json-1.1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cognito {
    client_id: String,
    client_secret: Option<String>,
}

/// Cognito's `SECRET_HASH`: Base64(HMAC-SHA256(key = client secret, message = username + client id)).
pub fn secret_hash(client_secret: &str, username: &str, client_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(client_secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(username.as_bytes());
    mac.update(client_id.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

impl Cognito {
    pub fn parse(settings: &Value, client_secret: Option<String>) -> Result<Self, StoreError> {
        let obj = settings_object("cognito", settings, KNOWN)?;
        Ok(Cognito { client_id: required_text_setting(obj, "cognito", "client_id")?, client_secret })
    }

    fn call(base: &Url, operation: &str, body: Value) -> Request {
        Request::post(base.clone(), AMZ_JSON, body.to_string())
            .header("x-amz-target", format!("AWSCognitoIdentityProviderService.{operation}"))
    }

    pub fn log_in(
        &self,
        exchange: &dyn Exchange,
        base: &Url,
        email: &str,
        password: &str,
    ) -> Result<LoginAnswer, StoreError> {
        let mut parameters = json!({"USERNAME": email, "PASSWORD": password});
        if let Some(secret) = &self.client_secret {
            parameters["SECRET_HASH"] = json!(secret_hash(secret, email, &self.client_id));
        }
        let initiate =
            json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": self.client_id, "AuthParameters": parameters});
        let reply = exchange.send(Self::call(base, "InitiateAuth", initiate))?;
        if reply.status >= 500 || reply.status == 429 {
            return Err(unavailable(&reply));
        }
        let answer = answer_object(&reply)?;
        if reply.status != 200 {
            return refusal(&answer).map(LoginAnswer::Rejected);
        }
        // MFA, a new password to set, …: the password was right, but the pool wants another step of the user.
        if answer.get("ChallengeName").is_some_and(|c| !c.is_null()) {
            return Ok(LoginAnswer::Rejected(Rejection::ProviderStepRequired));
        }
        let result = match answer.get("AuthenticationResult") {
            Some(Value::Object(result)) => result,
            _ => return Err(invalid("InitiateAuth gave neither a challenge nor an AuthenticationResult")),
        };
        let access_token = token(result, "AccessToken")?;
        let reply = exchange.send(Self::call(base, "GetUser", json!({"AccessToken": access_token})))?;
        if reply.status != 200 {
            return Err(unavailable(&reply));
        }
        Ok(LoginAnswer::Accepted(Box::new(profile(&answer_object(&reply)?, email)?)))
    }
}

/// An error answer of `InitiateAuth` (`{"__type": "…Exception", "message": …}`, the type perhaps prefixed with its
/// namespace and `#`).
fn refusal(answer: &Map<String, Value>) -> Result<Rejection, StoreError> {
    let kind = answer.get("__type").and_then(Value::as_str).unwrap_or_default();
    let kind = kind.rsplit('#').next().unwrap_or_default();
    let message = answer.get("message").or_else(|| answer.get("Message")).and_then(Value::as_str).unwrap_or_default();
    match kind {
        // The same type says "wrong password", "user is disabled" and "wrong secret hash" (the app client secret).
        "NotAuthorizedException" if message.contains("SECRET_HASH") || message.contains("secret hash") => {
            Err(HttpError::RequestRefused.into())
        }
        "NotAuthorizedException" if message.eq_ignore_ascii_case("User is disabled.") => Ok(Rejection::Disabled),
        "NotAuthorizedException" | "UserNotFoundException" => Ok(Rejection::WrongCredentials),
        "UserNotConfirmedException" | "PasswordResetRequiredException" => Ok(Rejection::ProviderStepRequired),
        "" => Err(invalid("the error answer has no __type")),
        // InvalidParameterException (the flow is not enabled for the client), ResourceNotFoundException (no such
        // client), TooManyRequestsException, …
        other => Err(HttpError::ProviderRefused(shown_code(other)).into()),
    }
}

/// `GetUser`'s attributes as the record: `sub` the legacy id, standard attributes the profile, `custom:*` the
/// user_metadata (a pool's custom attributes are writable by its users unless the app client says otherwise).
fn profile(answer: &Map<String, Value>, email: &str) -> Result<LegacyUser, StoreError> {
    let mut attributes = Map::new();
    match answer.get("UserAttributes") {
        Some(Value::Array(list)) => {
            for attribute in list {
                match (attribute.get("Name"), attribute.get("Value")) {
                    (Some(Value::String(name)), Some(value @ Value::String(_))) => {
                        attributes.insert(name.clone(), value.clone());
                    }
                    _ => return Err(invalid("a user attribute is not a Name and a Value")),
                }
            }
        }
        _ => return Err(invalid("GetUser gave no UserAttributes")),
    }
    let mut user = user(attributes.get("sub"), "sub", &attributes, "email", email)?;
    user.email_verified = flag(attributes.get("email_verified"), "email_verified")?;
    for (field, attribute) in STANDARD_CLAIMS {
        set_text(&mut user, field, attributes.get(attribute))?;
    }
    user.user_metadata = attributes
        .iter()
        .filter_map(|(name, value)| name.strip_prefix("custom:").map(|bare| (bare.to_string(), value.clone())))
        .collect();
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_hash_is_hmac_sha256_of_username_and_client_id() {
        // Independent check: python3 -c "import hmac,hashlib,base64;print(base64.b64encode(hmac.new(b'secret',
        //   b'ada@legacy.test' + b'client', hashlib.sha256).digest()).decode())"
        assert_eq!(secret_hash("secret", "ada@legacy.test", "client"), "1m9GNIoVaLTGsnC82dBQ4jzJ0hsG1CFiSG2/3saF8A8=");
    }

    #[test]
    fn refusals_by_exception_type() {
        let refused =
            |kind: &str, message: &str| refusal(json!({"__type": kind, "message": message}).as_object().unwrap());
        assert_eq!(
            refused("NotAuthorizedException", "Incorrect username or password."),
            Ok(Rejection::WrongCredentials)
        );
        assert_eq!(refused("UserNotFoundException", "User does not exist."), Ok(Rejection::WrongCredentials));
        assert_eq!(refused("NotAuthorizedException", "User is disabled."), Ok(Rejection::Disabled));
        assert_eq!(refused("UserNotConfirmedException", ""), Ok(Rejection::ProviderStepRequired));
        assert_eq!(
            refused("NotAuthorizedException", "Unable to verify secret hash for client abc"),
            Err(HttpError::RequestRefused.into())
        );
        assert_eq!(
            refused("com.amazonaws.cognito#InvalidParameterException", "USER_PASSWORD_AUTH flow not enabled"),
            Err(HttpError::ProviderRefused("InvalidParameterException".into()).into())
        );
        assert!(matches!(refused("", ""), Err(StoreError::InvalidAnswer(_))));
    }

    #[test]
    fn attributes_map_to_the_record() {
        let answer = json!({"Username": "ada", "UserAttributes": [
            {"Name": "sub", "Value": "c0c7"}, {"Name": "email", "Value": "Ada@Legacy.test"},
            {"Name": "email_verified", "Value": "true"}, {"Name": "given_name", "Value": "Ada"},
            {"Name": "custom:plan", "Value": "pro"}, {"Name": "phone_number", "Value": "+100"}]});
        let user = profile(answer.as_object().unwrap(), "ada@legacy.test").unwrap();
        assert_eq!(user.external_id, "c0c7");
        assert!(user.email_verified);
        assert_eq!(user.text("given_name"), Some("Ada"));
        assert_eq!(Value::Object(user.user_metadata), json!({"plan": "pro"}));
        let broken = json!({"UserAttributes": [{"Name": "sub"}]});
        assert!(profile(broken.as_object().unwrap(), "ada@legacy.test").is_err());
    }
}

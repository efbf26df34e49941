//! OAuth 2.0 resource-owner password grant (RFC 6749 §4.3) and OpenID Connect userinfo (OIDC Core §5.3): the one
//! protocol of Auth0, Keycloak (direct access grants), Okta and Microsoft Entra ID where the password grant is
//! enabled. The base URL is the issuer; its endpoints come from the settings or from its discovery document
//! (`/.well-known/openid-configuration`, OIDC Discovery §4), which must name the same issuer.
//!
//! The admin look-up (getUser) is the provider's own user API with a client-credentials token (RFC 6749 §4.4) of an
//! admin client: Auth0's Management API (`GET /api/v2/users-by-email`) or Keycloak's admin REST API
//! (`GET /admin/realms/REALM/users?email=…&exact=true`). Their user shapes are those of the `pg_trickle` and
//! `keycloak` REST contracts, whose field tables read them.

use super::{
    answer_object, bad, flag, list_setting, required_text_setting, set_text, settings_object, shown_code, text_setting,
    token, token_answer, unavailable, user, Exchange, Session, STANDARD_CLAIMS,
};
use crate::legacy_store::http::client::Request;
use crate::legacy_store::http::config::endpoint_url;
use crate::legacy_store::http::contract::{invalid, parse_user, preset};
use crate::legacy_store::http::HttpError;
use crate::legacy_store::{LegacyUser, LoginAnswer, Rejection, StoreError};
use base64::Engine;
use reqwest::Url;
use serde_json::{Map, Value};

const KNOWN: &[&str] = &[
    "client_id",
    "grant_type",
    "client_auth",
    "scope",
    "token_endpoint",
    "userinfo_endpoint",
    "token_parameters",
    "user_metadata_claims",
    "app_metadata_claims",
    "admin_lookup",
    "admin_client_id",
];
/// Form fields pg_trickle sets itself; `token_parameters` cannot replace them.
const OWN_PARAMETERS: &[&str] = &["grant_type", "username", "password", "client_id", "client_secret", "scope"];
const TOKEN_PARAMETERS_MAX: usize = 16;
const FORM: &str = "application/x-www-form-urlencoded";
/// RFC 6749's password grant, and Auth0's variant that names the user's connection (`realm`).
const GRANT_TYPES: [&str; 2] = ["password", "http://auth0.com/oauth/grant-type/password-realm"];
/// Microsoft Entra ID's error codes for "the password is right, but multi-factor authentication or another
/// interactive step is required" (AADSTS50076, 50079, 50074, 50158).
const ENTRA_STEP_REQUIRED: [u64; 4] = [50076, 50079, 50074, 50158];

/// How the client authenticates at the token endpoint (RFC 6749 §2.3.1) when it has a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_secret_basic`: HTTP Basic with the form-encoded id and secret (what every server must accept).
    Basic,
    /// `client_secret_post`: both in the form (Auth0's default for its applications).
    Post,
}

/// Whose user API the admin look-up calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminApi {
    /// Auth0's Management API v2; the token's audience is `ISSUER/api/v2/`.
    Auth0,
    /// Keycloak's admin REST API; the admin client's service account needs the `view-users` role of
    /// `realm-management`.
    Keycloak,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct AdminClient {
    api: AdminApi,
    client_id: String,
    client_secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub token: Url,
    pub userinfo: Url,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Oidc {
    client_id: String,
    grant_type: &'static str,
    client_secret: Option<String>,
    client_auth: ClientAuth,
    scope: String,
    /// Given in the settings; otherwise discovered from the issuer.
    endpoints: Option<(String, String)>,
    /// Provider extras for the token request (Auth0's `audience`, `realm`).
    token_parameters: Vec<(String, String)>,
    user_metadata_claims: Vec<String>,
    app_metadata_claims: Vec<String>,
    admin: Option<AdminClient>,
}

impl Oidc {
    pub fn parse(
        settings: &Value,
        client_secret: Option<String>,
        admin_secret: Option<&str>,
    ) -> Result<Self, StoreError> {
        let obj = settings_object("oidc", settings, KNOWN)?;
        let client_auth = match text_setting(obj, "client_auth")?.as_deref() {
            None | Some("client_secret_basic") => ClientAuth::Basic,
            Some("client_secret_post") => ClientAuth::Post,
            Some(_) => return bad("client_auth must be client_secret_basic or client_secret_post"),
        };
        let endpoints = match (text_setting(obj, "token_endpoint")?, text_setting(obj, "userinfo_endpoint")?) {
            (Some(token), Some(userinfo)) => Some((token, userinfo)),
            (None, None) => None,
            _ => return bad("give both token_endpoint and userinfo_endpoint, or neither (discovery)"),
        };
        let token_parameters = match obj.get("token_parameters") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(extra)) if extra.len() <= TOKEN_PARAMETERS_MAX => {
                let mut pairs = Vec::new();
                for (key, _) in extra {
                    if OWN_PARAMETERS.contains(&key.as_str()) || key.is_empty() || key.len() > 64 {
                        return bad("token_parameters cannot set grant_type, username, password, client_id, \
                                    client_secret or scope");
                    }
                    let value = text_setting(extra, key)?.ok_or_else(|| {
                        StoreError::InvalidConfig("token_parameters values must be non-empty strings".into())
                    })?;
                    pairs.push((key.clone(), value));
                }
                pairs
            }
            Some(_) => {
                return bad(format!("token_parameters must be an object of at most {TOKEN_PARAMETERS_MAX} strings"))
            }
        };
        let grant_type = match text_setting(obj, "grant_type")? {
            None => GRANT_TYPES[0],
            Some(given) => match GRANT_TYPES.iter().find(|known| **known == given) {
                Some(known) => known,
                None => return bad(format!("grant_type must be one of {}", GRANT_TYPES.join(", "))),
            },
        };
        let client_id = required_text_setting(obj, "oidc", "client_id")?;
        let api = match text_setting(obj, "admin_lookup")?.as_deref() {
            None => None,
            Some("auth0") => Some(AdminApi::Auth0),
            Some("keycloak") => Some(AdminApi::Keycloak),
            Some(_) => return bad("admin_lookup must be auth0 or keycloak"),
        };
        let admin = match (api, admin_secret) {
            (Some(api), Some(secret)) => Some(AdminClient {
                api,
                client_id: text_setting(obj, "admin_client_id")?.unwrap_or_else(|| client_id.clone()),
                client_secret: secret.to_string(),
            }),
            (None, None) if obj.contains_key("admin_client_id") => return bad("admin_client_id needs admin_lookup"),
            (None, None) => None,
            (Some(_), None) => return bad("admin_lookup needs the admin client's secret as provider_admin_secret"),
            (None, Some(_)) => return bad("provider_admin_secret needs admin_lookup (auth0 or keycloak)"),
        };
        Ok(Oidc {
            client_id,
            grant_type,
            client_secret,
            client_auth,
            scope: text_setting(obj, "scope")?.unwrap_or_else(|| "openid profile email".into()),
            endpoints,
            token_parameters,
            user_metadata_claims: list_setting(obj, "user_metadata_claims")?,
            app_metadata_claims: list_setting(obj, "app_metadata_claims")?,
            admin,
        })
    }

    /// The user with this email through the admin API; None without an admin client, or when nobody has it.
    pub fn look_up(
        &self,
        exchange: &dyn Exchange,
        session: &Session,
        issuer: &Url,
        email: &str,
    ) -> Result<Option<LegacyUser>, StoreError> {
        let Some(admin) = &self.admin else { return Ok(None) };
        let endpoints = self.cached_endpoints(exchange, session, issuer)?;
        let url = admin_users_url(admin.api, issuer, email)?;
        let fetch = || self.client_credentials(exchange, &endpoints.token, admin, issuer);
        let reply = session.send_as_admin(exchange, Request::get(url), fetch)?;
        let users = match serde_json::from_slice::<Value>(reply.json_body()?) {
            Ok(Value::Array(users)) => users,
            _ => return Err(invalid("the admin look-up did not answer a JSON array")),
        };
        let shape = preset(match admin.api {
            AdminApi::Auth0 => "pg_trickle",
            AdminApi::Keycloak => "keycloak",
        })
        .expect("a REST preset");
        // Auth0 answers one user per connection holding the email: the database connections' users are the ones
        // with a password.
        let with_password: Vec<&Value> = match admin.api {
            AdminApi::Auth0 if users.len() > 1 => users
                .iter()
                .filter(|user| {
                    user["identities"].as_array().is_some_and(|ids| ids.iter().any(|id| id["provider"] == "auth0"))
                })
                .collect(),
            _ => users.iter().collect(),
        };
        match with_password.as_slice() {
            [] => Ok(None),
            [user] => Ok(Some(parse_user(shape, user.to_string().as_bytes(), email)?)),
            _ => Err(invalid("the admin look-up found several users with this email")),
        }
    }

    fn cached_endpoints<'a>(
        &self,
        exchange: &dyn Exchange,
        session: &'a Session,
        issuer: &Url,
    ) -> Result<&'a Endpoints, StoreError> {
        match session.oidc_endpoints.get() {
            Some(endpoints) => Ok(endpoints),
            None => {
                let found = self.endpoints(exchange, issuer)?;
                Ok(session.oidc_endpoints.get_or_init(|| found))
            }
        }
    }

    /// An admin access token (RFC 6749 §4.4) and its lifetime in seconds.
    fn client_credentials(
        &self,
        exchange: &dyn Exchange,
        token_endpoint: &Url,
        admin: &AdminClient,
        issuer: &Url,
    ) -> Result<(String, u64), StoreError> {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials");
        if admin.api == AdminApi::Auth0 {
            form.append_pair("audience", &format!("{}/api/v2/", issuer.as_str().trim_end_matches('/')));
        }
        let basic = self.authenticate(&mut form, &admin.client_id, Some(&admin.client_secret));
        let mut request = Request::post(token_endpoint.clone(), FORM, form.finish());
        if let Some(header) = basic {
            request = request.header("authorization", header);
        }
        token_answer(&exchange.send(request)?)
    }

    /// Client authentication at the token endpoint (RFC 6749 §2.3.1): the Basic header to send, or nothing when the
    /// form carries the client (a public client, or `client_secret_post`).
    fn authenticate(
        &self,
        form: &mut url::form_urlencoded::Serializer<String>,
        client_id: &str,
        secret: Option<&str>,
    ) -> Option<String> {
        match (secret, self.client_auth) {
            (Some(secret), ClientAuth::Basic) => {
                let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                let pair = format!("{}:{}", encode(client_id), encode(secret));
                Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair)))
            }
            (Some(secret), ClientAuth::Post) => {
                form.append_pair("client_id", client_id).append_pair("client_secret", secret);
                None
            }
            (None, _) => {
                form.append_pair("client_id", client_id);
                None
            }
        }
    }

    pub fn log_in(
        &self,
        exchange: &dyn Exchange,
        session: &Session,
        issuer: &Url,
        email: &str,
        password: &str,
    ) -> Result<LoginAnswer, StoreError> {
        let endpoints = self.cached_endpoints(exchange, session, issuer)?;
        let access_token = match self.password_grant(exchange, &endpoints.token, email, password)? {
            Ok(token) => token,
            Err(rejection) => return Ok(LoginAnswer::Rejected(rejection)),
        };
        let request =
            Request::get(endpoints.userinfo.clone()).header("authorization", format!("Bearer {access_token}"));
        let reply = exchange.send(request)?;
        match reply.status {
            200 => Ok(LoginAnswer::Accepted(Box::new(self.profile(&answer_object(&reply)?, email)?))),
            // The provider refused the token it just issued: its configuration (the scope, the audience), not the
            // user's password.
            401 | 403 => Err(HttpError::RequestRefused.into()),
            _ => Err(unavailable(&reply)),
        }
    }

    /// The endpoints from the settings, or from the issuer's discovery document.
    fn endpoints(&self, exchange: &dyn Exchange, issuer: &Url) -> Result<Endpoints, StoreError> {
        let insecure = exchange.allow_insecure();
        if let Some((token, userinfo)) = &self.endpoints {
            return Ok(Endpoints {
                token: endpoint_url("token_endpoint", token, insecure)?,
                userinfo: endpoint_url("userinfo_endpoint", userinfo, insecure)?,
            });
        }
        let mut url = issuer.clone();
        url.path_segments_mut()
            .expect("http(s) URLs have a path")
            .pop_if_empty()
            .extend([".well-known", "openid-configuration"]);
        let reply = exchange.send(Request::get(url))?;
        if reply.status != 200 {
            return Err(unavailable(&reply));
        }
        let document = answer_object(&reply)?;
        let named = |key: &str| match document.get(key) {
            Some(Value::String(s)) => Ok(s.as_str()),
            _ => Err(invalid(format!("the discovery document has no \"{key}\""))),
        };
        // OIDC Discovery §4.3: the document must be the configured issuer's own.
        if named("issuer")?.trim_end_matches('/') != issuer.as_str().trim_end_matches('/') {
            return Err(invalid("the discovery document names another issuer"));
        }
        let endpoint = |key: &str| {
            endpoint_url(key, named(key)?, insecure)
                .map_err(|_| invalid(format!("the discovery document's {key} is not an address pg_trickle may use")))
        };
        Ok(Endpoints { token: endpoint("token_endpoint")?, userinfo: endpoint("userinfo_endpoint")? })
    }

    /// The access token for these credentials, or why the server refused them.
    fn password_grant(
        &self,
        exchange: &dyn Exchange,
        token_endpoint: &Url,
        email: &str,
        password: &str,
    ) -> Result<Result<String, Rejection>, StoreError> {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", self.grant_type)
            .append_pair("username", email)
            .append_pair("password", password);
        form.append_pair("scope", &self.scope);
        let basic = self.authenticate(&mut form, &self.client_id, self.client_secret.as_deref());
        for (key, value) in &self.token_parameters {
            form.append_pair(key, value);
        }
        let mut request = Request::post(token_endpoint.clone(), FORM, form.finish());
        if let Some(header) = basic {
            request = request.header("authorization", header);
        }
        let reply = exchange.send(request)?;
        if reply.status == 200 {
            return Ok(Ok(token(&answer_object(&reply)?, "access_token")?));
        }
        if !matches!(reply.status, 400 | 401 | 403) {
            return Err(unavailable(&reply));
        }
        // RFC 6749 §5.2: an error object; its code says whose fault it is (a challenge without one: the client's).
        if reply.challenged && answer_object(&reply).is_err() {
            return Err(HttpError::RequestRefused.into());
        }
        let answer = answer_object(&reply)?;
        let error = answer.get("error").and_then(Value::as_str);
        match error {
            Some("invalid_grant") if step_required(&answer) => Ok(Err(Rejection::ProviderStepRequired)),
            // Keycloak's words for a disabled account.
            Some("invalid_grant") if description(&answer) == "Account disabled" => Ok(Err(Rejection::Disabled)),
            // Whatever its status and headers (Keycloak answers 401): the user's credentials.
            Some("invalid_grant") => Ok(Err(Rejection::WrongCredentials)),
            // Auth0: the password is right but the user must pass MFA, or answer another step, on the provider.
            Some("mfa_required" | "interaction_required" | "login_required" | "consent_required") => {
                Ok(Err(Rejection::ProviderStepRequired))
            }
            // Auth0's answer for a blocked user.
            Some("unauthorized") => Ok(Err(Rejection::Disabled)),
            Some("invalid_client") => Err(HttpError::RequestRefused.into()),
            Some(other) => Err(HttpError::ProviderRefused(shown_code(other)).into()),
            None => Err(invalid("the token endpoint's error answer has no \"error\"")),
        }
    }

    /// The userinfo claims as the record: `sub` the legacy id, the standard claims its profile, the configured
    /// claims its metadata.
    fn profile(&self, claims: &Map<String, Value>, email: &str) -> Result<LegacyUser, StoreError> {
        let mut user = user(claims.get("sub"), "sub", claims, "email", email)?;
        user.email_verified = flag(claims.get("email_verified"), "email_verified")?;
        for (field, claim) in STANDARD_CLAIMS {
            set_text(&mut user, field, claims.get(claim))?;
        }
        let copied = |names: &[String]| -> Map<String, Value> {
            names.iter().filter_map(|name| claims.get(name).map(|value| (name.clone(), value.clone()))).collect()
        };
        user.user_metadata = copied(&self.user_metadata_claims);
        user.app_metadata = copied(&self.app_metadata_claims);
        Ok(user)
    }
}

/// Where the admin API lists the users with an email.
fn admin_users_url(api: AdminApi, issuer: &Url, email: &str) -> Result<Url, StoreError> {
    let mut url = issuer.clone();
    match api {
        AdminApi::Auth0 => {
            url.path_segments_mut().expect("http(s) URLs have a path").pop_if_empty().extend([
                "api",
                "v2",
                "users-by-email",
            ]);
            url.query_pairs_mut().append_pair("email", email);
        }
        AdminApi::Keycloak => {
            // ISSUER = …/realms/REALM; the admin API is …/admin/realms/REALM.
            let segments: Vec<String> = issuer.path_segments().into_iter().flatten().map(str::to_string).collect();
            let realm_at = segments.iter().rposition(|s| s == "realms").filter(|at| at + 2 == segments.len());
            let Some(at) = realm_at else {
                return Err(StoreError::InvalidConfig("a Keycloak issuer ends in /realms/REALM".into()));
            };
            let mut path = url.path_segments_mut().expect("http(s) URLs have a path");
            path.clear().extend(&segments[..at]).extend(["admin", "realms", &segments[at + 1], "users"]);
            drop(path);
            url.query_pairs_mut().append_pair("email", email).append_pair("exact", "true");
        }
    }
    Ok(url)
}

fn description(answer: &Map<String, Value>) -> &str {
    answer.get("error_description").and_then(Value::as_str).unwrap_or_default()
}

/// An `invalid_grant` that says the password was right but the user must do something on the provider first:
/// Keycloak's required actions ("Account is not fully set up"), Entra ID's multi-factor codes.
fn step_required(answer: &Map<String, Value>) -> bool {
    let entra_codes =
        answer.get("error_codes").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_u64);
    description(answer) == "Account is not fully set up"
        || entra_codes.into_iter().any(|c| ENTRA_STEP_REQUIRED.contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::legacy_store::http::client::Reply;
    use serde_json::json;
    use std::cell::RefCell;

    /// Answers recorded in the shapes RFC 6749 §5 and OIDC Core §5.3 give; the real server is in the end-to-end
    /// tier (django-oauth-toolkit).
    struct Recorded {
        replies: RefCell<Vec<(u16, Value)>>,
        sent: RefCell<Vec<Request>>,
    }

    impl Recorded {
        fn new(replies: Vec<(u16, Value)>) -> Self {
            Recorded { replies: RefCell::new(replies), sent: RefCell::new(Vec::new()) }
        }
    }

    impl Exchange for Recorded {
        fn send(&self, request: Request) -> Result<Reply, StoreError> {
            self.sent.borrow_mut().push(request);
            let (status, body) = self.replies.borrow_mut().remove(0);
            Ok(Reply {
                status,
                content_type: Some("application/json".into()),
                // As Keycloak and django-oauth-toolkit answer: a 401 comes with a challenge.
                challenged: status == 401,
                body: body.to_string().into_bytes(),
            })
        }

        fn allow_insecure(&self) -> bool {
            false
        }
    }

    fn oidc(settings: Value, secret: Option<&str>) -> Oidc {
        Oidc::parse(&settings, secret.map(str::to_string), None).unwrap()
    }

    fn issuer() -> Url {
        Url::parse("https://id.example.org/realms/acme").unwrap()
    }

    fn log_in(provider: &Oidc, replies: Vec<(u16, Value)>) -> (Result<LoginAnswer, StoreError>, Vec<Request>) {
        let exchange = Recorded::new(replies);
        let answer = provider.log_in(&exchange, &Session::default(), &issuer(), "ada@legacy.test", "pw&=?");
        (answer, exchange.sent.into_inner())
    }

    fn discovery() -> (u16, Value) {
        (
            200,
            json!({"issuer": "https://id.example.org/realms/acme",
                   "token_endpoint": "https://id.example.org/realms/acme/token",
                   "userinfo_endpoint": "https://id.example.org/realms/acme/userinfo"}),
        )
    }

    #[test]
    fn a_password_grant_then_userinfo_gives_the_profile() {
        let provider = oidc(
            json!({"client_id": "trickle", "token_parameters": {"audience": "api"},
                   "user_metadata_claims": ["locale"], "app_metadata_claims": ["roles"]}),
            Some("s3cret:&"),
        );
        let (answer, sent) = log_in(
            &provider,
            vec![
                discovery(),
                (200, json!({"access_token": "at-1", "token_type": "Bearer"})),
                (
                    200,
                    json!({"sub": "kc-7", "email": "Ada@Legacy.test", "email_verified": "true", "name": "Ada L",
                             "preferred_username": "ada", "locale": "en", "roles": ["admin"], "extra": 1}),
                ),
            ],
        );
        let LoginAnswer::Accepted(user) = answer.unwrap() else { panic!("accepted") };
        assert_eq!((user.external_id.as_str(), user.email.as_str()), ("kc-7", "ada@legacy.test"));
        assert!(user.email_verified && user.enabled && user.metadata_known);
        assert_eq!((user.text("username"), user.text("name")), (Some("ada"), Some("Ada L")));
        assert_eq!(Value::Object(user.user_metadata.clone()), json!({"locale": "en"}));
        assert_eq!(Value::Object(user.app_metadata.clone()), json!({"roles": ["admin"]}));
        assert_eq!(sent[0].url.as_str(), "https://id.example.org/realms/acme/.well-known/openid-configuration");
        let (content_type, form) = sent[1].body.clone().unwrap();
        assert_eq!(content_type, FORM);
        assert_eq!(
            form,
            "grant_type=password&username=ada%40legacy.test&password=pw%26%3D%3F&scope=openid+profile+email&audience=api"
        );
        // client_secret_basic: id and secret form-encoded, then base64 (RFC 6749 §2.3.1).
        let basic = base64::engine::general_purpose::STANDARD.encode("trickle:s3cret%3A%26");
        assert_eq!(sent[1].headers, vec![("authorization", format!("Basic {basic}"))]);
        assert_eq!(sent[2].headers, vec![("authorization", "Bearer at-1".to_string())]);
    }

    #[test]
    fn refusals_are_told_apart_by_the_error_code() {
        let provider =
            oidc(json!({"client_id": "c", "token_endpoint": "https://x/t", "userinfo_endpoint": "https://x/u"}), None);
        let grant = |status, error: &str| log_in(&provider, vec![(status, json!({"error": error}))]).0;
        assert_eq!(grant(400, "invalid_grant"), Ok(LoginAnswer::Rejected(Rejection::WrongCredentials)));
        assert_eq!(grant(403, "invalid_grant"), Ok(LoginAnswer::Rejected(Rejection::WrongCredentials)), "Auth0");
        assert_eq!(grant(403, "mfa_required"), Ok(LoginAnswer::Rejected(Rejection::ProviderStepRequired)));
        assert_eq!(grant(401, "unauthorized"), Ok(LoginAnswer::Rejected(Rejection::Disabled)));
        let described = |answer: Value| log_in(&provider, vec![(400, answer)]).0;
        let keycloak = |d: &str| described(json!({"error": "invalid_grant", "error_description": d}));
        assert_eq!(keycloak("Account is not fully set up"), Ok(LoginAnswer::Rejected(Rejection::ProviderStepRequired)));
        assert_eq!(keycloak("Account disabled"), Ok(LoginAnswer::Rejected(Rejection::Disabled)));
        assert_eq!(keycloak("Invalid user credentials"), Ok(LoginAnswer::Rejected(Rejection::WrongCredentials)));
        let entra =
            described(json!({"error": "invalid_grant", "error_description": "AADSTS50076: …", "error_codes": [50076]}));
        assert_eq!(entra, Ok(LoginAnswer::Rejected(Rejection::ProviderStepRequired)));
        assert_eq!(grant(401, "invalid_client"), Err(HttpError::RequestRefused.into()));
        assert_eq!(grant(401, "invalid_grant"), Ok(LoginAnswer::Rejected(Rejection::WrongCredentials)), "Keycloak");
        let bare_challenge = log_in(&provider, vec![(401, json!("Unauthorized"))]).0;
        assert_eq!(bare_challenge, Err(HttpError::RequestRefused.into()));
        let refused_token = log_in(&provider, vec![(200, json!({"access_token": "t"})), (401, json!({}))]).0;
        assert_eq!(refused_token, Err(HttpError::RequestRefused.into()), "userinfo refused the token");
        assert_eq!(
            grant(400, "unsupported_grant_type"),
            Err(HttpError::ProviderRefused("unsupported_grant_type".into()).into())
        );
        assert_eq!(grant(503, "temporarily_unavailable"), Err(HttpError::Unavailable(503).into()));
        assert!(matches!(grant(400, ""), Err(StoreError::Http(HttpError::ProviderRefused(_)))));
    }

    #[test]
    fn public_clients_and_client_secret_post_send_the_id_in_the_form() {
        let public =
            oidc(json!({"client_id": "c", "token_endpoint": "https://x/t", "userinfo_endpoint": "https://x/u"}), None);
        let (_, sent) = log_in(&public, vec![(400, json!({"error": "invalid_grant"}))]);
        assert!(sent[0].body.as_ref().unwrap().1.ends_with("&client_id=c"));
        assert!(sent[0].headers.is_empty());
        let post = oidc(
            json!({"client_id": "c", "client_auth": "client_secret_post", "token_endpoint": "https://x/t",
                   "userinfo_endpoint": "https://x/u"}),
            Some("s"),
        );
        let (_, sent) = log_in(&post, vec![(400, json!({"error": "invalid_grant"}))]);
        assert!(sent[0].body.as_ref().unwrap().1.ends_with("&client_id=c&client_secret=s"));
    }

    #[test]
    fn the_discovery_document_must_be_the_issuer_s_and_name_usable_endpoints() {
        let provider = oidc(json!({"client_id": "c"}), None);
        let other = json!({"issuer": "https://evil.example.org/", "token_endpoint": "https://evil.example.org/t",
                           "userinfo_endpoint": "https://evil.example.org/u"});
        assert!(
            matches!(log_in(&provider, vec![(200, other)]).0, Err(StoreError::InvalidAnswer(m)) if m.contains("another issuer"))
        );
        let plain = json!({"issuer": "https://id.example.org/realms/acme/", "token_endpoint": "http://id.example.org/t",
                           "userinfo_endpoint": "https://id.example.org/u"});
        assert!(
            matches!(log_in(&provider, vec![(200, plain)]).0, Err(StoreError::InvalidAnswer(m)) if m.contains("token_endpoint"))
        );
    }

    #[test]
    fn the_userinfo_answer_must_be_about_the_email_asked() {
        let provider =
            oidc(json!({"client_id": "c", "token_endpoint": "https://x/t", "userinfo_endpoint": "https://x/u"}), None);
        let answer = |claims: Value| log_in(&provider, vec![(200, json!({"access_token": "t"})), (200, claims)]).0;
        assert!(matches!(
            answer(json!({"sub": "1", "email": "mallory@legacy.test"})),
            Err(StoreError::InvalidAnswer(_))
        ));
        assert!(matches!(answer(json!({"email": "ada@legacy.test"})), Err(StoreError::InvalidAnswer(_))));
        assert!(matches!(
            answer(json!({"sub": "1", "email": "ada@legacy.test", "name": 5})),
            Err(StoreError::InvalidAnswer(_))
        ));
        assert!(matches!(answer(json!({"sub": "1", "email": "ada@legacy.test"})), Ok(LoginAnswer::Accepted(_))));
    }

    #[test]
    fn settings_are_checked() {
        let parse = |v: Value| Oidc::parse(&v, None, None);
        assert!(parse(json!({})).is_err(), "client_id");
        assert!(parse(json!({"client_id": "c", "token_endpoint": "https://x/t"})).is_err(), "both endpoints");
        assert!(parse(json!({"client_id": "c", "client_auth": "private_key_jwt"})).is_err());
        assert!(parse(json!({"client_id": "c", "token_parameters": {"grant_type": "client_credentials"}})).is_err());
        assert!(parse(json!({"client_id": "c", "token_parameters": {"audience": 5}})).is_err());
        assert!(parse(json!({"client_id": "c", "token_parameters": {"audience": "a", "realm": "db"}})).is_ok());
        assert!(parse(json!({"client_id": "c", "grant_type": "client_credentials"})).is_err());
        let realm = parse(json!({"client_id": "c", "grant_type": "http://auth0.com/oauth/grant-type/password-realm"}));
        assert_eq!(realm.unwrap().grant_type, GRANT_TYPES[1]);
    }

    fn admin(api: &str) -> Oidc {
        let settings = json!({"client_id": "app", "token_endpoint": "https://x/t", "userinfo_endpoint": "https://x/u",
                              "admin_lookup": api, "admin_client_id": "admin"});
        Oidc::parse(&settings, Some("s".into()), Some("admin-secret")).unwrap()
    }

    #[test]
    fn admin_look_ups_reuse_their_token_and_read_the_vendor_shapes() {
        let auth0 = admin("auth0");
        let exchange = Recorded::new(vec![
            (200, json!({"access_token": "adm-1", "expires_in": 86400})),
            (
                200,
                json!([
                    {"user_id": "google-oauth2|1", "email": "ada@legacy.test", "identities": [{"provider": "google-oauth2"}]},
                    {"user_id": "auth0|7", "email": "ada@legacy.test", "name": "Ada L", "app_metadata": {"plan": "pro"},
                     "identities": [{"provider": "auth0"}]}
                ]),
            ),
            (200, json!([])),
        ]);
        let session = Session::default();
        let found = auth0.look_up(&exchange, &session, &issuer(), "ada@legacy.test").unwrap().unwrap();
        assert_eq!((found.external_id.as_str(), found.text("name")), ("auth0|7", Some("Ada L")));
        assert_eq!(found.app_metadata["plan"], "pro");
        assert_eq!(auth0.look_up(&exchange, &session, &issuer(), "nobody@legacy.test"), Ok(None));
        let sent = exchange.sent.into_inner();
        assert_eq!(sent.len(), 3, "one token for both look-ups");
        assert_eq!(
            sent[0].body.as_ref().unwrap().1,
            "grant_type=client_credentials&audience=https%3A%2F%2Fid.example.org%2Frealms%2Facme%2Fapi%2Fv2%2F"
        );
        let basic = base64::engine::general_purpose::STANDARD.encode("admin:admin-secret");
        assert_eq!(sent[0].headers, vec![("authorization", format!("Basic {basic}"))]);
        assert_eq!(
            sent[1].url.as_str(),
            "https://id.example.org/realms/acme/api/v2/users-by-email?email=ada%40legacy.test"
        );
        assert_eq!(sent[1].headers, vec![("authorization", "Bearer adm-1".to_string())]);

        let keycloak = admin("keycloak");
        let exchange = Recorded::new(vec![
            (200, json!({"access_token": "adm-2"})),
            (200, json!([{"id": "kc-1", "email": "ada@legacy.test", "enabled": false, "attributes": {"dept": ["x"]}}])),
        ]);
        let found = keycloak.look_up(&exchange, &Session::default(), &issuer(), "ada@legacy.test").unwrap().unwrap();
        assert!(!found.enabled);
        assert_eq!(found.user_metadata["dept"], json!(["x"]));
        let sent = exchange.sent.into_inner();
        assert_eq!(
            sent[1].url.as_str(),
            "https://id.example.org/admin/realms/acme/users?email=ada%40legacy.test&exact=true"
        );
    }

    #[test]
    fn admin_look_ups_refuse_what_they_cannot_read() {
        let auth0 = admin("auth0");
        let twins = json!([{"user_id": "auth0|1", "email": "ada@legacy.test", "identities": [{"provider": "auth0"}]},
                           {"user_id": "auth0|2", "email": "ada@legacy.test", "identities": [{"provider": "auth0"}]}]);
        let look_up =
            |replies| auth0.look_up(&Recorded::new(replies), &Session::default(), &issuer(), "ada@legacy.test");
        assert!(matches!(
            look_up(vec![(200, json!({"access_token": "t"})), (200, twins)]),
            Err(StoreError::InvalidAnswer(_))
        ));
        assert_eq!(look_up(vec![(401, json!({"error": "invalid_client"}))]), Err(HttpError::RequestRefused.into()));
        assert_eq!(
            look_up(vec![(200, json!({"access_token": "t"})), (403, json!({"error": "insufficient_scope"}))]),
            Err(HttpError::RequestRefused.into())
        );
        assert!(matches!(
            look_up(vec![(200, json!({"access_token": "t"})), (200, json!({}))]),
            Err(StoreError::InvalidAnswer(_))
        ));
        let no_realm = Url::parse("https://id.example.org/").unwrap();
        let keycloak = admin("keycloak");
        let exchange = Recorded::new(vec![]);
        assert!(matches!(
            keycloak.look_up(&exchange, &Session::default(), &no_realm, "a@b.c"),
            Err(StoreError::InvalidConfig(_))
        ));
    }

    #[test]
    fn admin_settings_need_each_other() {
        let parse = |settings: Value, admin_secret: Option<&str>| Oidc::parse(&settings, None, admin_secret);
        assert!(parse(json!({"client_id": "c", "admin_lookup": "auth0"}), None).is_err(), "no secret");
        assert!(parse(json!({"client_id": "c"}), Some("s")).is_err(), "no admin_lookup");
        assert!(parse(json!({"client_id": "c", "admin_lookup": "okta"}), Some("s")).is_err());
        assert!(parse(json!({"client_id": "c", "admin_client_id": "a"}), None).is_err());
        assert!(parse(json!({"client_id": "c", "admin_lookup": "keycloak"}), Some("s")).is_ok());
        let plain = parse(json!({"client_id": "c"}), None).unwrap();
        assert_eq!(plain.look_up(&Recorded::new(vec![]), &Session::default(), &issuer(), "a@b.c"), Ok(None));
    }
}

//! The HTTP client for a legacy store, built to run inside a PostgreSQL backend:
//! - a current-thread tokio runtime, so every future runs on the backend's own thread;
//! - while it waits, it polls an interrupt check (query cancel, statement_timeout, terminate)
//!   every 20 ms and gives up at once when it fires;
//! - DNS through hickory (async, no resolver threads), no proxies, redirects never followed;
//! - connect and total timeouts, a response size limit, JSON content type required;
//! - one client per configuration, reused between calls (keep-alive).

use crate::legacy_store::http::config::{Contract, HttpAuth, HttpStoreConfig};
use crate::legacy_store::http::contract::{parse_user, Preset, Segment};
use crate::legacy_store::http::provider::{Exchange, Session};
use crate::legacy_store::http::HttpError;
use crate::legacy_store::record::LegacyUser;
use crate::legacy_store::{LoginAnswer, Rejection, StoreError};
use hmac::{Hmac, Mac};
use reqwest::header::{ACCEPT, CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::{Method, Url};
use sha2::Sha256;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Asked while waiting on the network; true means "stop now".
pub type InterruptCheck<'a> = &'a dyn Fn() -> bool;

const INTERRUPT_POLL: Duration = Duration::from_millis(20);
const RETRY_PAUSE: Duration = Duration::from_millis(100);
pub const SIGNATURE_HEADER: &str = "X-Trickle-Signature";
pub const TIMESTAMP_HEADER: &str = "X-Trickle-Timestamp";

/// One request to the store, whatever speaks it: a contract preset or an identity provider.
pub struct Request {
    pub method: Method,
    pub url: Url,
    /// For POST: the content type and the body.
    pub body: Option<(&'static str, String)>,
    /// Headers of the protocol (an access token, a target operation); the store's own request credentials are
    /// added by the client.
    pub headers: Vec<(&'static str, String)>,
}

impl Request {
    pub fn get(url: Url) -> Self {
        Request { method: Method::GET, url, body: None, headers: Vec::new() }
    }

    pub fn post(url: Url, content_type: &'static str, body: String) -> Self {
        Request { method: Method::POST, url, body: Some((content_type, body)), headers: Vec::new() }
    }

    pub fn header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
}

pub struct Reply {
    pub status: u16,
    pub content_type: Option<String>,
    /// A 401 with `WWW-Authenticate` refuses pg_trickle's own request credentials, not the user's.
    pub challenged: bool,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn refuse_if_challenged(self) -> Result<Self, StoreError> {
        if self.challenged {
            Err(HttpError::RequestRefused.into())
        } else {
            Ok(self)
        }
    }

    pub fn json_body(&self) -> Result<&[u8], StoreError> {
        let media_type = self.content_type.as_deref().unwrap_or("").split(';').next().unwrap_or("").trim();
        // application/x-amz-json-1.1 is what AWS services (Cognito) answer with.
        let is_json = media_type.eq_ignore_ascii_case("application/json")
            || (media_type.starts_with("application/") && media_type.ends_with("+json"))
            || media_type.starts_with("application/x-amz-json-");
        if !is_json {
            let shown = if media_type.is_empty() { "none" } else { media_type };
            return Err(StoreError::InvalidAnswer(format!("content type {shown} is not application/json")));
        }
        Ok(&self.body)
    }
}

pub struct HttpStore {
    config: HttpStoreConfig,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    /// What an identity provider's protocol learns once per client (its discovered endpoints).
    session: Session,
}

fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// The signed text: timestamp, method, path with query, and body, so a captured request cannot be
/// replayed against another user or later than the endpoint's tolerance.
pub fn signature(secret: &str, timestamp: u64, method: &str, path_and_query: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(format!("{timestamp}.{method}.{path_and_query}.{body}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A short cause without the URL (which may carry an email) and without any header values.
fn classify(err: reqwest::Error, timeout_ms: u64) -> HttpError {
    let err = err.without_url();
    let mut cause = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(inner) = source {
        cause = format!("{cause}: {inner}");
        source = inner.source();
    }
    if err.is_timeout() {
        HttpError::Timeout(timeout_ms)
    } else if err.is_connect() {
        HttpError::Unreachable(cause)
    } else {
        HttpError::ConnectionFailed(cause)
    }
}

fn is_retryable(result: &Result<Reply, StoreError>) -> bool {
    match result {
        Ok(reply) => matches!(reply.status, 502..=504),
        Err(StoreError::Http(HttpError::Unreachable(_) | HttpError::ConnectionFailed(_))) => true,
        Err(_) => false,
    }
}

/// Between calls nothing drives this runtime, so a kept-alive connection that the store or a proxy in front of it
/// closed while idle still looks open to the pool, and a request sent on it fails although the store never saw it.
/// Yielding lets the runtime poll its I/O driver first: each pooled connection reads its end of stream and leaves
/// the pool before a request can be given to it.
async fn notice_closed_connections() {
    for _ in 0..2 {
        tokio::task::yield_now().await;
    }
}

async fn until_interrupted(interrupted: InterruptCheck<'_>) {
    loop {
        if interrupted() {
            return;
        }
        tokio::time::sleep(INTERRUPT_POLL).await;
    }
}

impl HttpStore {
    pub fn new(config: HttpStoreConfig) -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| StoreError::InvalidConfig(format!("cannot start the HTTP runtime: {e}")))?;
        let mut builder = reqwest::Client::builder()
            .connect_timeout(millis(config.connect_timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("pg_trickle/", env!("CARGO_PKG_VERSION")))
            // A kept-alive connection idle longer than the store's setting is not used again (0: none is kept).
            .pool_idle_timeout(millis(config.pool_idle_ms))
            .pool_max_idle_per_host(if config.pool_idle_ms == 0 { 0 } else { 2 });
        if let Some(pem) = &config.ca_bundle {
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|_| StoreError::InvalidConfig("CA bundle is not a PEM certificate bundle".into()))?;
            builder = builder.tls_certs_only(certs);
        } else if config.base_url.scheme() == "http" {
            // No TLS ever (redirects are not followed): the system's roots are not read and parsed, which is most
            // of what a backend's first call to a plain-HTTP store cost.
            builder = builder.tls_certs_only([]);
        }
        let client = {
            let _inside = runtime.enter();
            builder.build().map_err(|e| StoreError::InvalidConfig(format!("cannot build the HTTP client: {e}")))?
        };
        Ok(HttpStore { config, client, runtime, session: Session::default() })
    }

    pub fn config(&self) -> &HttpStoreConfig {
        &self.config
    }

    /// Asks the store whether these credentials are valid. Never retried: a login is not idempotent
    /// for a store that counts failures.
    pub fn login(&self, email: &str, password: &str, interrupted: InterruptCheck) -> Result<LoginAnswer, StoreError> {
        let preset = match &self.config.contract {
            Contract::Rest(preset) => *preset,
            Contract::Provider(provider) => {
                let exchange = Sender { store: self, interrupted };
                return provider.log_in(&exchange, &self.session, &self.config.base_url, email, password);
            }
        };
        let call = &preset.login;
        let body = if call.sends_email {
            serde_json::json!({ "email": email, "password": password })
        } else {
            serde_json::json!({ "password": password })
        };
        let request = Request::post(self.url(call.path, email, None), "application/json", body.to_string());
        let reply = self.call(request, interrupted)?.refuse_if_challenged()?;
        if call.invalid.contains(&reply.status) {
            return Ok(LoginAnswer::Rejected(Rejection::WrongCredentials));
        }
        if !call.accepted.contains(&reply.status) {
            return Err(HttpError::Unavailable(reply.status).into());
        }
        let user = if call.answers_user {
            Some(parse_user(preset, reply.json_body()?, email)?)
        } else {
            self.get_user(email, interrupted)?
        };
        Ok(match user {
            Some(user) if user.enabled => LoginAnswer::Accepted(Box::new(user)),
            Some(_) => LoginAnswer::Rejected(Rejection::Disabled),
            None => LoginAnswer::Rejected(Rejection::WrongCredentials),
        })
    }

    /// Looks a user up (the "getUser" call); retried on connection errors and 502/503/504. An identity provider
    /// looks up through its admin API when it has the credential for it, and nobody otherwise (docs/providers/).
    pub fn get_user(&self, email: &str, interrupted: InterruptCheck) -> Result<Option<LegacyUser>, StoreError> {
        let preset = match &self.config.contract {
            Contract::Rest(preset) => *preset,
            Contract::Provider(provider) => {
                let exchange = Sender { store: self, interrupted };
                return provider.look_up(&exchange, &self.session, &self.config.base_url, email);
            }
        };
        let url = self.url(preset.lookup_path, email, preset.lookup_query.map(|key| (key, email)));
        let mut attempts_left = self.config.lookup_retries;
        let reply = loop {
            let result = self.call(Request::get(url.clone()), interrupted);
            if attempts_left == 0 || !is_retryable(&result) {
                break result?.refuse_if_challenged()?;
            }
            attempts_left -= 1;
            self.pause(RETRY_PAUSE, interrupted)?;
        };
        match reply.status {
            200 => Ok(Some(parse_user(preset, reply.json_body()?, email)?)),
            404 => Ok(None),
            status => Err(HttpError::Unavailable(status).into()),
        }
    }

    /// The optional count call: Some(total), or None when the store does not offer it (404, or a contract without
    /// one).
    pub fn count_users(&self, interrupted: InterruptCheck) -> Result<Option<i64>, StoreError> {
        let Contract::Rest(Preset { count_path: Some(path), .. }) = &self.config.contract else { return Ok(None) };
        let reply = self.call(Request::get(self.url(path, "", None)), interrupted)?;
        match reply.status {
            200 => {
                let value: serde_json::Value = serde_json::from_slice(reply.json_body()?)
                    .map_err(|_| StoreError::InvalidAnswer("the count is not JSON".into()))?;
                value["count"]
                    .as_i64()
                    .map(Some)
                    .ok_or_else(|| StoreError::InvalidAnswer("the count answer has no integer \"count\"".into()))
            }
            404 => Ok(None),
            status => Err(HttpError::Unavailable(status).into()),
        }
    }

    fn url(&self, path: &[Segment], email: &str, query: Option<(&str, &str)>) -> Url {
        let mut url = self.config.base_url.clone();
        url.path_segments_mut().expect("http(s) URLs have a path").pop_if_empty().extend(path.iter().map(|segment| {
            match segment {
                Segment::Fixed(text) => *text,
                Segment::Email => email,
            }
        }));
        if let Some((key, value)) = query {
            url.query_pairs_mut().append_pair(key, value);
        }
        url
    }

    fn pause(&self, duration: Duration, interrupted: InterruptCheck) -> Result<(), StoreError> {
        self.runtime.block_on(async {
            tokio::select! {
                _ = until_interrupted(interrupted) => Err(StoreError::Interrupted),
                _ = tokio::time::sleep(duration) => Ok(()),
            }
        })
    }

    fn call(&self, request: Request, interrupted: InterruptCheck) -> Result<Reply, StoreError> {
        let timeout_ms = self.config.timeout_ms;
        self.runtime.block_on(async {
            notice_closed_connections().await;
            tokio::select! {
                biased;
                _ = until_interrupted(interrupted) => Err(StoreError::Interrupted),
                result = tokio::time::timeout(millis(timeout_ms), self.exchange(request)) => {
                    result.unwrap_or(Err(HttpError::Timeout(timeout_ms).into()))
                }
            }
        })
    }

    async fn exchange(&self, Request { method, url, body, headers }: Request) -> Result<Reply, StoreError> {
        let timeout_ms = self.config.timeout_ms;
        let path_and_query = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let mut request = self.client.request(method.clone(), url).header(ACCEPT, "application/json");
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request = match &self.config.auth {
            HttpAuth::None => request,
            HttpAuth::Bearer(token) => request.bearer_auth(token),
            HttpAuth::Basic(pair) => {
                let (user, password) = pair.split_once(':').unwrap_or((pair, ""));
                request.basic_auth(user, Some(password))
            }
            HttpAuth::Header { name, value } => request.header(name.as_str(), value.as_str()),
        };
        if let Some(secret) = &self.config.hmac_secret {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
            let signed_body = body.as_ref().map_or("", |(_, text)| text.as_str());
            let signed = signature(secret, now, method.as_str(), &path_and_query, signed_body);
            request =
                request.header(TIMESTAMP_HEADER, now.to_string()).header(SIGNATURE_HEADER, format!("v1={signed}"));
        }
        if let Some((content_type, text)) = body {
            request = request.header(CONTENT_TYPE, content_type).body(text);
        }
        let mut response = request.send().await.map_err(|e| classify(e, timeout_ms))?;
        let status = response.status();
        if status.is_redirection() {
            return Err(StoreError::InvalidAnswer(format!(
                "HTTP {} redirect (redirects are never followed)",
                status.as_u16()
            )));
        }
        let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
        let challenged =
            status == reqwest::StatusCode::UNAUTHORIZED && response.headers().contains_key(WWW_AUTHENTICATE);
        let limit = self.config.max_response_bytes;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(HttpError::AnswerTooLarge(limit).into());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| classify(e, timeout_ms))? {
            if body.len() + chunk.len() > limit {
                return Err(HttpError::AnswerTooLarge(limit).into());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Reply { status: status.as_u16(), content_type, challenged, body })
    }
}

/// The client as an identity provider's protocol sees it: one request at a time, a cancel honoured while it waits.
struct Sender<'a> {
    store: &'a HttpStore,
    interrupted: InterruptCheck<'a>,
}

impl Exchange for Sender<'_> {
    /// The reply as it came: a provider's protocol tells its own credentials' refusal from the user's by the error
    /// code (a password grant's 401 `invalid_grant` with a challenge is a wrong password).
    fn send(&self, request: Request) -> Result<Reply, StoreError> {
        self.store.call(request, self.interrupted)
    }

    fn allow_insecure(&self) -> bool {
        self.store.config.allow_insecure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_the_documented_text() {
        // Independent check: python3 -c "import hmac,hashlib;print(hmac.new(b'0123456789abcdef',
        //   b'1700000000.POST./login.{}', hashlib.sha256).hexdigest())"
        assert_eq!(
            signature("0123456789abcdef", 1_700_000_000, "POST", "/login", "{}"),
            "083bcb44a6dc8558f6a8515091a400e6ff5f1b3cac4698c687de29d2afbec659"
        );
    }

    #[test]
    fn content_type_must_be_json() {
        let reply = |ct: Option<&str>| Reply {
            status: 200,
            content_type: ct.map(str::to_string),
            challenged: false,
            body: vec![],
        };
        assert!(reply(Some("application/json")).json_body().is_ok());
        assert!(reply(Some("application/json; charset=utf-8")).json_body().is_ok());
        assert!(reply(Some("application/vnd.legacy+json")).json_body().is_ok());
        assert!(reply(Some("text/html")).json_body().is_err());
        assert!(reply(None).json_body().is_err());
    }

    #[test]
    fn only_connection_errors_and_gateway_statuses_are_retried() {
        let status = |s| Ok(Reply { status: s, content_type: None, challenged: false, body: vec![] });
        assert!(is_retryable(&status(503)));
        assert!(is_retryable(&status(502)));
        assert!(!is_retryable(&status(500)));
        assert!(!is_retryable(&status(404)));
        assert!(is_retryable(&Err(HttpError::Unreachable("refused".into()).into())));
        assert!(!is_retryable(&Err(HttpError::Timeout(5).into())));
        assert!(!is_retryable(&Err(StoreError::InvalidAnswer("x".into()))));
    }
}

//! HTTP store configuration and the rules that refuse unsafe or absurd settings.

use crate::legacy_store::http::contract::{preset, Preset, PRESETS};
use crate::legacy_store::http::provider::{self, Provider};
use crate::legacy_store::StoreError;
use reqwest::Url;
use serde_json::Value;

/// What the endpoint speaks: one of `contract::PRESETS` (a REST contract someone hosts for the legacy store), or an
/// identity provider's own API (`provider`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contract {
    Rest(&'static Preset),
    Provider(Box<Provider>),
}

impl Contract {
    /// A REST preset takes no provider settings; a provider needs its own (`provider`) and perhaps a secret.
    pub fn parse(
        name: &str,
        settings: Option<&Value>,
        secret: Option<&str>,
        admin_secret: Option<&str>,
    ) -> Result<Self, StoreError> {
        if let Some(preset) = preset(name) {
            if settings.is_some_and(|s| !s.is_null()) || secret.is_some() || admin_secret.is_some() {
                return bad("provider settings and secrets are for an identity provider contract only");
            }
            return Ok(Contract::Rest(preset));
        }
        // Fixed messages for enumerated arguments: a value given in the wrong argument (a secret) is never echoed.
        match Provider::parse(name, settings.unwrap_or(&Value::Null), secret, admin_secret)? {
            Some(provider) => Ok(Contract::Provider(Box::new(provider))),
            None => {
                let names: Vec<_> = PRESETS.iter().map(|p| p.name).chain(provider::NAMES).collect();
                bad(format!("unknown contract ({})", names.join(", ")))
            }
        }
    }
}

/// How each request authenticates to the legacy endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpAuth {
    None,
    Bearer(String),
    /// `user:password`, sent as HTTP Basic.
    Basic(String),
    Header {
        name: String,
        value: String,
    },
}

impl HttpAuth {
    /// From the stored columns: kind, secret, header name.
    pub fn parse(kind: &str, secret: Option<&str>, header: Option<&str>) -> Result<Self, StoreError> {
        let secret = || {
            secret
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .ok_or_else(|| StoreError::InvalidConfig("this auth kind needs a secret".into()))
        };
        match kind {
            "none" => Ok(HttpAuth::None),
            "bearer" => Ok(HttpAuth::Bearer(secret()?)),
            "basic" => {
                let s = secret()?;
                if !s.contains(':') {
                    return Err(StoreError::InvalidConfig("basic auth secret must be \"user:password\"".into()));
                }
                Ok(HttpAuth::Basic(s))
            }
            "header" => {
                let name = header.filter(|h| is_header_name(h)).ok_or_else(|| {
                    StoreError::InvalidConfig("auth kind \"header\" needs a valid header name".into())
                })?;
                Ok(HttpAuth::Header { name: name.to_string(), value: secret()? })
            }
            _ => Err(StoreError::InvalidConfig("unknown auth kind (none, bearer, basic, header)".into())),
        }
    }
}

fn bad<T>(message: impl Into<String>) -> Result<T, StoreError> {
    Err(StoreError::InvalidConfig(message.into()))
}

fn is_header_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

pub const CONNECT_TIMEOUT_MS_MAX: u64 = 30_000;
pub const TIMEOUT_MS_MAX: u64 = 60_000;
pub const RETRIES_MAX: u32 = 5;
pub const RESPONSE_BYTES_RANGE: (usize, usize) = (1024, 64 * 1024 * 1024);
/// Below the idle timeouts of common load balancers (60 s and more), some of which forget a connection without
/// closing it.
pub const POOL_IDLE_MS_DEFAULT: u64 = 30_000;
pub const POOL_IDLE_MS_MAX: u64 = 600_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpStoreConfig {
    pub base_url: Url,
    pub contract: Contract,
    pub auth: HttpAuth,
    /// Signs every request (timestamp, method, path, body) with HMAC-SHA256 when set.
    pub hmac_secret: Option<String>,
    pub connect_timeout_ms: u64,
    pub timeout_ms: u64,
    /// Extra attempts for look-ups (never for the login call) after a connection error or 502/503/504.
    pub lookup_retries: u32,
    pub max_response_bytes: usize,
    /// PEM bundle that replaces the system's roots for https.
    pub ca_bundle: Option<String>,
    /// Plain http to a host other than loopback, allowed explicitly by the admin.
    pub allow_insecure: bool,
    /// How long a kept-alive connection may sit idle and still be used again; 0: a new connection per call.
    pub pool_idle_ms: u64,
}

impl HttpStoreConfig {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        base_url: &str,
        contract: Contract,
        auth: HttpAuth,
        hmac_secret: Option<String>,
        connect_timeout_ms: i64,
        timeout_ms: i64,
        lookup_retries: i64,
        max_response_bytes: i64,
        ca_bundle: Option<String>,
        allow_insecure: bool,
    ) -> Result<Self, StoreError> {
        let url = endpoint_url("base URL", base_url, allow_insecure)?;
        if url.query().is_some() || url.fragment().is_some() {
            return bad("base URL must not have a query or fragment");
        }
        if matches!(contract, Contract::Provider(_)) && (auth != HttpAuth::None || hmac_secret.is_some()) {
            return bad("an identity provider contract authenticates with its own settings: auth_kind none, no hmac");
        }
        if !(1..=CONNECT_TIMEOUT_MS_MAX as i64).contains(&connect_timeout_ms) {
            return bad(format!("connect timeout must be 1 to {CONNECT_TIMEOUT_MS_MAX} ms"));
        }
        if !(1..=TIMEOUT_MS_MAX as i64).contains(&timeout_ms) || timeout_ms < connect_timeout_ms {
            return bad(format!("timeout must be 1 to {TIMEOUT_MS_MAX} ms and at least the connect timeout"));
        }
        if !(0..=RETRIES_MAX as i64).contains(&lookup_retries) {
            return bad(format!("lookup retries must be 0 to {RETRIES_MAX}"));
        }
        let (lo, hi) = RESPONSE_BYTES_RANGE;
        if !(lo as i64..=hi as i64).contains(&max_response_bytes) {
            return bad(format!("maximum response size must be {lo} to {hi} bytes"));
        }
        if hmac_secret.as_deref().is_some_and(|s| s.len() < 16) {
            return bad("HMAC secret must be at least 16 bytes");
        }
        if let Some(pem) = &ca_bundle {
            match reqwest::Certificate::from_pem_bundle(pem.as_bytes()) {
                Ok(certs) if !certs.is_empty() => {}
                _ => return bad("CA bundle is not a PEM certificate bundle"),
            }
        }
        Ok(HttpStoreConfig {
            base_url: url,
            contract,
            auth,
            hmac_secret,
            connect_timeout_ms: connect_timeout_ms as u64,
            timeout_ms: timeout_ms as u64,
            lookup_retries: lookup_retries as u32,
            max_response_bytes: max_response_bytes as usize,
            ca_bundle,
            allow_insecure,
            pool_idle_ms: POOL_IDLE_MS_DEFAULT,
        })
    }

    /// The store's idle-pool lifetime (`auth.configure_http_store(pool_idle_ms => …)`).
    pub fn with_pool_idle_ms(self, pool_idle_ms: i64) -> Result<Self, StoreError> {
        if !(0..=POOL_IDLE_MS_MAX as i64).contains(&pool_idle_ms) {
            return bad(format!("pool idle time must be 0 to {POOL_IDLE_MS_MAX} ms"));
        }
        Ok(HttpStoreConfig { pool_idle_ms: pool_idle_ms as u64, ..self })
    }
}

/// An address pg_trickle may send passwords to (`what`: how errors name it): http or https, no credentials in it,
/// plain http only to loopback unless allowed explicitly. The base URL and the endpoints an identity provider's
/// discovery document names pass the same rules.
pub fn endpoint_url(what: &str, text: &str, allow_insecure: bool) -> Result<Url, StoreError> {
    let url = Url::parse(text.trim()).or_else(|_| bad(format!("{what} is not a valid URL")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return bad(format!("{what} scheme is not allowed (http, https)"));
    }
    let Some(host) = url.host() else { return bad(format!("{what} has no host")) };
    if url.scheme() == "http" && !allow_insecure && !is_loopback(&host) {
        return bad("plain http is refused for a host other than loopback: use https, or allow_insecure => true");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return bad(format!("{what} must not carry credentials; use the auth settings"));
    }
    Ok(url)
}

/// 127.0.0.0/8, ::1 and `localhost`: where plain http never leaves the machine.
fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
        url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str, connect: i64, total: i64) -> Result<HttpStoreConfig, StoreError> {
        HttpStoreConfig::new(
            url,
            Contract::parse("pg_trickle", None, None, None).unwrap(),
            HttpAuth::None,
            None,
            connect,
            total,
            1,
            1 << 20,
            None,
            true,
        )
    }

    #[test]
    fn plain_http_only_to_loopback_unless_allowed() {
        let strict = |url: &str| {
            HttpStoreConfig::new(
                url,
                Contract::parse("pg_trickle", None, None, None).unwrap(),
                HttpAuth::None,
                None,
                1000,
                5000,
                1,
                1 << 20,
                None,
                false,
            )
        };
        for ok in [
            "http://127.0.0.1:8080/",
            "http://127.9.9.9/",
            "http://[::1]:80/",
            "http://LocalHost/",
            "https://legacy.example.org/",
        ] {
            assert!(strict(ok).is_ok(), "{ok}");
        }
        for refused in ["http://legacy.example.org/", "http://10.0.0.1/", "http://localhost.example.org/"] {
            assert!(
                matches!(strict(refused), Err(StoreError::InvalidConfig(m)) if m.contains("allow_insecure")),
                "{refused}"
            );
        }
        assert!(config("http://legacy.example.org/", 1000, 5000).is_ok(), "allowed explicitly");
    }

    #[test]
    fn a_value_in_the_wrong_argument_is_never_echoed() {
        let secret = "sk_live_0123456789";
        assert!(!HttpAuth::parse(secret, None, None).unwrap_err().to_string().contains(secret));
        assert!(!Contract::parse(secret, None, None, None).unwrap_err().to_string().contains(secret));
    }

    #[test]
    fn accepts_http_and_https() {
        assert!(config("http://127.0.0.1:8080/legacy", 1000, 5000).is_ok());
        assert!(config("https://legacy.example.org/", 1000, 5000).is_ok());
    }

    #[test]
    fn refuses_unsafe_urls() {
        for url in [
            "file:///etc/passwd",
            "ftp://x/",
            "gopher://x/",
            "not a url",
            "http://user:pw@x/",
            "http://x/?q=1",
            "http://x/#f",
        ] {
            assert!(matches!(config(url, 1000, 5000), Err(StoreError::InvalidConfig(_))), "{url}");
        }
    }

    #[test]
    fn refuses_absurd_timeouts() {
        assert!(config("http://x/", 0, 5000).is_err());
        assert!(config("http://x/", 1000, 600_000).is_err());
        assert!(config("http://x/", 5000, 1000).is_err());
        assert!(config("http://x/", -1, 5000).is_err());
    }

    #[test]
    fn auth_kinds_need_their_parts() {
        assert_eq!(HttpAuth::parse("none", None, None).unwrap(), HttpAuth::None);
        assert!(HttpAuth::parse("bearer", None, None).is_err());
        assert!(HttpAuth::parse("basic", Some("no-colon"), None).is_err());
        assert!(HttpAuth::parse("header", Some("v"), Some("bad header")).is_err());
        assert_eq!(
            HttpAuth::parse("header", Some("v"), Some("X-Api-Key")).unwrap(),
            HttpAuth::Header { name: "X-Api-Key".into(), value: "v".into() }
        );
        assert!(HttpAuth::parse("kerberos", None, None).is_err());
    }

    #[test]
    fn secrets_never_appear_in_configuration_errors() {
        let err = HttpAuth::parse("basic", Some("supersecretvalue"), None).unwrap_err();
        assert!(!err.to_string().contains("supersecretvalue"));
    }
}
